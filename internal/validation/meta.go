package validation

import (
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// metaPath is the field path of every object's metadata.
var metaPath = field.NewPath("metadata")

// standardFinalizers are the finalizer names that need no domain prefix
// (core helper.IsStandardFinalizerName).
var standardFinalizers = map[string]bool{
	"kubernetes":                     true,
	metav1.FinalizerOrphanDependents: true,
	metav1.FinalizerDeleteDependents: true,
}

// generatedNameSuffix stands in for the five random characters the API
// server appends to metadata.generateName; it uses letters from the same
// alphabet so that validating the result is equivalent.
const generatedNameSuffix = "xxxxx"

// maxGeneratedNameLength is the length generateName is cut to before the
// suffix is appended (names.SimpleNameGenerator).
const maxGeneratedNameLength = 63 - len(generatedNameSuffix)

// validateObjectMeta validates metadata on create like core's
// ValidateObjectMeta: the generic rules plus the legacy finalizer-name rule.
// A name still to be generated from generateName is generated first, and the
// namespace of a cluster-scoped object is ignored because the API server
// clears it before validation.
func validateObjectMeta(m *metav1.ObjectMeta, namespaced bool, nameFn apimachineryvalidation.ValidateNameFunc, fldPath *field.Path) field.ErrorList {
	c := *m
	if c.Name == "" && c.GenerateName != "" {
		base := c.GenerateName
		if len(base) > maxGeneratedNameLength {
			base = base[:maxGeneratedNameLength]
		}
		c.Name = base + generatedNameSuffix
	}
	if !namespaced {
		c.Namespace = ""
	}
	allErrs := apimachineryvalidation.ValidateObjectMeta(&c, namespaced, nameFn, fldPath)
	for i := range m.Finalizers {
		allErrs = append(allErrs, validateKubeFinalizerName(m.Finalizers[i], fldPath.Child("finalizers").Index(i))...)
	}
	return allErrs
}

// validateObjectMetaUpdate validates metadata on update like core's
// ValidateObjectMetaUpdate, after filling in the server-owned fields a
// request may omit, as rest.BeforeUpdate does.
func validateObjectMetaUpdate(newMeta, oldMeta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	c := *newMeta
	fillUpdateMeta(&c, oldMeta)
	if c.Generation < oldMeta.Generation {
		c.Generation = oldMeta.Generation
	}
	if oldMeta.Namespace == "" {
		c.Namespace = ""
	}
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&c, oldMeta, fldPath)
	for i := range newMeta.Finalizers {
		allErrs = append(allErrs, validateKubeFinalizerName(newMeta.Finalizers[i], fldPath.Child("finalizers").Index(i))...)
	}
	return allErrs
}

// fillUpdateMeta copies into newMeta the server-owned fields of oldMeta that
// an update request may leave out: resourceVersion and uid when empty, and
// the creation and deletion timestamps and grace period, which an update can
// never change.
func fillUpdateMeta(newMeta, oldMeta metav1.Object) {
	if newMeta.GetResourceVersion() == "" {
		newMeta.SetResourceVersion(oldMeta.GetResourceVersion())
	}
	if newMeta.GetUID() == "" {
		newMeta.SetUID(oldMeta.GetUID())
	}
	if ct := oldMeta.GetCreationTimestamp(); !ct.IsZero() {
		newMeta.SetCreationTimestamp(ct)
	}
	if dt := oldMeta.GetDeletionTimestamp(); dt != nil && !dt.IsZero() {
		newMeta.SetDeletionTimestamp(dt)
	}
	if g := oldMeta.GetDeletionGracePeriodSeconds(); g != nil && newMeta.GetDeletionGracePeriodSeconds() == nil {
		newMeta.SetDeletionGracePeriodSeconds(g)
	}
}

// validateKubeFinalizerName rejects a finalizer without a domain prefix
// unless it is one of the standard names.
func validateKubeFinalizerName(name string, fldPath *field.Path) field.ErrorList {
	if !strings.Contains(name, "/") && !standardFinalizers[name] {
		return field.ErrorList{field.Invalid(fldPath, name, "name is neither a standard finalizer name nor is it fully qualified")}
	}
	return nil
}

// objectMetaOf copies the validated fields of any metav1.Object into an
// ObjectMeta, so objects such as Unstructured can go through the same checks
// without being modified.
func objectMetaOf(m metav1.Object) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{
		Name:                       m.GetName(),
		GenerateName:               m.GetGenerateName(),
		Namespace:                  m.GetNamespace(),
		UID:                        m.GetUID(),
		ResourceVersion:            m.GetResourceVersion(),
		Generation:                 m.GetGeneration(),
		CreationTimestamp:          m.GetCreationTimestamp(),
		DeletionTimestamp:          m.GetDeletionTimestamp(),
		DeletionGracePeriodSeconds: m.GetDeletionGracePeriodSeconds(),
		Labels:                     m.GetLabels(),
		Annotations:                m.GetAnnotations(),
		OwnerReferences:            m.GetOwnerReferences(),
		Finalizers:                 m.GetFinalizers(),
		ManagedFields:              m.GetManagedFields(),
	}
}

// validateMetaAccessor validates the metadata of any metav1.Object on create.
func validateMetaAccessor(m metav1.Object, namespaced bool, nameFn apimachineryvalidation.ValidateNameFunc) field.ErrorList {
	return validateObjectMeta(objectMetaOf(m), namespaced, nameFn, metaPath)
}

// validateMetaAccessorUpdate validates the metadata of any metav1.Object on
// update.
func validateMetaAccessorUpdate(newMeta, oldMeta metav1.Object) field.ErrorList {
	return validateObjectMetaUpdate(objectMetaOf(newMeta), objectMetaOf(oldMeta), metaPath)
}
