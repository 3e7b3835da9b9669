package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newEndpointSlice returns a valid IPv4 EndpointSlice, changed by mut.
func newEndpointSlice(mut func(*discoveryv1.EndpointSlice)) *discoveryv1.EndpointSlice {
	port := int32(8080)
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abc12", Namespace: "default", Labels: map[string]string{"kubernetes.io/service-name": "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"172.16.1.5"}}},
		Ports:       []discoveryv1.EndpointPort{{Port: &port}},
	}
	if mut != nil {
		mut(es)
	}
	return es
}

func TestEndpointSlice(t *testing.T) {
	es := newEndpointSlice(nil)
	checkErrors(t, create(es), nil)
	if p := es.Ports[0]; p.Name == nil || *p.Name != "" || p.Protocol == nil || *p.Protocol != corev1.ProtocolTCP {
		t.Errorf("port defaults: %+v", p)
	}
	if es.Generation != 1 {
		t.Errorf("generation = %d, want 1", es.Generation)
	}

	tests := []struct {
		name string
		es   *discoveryv1.EndpointSlice
		want []string
	}{
		{"no address type", newEndpointSlice(func(es *discoveryv1.EndpointSlice) { es.AddressType = "" }),
			[]string{"addressType: Required value"}},
		{"deprecated address type", newEndpointSlice(func(es *discoveryv1.EndpointSlice) { es.AddressType = "IP" }),
			[]string{`addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"`}},
		{"endpoint without addresses", newEndpointSlice(func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = nil }),
			[]string{"endpoints[0].addresses: Required value: must contain at least 1 address"}},
		{"bad address", newEndpointSlice(func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = []string{"172.16.1.300"} }), []string{
			`endpoints[0].addresses[0]: Invalid value: "172.16.1.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
			`endpoints[0].addresses[0]: Invalid value: "172.16.1.300": must be a valid IP address`,
		}},
		{"IPv6 address in an IPv4 slice", newEndpointSlice(func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = []string{"fd00::5"} }),
			[]string{`endpoints[0].addresses[0]: Invalid value: "fd00::5": must be an IPv4 address`}},
		{"duplicate port names", newEndpointSlice(func(es *discoveryv1.EndpointSlice) {
			es.Ports = append(es.Ports, es.Ports[0])
		}), []string{`ports[1].name: Duplicate value: ""`}},
		{"bad protocol", newEndpointSlice(func(es *discoveryv1.EndpointSlice) {
			icmp := corev1.Protocol("ICMP")
			es.Ports[0].Protocol = &icmp
		}), []string{`ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`}},
		{"duplicate zone hint", newEndpointSlice(func(es *discoveryv1.EndpointSlice) {
			es.Endpoints[0].Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}, {Name: "zone-a"}}}
		}), []string{`endpoints[0].hints.forZones[1].name: Duplicate value: "zone-a"`}},
		{"bad hostname", newEndpointSlice(func(es *discoveryv1.EndpointSlice) {
			h := "web.0"
			es.Endpoints[0].Hostname = &h
		}), []string{`endpoints[0].hostname: Invalid value: "web.0": must not contain dots`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.es), tc.want)
		})
	}

	es.ResourceVersion = "1"
	upd := es.DeepCopy()
	upd.AddressType = discoveryv1.AddressTypeIPv6
	upd.Endpoints[0].Addresses = []string{"fd00::5"}
	checkErrors(t, update(upd, es), []string{`addressType: Invalid value: "IPv6": field is immutable`})

	moved := es.DeepCopy()
	moved.Endpoints[0].Addresses = []string{"172.16.1.6"}
	if errs := update(moved, es); len(errs) != 0 || moved.Generation != 2 {
		t.Errorf("errors %v generation %d, want none and 2", errs, moved.Generation)
	}
}
