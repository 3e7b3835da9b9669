package validation

import (
	rbacv1 "k8s.io/api/rbac/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// internalRoleRef mirrors rbac.RoleRef, whose JSON (Go field names)
// Kubernetes prints when a binding's roleRef changes.
type internalRoleRef struct {
	APIGroup string
	Kind     string
	Name     string
}

// minimalNameRequirements is the name rule of RBAC objects: anything that is
// a valid path segment.
func minimalNameRequirements(name string, prefix bool) []string {
	return path.IsValidPathSegmentName(name)
}

// defaultRoleBinding applies the rbac/v1 defaults to a RoleBinding.
func defaultRoleBinding(rb *rbacv1.RoleBinding) {
	if rb.RoleRef.APIGroup == "" {
		rb.RoleRef.APIGroup = rbacv1.GroupName
	}
	defaultSubjects(rb.Subjects)
}

// defaultClusterRoleBinding applies the rbac/v1 defaults to a
// ClusterRoleBinding.
func defaultClusterRoleBinding(rb *rbacv1.ClusterRoleBinding) {
	if rb.RoleRef.APIGroup == "" {
		rb.RoleRef.APIGroup = rbacv1.GroupName
	}
	defaultSubjects(rb.Subjects)
}

// defaultSubjects gives User and Group subjects the RBAC API group.
func defaultSubjects(subjects []rbacv1.Subject) {
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = rbacv1.GroupName
		}
	}
}

// validateRole validates a Role.
func validateRole(r *rbacv1.Role) field.ErrorList {
	allErrs := validateObjectMeta(&r.ObjectMeta, true, minimalNameRequirements, metaPath)
	for i, rule := range r.Rules {
		allErrs = append(allErrs, validatePolicyRule(rule, true, field.NewPath("rules").Index(i))...)
	}
	return allErrs
}

// validateClusterRole validates a ClusterRole.
func validateClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	allErrs := validateObjectMeta(&r.ObjectMeta, false, minimalNameRequirements, metaPath)
	for i, rule := range r.Rules {
		allErrs = append(allErrs, validatePolicyRule(rule, false, field.NewPath("rules").Index(i))...)
	}
	return allErrs
}

// validatePolicyRule checks one RBAC rule.
func validatePolicyRule(rule rbacv1.PolicyRule, namespaced bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(rule.Verbs) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(rule.NonResourceURLs) > 0 {
		if namespaced {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("nonResourceURLs"), rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("nonResourceURLs"), rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return allErrs
	}
	if len(rule.APIGroups) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(rule.Resources) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("resources"), "resource rules must supply at least one resource"))
	}
	if len(rule.ResourceNames) > 0 && len(rule.Resources) > 1 {
		allErrs = append(allErrs, field.Required(fldPath.Child("resourceNames"), "resource names cannot apply to multiple resources"))
	}
	return allErrs
}

// validateRoleRef checks a binding's roleRef against the kinds it may name.
func validateRoleRef(ref rbacv1.RoleRef, kinds []string) field.ErrorList {
	var allErrs field.ErrorList
	if ref.APIGroup != rbacv1.GroupName {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("roleRef", "apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	known := false
	for _, k := range kinds {
		known = known || k == ref.Kind
	}
	if !known {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("roleRef", "kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		allErrs = append(allErrs, field.Required(field.NewPath("roleRef", "name"), ""))
	} else {
		allErrs = append(allErrs, validateName(minimalNameRequirements, ref.Name, field.NewPath("roleRef", "name"))...)
	}
	return allErrs
}

// validateSubject checks one binding subject.
func validateSubject(s rbacv1.Subject, namespaced bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if s.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			allErrs = append(allErrs, validateName(apimachineryvalidation.ValidateServiceAccountName, s.Name, fldPath.Child("name"))...)
		}
		if s.APIGroup != "" {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.Name == "" {
			what := "user"
			if s.Kind == rbacv1.GroupKind {
				what = "group"
			}
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), s.Name, what+" name cannot be empty"))
		}
		if s.APIGroup != rbacv1.GroupName {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return allErrs
}

// validateRoleBinding validates a RoleBinding.
func validateRoleBinding(rb *rbacv1.RoleBinding) field.ErrorList {
	allErrs := validateObjectMeta(&rb.ObjectMeta, true, minimalNameRequirements, metaPath)
	allErrs = append(allErrs, validateRoleRef(rb.RoleRef, []string{"Role", "ClusterRole"})...)
	for i, s := range rb.Subjects {
		allErrs = append(allErrs, validateSubject(s, true, field.NewPath("subjects").Index(i))...)
	}
	return allErrs
}

// validateClusterRoleBinding validates a ClusterRoleBinding.
func validateClusterRoleBinding(rb *rbacv1.ClusterRoleBinding) field.ErrorList {
	allErrs := validateObjectMeta(&rb.ObjectMeta, false, minimalNameRequirements, metaPath)
	allErrs = append(allErrs, validateRoleRef(rb.RoleRef, []string{"ClusterRole"})...)
	for i, s := range rb.Subjects {
		allErrs = append(allErrs, validateSubject(s, false, field.NewPath("subjects").Index(i))...)
	}
	return allErrs
}

// validateRoleBindingUpdate validates an update of a RoleBinding; the
// roleRef is immutable.
func validateRoleBindingUpdate(rb, old *rbacv1.RoleBinding) field.ErrorList {
	allErrs := validateRoleBinding(rb)
	allErrs = append(allErrs, validateObjectMetaUpdate(&rb.ObjectMeta, &old.ObjectMeta, metaPath)...)
	return append(allErrs, validateRoleRefUnchanged(rb.RoleRef, old.RoleRef)...)
}

// validateClusterRoleBindingUpdate validates an update of a
// ClusterRoleBinding; the roleRef is immutable.
func validateClusterRoleBindingUpdate(rb, old *rbacv1.ClusterRoleBinding) field.ErrorList {
	allErrs := validateClusterRoleBinding(rb)
	allErrs = append(allErrs, validateObjectMetaUpdate(&rb.ObjectMeta, &old.ObjectMeta, metaPath)...)
	return append(allErrs, validateRoleRefUnchanged(rb.RoleRef, old.RoleRef)...)
}

// validateRoleRefUnchanged reports a changed roleRef.
func validateRoleRefUnchanged(ref, old rbacv1.RoleRef) field.ErrorList {
	if ref != old {
		return field.ErrorList{field.Invalid(field.NewPath("roleRef"), internalRoleRef{APIGroup: ref.APIGroup, Kind: ref.Kind, Name: ref.Name}, "cannot change roleRef")}
	}
	return nil
}
