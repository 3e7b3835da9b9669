package controllers

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"
)

// epPod builds a running pod labelled app=web with an address on a node,
// ready or not, exposing the named container ports.
func epPod(name, ip, node string, ready bool, ports ...v1.ContainerPort) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}},
		Spec:       v1.PodSpec{NodeName: node, Containers: []v1.Container{{Name: "c", Ports: ports}}},
		Status:     v1.PodStatus{Phase: v1.PodRunning, PodIP: ip, PodIPs: []v1.PodIP{{IP: ip}}},
	}
	status := v1.ConditionFalse
	if ready {
		status = v1.ConditionTrue
	}
	p.Status.Conditions = []v1.PodCondition{{Type: v1.PodReady, Status: status}}
	return p
}

// webPort is the container port named http-web-svc.
func webPort(n int32) v1.ContainerPort {
	return v1.ContainerPort{Name: "http-web-svc", ContainerPort: n, Protocol: v1.ProtocolTCP}
}

// epService builds a ClusterIP service selecting app=web whose port 80
// targets the named port http-web-svc.
func epService(name string) *v1.Service {
	return &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-svc-" + name), Labels: map[string]string{"team": "a"}},
		Spec: v1.ServiceSpec{
			Selector:  map[string]string{"app": "web"},
			ClusterIP: "10.96.0.20",
			Ports:     []v1.ServicePort{{Name: "http", Port: 80, Protocol: v1.ProtocolTCP, TargetPort: intstr.FromString("http-web-svc")}},
		},
	}
}

// zonedNode builds a node in a zone.
func zonedNode(name, zone string) *v1.Node {
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.LabelTopologyZone: zone}}}
}

// slicesOf lists the managed slices of a service from the API.
func (h *harness) slicesOf(svc string) []discovery.EndpointSlice {
	h.t.Helper()
	l, err := h.api.DiscoveryV1().EndpointSlices("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		h.t.Fatalf("list slices: %v", err)
	}
	var out []discovery.EndpointSlice
	for _, s := range l.Items {
		if s.Labels[discovery.LabelServiceName] == svc {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// endpointsSummary renders a service's Endpoints as
// "ready=[ip ...] notReady=[ip ...] ports=[name:port ...]" per subset, or
// "none".
func (h *harness) endpointsSummary(svc string) string {
	ep, err := h.api.CoreV1().Endpoints("default").Get(context.Background(), svc, metav1.GetOptions{})
	if err != nil {
		return "none"
	}
	var parts []string
	for _, ss := range ep.Subsets {
		var r, n, p []string
		for _, a := range ss.Addresses {
			r = append(r, a.IP)
		}
		for _, a := range ss.NotReadyAddresses {
			n = append(n, a.IP)
		}
		for _, pt := range ss.Ports {
			p = append(p, fmt.Sprintf("%s:%d", pt.Name, pt.Port))
		}
		parts = append(parts, fmt.Sprintf("ready=%v notReady=%v ports=%v", r, n, p))
	}
	return strings.Join(parts, " | ")
}

// sliceSummary renders a service's slices' endpoints as
// "ip:ready/serving/terminating@port" sorted.
func (h *harness) sliceSummary(svc string) string {
	var out []string
	for _, s := range h.slicesOf(svc) {
		port := int32(0)
		if len(s.Ports) > 0 && s.Ports[0].Port != nil {
			port = *s.Ports[0].Port
		}
		for _, e := range s.Endpoints {
			out = append(out, fmt.Sprintf("%s:%v/%v/%v@%d", e.Addresses[0], *e.Conditions.Ready, *e.Conditions.Serving, *e.Conditions.Terminating, port))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// startEndpointControllers starts both endpoint controllers on h.
func (h *harness) startEndpointControllers() (*EndpointSliceController, *EndpointsController) {
	es := NewEndpointSliceController(h.api, h.factory)
	ep := NewEndpointsController(h.api, h.factory)
	h.start(es, ep)
	return es, ep
}

// waitFor polls until got() equals want.
func (h *harness) waitFor(what, want string, got func() string) {
	h.t.Helper()
	h.eventually(what, func() (bool, string) {
		g := got()
		return g == want, "got " + g + ", want " + want
	})
}

// setReady flips a pod's Ready condition through the API.
func (h *harness) setReady(name string, ready bool) {
	h.t.Helper()
	ctx := context.Background()
	p, err := h.api.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	status := v1.ConditionFalse
	if ready {
		status = v1.ConditionTrue
	}
	p.Status.Conditions = []v1.PodCondition{{Type: v1.PodReady, Status: status}}
	if _, err := h.api.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func TestEndpointControllersThreePodService(t *testing.T) {
	h := newHarness(t,
		zonedNode("w1-k8s", "zone-a"), zonedNode("w2-k8s", "zone-b"),
		epService("web"),
		epPod("web-1", "172.16.1.10", "w1-k8s", true, webPort(80)),
		epPod("web-2", "172.16.2.10", "w2-k8s", true, webPort(80)),
		epPod("web-3", "172.16.3.10", "w1-k8s", false, webPort(80)),
		epPod("other", "172.16.3.11", "w1-k8s", true, webPort(80)),
	)
	// "other" does not match the selector.
	ctx := context.Background()
	other, _ := h.api.CoreV1().Pods("default").Get(ctx, "other", metav1.GetOptions{})
	other.Labels = map[string]string{"app": "db"}
	if _, err := h.api.CoreV1().Pods("default").Update(ctx, other, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.startEndpointControllers()

	h.waitFor("slice endpoints", "172.16.1.10:true/true/false@80 172.16.2.10:true/true/false@80 172.16.3.10:false/false/false@80",
		func() string { return h.sliceSummary("web") })
	h.waitFor("endpoints", "ready=[172.16.1.10 172.16.2.10] notReady=[172.16.3.10] ports=[http:80]",
		func() string { return h.endpointsSummary("web") })

	slices := h.slicesOf("web")
	if len(slices) != 1 {
		t.Fatalf("got %d slices, want 1", len(slices))
	}
	s := slices[0]
	if !regexp.MustCompile(`^web-[a-z0-9]{5}$`).MatchString(s.Name) {
		t.Errorf("slice name %q, want web-xxxxx", s.Name)
	}
	if s.AddressType != discovery.AddressTypeIPv4 {
		t.Errorf("address type %s", s.AddressType)
	}
	wantLabels := map[string]string{"team": "a", discovery.LabelServiceName: "web", discovery.LabelManagedBy: "endpointslice-controller.k8s.io"}
	if fmt.Sprint(s.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels %v, want %v", s.Labels, wantLabels)
	}
	if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Kind != "Service" || s.OwnerReferences[0].Name != "web" ||
		s.OwnerReferences[0].UID != "uid-svc-web" || !*s.OwnerReferences[0].Controller || !*s.OwnerReferences[0].BlockOwnerDeletion {
		t.Errorf("owner references %+v", s.OwnerReferences)
	}
	if len(s.Ports) != 1 || *s.Ports[0].Name != "http" || *s.Ports[0].Port != 80 || *s.Ports[0].Protocol != v1.ProtocolTCP {
		t.Errorf("ports %+v", s.Ports)
	}
	for _, e := range s.Endpoints {
		if e.TargetRef == nil || e.TargetRef.Kind != "Pod" || e.TargetRef.Namespace != "default" || string(e.TargetRef.UID) != "uid-"+e.TargetRef.Name {
			t.Errorf("targetRef %+v", e.TargetRef)
		}
		wantZone := map[string]string{"web-1": "zone-a", "web-2": "zone-b", "web-3": "zone-a"}[e.TargetRef.Name]
		if e.Zone == nil || *e.Zone != wantZone || e.NodeName == nil {
			t.Errorf("%s: zone %v node %v, want %s", e.TargetRef.Name, e.Zone, e.NodeName, wantZone)
		}
	}
	ep, err := h.api.CoreV1().Endpoints("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Labels[endpointsManagedByLabel] != "endpoint-controller" || ep.Labels["team"] != "a" || len(ep.OwnerReferences) != 0 {
		t.Errorf("endpoints meta %+v", ep.ObjectMeta)
	}
	a := ep.Subsets[0].Addresses[0]
	if a.NodeName == nil || *a.NodeName != "w1-k8s" || a.TargetRef == nil || a.TargetRef.Name != "web-1" {
		t.Errorf("address %+v", a)
	}

	// Readiness flips move addresses, updating the slice in place.
	h.setReady("web-3", true)
	h.setReady("web-1", false)
	h.waitFor("slice after flips", "172.16.1.10:false/false/false@80 172.16.2.10:true/true/false@80 172.16.3.10:true/true/false@80",
		func() string { return h.sliceSummary("web") })
	h.waitFor("endpoints after flips", "ready=[172.16.2.10 172.16.3.10] notReady=[172.16.1.10] ports=[http:80]",
		func() string { return h.endpointsSummary("web") })
	if got := h.slicesOf("web"); len(got) != 1 || got[0].Name != s.Name {
		t.Errorf("slice not updated in place: %v", got)
	}

	// A terminating pod stays in the slice, not ready but serving, and
	// leaves the Endpoints.
	p, _ := h.api.CoreV1().Pods("default").Get(ctx, "web-2", metav1.GetOptions{})
	p.Finalizers = []string{"test/hold"}
	if _, err := h.api.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := h.api.CoreV1().Pods("default").Delete(ctx, "web-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("slice with terminating pod", "172.16.1.10:false/false/false@80 172.16.2.10:false/true/true@80 172.16.3.10:true/true/false@80",
		func() string { return h.sliceSummary("web") })
	h.waitFor("endpoints without terminating pod", "ready=[172.16.3.10] notReady=[172.16.1.10] ports=[http:80]",
		func() string { return h.endpointsSummary("web") })

	// A pod going away leaves both.
	if err := h.api.CoreV1().Pods("default").Delete(ctx, "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("slice without deleted pod", "172.16.2.10:false/true/true@80 172.16.3.10:true/true/false@80",
		func() string { return h.sliceSummary("web") })
	h.waitFor("endpoints without deleted pod", "ready=[172.16.3.10] notReady=[] ports=[http:80]",
		func() string { return h.endpointsSummary("web") })

	// Deleting the Service removes its Endpoints and slices.
	if err := h.api.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("endpoints gone", "none", func() string { return h.endpointsSummary("web") })
	h.eventually("slices gone", func() (bool, string) {
		n := len(h.slicesOf("web"))
		return n == 0, fmt.Sprintf("%d slices left", n)
	})
}

func TestEndpointControllersNamedPortsSplitSlices(t *testing.T) {
	h := newHarness(t,
		epService("web"),
		epPod("web-1", "172.16.1.10", "w1-k8s", true, webPort(80)),
		epPod("web-2", "172.16.2.10", "w2-k8s", true, webPort(8080)),
		epPod("web-3", "172.16.3.10", "w3-k8s", true, webPort(8080)),
		epPod("web-4", "172.16.4.10", "w3-k8s", true), // no such port
	)
	h.startEndpointControllers()
	h.waitFor("slices per port", "172.16.1.10:true/true/false@80 172.16.2.10:true/true/false@8080 172.16.3.10:true/true/false@8080 172.16.4.10:true/true/false@0",
		func() string { return h.sliceSummary("web") })
	if n := len(h.slicesOf("web")); n != 3 {
		t.Errorf("got %d slices, want 3 (80, 8080 and no port)", n)
	}
	// Kubernetes leaves a pod whose ports all fail to resolve out of Endpoints.
	h.waitFor("endpoints subsets per port", "ready=[172.16.1.10] notReady=[] ports=[http:80] | ready=[172.16.2.10 172.16.3.10] notReady=[] ports=[http:8080]",
		func() string { return h.endpointsSummary("web") })
}

func TestEndpointControllersPublishNotReadyAddresses(t *testing.T) {
	svc := epService("web")
	svc.Spec.PublishNotReadyAddresses = true
	svc.Spec.ClusterIP = v1.ClusterIPNone
	term := epPod("web-2", "172.16.2.10", "w2-k8s", true, webPort(80))
	term.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	term.Finalizers = []string{"test/hold"}
	h := newHarness(t, svc, epPod("web-1", "172.16.1.10", "w1-k8s", false, webPort(80)), term)
	h.startEndpointControllers()
	h.waitFor("slice", "172.16.1.10:true/false/false@80 172.16.2.10:true/true/true@80",
		func() string { return h.sliceSummary("web") })
	h.waitFor("endpoints", "ready=[172.16.1.10 172.16.2.10] notReady=[] ports=[http:80]",
		func() string { return h.endpointsSummary("web") })
	if s := h.slicesOf("web")[0]; s.Labels[v1.IsHeadlessService] != "" || len(s.Labels) != 4 {
		t.Errorf("headless slice labels %v", s.Labels)
	}
}

func TestEndpointControllersLeaveSelectorlessServices(t *testing.T) {
	svc := epService("ext")
	svc.Spec.Selector = nil
	userEP := &v1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "default"},
		Subsets: []v1.EndpointSubset{{Addresses: []v1.EndpointAddress{{IP: "192.168.1.1"}}, Ports: []v1.EndpointPort{{Port: 80}}}}}
	userSlice := &discovery.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "ext-1", Namespace: "default",
		Labels: map[string]string{discovery.LabelServiceName: "ext"}}, AddressType: discovery.AddressTypeIPv4,
		Endpoints: []discovery.Endpoint{{Addresses: []string{"192.168.1.1"}}}}
	// Endpoints written before their Service exists are left alone too.
	early := &v1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "later", Namespace: "default"}}
	h := newHarness(t, svc, userEP, userSlice, early, epPod("web-1", "172.16.1.10", "w1-k8s", true, webPort(80)))
	h.startEndpointControllers()
	h.api.ClearActions()
	// Give the controllers time to act, nudging the service.
	ctx := context.Background()
	s, _ := h.api.CoreV1().Services("default").Get(ctx, "ext", metav1.GetOptions{})
	s.Annotations = map[string]string{"nudge": "1"}
	if _, err := h.api.CoreV1().Services("default").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if w := writes(h.api.Actions()); len(w) != 0 {
		t.Fatalf("controllers wrote %v for a selector-less service", w)
	}
	if got := h.endpointsSummary("ext"); got != "ready=[192.168.1.1] notReady=[] ports=[:80]" {
		t.Errorf("user endpoints changed: %s", got)
	}
	if _, err := h.api.CoreV1().Endpoints("default").Get(ctx, "later", metav1.GetOptions{}); err != nil {
		t.Errorf("endpoints without a service yet: %v", err)
	}
	// Deleting a selector-less Service deletes its Endpoints, as in Kubernetes.
	if err := h.api.CoreV1().Services("default").Delete(ctx, "ext", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("endpoints gone", "none", func() string { return h.endpointsSummary("ext") })
	if n := len(h.slicesOf("ext")); n != 1 {
		t.Errorf("user slice deleted: %d left", n)
	}
}

// writes returns the create, update, patch and delete actions on
// endpoints and endpointslices.
func writes(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		r := a.GetResource().Resource
		if r != "endpoints" && r != "endpointslices" {
			continue
		}
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
			out = append(out, a.GetVerb()+" "+r)
		}
	}
	return out
}

func TestEndpointControllersNoWritesWithoutChange(t *testing.T) {
	h := newHarness(t, epService("web"), epService("empty"),
		epPod("web-1", "172.16.1.10", "w1-k8s", true, webPort(80)),
		epPod("web-2", "172.16.2.10", "w2-k8s", false, webPort(80)))
	empty, _ := h.api.CoreV1().Services("default").Get(context.Background(), "empty", metav1.GetOptions{})
	empty.Spec.Selector = map[string]string{"app": "none"}
	if _, err := h.api.CoreV1().Services("default").Update(context.Background(), empty, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	es, ep := h.startEndpointControllers()
	h.waitFor("endpoints", "ready=[172.16.1.10] notReady=[172.16.2.10] ports=[http:80]",
		func() string { return h.endpointsSummary("web") })
	h.eventually("placeholder slice", func() (bool, string) {
		s := h.slicesOf("empty")
		return len(s) == 1 && len(s[0].Endpoints) == 0, fmt.Sprintf("%d slices", len(s))
	})
	h.waitFor("empty endpoints", "", func() string { return h.endpointsSummary("empty") })
	time.Sleep(200 * time.Millisecond)
	h.api.ClearActions()
	// A resync of everything, and a pod update that changes nothing the
	// endpoints show.
	for _, key := range []string{"default/web", "default/empty"} {
		es.runner.add(key)
		ep.runner.add(key)
	}
	p, _ := h.api.CoreV1().Pods("default").Get(context.Background(), "web-1", metav1.GetOptions{})
	p.Annotations = map[string]string{"touched": "yes"}
	if _, err := h.api.CoreV1().Pods("default").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if w := writes(h.api.Actions()); len(w) != 0 {
		t.Fatalf("resync without change wrote %v", w)
	}
}

// planSvc is the Service the plan tests use.
var planSvc = epService("web")

// manyEndpoints returns n pods' endpoints for the plan tests.
func manyPods(n int, port int32) []*v1.Pod {
	var pods []*v1.Pod
	for i := 0; i < n; i++ {
		pods = append(pods, epPod(fmt.Sprintf("p%03d", i), fmt.Sprintf("172.16.%d.%d", i/200, i%200+1), "w1", true, webPort(port)))
	}
	return pods
}

// namer returns a deterministic slice name generator.
func namer() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("web-new%d", n) }
}

func TestPlanEndpointSlicesCapacityAndReuse(t *testing.T) {
	noZone := func(string) string { return "" }
	groups := desiredSliceGroups(planSvc, manyPods(250, 80), noZone)
	plan := planEndpointSlices(planSvc, nil, groups, namer())
	if len(plan.create) != 3 || len(plan.update)+len(plan.delete) != 0 {
		t.Fatalf("250 endpoints: %d creates %d updates %d deletes, want 3 creates", len(plan.create), len(plan.update), len(plan.delete))
	}
	sizes := []int{len(plan.create[0].Endpoints), len(plan.create[1].Endpoints), len(plan.create[2].Endpoints)}
	if fmt.Sprint(sizes) != "[100 100 50]" {
		t.Errorf("slice sizes %v", sizes)
	}
	existing := plan.create
	for i, s := range existing {
		s.Name = fmt.Sprintf("web-old%d", i)
	}
	// Unchanged: nothing to write.
	if p := planEndpointSlices(planSvc, existing, groups, namer()); len(p.create)+len(p.update)+len(p.delete) != 0 {
		t.Errorf("unchanged plan writes: %d %d %d", len(p.create), len(p.update), len(p.delete))
	}
	// Dropping to 120 pods keeps the endpoints in place and deletes the
	// slice that emptied.
	groups = desiredSliceGroups(planSvc, manyPods(120, 80), noZone)
	p := planEndpointSlices(planSvc, existing, groups, namer())
	if len(p.create) != 0 || len(p.update) != 1 || len(p.delete) != 1 || p.delete[0].Name != "web-old2" {
		t.Errorf("shrink: %d creates %d updates %d deletes", len(p.create), len(p.update), len(p.delete))
	}
	// A target port change rewrites the slices in place rather than
	// creating new ones.
	groups = desiredSliceGroups(planSvc, manyPods(120, 8080), noZone)
	p = planEndpointSlices(planSvc, existing, groups, namer())
	if len(p.create) != 0 || len(p.update) != 2 || len(p.delete) != 1 {
		t.Errorf("port change: %d creates %d updates %d deletes", len(p.create), len(p.update), len(p.delete))
	}
	// No endpoints: one placeholder slice stays.
	p = planEndpointSlices(planSvc, existing, nil, namer())
	if len(p.create) != 0 || len(p.update) != 1 || len(p.delete) != 2 || len(p.update[0].Endpoints) != 0 {
		t.Errorf("placeholder: %d creates %d updates %d deletes", len(p.create), len(p.update), len(p.delete))
	}
}

func TestFindPort(t *testing.T) {
	pod := epPod("p", "172.16.0.1", "w1", true, webPort(8080), v1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: v1.ProtocolUDP})
	tests := []struct {
		target intstr.IntOrString
		proto  v1.Protocol
		want   int32
		ok     bool
	}{
		{intstr.FromInt32(9000), v1.ProtocolTCP, 9000, true},
		{intstr.FromString("http-web-svc"), "", 8080, true},
		{intstr.FromString("dns"), v1.ProtocolUDP, 53, true},
		{intstr.FromString("dns"), v1.ProtocolTCP, 0, false},
		{intstr.FromString("missing"), v1.ProtocolTCP, 0, false},
	}
	for _, tt := range tests {
		got, ok := findPort(pod, &v1.ServicePort{Port: 80, Protocol: tt.proto, TargetPort: tt.target})
		if got != tt.want || ok != tt.ok {
			t.Errorf("findPort(%v/%s) = %d %v, want %d %v", tt.target.String(), tt.proto, got, ok, tt.want, tt.ok)
		}
	}
}
