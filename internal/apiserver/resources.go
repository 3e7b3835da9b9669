package apiserver

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// resource describes one REST resource the server serves: where it lives in
// the URL space, how it is stored and which subresources it has.
type resource struct {
	gvr        schema.GroupVersionResource
	kind       string
	singular   string
	namespaced bool
	shortNames []string
	categories []string
	// status is true when the resource has a status subresource: writes to
	// the main resource keep the stored status and /status writes keep the rest.
	status bool
	// scale is true when the resource has a scale subresource (autoscaling/v1 Scale).
	scale bool
	// custom marks custom resources: they are handled as unstructured objects
	// and patched with JSON merge patch instead of strategic merge patch.
	custom bool
	// allowCreateOnUpdate lets PUT create a missing object, as Kubernetes does
	// for a few resources (endpoints, leases, events).
	allowCreateOnUpdate bool
}

// gvk returns the resource's group, version and kind.
func (r *resource) gvk() schema.GroupVersionKind {
	return r.gvr.GroupVersion().WithKind(r.kind)
}

// groupResource returns the resource's group and plural name.
func (r *resource) groupResource() schema.GroupResource { return r.gvr.GroupResource() }

// storagePrefix is the store key prefix for objects of this resource.
func (r *resource) storagePrefix() string {
	g := r.gvr.Group
	if g == "" {
		g = "core"
	}
	return g + "/" + r.gvr.Resource + "/"
}

// key is the store key of one object.
func (r *resource) key(namespace, name string) string {
	return r.storagePrefix() + namespace + "/" + name
}

// listPrefix is the store prefix for a list in one namespace, or across all
// namespaces when namespace is empty.
func (r *resource) listPrefix(namespace string) string {
	if namespace == "" {
		return r.storagePrefix()
	}
	return r.storagePrefix() + namespace + "/"
}

// newObject returns an empty typed object, or nil for custom resources.
func (r *resource) newObject() runtime.Object {
	if r.custom {
		return nil
	}
	obj, err := scheme.Scheme.New(r.gvk())
	if err != nil {
		return nil
	}
	return obj
}

// verbs lists the verbs discovery announces.
func (r *resource) verbs() []string {
	return []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
}

func gvr(group, version, res string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: res}
}

// builtinResources is the table of everything kin serves. Adding a resource
// is one entry here (plus printers and validation where it matters).
var builtinResources = []*resource{
	{gvr: gvr("", "v1", "namespaces"), kind: "Namespace", shortNames: []string{"ns"}, status: true},
	{gvr: gvr("", "v1", "nodes"), kind: "Node", shortNames: []string{"no"}, status: true},
	{gvr: gvr("", "v1", "pods"), kind: "Pod", namespaced: true, shortNames: []string{"po"}, categories: []string{"all"}, status: true},
	{gvr: gvr("", "v1", "services"), kind: "Service", namespaced: true, shortNames: []string{"svc"}, categories: []string{"all"}, status: true},
	{gvr: gvr("", "v1", "endpoints"), kind: "Endpoints", singular: "endpoints", namespaced: true, shortNames: []string{"ep"}, allowCreateOnUpdate: true},
	{gvr: gvr("", "v1", "configmaps"), kind: "ConfigMap", namespaced: true, shortNames: []string{"cm"}},
	{gvr: gvr("", "v1", "secrets"), kind: "Secret", namespaced: true},
	{gvr: gvr("", "v1", "serviceaccounts"), kind: "ServiceAccount", namespaced: true, shortNames: []string{"sa"}},
	{gvr: gvr("", "v1", "events"), kind: "Event", namespaced: true, shortNames: []string{"ev"}, allowCreateOnUpdate: true},
	{gvr: gvr("apps", "v1", "deployments"), kind: "Deployment", namespaced: true, shortNames: []string{"deploy"}, categories: []string{"all"}, status: true, scale: true},
	{gvr: gvr("apps", "v1", "replicasets"), kind: "ReplicaSet", namespaced: true, shortNames: []string{"rs"}, categories: []string{"all"}, status: true, scale: true},
	{gvr: gvr("apps", "v1", "daemonsets"), kind: "DaemonSet", namespaced: true, shortNames: []string{"ds"}, categories: []string{"all"}, status: true},
	{gvr: gvr("apps", "v1", "controllerrevisions"), kind: "ControllerRevision", namespaced: true},
	{gvr: gvr("discovery.k8s.io", "v1", "endpointslices"), kind: "EndpointSlice", namespaced: true},
	{gvr: gvr("networking.k8s.io", "v1", "ingresses"), kind: "Ingress", namespaced: true, shortNames: []string{"ing"}, status: true},
	{gvr: gvr("networking.k8s.io", "v1", "ingressclasses"), kind: "IngressClass"},
	{gvr: gvr("coordination.k8s.io", "v1", "leases"), kind: "Lease", namespaced: true, allowCreateOnUpdate: true},
	{gvr: gvr("events.k8s.io", "v1", "events"), kind: "Event", namespaced: true, shortNames: []string{"ev"}},
	{gvr: gvr("rbac.authorization.k8s.io", "v1", "roles"), kind: "Role", namespaced: true},
	{gvr: gvr("rbac.authorization.k8s.io", "v1", "rolebindings"), kind: "RoleBinding", namespaced: true},
	{gvr: gvr("rbac.authorization.k8s.io", "v1", "clusterroles"), kind: "ClusterRole"},
	{gvr: gvr("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), kind: "ClusterRoleBinding"},
	{gvr: gvr("apiextensions.k8s.io", "v1", "customresourcedefinitions"), kind: "CustomResourceDefinition", shortNames: []string{"crd", "crds"}, custom: true, status: true},
	{gvr: gvr("metallb.io", "v1beta1", "ipaddresspools"), kind: "IPAddressPool", namespaced: true, custom: true},
	{gvr: gvr("metallb.io", "v1beta1", "l2advertisements"), kind: "L2Advertisement", namespaced: true, custom: true},
	{gvr: gvr("elbv2.k8s.aws", "v1beta1", "targetgroupbindings"), kind: "TargetGroupBinding", namespaced: true, custom: true, status: true},
}

// registry indexes the resources by group/version/resource.
type registry struct {
	byGVR map[schema.GroupVersionResource]*resource
	// groups keeps group names in discovery order (legacy core group excluded).
	groups []string
	// versions maps a group to its served versions, preferred first.
	versions map[string][]string
}

func newRegistry(resources []*resource) *registry {
	reg := &registry{byGVR: map[schema.GroupVersionResource]*resource{}, versions: map[string][]string{}}
	for _, r := range resources {
		if r.singular == "" {
			r.singular = strings.ToLower(r.kind)
		}
		reg.byGVR[r.gvr] = r
		vs := reg.versions[r.gvr.Group]
		if !contains(vs, r.gvr.Version) {
			reg.versions[r.gvr.Group] = append(vs, r.gvr.Version)
			if r.gvr.Group != "" && len(vs) == 0 {
				reg.groups = append(reg.groups, r.gvr.Group)
			}
		}
	}
	return reg
}

// lookup finds a resource by group, version and plural name.
func (reg *registry) lookup(group, version, res string) (*resource, bool) {
	r, ok := reg.byGVR[gvr(group, version, res)]
	return r, ok
}

// inGroupVersion lists the resources of one group version, sorted by name.
func (reg *registry) inGroupVersion(group, version string) []*resource {
	var out []*resource
	for _, r := range reg.byGVR {
		if r.gvr.Group == group && r.gvr.Version == version {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].gvr.Resource < out[j].gvr.Resource })
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
