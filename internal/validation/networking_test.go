package validation

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newIngress returns a valid Ingress routing web.example.com/ to service
// web:80, changed by mut.
func newIngress(mut func(*networkingv1.Ingress)) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: networkingv1.IngressSpec{
			Rules: []networkingv1.IngressRule{{
				Host: "web.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     "/",
						PathType: &prefix,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80},
						}},
					}},
				}},
			}},
		},
	}
	if mut != nil {
		mut(ing)
	}
	return ing
}

// firstPath returns the first HTTP path of an Ingress.
func firstPath(ing *networkingv1.Ingress) *networkingv1.HTTPIngressPath {
	return &ing.Spec.Rules[0].HTTP.Paths[0]
}

func TestIngressValidateCreate(t *testing.T) {
	const p0 = "spec.rules[0].http.paths[0]"
	tests := []struct {
		name string
		ing  *networkingv1.Ingress
		want []string
	}{
		{"valid", newIngress(nil), nil},
		{"valid wildcard host and named port", newIngress(func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].Host = "*.example.com"
			firstPath(i).Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http"}
		}), nil},
		{"no pathType", newIngress(func(i *networkingv1.Ingress) { firstPath(i).PathType = nil }),
			[]string{p0 + ".pathType: Required value: pathType must be specified"}},
		{"relative path", newIngress(func(i *networkingv1.Ingress) { firstPath(i).Path = "api" }),
			[]string{p0 + `.path: Invalid value: "api": must be an absolute path`}},
		{"double slash", newIngress(func(i *networkingv1.Ingress) { firstPath(i).Path = "/api//v1" }),
			[]string{p0 + `.path: Invalid value: "/api//v1": must not contain '//'`}},
		{"unknown pathType", newIngress(func(i *networkingv1.Ingress) {
			regex := networkingv1.PathType("Regex")
			firstPath(i).PathType = &regex
		}), []string{p0 + `.pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"`}},
		{"port name and number", newIngress(func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Port.Name = "http" }),
			[]string{p0 + `.backend: Invalid value: "": cannot set both port name & port number`}},
		{"no port", newIngress(func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Port.Number = 0 }),
			[]string{p0 + ".backend: Required value: port name or number is required"}},
		{"port out of range", newIngress(func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Port.Number = 70000 }),
			[]string{p0 + ".backend.service.port.number: Invalid value: 70000: " + portRangeMsg}},
		{"service name not DNS-1035", newIngress(func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Name = "2web" }),
			[]string{p0 + `.backend.service.name: Invalid value: "2web": ` + dns1035LabelMsg}},
		{"no backend", newIngress(func(i *networkingv1.Ingress) { firstPath(i).Backend = networkingv1.IngressBackend{} }),
			[]string{p0 + `.backend: Invalid value: "": resource or service backend is required`}},
		{"IP host", newIngress(func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "192.168.1.10" }),
			[]string{`spec.rules[0].host: Invalid value: "192.168.1.10": must be a DNS name, not an IP address`}},
		{"bad wildcard host", newIngress(func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.*.example.com" }),
			[]string{`spec.rules[0].host: Invalid value: "*.*.example.com": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		{"no paths", newIngress(func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths = nil }),
			[]string{"spec.rules[0].http.paths: Required value"}},
		{"no rules or default backend", newIngress(func(i *networkingv1.Ingress) { i.Spec.Rules = nil }),
			[]string{"spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"}},
		{"bad TLS secret", newIngress(func(i *networkingv1.Ingress) {
			i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"web.example.com"}, SecretName: "Web_TLS"}}
		}), []string{`spec.tls[0].secretName: Invalid value: "Web_TLS": ` + dns1123SubdomainMsg}},
		{"class annotation mismatch", newIngress(func(i *networkingv1.Ingress) {
			class := "nginx"
			i.Spec.IngressClassName = &class
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": "traefik"}
		}), []string{"annotations.kubernetes.io/ingress.class: Invalid value: \"traefik\": must match `ingressClassName` when both are specified"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.ing), tc.want)
		})
	}
}

func TestIngressUpdate(t *testing.T) {
	old := mustCreate(t, newIngress(nil))
	upd := old.DeepCopy()
	firstPath(upd).Path = "/api"
	if errs := update(upd, old); len(errs) != 0 || upd.Generation != 2 {
		t.Errorf("errors %v generation %d, want none and 2", errs, upd.Generation)
	}

	// A TLS secret name the stored object already had is tolerated.
	legacy := newIngress(func(i *networkingv1.Ingress) {
		i.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "Old_Name"}}
	})
	Default(legacy)
	legacy.ResourceVersion = "1"
	next := legacy.DeepCopy()
	next.Labels = map[string]string{"x": "y"}
	checkErrors(t, update(next, legacy), nil)
}

func TestIngressClass(t *testing.T) {
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec: networkingv1.IngressClassSpec{
			Controller: "k8s.io/ingress-nginx",
			Parameters: &networkingv1.IngressClassParametersReference{Kind: "ConfigMap", Name: "cfg"},
		},
	}
	checkErrors(t, create(ic), nil)
	if ic.Spec.Parameters.Scope == nil || *ic.Spec.Parameters.Scope != "Cluster" {
		t.Errorf("parameters scope = %v, want Cluster", ic.Spec.Parameters.Scope)
	}
	checkErrors(t, create(&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}}), []string{"spec.controller: Required value"})
	checkErrors(t, create(&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: networkingv1.IngressClassSpec{Controller: "nginx"}}),
		[]string{`spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")`})

	ic.ResourceVersion = "1"
	upd := ic.DeepCopy()
	upd.Spec.Controller = "example.com/other"
	checkErrors(t, update(upd, ic), []string{`spec.controller: Invalid value: "example.com/other": field is immutable`})
}
