package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// newService returns a valid ClusterIP Service named web, changed by mut.
func newService(mut func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if mut != nil {
		mut(s)
	}
	return s
}

func TestServiceDefaults(t *testing.T) {
	s := newService(func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}}
	})
	Default(s)
	PrepareForCreate(s)
	spec := s.Spec
	if spec.Type != corev1.ServiceTypeClusterIP || spec.SessionAffinity != corev1.ServiceAffinityNone {
		t.Errorf("type/sessionAffinity = %q/%q, want ClusterIP/None", spec.Type, spec.SessionAffinity)
	}
	if p := spec.Ports[0]; p.Protocol != corev1.ProtocolTCP || p.TargetPort != intstr.FromInt32(80) {
		t.Errorf("port = %+v, want protocol TCP and targetPort 80", p)
	}
	if spec.IPFamilyPolicy == nil || *spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
		t.Errorf("ipFamilyPolicy = %v, want SingleStack", spec.IPFamilyPolicy)
	}
	if len(spec.IPFamilies) != 1 || spec.IPFamilies[0] != corev1.IPv4Protocol {
		t.Errorf("ipFamilies = %v, want [IPv4]", spec.IPFamilies)
	}
	if spec.InternalTrafficPolicy == nil || *spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyCluster {
		t.Errorf("internalTrafficPolicy = %v, want Cluster", spec.InternalTrafficPolicy)
	}
	if spec.ExternalTrafficPolicy != "" || spec.AllocateLoadBalancerNodePorts != nil {
		t.Errorf("ClusterIP service got externalTrafficPolicy %q / allocateLoadBalancerNodePorts %v", spec.ExternalTrafficPolicy, spec.AllocateLoadBalancerNodePorts)
	}

	lb := newService(func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.ClusterIP = "10.96.0.50"
	})
	Default(lb)
	if lb.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
		t.Errorf("LB externalTrafficPolicy = %q, want Cluster", lb.Spec.ExternalTrafficPolicy)
	}
	if lb.Spec.AllocateLoadBalancerNodePorts == nil || !*lb.Spec.AllocateLoadBalancerNodePorts {
		t.Errorf("allocateLoadBalancerNodePorts = %v, want true", lb.Spec.AllocateLoadBalancerNodePorts)
	}
	if c := lb.Spec.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil || *c.ClientIP.TimeoutSeconds != 10800 {
		t.Errorf("sessionAffinityConfig = %+v, want clientIP timeout 10800", c)
	}
	if len(lb.Spec.ClusterIPs) != 1 || lb.Spec.ClusterIPs[0] != "10.96.0.50" {
		t.Errorf("clusterIPs = %v, want [10.96.0.50]", lb.Spec.ClusterIPs)
	}

	ext := newService(func(s *corev1.Service) {
		s.Spec.ExternalIPs = []string{"192.168.1.200"}
	})
	Default(ext)
	if ext.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
		t.Errorf("ClusterIP with externalIPs: externalTrafficPolicy = %q, want Cluster", ext.Spec.ExternalTrafficPolicy)
	}

	headless := newService(func(s *corev1.Service) {
		s.Spec.ClusterIP = corev1.ClusterIPNone
		s.Spec.Selector = nil
	})
	Default(headless)
	if p := headless.Spec.IPFamilyPolicy; p == nil || *p != corev1.IPFamilyPolicyRequireDualStack {
		t.Errorf("selectorless headless ipFamilyPolicy = %v, want RequireDualStack", p)
	}

	name := newService(func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeExternalName
		s.Spec.ExternalName = "db.example.com"
		s.Spec.Ports = nil
	})
	Default(name)
	if name.Spec.IPFamilyPolicy != nil || len(name.Spec.IPFamilies) != 0 || name.Spec.InternalTrafficPolicy != nil {
		t.Errorf("ExternalName service got IP family or traffic policy defaults: %+v", name.Spec)
	}
}

func TestServiceValidateCreate(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		want []string
	}{
		{"valid ClusterIP", newService(nil), nil},
		{"valid NodePort", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
		}), nil},
		{"valid LoadBalancer with Local policy", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}), nil},
		{"valid headless without ports", newService(func(s *corev1.Service) {
			s.Spec.ClusterIP = corev1.ClusterIPNone
			s.Spec.Ports = nil
		}), nil},
		{"valid ExternalName with trailing dot", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "db.example.com."
			s.Spec.Ports = nil
		}), nil},
		{"valid dual-stack", newService(func(s *corev1.Service) {
			s.Spec.ClusterIP = "10.96.0.10"
			s.Spec.ClusterIPs = []string{"10.96.0.10", "fd00::10"}
		}), nil},
		{"port out of range", newService(func(s *corev1.Service) {
			s.Spec.Ports[0].Port = 70000
		}), []string{"spec.ports[0].port: Invalid value: 70000: " + portRangeMsg}},
		{"port out of range defaults targetPort too", newService(func(s *corev1.Service) {
			s.Spec.Ports[0] = corev1.ServicePort{Port: 70000}
		}), []string{
			"spec.ports[0].port: Invalid value: 70000: " + portRangeMsg,
			"spec.ports[0].targetPort: Invalid value: 70000: " + portRangeMsg,
		}},
		{"no ports", newService(func(s *corev1.Service) {
			s.Spec.Ports = nil
		}), []string{"spec.ports: Required value"}},
		{"unnamed ports", newService(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Port: 80}, {Port: 443}}
		}), []string{"spec.ports[0].name: Required value", "spec.ports[1].name: Required value"}},
		{"duplicate port names", newService(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "http", Port: 8080}}
		}), []string{`spec.ports[1].name: Duplicate value: "http"`}},
		{"port name not a label", newService(func(s *corev1.Service) {
			s.Spec.Ports[0].Name = "HTTP"
		}), []string{`spec.ports[0].name: Invalid value: "HTTP": ` + dns1123LabelMsg}},
		{"duplicate port numbers", newService(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 80}}
		}), []string{`spec.ports[1]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}`}},
		{"unsupported protocol", newService(func(s *corev1.Service) {
			s.Spec.Ports[0].Protocol = "HTTP"
		}), []string{`spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`}},
		{"named targetPort with underscore", newService(func(s *corev1.Service) {
			s.Spec.Ports[0].TargetPort = intstr.FromString("web_port")
		}), []string{`spec.ports[0].targetPort: Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`}},
		{"targetPort number out of range", newService(func(s *corev1.Service) {
			s.Spec.Ports[0].TargetPort = intstr.FromInt32(-1)
		}), []string{"spec.ports[0].targetPort: Invalid value: -1: " + portRangeMsg}},
		{"unknown type", newService(func(s *corev1.Service) {
			s.Spec.Type = "Foo"
		}), []string{`spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`}},
		{"bad cluster IP", newService(func(s *corev1.Service) {
			s.Spec.ClusterIP = "abc"
		}), []string{`spec.clusterIPs[0]: Invalid value: "abc": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{"clusterIPs disagree with clusterIP", newService(func(s *corev1.Service) {
			s.Spec.ClusterIP = "10.96.0.10"
			s.Spec.ClusterIPs = []string{"10.96.0.11"}
		}), []string{`spec.clusterIPs: Invalid value: ["10.96.0.11"]: first value must match ` + "`clusterIP`"}},
		{"IPv6 cluster IP with IPv4 family", newService(func(s *corev1.Service) {
			s.Spec.ClusterIP = "fd00::10"
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
		}), []string{"spec.clusterIPs[0]: Invalid value: \"fd00::10\": expected an IPv4 value as indicated by `ipFamilies[0]`"}},
		{"ExternalName without name", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.Ports = nil
		}), []string{"spec.externalName: Required value"}},
		{"ExternalName not a subdomain", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "my_db.example.com"
		}), []string{`spec.externalName: Invalid value: "my_db.example.com": ` + dns1123SubdomainMsg}},
		{"ExternalName with cluster IP", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "db.example.com"
			s.Spec.ClusterIP = "10.96.0.10"
		}), []string{"spec.clusterIPs: Forbidden: may not be set for ExternalName services"}},
		{"externalTrafficPolicy on ClusterIP", newService(func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}), []string{`spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services`}},
		{"unsupported externalTrafficPolicy", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ExternalTrafficPolicy = "Global"
		}), []string{`spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"`}},
		{"healthCheckNodePort without Local", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.HealthCheckNodePort = 32000
		}), []string{"spec.healthCheckNodePort: Invalid value: 32000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"}},
		{"name starts with a digit", newService(func(s *corev1.Service) {
			s.Name = "1web"
		}), []string{`metadata.name: Invalid value: "1web": ` + dns1035LabelMsg}},
		{"no name", newService(func(s *corev1.Service) {
			s.Name = ""
		}), []string{"metadata.name: Required value: name or generateName is required"}},
		{"generateName", newService(func(s *corev1.Service) {
			s.Name = ""
			s.GenerateName = "web-"
		}), nil},
		{"no namespace", newService(func(s *corev1.Service) {
			s.Namespace = ""
		}), []string{"metadata.namespace: Required value"}},
		{"bad label", newService(func(s *corev1.Service) {
			s.Labels = map[string]string{"app": "a b"}
		}), []string{`metadata.labels: Invalid value: "a b": ` + labelValueMsg}},
		{"bad selector value", newService(func(s *corev1.Service) {
			s.Spec.Selector = map[string]string{"app": "-web"}
		}), []string{`spec.selector: Invalid value: "-web": ` + labelValueMsg}},
		{"nodePort on ClusterIP", newService(func(s *corev1.Service) {
			s.Spec.Ports[0].NodePort = 30080
		}), []string{"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"}},
		{"duplicate nodePort", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80, NodePort: 30080}, {Name: "b", Port: 81, NodePort: 30080}}
		}), []string{"spec.ports[1].nodePort: Duplicate value: 30080"}},
		{"ClientIP affinity timeout 0", newService(func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			zero := int32(0)
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &zero}}
		}), []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400"}},
		{"unsupported sessionAffinity", newService(func(s *corev1.Service) {
			s.Spec.SessionAffinity = "Cookie"
		}), []string{`spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"`}},
		{"headless LoadBalancer", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ClusterIP = corev1.ClusterIPNone
		}), []string{`spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for LoadBalancer services`}},
		{"source ranges on ClusterIP", newService(func(s *corev1.Service) {
			s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8"}
		}), []string{"spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"}},
		{"loopback external IP", newService(func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"127.0.0.1"}
		}), []string{`spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`}},
		{"loadBalancerClass on NodePort", newService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			class := "example.com/lb"
			s.Spec.LoadBalancerClass = &class
		}), []string{"spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"}},
		{"several errors in order", newService(func(s *corev1.Service) {
			s.Name = "Web"
			s.Spec.Ports[0].Port = 0
			s.Spec.Ports[0].Protocol = "ICMP"
		}), []string{
			`metadata.name: Invalid value: "Web": ` + dns1035LabelMsg,
			"spec.ports[0].port: Invalid value: 0: " + portRangeMsg,
			`spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.svc), tc.want)
		})
	}
}

func TestServiceInvalidStatusMessage(t *testing.T) {
	s := newService(func(s *corev1.Service) { s.Spec.Ports[0].Port = 70000 })
	errs := create(s)
	got := apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, s.Name, errs).Error()
	want := `Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`
	if got != want {
		t.Errorf("status message:\ngot:  %s\nwant: %s", got, want)
	}
}

func TestServiceUpdate(t *testing.T) {
	stored := func(mut func(*corev1.Service)) *corev1.Service {
		s := newService(mut)
		mustCreate(t, s)
		if s.Spec.Type != corev1.ServiceTypeExternalName && s.Spec.ClusterIP == "" {
			// The allocator assigns the cluster IP after create.
			s.Spec.ClusterIP = "10.96.0.10"
			s.Spec.ClusterIPs = []string{"10.96.0.10"}
		}
		return s
	}
	tests := []struct {
		name   string
		old    *corev1.Service
		mutate func(*corev1.Service)
		check  func(*testing.T, *corev1.Service)
		want   []string
	}{
		{name: "change port", old: stored(nil), mutate: func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 }},
		{name: "PUT without resourceVersion and clusterIPs", old: stored(nil), mutate: func(s *corev1.Service) {
			s.ResourceVersion = ""
			s.CreationTimestamp = metav1.Time{}
			s.Spec.ClusterIPs = nil
		}, check: func(t *testing.T, s *corev1.Service) {
			if len(s.Spec.ClusterIPs) != 1 || s.ResourceVersion != "1" {
				t.Errorf("clusterIPs and resourceVersion not carried over: %v %q", s.Spec.ClusterIPs, s.ResourceVersion)
			}
		}},
		// kubectl replace of a manifest without clusterIP fails the same way
		// on a real cluster.
		{name: "PUT without clusterIP", old: stored(nil), mutate: func(s *corev1.Service) {
			s.Spec.ClusterIP = ""
			s.Spec.ClusterIPs = nil
		}, want: []string{"spec.clusterIPs[0]: Invalid value: null: primary clusterIP can not be unset"}},
		{name: "change cluster IP", old: stored(nil), mutate: func(s *corev1.Service) {
			s.Spec.ClusterIP = "10.96.0.99"
		}, want: []string{`spec.clusterIPs[0]: Invalid value: ["10.96.0.99"]: may not change once set`}},
		{name: "NodePort to ClusterIP drops node ports", old: stored(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
		}), mutate: func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeClusterIP },
			check: func(t *testing.T, s *corev1.Service) {
				if s.Spec.Ports[0].NodePort != 0 || s.Spec.ExternalTrafficPolicy != "" {
					t.Errorf("nodePort %d / externalTrafficPolicy %q not dropped", s.Spec.Ports[0].NodePort, s.Spec.ExternalTrafficPolicy)
				}
			}},
		{name: "LoadBalancer to NodePort", old: stored(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.Ports[0].NodePort = 31000
		}), mutate: func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort },
			check: func(t *testing.T, s *corev1.Service) {
				if s.Spec.AllocateLoadBalancerNodePorts != nil || s.Spec.Ports[0].NodePort != 31000 {
					t.Errorf("allocateLoadBalancerNodePorts %v / nodePort %d after leaving LoadBalancer", s.Spec.AllocateLoadBalancerNodePorts, s.Spec.Ports[0].NodePort)
				}
			}},
		{name: "ClusterIP to ExternalName drops the cluster IP", old: stored(nil), mutate: func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "db.example.com"
		}, check: func(t *testing.T, s *corev1.Service) {
			if s.Spec.ClusterIP != "" || s.Spec.ClusterIPs != nil || s.Spec.IPFamilies != nil || s.Spec.IPFamilyPolicy != nil {
				t.Errorf("cluster IP fields not dropped: %+v", s.Spec)
			}
		}},
		{name: "change loadBalancerClass", old: stored(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			class := "example.com/a"
			s.Spec.LoadBalancerClass = &class
		}), mutate: func(s *corev1.Service) {
			class := "example.com/b"
			s.Spec.LoadBalancerClass = &class
		}, want: []string{`spec.loadBalancerClass: Invalid value: "example.com/b": may not change once set`}},
		{name: "rename", old: stored(nil), mutate: func(s *corev1.Service) { s.Name = "web2" },
			want: []string{`metadata.name: Invalid value: "web2": field is immutable`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := tc.old.DeepCopy()
			tc.mutate(svc)
			checkErrors(t, update(svc, tc.old), tc.want)
			if tc.check != nil {
				tc.check(t, svc)
			}
		})
	}
}

func TestServiceUpdateWithoutPrepare(t *testing.T) {
	old := newService(func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = 30080
	})
	mustCreate(t, old)
	svc := old.DeepCopy()
	svc.Spec.Type = corev1.ServiceTypeClusterIP
	Default(svc)
	checkErrors(t, ValidateUpdate(svc, old), []string{
		"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
		`spec.externalTrafficPolicy: Invalid value: "Cluster": may only be set for externally-accessible services`,
	})
}

func TestEndpoints(t *testing.T) {
	newEndpoints := func(mut func(*corev1.Endpoints)) *corev1.Endpoints {
		ep := &corev1.Endpoints{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Subsets: []corev1.EndpointSubset{{
				Addresses: []corev1.EndpointAddress{{IP: "172.16.1.5"}},
				Ports:     []corev1.EndpointPort{{Port: 8080}},
			}},
		}
		if mut != nil {
			mut(ep)
		}
		return ep
	}
	tests := []struct {
		name string
		ep   *corev1.Endpoints
		want []string
	}{
		{"valid", newEndpoints(nil), nil},
		{"no addresses", newEndpoints(func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses = nil }),
			[]string{"subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"}},
		{"bad IP", newEndpoints(func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].IP = "172.16.1" }), []string{
			`subsets[0].addresses[0].ip: Invalid value: "172.16.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
			`subsets[0].addresses[0].ip: Invalid value: "172.16.1": must be a valid IP address`,
		}},
		{"link-local IP", newEndpoints(func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].IP = "169.254.1.1" }),
			[]string{`subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`}},
		{"two unnamed ports", newEndpoints(func(ep *corev1.Endpoints) {
			ep.Subsets[0].Ports = []corev1.EndpointPort{{Port: 80}, {Name: "b", Port: 0}}
		}), []string{
			"subsets[0].ports[0].name: Required value",
			"subsets[0].ports[1].port: Invalid value: 0: " + portRangeMsg,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.ep), tc.want)
			if tc.want == nil && tc.ep.Subsets[0].Ports[0].Protocol != corev1.ProtocolTCP {
				t.Errorf("port protocol = %q, want TCP", tc.ep.Subsets[0].Ports[0].Protocol)
			}
		})
	}
}
