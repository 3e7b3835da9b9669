package validation

import (
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validLeaseStrategies are the coordinated lease strategies Kubernetes
// defines.
var validLeaseStrategies = []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion}

// validateLease validates a Lease (ValidateLease).
func validateLease(l *coordinationv1.Lease) field.ErrorList {
	allErrs := validateObjectMeta(&l.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, metaPath)
	return append(allErrs, validateLeaseSpec(&l.Spec, field.NewPath("spec"))...)
}

// validateLeaseUpdate validates an update of a Lease.
func validateLeaseUpdate(l, old *coordinationv1.Lease) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&l.ObjectMeta, &old.ObjectMeta, metaPath)
	return append(allErrs, validateLeaseSpec(&l.Spec, field.NewPath("spec"))...)
}

// validateLeaseSpec checks a LeaseSpec.
func validateLeaseSpec(spec *coordinationv1.LeaseSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("leaseDurationSeconds"), spec.LeaseDurationSeconds, "must be greater than 0"))
	}
	if spec.LeaseTransitions != nil && *spec.LeaseTransitions < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("leaseTransitions"), spec.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		// Kubernetes reports a bad strategy at spec.strategy.strategy.
		p := fldPath.Child("strategy").Child("strategy")
		s := *spec.Strategy
		if !strings.Contains(string(s), "/") {
			known := false
			for _, v := range validLeaseStrategies {
				known = known || v == s
			}
			if !known {
				allErrs = append(allErrs, field.NotSupported(p, s, validLeaseStrategies))
			}
		} else {
			for _, msg := range utilvalidation.IsQualifiedName(string(s)) {
				allErrs = append(allErrs, field.Invalid(p, s, msg))
			}
		}
	}
	if spec.PreferredHolder != nil && *spec.PreferredHolder != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return allErrs
}
