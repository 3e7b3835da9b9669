package validation

import (
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Default fills in Kubernetes' defaults on a typed object in place: the v1
// defaulting functions kube-apiserver runs when it decodes a request, plus
// the values the ServiceAccount, DefaultTolerationSeconds and Priority
// admission plugins add to new Pods. It only fills empty fields, so it is
// safe to call on every create and update. Unknown kinds are left alone.
func Default(obj runtime.Object) {
	if isNil(obj) {
		return
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		defaultNamespace(o)
	case *corev1.Node:
		defaultNode(o)
	case *corev1.Pod:
		defaultPod(o)
	case *corev1.Service:
		defaultService(o)
	case *corev1.Endpoints:
		defaultEndpoints(o)
	case *corev1.ConfigMap:
		defaultConfigMap(o)
	case *corev1.Secret:
		defaultSecret(o)
	case *appsv1.Deployment:
		defaultDeployment(o)
	case *appsv1.ReplicaSet:
		defaultReplicaSet(o)
	case *appsv1.DaemonSet:
		defaultDaemonSet(o)
	case *discoveryv1.EndpointSlice:
		defaultEndpointSlice(o)
	case *networkingv1.IngressClass:
		defaultIngressClass(o)
	case *rbacv1.RoleBinding:
		defaultRoleBinding(o)
	case *rbacv1.ClusterRoleBinding:
		defaultClusterRoleBinding(o)
	case *unstructured.Unstructured:
		defaultCustomResource(o)
	}
}

// PrepareForCreate does what the kind's registry strategy does before a
// create is validated: it clears server-owned fields (status, deletion
// fields, the namespace of cluster-scoped kinds), sets metadata.generation
// to 1 for kinds that track it, puts the "kubernetes" finalizer on
// Namespaces and sets a new Pod's phase and QoS class. Call it after Default.
func PrepareForCreate(obj runtime.Object) {
	if isNil(obj) {
		return
	}
	if m, err := meta.Accessor(obj); err == nil {
		m.SetDeletionTimestamp(nil)
		m.SetDeletionGracePeriodSeconds(nil)
		if isClusterScoped(obj) {
			m.SetNamespace("")
		}
		if tracksGeneration(obj) {
			m.SetGeneration(1)
		}
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		prepareNamespaceCreate(o)
	case *corev1.Pod:
		preparePodCreate(o)
	case *corev1.Service:
		o.Status = corev1.ServiceStatus{}
	case *appsv1.Deployment:
		o.Status = appsv1.DeploymentStatus{}
	case *appsv1.ReplicaSet:
		o.Status = appsv1.ReplicaSetStatus{}
	case *appsv1.DaemonSet:
		prepareDaemonSetCreate(o)
	case *networkingv1.Ingress:
		o.Status = networkingv1.IngressStatus{}
	}
}

// PrepareForUpdate does what rest.BeforeUpdate and the kind's registry
// strategy do before an update of the main resource (not /status) is
// validated: it carries server-owned metadata and the status over from old,
// bumps metadata.generation when the spec changed, keeps a Namespace's
// finalizers, and for Services normalises clusterIP/clusterIPs and drops the
// fields the new type no longer uses (node ports when leaving NodePort, and
// so on). Call it after Default.
func PrepareForUpdate(obj, old runtime.Object) {
	if isNil(obj) || isNil(old) || reflect.TypeOf(obj) != reflect.TypeOf(old) {
		return
	}
	newMeta, err1 := meta.Accessor(obj)
	oldMeta, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return
	}
	fillUpdateMeta(newMeta, oldMeta)
	if isClusterScoped(obj) {
		newMeta.SetNamespace("")
	}
	newMeta.SetGeneration(oldMeta.GetGeneration())
	switch o := obj.(type) {
	case *corev1.Namespace:
		prepareNamespaceUpdate(o, old.(*corev1.Namespace))
	case *corev1.Pod:
		preparePodUpdate(o, old.(*corev1.Pod))
	case *corev1.Service:
		prepareServiceUpdate(o, old.(*corev1.Service))
	case *appsv1.Deployment:
		prepareDeploymentUpdate(o, old.(*appsv1.Deployment))
	case *appsv1.ReplicaSet:
		prepareReplicaSetUpdate(o, old.(*appsv1.ReplicaSet))
	case *appsv1.DaemonSet:
		prepareDaemonSetUpdate(o, old.(*appsv1.DaemonSet))
	case *discoveryv1.EndpointSlice:
		prepareEndpointSliceUpdate(o, old.(*discoveryv1.EndpointSlice))
	case *networkingv1.Ingress:
		prepareIngressUpdate(o, old.(*networkingv1.Ingress))
	case *unstructured.Unstructured:
		prepareCustomResourceUpdate(o, old.(*unstructured.Unstructured))
	}
}

// ValidateCreate returns the field errors kube-apiserver reports when obj is
// created. Unknown kinds get metadata validation only.
func ValidateCreate(obj runtime.Object) field.ErrorList {
	if isNil(obj) {
		return nil
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		return validateNamespace(o)
	case *corev1.Node:
		return validateNode(o)
	case *corev1.Pod:
		return validatePodCreate(o)
	case *corev1.Service:
		return validateService(o)
	case *corev1.Endpoints:
		return validateEndpoints(o)
	case *corev1.ConfigMap:
		return validateConfigMap(o)
	case *corev1.Secret:
		return validateSecret(o)
	case *corev1.ServiceAccount:
		return validateServiceAccount(o)
	case *corev1.Event:
		return validateEvent(o)
	case *appsv1.Deployment:
		return validateDeployment(o)
	case *appsv1.ReplicaSet:
		return validateReplicaSet(o)
	case *appsv1.DaemonSet:
		return validateDaemonSet(o)
	case *discoveryv1.EndpointSlice:
		return validateEndpointSlice(o)
	case *networkingv1.Ingress:
		return validateIngressCreate(o)
	case *networkingv1.IngressClass:
		return validateIngressClass(o)
	case *coordinationv1.Lease:
		return validateLease(o)
	case *rbacv1.Role:
		return validateRole(o)
	case *rbacv1.ClusterRole:
		return validateClusterRole(o)
	case *rbacv1.RoleBinding:
		return validateRoleBinding(o)
	case *rbacv1.ClusterRoleBinding:
		return validateClusterRoleBinding(o)
	case *autoscalingv1.Scale:
		return validateScale(o)
	case *unstructured.Unstructured:
		return validateCustomResource(o)
	}
	return validateUnknownMeta(obj)
}

// ValidateUpdate returns the field errors kube-apiserver reports when the
// stored object old is replaced by obj: the create rules plus the rules for
// immutable fields. Server-owned metadata missing from obj (resourceVersion,
// uid, creationTimestamp, generation) is taken from old, as
// rest.BeforeUpdate does, so a plain PUT of a manifest is not rejected for
// omitting them.
func ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	if isNil(obj) {
		return nil
	}
	if isNil(old) {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), fmt.Errorf("validation: no stored object to update"))}
	}
	if reflect.TypeOf(obj) != reflect.TypeOf(old) {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), fmt.Errorf("validation: stored object is %T, not %T", old, obj))}
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		return validateNamespaceUpdate(o, old.(*corev1.Namespace))
	case *corev1.Node:
		return validateNodeUpdate(o, old.(*corev1.Node))
	case *corev1.Pod:
		return validatePodUpdate(o, old.(*corev1.Pod))
	case *corev1.Service:
		return validateServiceUpdate(o, old.(*corev1.Service))
	case *corev1.Endpoints:
		return validateEndpointsUpdate(o, old.(*corev1.Endpoints))
	case *corev1.ConfigMap:
		return validateConfigMapUpdate(o, old.(*corev1.ConfigMap))
	case *corev1.Secret:
		return validateSecretUpdate(o, old.(*corev1.Secret))
	case *corev1.ServiceAccount:
		return append(validateObjectMetaUpdate(&o.ObjectMeta, &old.(*corev1.ServiceAccount).ObjectMeta, metaPath), validateServiceAccount(o)...)
	case *corev1.Event:
		return validateEvent(o)
	case *appsv1.Deployment:
		return validateDeploymentUpdate(o, old.(*appsv1.Deployment))
	case *appsv1.ReplicaSet:
		return validateReplicaSetUpdate(o, old.(*appsv1.ReplicaSet))
	case *appsv1.DaemonSet:
		return validateDaemonSetUpdate(o, old.(*appsv1.DaemonSet))
	case *discoveryv1.EndpointSlice:
		return validateEndpointSliceUpdate(o, old.(*discoveryv1.EndpointSlice))
	case *networkingv1.Ingress:
		return validateIngressUpdate(o, old.(*networkingv1.Ingress))
	case *networkingv1.IngressClass:
		return validateIngressClassUpdate(o, old.(*networkingv1.IngressClass))
	case *coordinationv1.Lease:
		return validateLeaseUpdate(o, old.(*coordinationv1.Lease))
	case *rbacv1.Role:
		return append(validateRole(o), validateObjectMetaUpdate(&o.ObjectMeta, &old.(*rbacv1.Role).ObjectMeta, metaPath)...)
	case *rbacv1.ClusterRole:
		return append(validateClusterRole(o), validateObjectMetaUpdate(&o.ObjectMeta, &old.(*rbacv1.ClusterRole).ObjectMeta, metaPath)...)
	case *rbacv1.RoleBinding:
		return validateRoleBindingUpdate(o, old.(*rbacv1.RoleBinding))
	case *rbacv1.ClusterRoleBinding:
		return validateClusterRoleBindingUpdate(o, old.(*rbacv1.ClusterRoleBinding))
	case *autoscalingv1.Scale:
		return validateScale(o)
	case *unstructured.Unstructured:
		return validateCustomResourceUpdate(o, old.(*unstructured.Unstructured))
	}
	return validateUnknownMetaUpdate(obj, old)
}

// isNil reports whether obj is nil or a typed nil pointer.
func isNil(obj runtime.Object) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// isClusterScoped reports whether obj is one of the known cluster-scoped
// kinds, whose metadata.namespace the API server clears before validation.
func isClusterScoped(obj runtime.Object) bool {
	switch obj.(type) {
	case *corev1.Namespace, *corev1.Node, *networkingv1.IngressClass, *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
		return true
	}
	return false
}

// tracksGeneration reports whether the registry strategy of obj's kind sets
// metadata.generation to 1 on create and bumps it when the spec changes.
func tracksGeneration(obj runtime.Object) bool {
	switch obj.(type) {
	case *corev1.Pod, *appsv1.Deployment, *appsv1.ReplicaSet, *appsv1.DaemonSet,
		*discoveryv1.EndpointSlice, *networkingv1.Ingress, *unstructured.Unstructured:
		return true
	}
	return false
}

// validateUnknownMeta validates the metadata of a kind this package does not
// know: name as a DNS subdomain, the namespace's format when one is set,
// labels, annotations, owner references and finalizers.
func validateUnknownMeta(obj runtime.Object) field.ErrorList {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	return validateMetaAccessor(m, m.GetNamespace() != "", apimachineryvalidation.NameIsDNSSubdomain)
}

// validateUnknownMetaUpdate validates an update of a kind this package does
// not know: the metadata update rules plus validateUnknownMeta.
func validateUnknownMetaUpdate(obj, old runtime.Object) field.ErrorList {
	newMeta, err1 := meta.Accessor(obj)
	oldMeta, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return nil
	}
	allErrs := validateMetaAccessorUpdate(newMeta, oldMeta)
	return append(allErrs, validateMetaAccessor(newMeta, newMeta.GetNamespace() != "", apimachineryvalidation.NameIsDNSSubdomain)...)
}
