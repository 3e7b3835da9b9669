package proxy

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

type rulesetCase struct {
	name string
	snap Snapshot
	want string // lines beyond the empty-snapshot skeleton
}

func nodePort(np int32) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = np
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
}

func etpLocal(s *corev1.Service) {
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
}

func itpLocal(s *corev1.Service) {
	s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
}

var (
	epLocal  = ep{ip: "172.16.1.5", node: "w1", ready: true}
	epRemote = ep{ip: "172.16.2.5", node: "w2", ready: true}
)

var rulesetCases = []rulesetCase{
	{name: "clusterip two endpoints", snap: Snapshot{
		Services:       []*corev1.Service{svc("a", "10.96.0.11")},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("a", 8080, epRemote, epLocal)},
	}},
	{name: "nodeport", snap: Snapshot{
		Services:       []*corev1.Service{svc("np", "10.96.0.12", nodePort(30080))},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("np", 8080, epLocal, epRemote)},
	}},
	{name: "loadbalancer and externalIPs", snap: Snapshot{
		Services: []*corev1.Service{svc("lb", "10.96.0.13", nodePort(30081), func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalIPs = []string{"192.168.1.250"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.168.1.200"}}
		})},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("lb", 8080, epRemote)},
	}},
	{name: "etp local", snap: Snapshot{
		Services:       []*corev1.Service{svc("etp", "10.96.0.14", nodePort(30082), etpLocal)},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("etp", 8080, epLocal, epRemote)},
	}},
	{name: "etp local without local endpoints drops", snap: Snapshot{
		Services:       []*corev1.Service{svc("etp", "10.96.0.14", nodePort(30082), etpLocal)},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("etp", 8080, epRemote)},
	}},
	{name: "itp local", snap: Snapshot{
		Services:       []*corev1.Service{svc("itp", "10.96.0.15", itpLocal)},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("itp", 8080, epLocal, epRemote)},
	}},
	{name: "itp local without local endpoints drops", snap: Snapshot{
		Services:       []*corev1.Service{svc("itp", "10.96.0.15", itpLocal)},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("itp", 8080, epRemote)},
	}},
	{name: "no endpoints rejects", snap: Snapshot{
		Services: []*corev1.Service{svc("none", "10.96.0.16"), svc("nonp", "10.96.0.17", nodePort(30083))},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("none", 8080,
			ep{ip: "172.16.1.9", node: "w1", ready: false})},
	}},
	{name: "session affinity", snap: Snapshot{
		Services: []*corev1.Service{svc("aff", "10.96.0.18", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(300))}}
		})},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("aff", 8080, epLocal, epRemote)},
	}},
	{name: "only ready endpoints, terminating fallback", snap: Snapshot{
		Services: []*corev1.Service{svc("rdy", "10.96.0.19"), svc("term", "10.96.0.20")},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			slice("rdy", 8080, epLocal, ep{ip: "172.16.2.6", node: "w2", ready: false}),
			slice("term", 8080, ep{ip: "172.16.2.7", node: "w2", serving: true, terminat: true},
				ep{ip: "172.16.2.8", node: "w2", terminat: true}),
		},
	}},
	{name: "headless and externalname ignored", snap: Snapshot{
		Services: []*corev1.Service{svc("hl", "None"), svc("en", "", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "example.com"
		})},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("hl", 8080, epLocal)},
	}},
}
