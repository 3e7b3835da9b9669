package proxy

import (
	"context"
	"net"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/knftables"
)

var testCfg = Config{
	NodeName:    "w1",
	NodeIPs:     []net.IP{net.ParseIP("192.168.1.101")},
	ClusterCIDR: "172.16.0.0/16",
}

func ptr[T any](v T) *T { return &v }

// svc returns a ClusterIP service ns1/name with one TCP port "http" 80->8080.
func svc(name, clusterIP string, mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: name},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: clusterIP,
			Ports:     []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

// ep is one endpoint: address, node and readiness.
type ep struct {
	ip, node          string
	ready             bool
	serving, terminat bool
}

func slice(svcName string, port int32, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: svcName + "-abc",
			Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr(port)}},
	}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{e.ip},
			NodeName:  ptr(e.node),
			Conditions: discoveryv1.EndpointConditions{
				Ready: ptr(e.ready), Serving: ptr(e.ready || e.serving), Terminating: ptr(e.terminat),
			},
		})
	}
	return s
}

// dumpDesired applies d to a fresh fake (which checks every reference) and
// returns the fake's dump.
func dumpDesired(t testing.TB, d *Desired) string {
	t.Helper()
	fake := knftables.NewFake(Family, TableName)
	tx := fake.NewTransaction()
	full(tx, d)
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatalf("applying ruleset to fake: %v", err)
	}
	return fake.Dump()
}

// canon returns the dump's lines in a canonical order: objects sorted,
// rules kept in their order within each chain.
func canon(dump string) []string {
	var lines []string
	for _, l := range strings.Split(dump, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	key := func(l string) string {
		if strings.HasPrefix(l, "add rule ") {
			f := strings.Fields(l)
			return "add rule " + f[4]
		}
		return l
	}
	sort.SliceStable(lines, func(i, j int) bool { return key(lines[i]) < key(lines[j]) })
	return lines
}

// minus returns the lines of a that are not in base (as a multiset).
func minus(a, base []string) []string {
	n := map[string]int{}
	for _, l := range base {
		n[l]++
	}
	var out []string
	for _, l := range a {
		if n[l] > 0 {
			n[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}
