package apiserver

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// serveLegacyVersions answers /api.
func (s *Server) serveLegacyVersions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, &metav1.APIVersions{
		TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
		Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host},
		},
	})
}

func (s *Server) apiGroup(name string) metav1.APIGroup {
	g := metav1.APIGroup{TypeMeta: metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}, Name: name}
	for _, v := range s.reg.versions[name] {
		g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: name + "/" + v, Version: v})
	}
	g.PreferredVersion = g.Versions[0]
	return g
}

// serveGroupList answers /apis.
func (s *Server) serveGroupList(w http.ResponseWriter, r *http.Request) {
	list := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, g := range s.reg.groups {
		list.Groups = append(list.Groups, s.apiGroup(g))
	}
	writeJSON(w, http.StatusOK, &list)
}

// serveGroup answers /apis/{group}.
func (s *Server) serveGroup(w http.ResponseWriter, r *http.Request, group string) {
	if _, ok := s.reg.versions[group]; !ok || group == "" {
		writeError(w, apierrors.NewNotFound(schema.GroupResource{}, group))
		return
	}
	g := s.apiGroup(group)
	writeJSON(w, http.StatusOK, &g)
}

// serveResourceList answers /api/v1 and /apis/{group}/{version}.
func (s *Server) serveResourceList(w http.ResponseWriter, r *http.Request, group, version string) {
	gv := schema.GroupVersion{Group: group, Version: version}
	list := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for _, res := range s.reg.inGroupVersion(group, version) {
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: res.gvr.Resource, SingularName: res.singular, Namespaced: res.namespaced,
			Kind: res.kind, Verbs: res.verbs(), ShortNames: res.shortNames, Categories: res.categories,
		})
		for _, sub := range subresources(res) {
			list.APIResources = append(list.APIResources, sub)
		}
	}
	writeJSON(w, http.StatusOK, &list)
}

// subresources lists a resource's subresources for discovery.
func subresources(res *resource) []metav1.APIResource {
	var out []metav1.APIResource
	add := func(name, group, version, kind string, verbs ...string) {
		out = append(out, metav1.APIResource{
			Name: res.gvr.Resource + "/" + name, Namespaced: res.namespaced,
			Group: group, Version: version, Kind: kind, Verbs: verbs,
		})
	}
	if res.status {
		add("status", "", "", res.kind, "get", "patch", "update")
	}
	if res.scale {
		add("scale", "autoscaling", "v1", "Scale", "get", "patch", "update")
	}
	switch res.gvr.Resource {
	case "pods":
		add("binding", "", "", "Binding", "create")
		add("eviction", "policy", "v1", "Eviction", "create")
		add("log", "", "", "Pod", "get")
		add("exec", "", "", "PodExecOptions", "create", "get")
	case "namespaces":
		add("finalize", "", "", "Namespace", "update")
	}
	return out
}

// pathPrefix is the URL prefix of a group version ("api/v1", "apis/apps/v1").
func pathPrefix(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}
