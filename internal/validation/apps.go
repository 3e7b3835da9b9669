package validation

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	unversionedvalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// daemonSetTemplateGenerationKey is the annotation in which apps/v1 keeps a
// DaemonSet's template generation.
const daemonSetTemplateGenerationKey = "deprecated.daemonset.template.generation"

// internalDeploymentStrategy mirrors apps.DeploymentStrategy, whose JSON (Go
// field names) Kubernetes prints for an unsupported strategy.
type internalDeploymentStrategy struct {
	Type          appsv1.DeploymentStrategyType
	RollingUpdate *internalRollingUpdate
}

// internalDaemonSetUpdateStrategy mirrors apps.DaemonSetUpdateStrategy.
type internalDaemonSetUpdateStrategy struct {
	Type          appsv1.DaemonSetUpdateStrategyType
	RollingUpdate *internalRollingUpdate
}

// internalRollingUpdate mirrors the internal rolling update parameters of
// Deployments and DaemonSets.
type internalRollingUpdate struct {
	MaxUnavailable intstr.IntOrString
	MaxSurge       intstr.IntOrString
}

// internalRollingUpdateOf converts rolling update parameters for printing.
func internalRollingUpdateOf(maxUnavailable, maxSurge *intstr.IntOrString) *internalRollingUpdate {
	ru := &internalRollingUpdate{}
	if maxUnavailable != nil {
		ru.MaxUnavailable = *maxUnavailable
	}
	if maxSurge != nil {
		ru.MaxSurge = *maxSurge
	}
	return ru
}

// defaultDeployment applies SetDefaults_Deployment and the pod template
// defaults.
func defaultDeployment(d *appsv1.Deployment) {
	if d.Spec.Replicas == nil {
		one := int32(1)
		d.Spec.Replicas = &one
	}
	s := &d.Spec.Strategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromString("25%")
			s.RollingUpdate.MaxUnavailable = &v
		}
		if s.RollingUpdate.MaxSurge == nil {
			v := intstr.FromString("25%")
			s.RollingUpdate.MaxSurge = &v
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		limit := int32(10)
		d.Spec.RevisionHistoryLimit = &limit
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		deadline := int32(600)
		d.Spec.ProgressDeadlineSeconds = &deadline
	}
	defaultPodTemplate(&d.Spec.Template)
}

// defaultReplicaSet applies SetDefaults_ReplicaSet and the pod template
// defaults.
func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		one := int32(1)
		rs.Spec.Replicas = &one
	}
	defaultPodTemplate(&rs.Spec.Template)
}

// defaultDaemonSet applies SetDefaults_DaemonSet and the pod template
// defaults.
func defaultDaemonSet(ds *appsv1.DaemonSet) {
	s := &ds.Spec.UpdateStrategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if s.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromInt32(1)
			s.RollingUpdate.MaxUnavailable = &v
		}
		if s.RollingUpdate.MaxSurge == nil {
			v := intstr.FromInt32(0)
			s.RollingUpdate.MaxSurge = &v
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		limit := int32(10)
		ds.Spec.RevisionHistoryLimit = &limit
	}
	defaultPodTemplate(&ds.Spec.Template)
}

// prepareDeploymentUpdate keeps the status and bumps the generation when
// the spec or the annotations (which are copied to ReplicaSets) change.
func prepareDeploymentUpdate(d, old *appsv1.Deployment) {
	d.Status = old.Status
	if !equality.Semantic.DeepEqual(d.Spec, old.Spec) || !equality.Semantic.DeepEqual(d.Annotations, old.Annotations) {
		d.Generation = old.Generation + 1
	}
}

// prepareReplicaSetUpdate keeps the status and bumps the generation when the
// spec changes.
func prepareReplicaSetUpdate(rs, old *appsv1.ReplicaSet) {
	rs.Status = old.Status
	if !equality.Semantic.DeepEqual(rs.Spec, old.Spec) {
		rs.Generation = old.Generation + 1
	}
}

// prepareDaemonSetCreate clears the status and starts the template
// generation at 1.
func prepareDaemonSetCreate(ds *appsv1.DaemonSet) {
	ds.Status = appsv1.DaemonSetStatus{}
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	if g, err := strconv.ParseInt(ds.Annotations[daemonSetTemplateGenerationKey], 10, 64); err != nil || g < 1 {
		ds.Annotations[daemonSetTemplateGenerationKey] = "1"
	}
}

// prepareDaemonSetUpdate keeps the status, bumps the generation when the
// spec changes and the template generation when the template changes.
func prepareDaemonSetUpdate(ds, old *appsv1.DaemonSet) {
	ds.Status = old.Status
	oldGen := old.Annotations[daemonSetTemplateGenerationKey]
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[daemonSetTemplateGenerationKey] = oldGen
	if !equality.Semantic.DeepEqual(ds.Spec.Template, old.Spec.Template) {
		g, _ := strconv.ParseInt(oldGen, 10, 64)
		ds.Annotations[daemonSetTemplateGenerationKey] = strconv.FormatInt(g+1, 10)
	}
	if oldGen == "" && ds.Annotations[daemonSetTemplateGenerationKey] == "" {
		delete(ds.Annotations, daemonSetTemplateGenerationKey)
	}
	if !equality.Semantic.DeepEqual(ds.Spec, old.Spec) {
		ds.Generation = old.Generation + 1
	}
}

// replicas returns the value of an optional replica count.
func replicas(r *int32) int32 {
	if r == nil {
		return 0
	}
	return *r
}

// validateDeployment validates a Deployment (ValidateDeployment).
func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	allErrs := validateObjectMeta(&d.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, metaPath)
	return append(allErrs, validateDeploymentSpec(&d.Spec, field.NewPath("spec"))...)
}

// validateDeploymentUpdate validates an update of a Deployment; in apps/v1
// the selector is immutable.
func validateDeploymentUpdate(d, old *appsv1.Deployment) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&d.ObjectMeta, &old.ObjectMeta, metaPath)
	allErrs = append(allErrs, validateDeploymentSpec(&d.Spec, field.NewPath("spec"))...)
	return append(allErrs, validateImmutableSelector(d.Spec.Selector, old.Spec.Selector)...)
}

// validateImmutableSelector reports a changed spec.selector.
func validateImmutableSelector(selector, old *metav1.LabelSelector) field.ErrorList {
	return validateImmutable(selector, old, field.NewPath("spec").Child("selector"))
}

// validateDeploymentSpec checks a DeploymentSpec (ValidateDeploymentSpec).
func validateDeploymentSpec(spec *appsv1.DeploymentSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateNonnegative(int64(replicas(spec.Replicas)), fldPath.Child("replicas"))
	allErrs = append(allErrs, validateWorkloadSelector(spec.Selector, "deployment", fldPath)...)
	allErrs = append(allErrs, validateTemplateForSelector(&spec.Template, spec.Selector, "ReplicaSet", fldPath)...)
	allErrs = append(allErrs, validateDeploymentStrategy(&spec.Strategy, fldPath.Child("strategy"))...)
	allErrs = append(allErrs, validateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		allErrs = append(allErrs, validateNonnegative(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if spec.ProgressDeadlineSeconds != nil {
		allErrs = append(allErrs, validateNonnegative(int64(*spec.ProgressDeadlineSeconds), fldPath.Child("progressDeadlineSeconds"))...)
		if *spec.ProgressDeadlineSeconds <= spec.MinReadySeconds {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("progressDeadlineSeconds"), spec.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return allErrs
}

// validateWorkloadSelector requires a valid, non-empty label selector.
func validateWorkloadSelector(selector *metav1.LabelSelector, kind string, fldPath *field.Path) field.ErrorList {
	if selector == nil {
		return field.ErrorList{field.Required(fldPath.Child("selector"), "")}
	}
	allErrs := unversionedvalidation.ValidateLabelSelector(selector, unversionedvalidation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))
	if len(selector.MatchLabels)+len(selector.MatchExpressions) == 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("selector"), selector, "empty selector is invalid for "+kind))
	}
	return allErrs
}

// validateTemplateForSelector checks that the selector matches the template
// labels and validates the template of a ReplicaSet or Deployment whose spec
// is at specPath (ValidatePodTemplateSpecForReplicaSet).
func validateTemplateForSelector(t *corev1.PodTemplateSpec, selector *metav1.LabelSelector, owner string, specPath *field.Path) field.ErrorList {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return field.ErrorList{field.Invalid(specPath.Child("selector"), selector, "invalid label selector")}
	}
	fldPath := specPath.Child("template")
	var allErrs field.ErrorList
	if !sel.Empty() && !sel.Matches(labels.Set(t.Labels)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	allErrs = append(allErrs, validatePodTemplateSpec(t, fldPath)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+owner+" is not Supported"))
	}
	return allErrs
}

// validateDeploymentStrategy checks a Deployment's strategy.
func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fldPath.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdateDeployment(s.RollingUpdate, fldPath.Child("rollingUpdate"))
	default:
		value := internalDeploymentStrategy{Type: s.Type}
		if s.RollingUpdate != nil {
			value.RollingUpdate = internalRollingUpdateOf(s.RollingUpdate.MaxUnavailable, s.RollingUpdate.MaxSurge)
		}
		return field.ErrorList{field.NotSupported(fldPath, value, []string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)})}
	}
	return nil
}

// intOrZero returns the value of an optional int-or-string.
func intOrZero(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.IntOrString{}
	}
	return *v
}

// validateRollingUpdateDeployment checks maxUnavailable and maxSurge.
func validateRollingUpdateDeployment(ru *appsv1.RollingUpdateDeployment, fldPath *field.Path) field.ErrorList {
	maxUnavailable, maxSurge := intOrZero(ru.MaxUnavailable), intOrZero(ru.MaxSurge)
	allErrs := validatePositiveIntOrPercent(maxUnavailable, fldPath.Child("maxUnavailable"))
	allErrs = append(allErrs, validatePositiveIntOrPercent(maxSurge, fldPath.Child("maxSurge"))...)
	if intOrPercentValue(maxUnavailable) == 0 && intOrPercentValue(maxSurge) == 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("maxUnavailable"), maxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	return append(allErrs, isNotMoreThan100Percent(maxUnavailable, fldPath.Child("maxUnavailable"))...)
}

// validatePositiveIntOrPercent accepts a non-negative integer or a percent.
func validatePositiveIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.String:
		var allErrs field.ErrorList
		for _, msg := range utilvalidation.IsValidPercent(v.StrVal) {
			allErrs = append(allErrs, field.Invalid(fldPath, v, msg))
		}
		return allErrs
	case intstr.Int:
		return validateNonnegative(int64(v.IntValue()), fldPath)
	}
	return field.ErrorList{field.Invalid(fldPath, v, "must be an integer or percentage (e.g '5%%')")}
}

// percentValue returns the number in a valid percent string.
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(utilvalidation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

// intOrPercentValue returns the number in an int-or-percent.
func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

// isNotMoreThan100Percent rejects a percentage above 100%.
func isNotMoreThan100Percent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	if n, ok := percentValue(v); ok && n > 100 {
		return field.ErrorList{field.Invalid(fldPath, v, "must not be greater than 100%")}
	}
	return nil
}

// validateReplicaSet validates a ReplicaSet (ValidateReplicaSet).
func validateReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	allErrs := validateObjectMeta(&rs.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, metaPath)
	return append(allErrs, validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))...)
}

// validateReplicaSetSpec checks a ReplicaSetSpec.
func validateReplicaSetSpec(spec *appsv1.ReplicaSetSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateNonnegative(int64(replicas(spec.Replicas)), fldPath.Child("replicas"))
	allErrs = append(allErrs, validateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	// Kubernetes says "deployment" here too.
	allErrs = append(allErrs, validateWorkloadSelector(spec.Selector, "deployment", fldPath)...)
	return append(allErrs, validateTemplateForSelector(&spec.Template, spec.Selector, "ReplicaSet", fldPath)...)
}

// validateReplicaSetUpdate validates an update of a ReplicaSet; in apps/v1
// the selector is immutable.
func validateReplicaSetUpdate(rs, old *appsv1.ReplicaSet) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&rs.ObjectMeta, &old.ObjectMeta, metaPath)
	allErrs = append(allErrs, validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))...)
	return append(allErrs, validateImmutableSelector(rs.Spec.Selector, old.Spec.Selector)...)
}

// validateDaemonSet validates a DaemonSet (ValidateDaemonSet).
func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	allErrs := validateObjectMeta(&ds.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, metaPath)
	return append(allErrs, validateDaemonSetSpec(&ds.Spec, field.NewPath("spec"))...)
}

// validateDaemonSetUpdate validates an update of a DaemonSet; in apps/v1 the
// selector is immutable.
func validateDaemonSetUpdate(ds, old *appsv1.DaemonSet) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ds.ObjectMeta, &old.ObjectMeta, metaPath)
	allErrs = append(allErrs, validateDaemonSetSpec(&ds.Spec, field.NewPath("spec"))...)
	return append(allErrs, validateImmutableSelector(ds.Spec.Selector, old.Spec.Selector)...)
}

// validateDaemonSetSpec checks a DaemonSetSpec (ValidateDaemonSetSpec).
func validateDaemonSetSpec(spec *appsv1.DaemonSetSpec, fldPath *field.Path) field.ErrorList {
	allErrs := unversionedvalidation.ValidateLabelSelector(spec.Selector, unversionedvalidation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("selector"), spec.Selector, "empty selector is invalid for daemonset"))
	}
	allErrs = append(allErrs, validatePodTemplateSpec(&spec.Template, fldPath.Child("template"))...)
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if spec.Template.Spec.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in DaemonSet is not Supported"))
	}
	allErrs = append(allErrs, validateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	allErrs = append(allErrs, validateDaemonSetUpdateStrategy(&spec.UpdateStrategy, fldPath.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		allErrs = append(allErrs, validateNonnegative(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	return allErrs
}

// validateDaemonSetUpdateStrategy checks a DaemonSet's update strategy.
func validateDaemonSetUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "")}
		}
		return validateRollingUpdateDaemonSet(s.RollingUpdate, fldPath.Child("rollingUpdate"))
	}
	value := internalDaemonSetUpdateStrategy{Type: s.Type}
	if s.RollingUpdate != nil {
		value.RollingUpdate = internalRollingUpdateOf(s.RollingUpdate.MaxUnavailable, s.RollingUpdate.MaxSurge)
	}
	return field.ErrorList{field.NotSupported(fldPath, value, []string{string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)})}
}

// validateRollingUpdateDaemonSet requires exactly one of maxUnavailable and
// maxSurge to be non-zero.
func validateRollingUpdateDaemonSet(ru *appsv1.RollingUpdateDaemonSet, fldPath *field.Path) field.ErrorList {
	maxUnavailable, maxSurge := intOrZero(ru.MaxUnavailable), intOrZero(ru.MaxSurge)
	allErrs := validatePositiveIntOrPercent(maxUnavailable, fldPath.Child("maxUnavailable"))
	allErrs = append(allErrs, validatePositiveIntOrPercent(maxSurge, fldPath.Child("maxSurge"))...)
	allErrs = append(allErrs, isNotMoreThan100Percent(maxUnavailable, fldPath.Child("maxUnavailable"))...)
	allErrs = append(allErrs, isNotMoreThan100Percent(maxSurge, fldPath.Child("maxSurge"))...)
	hasUnavailable, hasSurge := intOrPercentValue(maxUnavailable) != 0, intOrPercentValue(maxSurge) != 0
	switch {
	case hasUnavailable && hasSurge:
		allErrs = append(allErrs, field.Invalid(fldPath.Child("maxSurge"), maxSurge, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		allErrs = append(allErrs, field.Required(fldPath.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return allErrs
}
