package printers

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// podTemplate is a pod template with the given containers ("name=image").
func podTemplate(labels map[string]string, containers ...string) corev1.PodTemplateSpec {
	t := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}}
	for _, c := range containers {
		name, image, _ := strings.Cut(c, "=")
		t.Spec.Containers = append(t.Spec.Containers, corev1.Container{Name: name, Image: image})
	}
	return t
}

func TestColumns(t *testing.T) {
	tests := []struct {
		gr   schema.GroupResource
		want []string
	}{
		{schema.GroupResource{Group: "apps", Resource: "deployments"}, []string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers*", "Images*", "Selector*"}},
		{schema.GroupResource{Group: "apps", Resource: "replicasets"}, []string{"Name", "Desired", "Current", "Ready", "Age", "Containers*", "Images*", "Selector*"}},
		{schema.GroupResource{Group: "apps", Resource: "daemonsets"}, []string{"Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers*", "Images*", "Selector*"}},
		{schema.GroupResource{Group: "apps", Resource: "statefulsets"}, []string{"Name", "Ready", "Age", "Containers*", "Images*"}},
		{schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}, []string{"Name", "AddressType", "Ports", "Endpoints", "Age"}},
		{schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, []string{"Name", "Class", "Hosts", "Address", "Ports", "Age"}},
		{schema.GroupResource{Group: "networking.k8s.io", Resource: "ingressclasses"}, []string{"Name", "Controller", "Parameters", "Age"}},
		{schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}, []string{"Name", "Pod-Selector", "Age"}},
		{schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, []string{"Name", "Holder", "Age"}},
		{schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}, []string{"Name", "Role", "Age", "Users*", "Groups*", "ServiceAccounts*"}},
		{schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, []string{"Name", "Role", "Age", "Users*", "Groups*", "ServiceAccounts*"}},
		{nodesGR, []string{"Name", "Status", "Roles", "Age", "Version", "Internal-IP*", "External-IP*", "OS-Image*", "Kernel-Version*", "Container-Runtime*"}},
		{servicesGR, []string{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector*"}},
		{endpointsGR, []string{"Name", "Endpoints", "Age"}},
	}
	for _, tt := range tests {
		t.Run(tt.gr.String(), func(t *testing.T) {
			p, ok := For(tt.gr)
			if !ok {
				t.Fatal("no printer")
			}
			if got := header(p.Columns); !slices.Equal(got, tt.want) {
				t.Errorf("columns %q, want %q", got, tt.want)
			}
			for _, c := range p.Columns {
				if c.Description == "" || c.Type == "" {
					t.Errorf("column %q has type %q, description %q", c.Name, c.Type, c.Description)
				}
			}
		})
	}
}

func TestWorkloadRows(t *testing.T) {
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	template := podTemplate(map[string]string{"app": "web"}, "nginx=nginx:1.25", "log=busybox")

	deployment := &appsv1.Deployment{
		ObjectMeta: objectMeta("web", "default", 5*time.Minute),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: selector, Template: template},
		Status:     appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3},
	}
	scaling := &appsv1.Deployment{
		ObjectMeta: objectMeta("api", "default", 30*time.Second),
		Spec: appsv1.DeploymentSpec{Template: template, Selector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}}},
		Status: appsv1.DeploymentStatus{UpdatedReplicas: 1},
	}
	replicaSet := &appsv1.ReplicaSet{
		ObjectMeta: objectMeta("web-5567fb94fd", "default", 2*time.Minute+4*time.Second),
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2), Selector: selector, Template: template},
		Status:     appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1},
	}
	daemonSet := &appsv1.DaemonSet{
		ObjectMeta: objectMeta("speaker", "metallb-system", 2*time.Minute+4*time.Second),
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "metallb", "component": "speaker"}},
			Template: func() corev1.PodTemplateSpec {
				t := podTemplate(nil, "speaker=quay.io/metallb/speaker:v0.14.8")
				t.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
				return t
			}()},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 3, UpdatedNumberScheduled: 3, NumberAvailable: 3},
	}
	statefulSet := &appsv1.StatefulSet{
		ObjectMeta: objectMeta("db", "default", 26*time.Hour),
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3), Template: podTemplate(nil, "pg=postgres:16")},
		Status:     appsv1.StatefulSetStatus{ReadyReplicas: 2},
	}

	tests := []struct {
		resource string
		obj      runtime.Object
		want     []interface{}
	}{
		{"deployments", deployment, []interface{}{"web", "3/3", int64(3), int64(3), "5m", "nginx,log", "nginx:1.25,busybox", "app=web"}},
		{"deployments", scaling, []interface{}{"api", "0/1", int64(1), int64(0), "30s", "nginx,log", "nginx:1.25,busybox", "tier in (a,b)"}},
		{"replicasets", replicaSet, []interface{}{"web-5567fb94fd", int64(2), int64(2), int64(1), "2m4s", "nginx,log", "nginx:1.25,busybox", "app=web"}},
		{"daemonsets", daemonSet, []interface{}{"speaker", int64(3), int64(3), int64(3), int64(3), int64(3), "kubernetes.io/os=linux", "2m4s",
			"speaker", "quay.io/metallb/speaker:v0.14.8", "app=metallb,component=speaker"}},
		{"statefulsets", statefulSet, []interface{}{"db", "2/3", "26h", "pg", "postgres:16"}},
	}
	for _, tt := range tests {
		gr := schema.GroupResource{Group: "apps", Resource: tt.resource}
		t.Run(tt.obj.(metav1.Object).GetName(), func(t *testing.T) {
			assertCells(t, gr, row(t, gr, tt.obj), tt.want)
		})
	}
}

func TestWorkloadsKubectl(t *testing.T) {
	deployment := &appsv1.Deployment{
		ObjectMeta: objectMeta("controller", "metallb-system", 2*time.Minute+4*time.Second),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
		Status:     appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1},
	}
	daemonSet := &appsv1.DaemonSet{
		ObjectMeta: objectMeta("speaker", "metallb-system", 2*time.Minute+4*time.Second),
		Spec:       appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{NodeSelector: map[string]string{"kubernetes.io/os": "linux"}}}},
		Status:     appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 3, UpdatedNumberScheduled: 3, NumberAvailable: 3},
	}
	// From the seed lab notes (001), `kubectl get deploy,ds -n metallb-system`
	// (without the kind prefix that `get all` adds).
	tests := []struct {
		resource string
		obj      runtime.Object
		want     string
	}{
		{"deployments", deployment, lines(
			"NAME         READY   UP-TO-DATE   AVAILABLE   AGE",
			"controller   1/1     1            1           2m4s",
		)},
		{"daemonsets", daemonSet, lines(
			"NAME      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE",
			"speaker   3         3         3       3            3           kubernetes.io/os=linux   2m4s",
		)},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			if got := kubectlGet(t, schema.GroupResource{Group: "apps", Resource: tt.resource}, false, tt.obj); got != tt.want {
				t.Errorf("kubectl get:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestEndpointSliceRow(t *testing.T) {
	gr := schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}
	endpoints := func(addrs ...string) []discoveryv1.Endpoint {
		out := make([]discoveryv1.Endpoint, len(addrs))
		for i, a := range addrs {
			out[i] = discoveryv1.Endpoint{Addresses: []string{a}}
		}
		return out
	}
	tests := []struct {
		name      string
		ports     []discoveryv1.EndpointPort
		endpoints []discoveryv1.Endpoint
		wantPorts string
		wantEps   string
	}{
		{"empty", nil, nil, "<unset>", "<unset>"},
		{"one", []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}}, endpoints("172.16.0.5"), "80", "172.16.0.5"},
		{"named and wildcard ports", []discoveryv1.EndpointPort{{Name: ptr.To("http")}, {}}, endpoints("172.16.0.5", "172.16.0.6", "172.16.0.7"),
			"http,*", "172.16.0.5,172.16.0.6,172.16.0.7"},
		{"more", []discoveryv1.EndpointPort{{Port: ptr.To[int32](53)}, {Port: ptr.To[int32](53)}, {Port: ptr.To[int32](9153)}, {Port: ptr.To[int32](8080)}},
			append(endpoints("172.16.0.5", "172.16.0.6", "172.16.0.7", "172.16.0.8"), discoveryv1.Endpoint{Addresses: []string{"172.16.0.9", "172.16.0.10"}}),
			"53,53,9153 + 1 more...", "172.16.0.5,172.16.0.6,172.16.0.7 + 3 more..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &discoveryv1.EndpointSlice{ObjectMeta: objectMeta("web-x7k2p", "default", 4*time.Minute),
				AddressType: discoveryv1.AddressTypeIPv4, Ports: tt.ports, Endpoints: tt.endpoints}
			assertCells(t, gr, row(t, gr, s), []interface{}{"web-x7k2p", "IPv4", tt.wantPorts, tt.wantEps, "4m"})
		})
	}
}

func TestIngressRow(t *testing.T) {
	gr := schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}
	rules := func(hosts ...string) []networkingv1.IngressRule {
		out := make([]networkingv1.IngressRule, len(hosts))
		for i, h := range hosts {
			out[i] = networkingv1.IngressRule{Host: h}
		}
		return out
	}
	tests := []struct {
		name    string
		spec    networkingv1.IngressSpec
		ingress []networkingv1.IngressLoadBalancerIngress
		want    []interface{}
	}{
		{"seed lab", networkingv1.IngressSpec{IngressClassName: ptr.To("nginx"), Rules: rules("a.com", "b.com")},
			[]networkingv1.IngressLoadBalancerIngress{{IP: "192.168.1.150"}},
			[]interface{}{"ingress", "nginx", "a.com,b.com", "192.168.1.150", "80", "5m23s"}},
		{"no class, no host, no address", networkingv1.IngressSpec{Rules: rules("")}, nil,
			[]interface{}{"ingress", "<none>", "*", "", "80", "5m23s"}},
		{"tls and many hosts", networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{Hosts: []string{"a.com"}}}, Rules: rules("a.com", "", "b.com", "c.com", "d.com")},
			[]networkingv1.IngressLoadBalancerIngress{{Hostname: "lb.example.com"}, {IP: "192.168.1.151"}, {IP: "192.168.1.150"}},
			[]interface{}{"ingress", "<none>", "a.com,b.com,c.com + 2 more...", "192.168.1.150,192.168.1.151,lb.example.com", "80, 443", "5m23s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &networkingv1.Ingress{ObjectMeta: objectMeta("ingress", "default", 5*time.Minute+23*time.Second), Spec: tt.spec}
			ing.Status.LoadBalancer.Ingress = tt.ingress
			assertCells(t, gr, row(t, gr, ing), tt.want)
		})
	}
}

func TestNetworkingRows(t *testing.T) {
	classes := schema.GroupResource{Group: "networking.k8s.io", Resource: "ingressclasses"}
	def := &networkingv1.IngressClass{ObjectMeta: objectMeta("nginx", "", time.Hour), Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	def.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
	withParams := &networkingv1.IngressClass{ObjectMeta: objectMeta("alb", "", time.Hour), Spec: networkingv1.IngressClassSpec{
		Controller: "ingress.k8s.aws/alb",
		Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr.To("elbv2.k8s.aws"), Kind: "IngressClassParams", Name: "alb"},
	}}
	coreParams := &networkingv1.IngressClass{ObjectMeta: objectMeta("cm", "", time.Hour), Spec: networkingv1.IngressClassSpec{
		Controller: "example.com/x", Parameters: &networkingv1.IngressClassParametersReference{Kind: "ConfigMap", Name: "params"},
	}}
	assertCells(t, classes, row(t, classes, def), []interface{}{"nginx (default)", "k8s.io/ingress-nginx", "<none>", "60m"})
	assertCells(t, classes, row(t, classes, withParams), []interface{}{"alb", "ingress.k8s.aws/alb", "IngressClassParams.elbv2.k8s.aws/alb", "60m"})
	assertCells(t, classes, row(t, classes, coreParams), []interface{}{"cm", "example.com/x", "ConfigMap/params", "60m"})

	policies := schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}
	all := &networkingv1.NetworkPolicy{ObjectMeta: objectMeta("deny-all", "default", time.Minute)}
	some := &networkingv1.NetworkPolicy{ObjectMeta: objectMeta("web", "default", time.Minute),
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	assertCells(t, policies, row(t, policies, all), []interface{}{"deny-all", "<none>", "60s"})
	assertCells(t, policies, row(t, policies, some), []interface{}{"web", "app=web", "60s"})
}

func TestLeaseRow(t *testing.T) {
	gr := schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
	held := &coordinationv1.Lease{ObjectMeta: objectMeta("w1-k8s", "kube-node-lease", 3*time.Hour), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("w1-k8s")}}
	free := &coordinationv1.Lease{ObjectMeta: objectMeta("kube-scheduler", "kube-system", 3*time.Hour)}
	assertCells(t, gr, row(t, gr, held), []interface{}{"w1-k8s", "w1-k8s", "3h"})
	assertCells(t, gr, row(t, gr, free), []interface{}{"kube-scheduler", "", "3h"})
}

func TestBindingRows(t *testing.T) {
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, Name: "alice"},
		{Kind: rbacv1.GroupKind, Name: "system:masters"},
		{Kind: rbacv1.ServiceAccountKind, Name: "controller", Namespace: "metallb-system"},
		{Kind: rbacv1.UserKind, Name: "bob"},
		{Kind: rbacv1.ServiceAccountKind, Name: "speaker", Namespace: "metallb-system"},
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: objectMeta("pod-lister", "metallb-system", 2*time.Minute),
		RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "pod-lister"}, Subjects: subjects}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta("metallb-system:speaker", "", 2*time.Minute),
		RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "metallb-system:speaker"}}

	rbGR := schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}
	crbGR := schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}
	assertCells(t, rbGR, row(t, rbGR, rb), []interface{}{"pod-lister", "Role/pod-lister", "2m", "alice, bob", "system:masters",
		"metallb-system/controller, metallb-system/speaker"})
	assertCells(t, crbGR, row(t, crbGR, crb), []interface{}{"metallb-system:speaker", "ClusterRole/metallb-system:speaker", "2m", "", "", ""})

	p, _ := For(crbGR)
	if got := p.Columns[3].Description; got != "Users in the clusterRoleBinding" {
		t.Errorf("USERS description %q", got)
	}
}
