// Package validation defaults and validates the objects kin's API server
// stores, the way a real kube-apiserver does, so that clients see the same
// objects and the same error messages.
//
// The pipeline mirrors kube-apiserver's for a write request:
//
//	create: Default(obj); PrepareForCreate(obj); errs := ValidateCreate(obj)
//	update: Default(obj); PrepareForUpdate(obj, old); errs := ValidateUpdate(obj, old)
//
// Default applies the versioned defaulting functions of the v1 types plus the
// defaults that the standard admission plugins add (ServiceAccount,
// DefaultTolerationSeconds, Priority), because kin runs no admission chain.
// PrepareForCreate and PrepareForUpdate are the registry strategies' hooks:
// they reset status, set and bump metadata.generation, carry immutable
// server-owned fields over from the stored object and normalise linked
// Service fields. ValidateCreate and ValidateUpdate return a field.ErrorList
// whose entries render exactly as Kubernetes' own; the API server turns it
// into a 422 Status with apierrors.NewInvalid(kind, name, errs), which kubectl
// prints as, for example:
//
//	The Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive
//
// Kubernetes validates its internal (unversioned) types, and a few error
// messages print a struct value; where that happens this package renders a
// mirror of the internal type so the JSON in the message is the same.
//
// Every function accepts any runtime.Object and never panics: kinds it does
// not know get only metadata validation, and custom resources passed as
// *unstructured.Unstructured get metadata validation plus the required fields
// of their CRD schema (MetalLB IPAddressPool and L2Advertisement, AWS Load
// Balancer Controller TargetGroupBinding).
package validation
