package validation

import (
	"fmt"
	"net"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Ingress constants from the networking API.
const (
	annotationIngressClass       = "kubernetes.io/ingress.class"
	maxLenIngressClassController = 250
)

// supportedPathTypes is the sorted list of Ingress path types.
var supportedPathTypes = []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypeImplementationSpecific, networkingv1.PathTypePrefix}

// Path fragments an Exact or Prefix Ingress path may not contain or end with.
var (
	invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes  = []string{"/..", "/."}
)

// ingressValidationOptions relax Ingress validation on update for values an
// older API server accepted.
type ingressValidationOptions struct {
	allowInvalidSecretName       bool
	allowInvalidWildcardHostRule bool
}

// defaultIngressClass applies SetDefaults_IngressClass: parameters default
// to cluster scope.
func defaultIngressClass(ic *networkingv1.IngressClass) {
	if p := ic.Spec.Parameters; p != nil && p.Scope == nil {
		scope := networkingv1.IngressClassParametersReferenceScopeCluster
		p.Scope = &scope
	}
}

// prepareIngressUpdate keeps the status and bumps the generation when the
// spec changes.
func prepareIngressUpdate(ing, old *networkingv1.Ingress) {
	ing.Status = old.Status
	if !equality.Semantic.DeepEqual(ing.Spec, old.Spec) {
		ing.Generation = old.Generation + 1
	}
}

// validateIngressCreate validates a new Ingress (ValidateIngressCreate).
func validateIngressCreate(ing *networkingv1.Ingress) field.ErrorList {
	allErrs := validateIngress(ing, ingressValidationOptions{})
	if v, ok := ing.Annotations[annotationIngressClass]; ok && ing.Spec.IngressClassName != nil && v != *ing.Spec.IngressClassName {
		allErrs = append(allErrs, field.Invalid(field.NewPath("annotations").Child(annotationIngressClass), v, "must match `ingressClassName` when both are specified"))
	}
	return allErrs
}

// validateIngressUpdate validates an update of an Ingress, tolerating
// invalid TLS secret names and wildcard rules the stored object already had.
func validateIngressUpdate(ing, old *networkingv1.Ingress) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ing.ObjectMeta, &old.ObjectMeta, metaPath)
	opts := ingressValidationOptions{}
	for _, tls := range old.Spec.TLS {
		if len(validateTLSSecretName(tls.SecretName)) > 0 {
			opts.allowInvalidSecretName = true
		}
	}
	for _, rule := range old.Spec.Rules {
		if strings.Contains(rule.Host, "*") && len(validateIngressRuleValue(&rule.IngressRuleValue, field.NewPath(""))) > 0 {
			opts.allowInvalidWildcardHostRule = true
		}
	}
	return append(allErrs, validateIngress(ing, opts)...)
}

// validateIngress validates an Ingress's metadata and spec.
func validateIngress(ing *networkingv1.Ingress, opts ingressValidationOptions) field.ErrorList {
	allErrs := validateObjectMeta(&ing.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, metaPath)
	return append(allErrs, validateIngressSpec(&ing.Spec, field.NewPath("spec"), opts)...)
}

// validateIngressSpec checks an IngressSpec (ValidateIngressSpec).
func validateIngressSpec(spec *networkingv1.IngressSpec, fldPath *field.Path, opts ingressValidationOptions) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		allErrs = append(allErrs, field.Invalid(fldPath, spec.Rules, fmt.Sprintf("either `%s` or `rules` must be specified", "defaultBackend")))
	}
	if spec.DefaultBackend != nil {
		allErrs = append(allErrs, validateIngressBackend(spec.DefaultBackend, fldPath.Child("defaultBackend"))...)
	}
	rulesPath := fldPath.Child("rules")
	for i, rule := range spec.Rules {
		wildcard := false
		if rule.Host != "" {
			hostPath := rulesPath.Index(i).Child("host")
			if net.ParseIP(rule.Host) != nil {
				allErrs = append(allErrs, field.Invalid(hostPath, rule.Host, "must be a DNS name, not an IP address"))
			}
			if strings.Contains(rule.Host, "*") {
				for _, msg := range utilvalidation.IsWildcardDNS1123Subdomain(rule.Host) {
					allErrs = append(allErrs, field.Invalid(hostPath, rule.Host, msg))
				}
				wildcard = true
			} else {
				allErrs = append(allErrs, validateDNS1123Subdomain(rule.Host, hostPath)...)
			}
		}
		if !wildcard || !opts.allowInvalidWildcardHostRule {
			allErrs = append(allErrs, validateIngressRuleValue(&spec.Rules[i].IngressRuleValue, rulesPath.Index(i))...)
		}
	}
	tlsPath := fldPath.Child("tls")
	for i, tls := range spec.TLS {
		for j, host := range tls.Hosts {
			p := tlsPath.Index(i).Child("hosts").Index(j)
			if strings.Contains(host, "*") {
				for _, msg := range utilvalidation.IsWildcardDNS1123Subdomain(host) {
					allErrs = append(allErrs, field.Invalid(p, host, msg))
				}
				continue
			}
			allErrs = append(allErrs, validateDNS1123Subdomain(host, p)...)
		}
		if !opts.allowInvalidSecretName {
			for _, msg := range validateTLSSecretName(tls.SecretName) {
				allErrs = append(allErrs, field.Invalid(tlsPath.Index(i).Child("secretName"), tls.SecretName, msg))
			}
		}
	}
	if spec.IngressClassName != nil {
		allErrs = append(allErrs, validateName(apimachineryvalidation.NameIsDNSSubdomain, *spec.IngressClassName, fldPath.Child("ingressClassName"))...)
	}
	return allErrs
}

// validateTLSSecretName checks a TLS secret name when one is given.
func validateTLSSecretName(name string) []string {
	if name == "" {
		return nil
	}
	return apimachineryvalidation.NameIsDNSSubdomain(name, false)
}

// validateIngressRuleValue checks the HTTP paths of a rule.
func validateIngressRuleValue(rule *networkingv1.IngressRuleValue, fldPath *field.Path) field.ErrorList {
	if rule.HTTP == nil {
		return nil
	}
	var allErrs field.ErrorList
	p := fldPath.Child("http")
	if len(rule.HTTP.Paths) == 0 {
		allErrs = append(allErrs, field.Required(p.Child("paths"), ""))
	}
	for i := range rule.HTTP.Paths {
		allErrs = append(allErrs, validateHTTPIngressPath(&rule.HTTP.Paths[i], p.Child("paths").Index(i))...)
	}
	return allErrs
}

// validateHTTPIngressPath checks one Ingress path: its type, its syntax and
// its backend.
func validateHTTPIngressPath(path *networkingv1.HTTPIngressPath, fldPath *field.Path) field.ErrorList {
	if path.PathType == nil {
		return field.ErrorList{field.Required(fldPath.Child("pathType"), "pathType must be specified")}
	}
	var allErrs field.ErrorList
	switch *path.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(path.Path, "/") {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), path.Path, "must be an absolute path"))
		}
		if path.Path != "" {
			for _, seq := range invalidPathSequences {
				if strings.Contains(path.Path, seq) {
					allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), path.Path, fmt.Sprintf("must not contain '%s'", seq)))
				}
			}
			for _, suffix := range invalidPathSuffixes {
				if strings.HasSuffix(path.Path, suffix) {
					allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), path.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
				}
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if path.Path != "" && !strings.HasPrefix(path.Path, "/") {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), path.Path, "must be an absolute path"))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("pathType"), *path.PathType, supportedPathTypes))
	}
	return append(allErrs, validateIngressBackend(&path.Backend, fldPath.Child("backend"))...)
}

// validateIngressBackend requires exactly one of a resource or a service
// backend, and for a service exactly one of a port name or number.
func validateIngressBackend(b *networkingv1.IngressBackend, fldPath *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(fldPath, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		return validateTypedLocalObjectReference(b.Resource.APIGroup, b.Resource.Kind, b.Resource.Name, fldPath.Child("resource"))
	case b.Service == nil:
		return field.ErrorList{field.Invalid(fldPath, "", "resource or service backend is required")}
	}
	var allErrs field.ErrorList
	svc := b.Service
	if svc.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("service", "name"), ""))
	} else {
		allErrs = append(allErrs, validateName(apimachineryvalidation.NameIsDNS1035Label, svc.Name, fldPath.Child("service", "name"))...)
	}
	hasName, hasNumber := svc.Port.Name != "", svc.Port.Number != 0
	switch {
	case hasName && hasNumber:
		allErrs = append(allErrs, field.Invalid(fldPath, "", "cannot set both port name & port number"))
	case hasName:
		for _, msg := range utilvalidation.IsValidPortName(svc.Port.Name) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("service", "port", "name"), svc.Port.Name, msg))
		}
	case hasNumber:
		for _, msg := range utilvalidation.IsValidPortNum(int(svc.Port.Number)) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("service", "port", "number"), svc.Port.Number, msg))
		}
	default:
		allErrs = append(allErrs, field.Required(fldPath, "port name or number is required"))
	}
	return allErrs
}

// validateTypedLocalObjectReference checks a reference to an object in the
// same namespace.
func validateTypedLocalObjectReference(apiGroup *string, kind, name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if apiGroup != nil {
		allErrs = append(allErrs, validateDNS1123Subdomain(*apiGroup, fldPath.Child("apiGroup"))...)
	}
	if kind == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("kind"), ""))
	} else {
		for _, msg := range content.IsPathSegmentName(kind) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("kind"), kind, msg))
		}
	}
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	} else {
		for _, msg := range content.IsPathSegmentName(name) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), name, msg))
		}
	}
	return allErrs
}

// validateIngressClass validates an IngressClass (ValidateIngressClass).
func validateIngressClass(ic *networkingv1.IngressClass) field.ErrorList {
	allErrs := validateObjectMeta(&ic.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, metaPath)
	specPath := field.NewPath("spec")
	controllerPath := specPath.Child("controller")
	if ic.Spec.Controller == "" {
		allErrs = append(allErrs, field.Required(controllerPath, ""))
	} else {
		if len(ic.Spec.Controller) > maxLenIngressClassController {
			allErrs = append(allErrs, field.TooLong(controllerPath, "", maxLenIngressClassController))
		}
		allErrs = append(allErrs, utilvalidation.IsDomainPrefixedPath(controllerPath, ic.Spec.Controller)...)
	}
	if p := ic.Spec.Parameters; p != nil {
		pp := specPath.Child("parameters")
		allErrs = append(allErrs, validateTypedLocalObjectReference(p.APIGroup, p.Kind, p.Name, pp)...)
		switch {
		case p.Scope == nil:
			allErrs = append(allErrs, field.Required(pp.Child("scope"), ""))
		case *p.Scope != networkingv1.IngressClassParametersReferenceScopeCluster && *p.Scope != networkingv1.IngressClassParametersReferenceScopeNamespace:
			allErrs = append(allErrs, field.NotSupported(pp.Child("scope"), *p.Scope, []string{
				networkingv1.IngressClassParametersReferenceScopeCluster, networkingv1.IngressClassParametersReferenceScopeNamespace}))
		case *p.Scope == networkingv1.IngressClassParametersReferenceScopeNamespace:
			if p.Namespace == nil {
				allErrs = append(allErrs, field.Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
			} else {
				allErrs = append(allErrs, validateName(apimachineryvalidation.ValidateNamespaceName, *p.Namespace, pp.Child("namespace"))...)
			}
		case p.Namespace != nil:
			allErrs = append(allErrs, field.Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	}
	return allErrs
}

// validateIngressClassUpdate validates an update of an IngressClass; the
// controller is immutable.
func validateIngressClassUpdate(ic, old *networkingv1.IngressClass) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ic.ObjectMeta, &old.ObjectMeta, metaPath)
	allErrs = append(allErrs, validateImmutable(ic.Spec.Controller, old.Spec.Controller, field.NewPath("spec", "controller"))...)
	return append(allErrs, validateIngressClass(ic)...)
}
