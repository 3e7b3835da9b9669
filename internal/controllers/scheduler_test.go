package controllers

import (
	"context"
	"fmt"
	"sort"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

// controlPlaneTaint is the taint kubeadm puts on control-plane nodes.
var controlPlaneTaint = v1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: v1.TaintEffectNoSchedule}

// testNode builds a Ready node named name with the hostname label.
func testNode(name string, opts ...func(*v1.Node)) *v1.Node {
	n := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: v1.NodeStatus{Conditions: []v1.NodeCondition{{
			Type: v1.NodeReady, Status: v1.ConditionTrue, LastHeartbeatTime: metav1.Now(),
		}}},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

// tainted adds a taint to the node.
func tainted(t v1.Taint) func(*v1.Node) {
	return func(n *v1.Node) { n.Spec.Taints = append(n.Spec.Taints, t) }
}

// labelled adds a label to the node.
func labelled(k, v string) func(*v1.Node) { return func(n *v1.Node) { n.Labels[k] = v } }

// notReady makes the node report Ready=False.
func notReady(n *v1.Node) { n.Status.Conditions[0].Status = v1.ConditionFalse }

// cordoned marks the node unschedulable, as kubectl cordon does.
func cordoned(n *v1.Node) { n.Spec.Unschedulable = true }

// controlPlane adds kubeadm's control-plane taint.
func controlPlane(n *v1.Node) { tainted(controlPlaneTaint)(n) }

// seedCluster is kin's default topology.
func seedCluster() []*v1.Node {
	return []*v1.Node{testNode("cp-k8s", controlPlane), testNode("w1-k8s"), testNode("w2-k8s"), testNode("w3-k8s")}
}

// ownedBy gives a pod a controller reference.
func ownedBy(uid string) podOpt {
	return func(p *v1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: types.UID(uid), Controller: ptrTo(true)}}
	}
}

// withSelector sets the pod's node selector.
func withSelector(k, v string) podOpt {
	return func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
}

// tolerating adds a toleration to the pod.
func tolerating(t v1.Toleration) podOpt {
	return func(p *v1.Pod) { p.Spec.Tolerations = append(p.Spec.Tolerations, t) }
}

// withAffinity gives the pod one required node affinity term.
func withAffinity(reqs ...v1.NodeSelectorRequirement) podOpt {
	return func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
			NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: reqs}},
		}}}
	}
}

// hostPort makes the pod claim a host port.
func hostPort(port int32) podOpt {
	return func(p *v1.Pod) {
		p.Spec.Containers = []v1.Container{{Name: "c", Ports: []v1.ContainerPort{{ContainerPort: port, HostPort: port}}}}
	}
}

func TestSchedulePod(t *testing.T) {
	cluster := seedCluster()
	tests := []struct {
		name     string
		nodes    []*v1.Node
		existing []*v1.Pod
		pod      *v1.Pod
		want     string
		wantErr  string
	}{
		{name: "control plane is tainted", nodes: cluster, pod: testPod("p"), want: "w1-k8s"},
		{
			name: "spreads by owner before total", nodes: cluster,
			existing: []*v1.Pod{
				testPod("a", onNode("w1-k8s"), ownedBy("rs1")),
				testPod("x", onNode("w2-k8s")), testPod("y", onNode("w2-k8s")),
			},
			pod: testPod("p", ownedBy("rs1")), want: "w3-k8s",
		},
		{
			name: "then by total pods", nodes: cluster,
			existing: []*v1.Pod{testPod("x", onNode("w1-k8s")), testPod("y", onNode("w3-k8s"))},
			pod:      testPod("p", ownedBy("rs1")), want: "w2-k8s",
		},
		{
			name: "finished pods do not count", nodes: cluster,
			existing: []*v1.Pod{testPod("done", onNode("w1-k8s"), ownedBy("rs1"), func(p *v1.Pod) { p.Status.Phase = v1.PodSucceeded })},
			pod:      testPod("p", ownedBy("rs1")), want: "w1-k8s",
		},
		{name: "node selector", nodes: cluster, pod: testPod("p", withSelector("kubernetes.io/hostname", "w2-k8s")), want: "w2-k8s"},
		{
			name: "toleration admits control plane", nodes: cluster,
			pod:  testPod("p", withSelector("kubernetes.io/hostname", "cp-k8s"), tolerating(v1.Toleration{Key: controlPlaneTaint.Key, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule})),
			want: "cp-k8s",
		},
		{
			name: "affinity NotIn", nodes: cluster,
			pod:  testPod("p", withAffinity(v1.NodeSelectorRequirement{Key: "kubernetes.io/hostname", Operator: v1.NodeSelectorOpNotIn, Values: []string{"w1-k8s", "w2-k8s"}})),
			want: "w3-k8s",
		},
		{
			name:  "affinity Exists and DoesNotExist",
			nodes: []*v1.Node{testNode("w1-k8s", labelled("gpu", "yes")), testNode("w2-k8s"), testNode("w3-k8s", labelled("gpu", "no"), labelled("old", "1"))},
			pod: testPod("p", withAffinity(
				v1.NodeSelectorRequirement{Key: "gpu", Operator: v1.NodeSelectorOpExists},
				v1.NodeSelectorRequirement{Key: "old", Operator: v1.NodeSelectorOpDoesNotExist})),
			want: "w1-k8s",
		},
		{
			name:  "skips not ready and cordoned nodes",
			nodes: []*v1.Node{testNode("w1-k8s", notReady), testNode("w2-k8s", cordoned), testNode("w3-k8s")},
			pod:   testPod("p"), want: "w3-k8s",
		},
		{
			name:     "host ports conflict",
			nodes:    []*v1.Node{testNode("w1-k8s"), testNode("w2-k8s")},
			existing: []*v1.Pod{testPod("a", onNode("w1-k8s"), hostPort(80))},
			pod:      testPod("p", hostPort(80)), want: "w2-k8s",
		},
		{
			name: "nothing fits", nodes: cluster, pod: testPod("p", withSelector("disk", "ssd")),
			wantErr: "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, " +
				"3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
		},
		{
			name:  "mixed reasons",
			nodes: []*v1.Node{testNode("cp-k8s", controlPlane), testNode("w1-k8s", notReady), testNode("w2-k8s", cordoned)},
			pod:   testPod("p"),
			wantErr: "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, " +
				"1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. " +
				"preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
		},
		{name: "no nodes", pod: testPod("p"), wantErr: "no nodes available to schedule pods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := schedulePod(klog.Background(), tt.pod, tt.nodes, tt.existing)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %q, %v; want error\n%s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSchedulerBindsAndSpreads(t *testing.T) {
	var objs []runtime.Object
	for _, n := range seedCluster() {
		objs = append(objs, n)
	}
	pinned := testPod("pinned", onNode("w3-k8s"))
	pinned.UID = ""
	objs = append(objs, pinned)
	h := newHarness(t, objs...)
	h.start(NewScheduler(h.api, h.factory, h.events))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		p := testPod(fmt.Sprintf("web-%d", i), ownedBy("rs-web"))
		p.UID = ""
		if _, err := h.api.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	h.eventually("3 pods bound", func() (bool, string) {
		var placed []string
		for _, p := range h.pods("default") {
			if p.Name != "pinned" && p.Spec.NodeName != "" {
				placed = append(placed, p.Spec.NodeName)
			}
		}
		sort.Strings(placed)
		return fmt.Sprint(placed) == "[w1-k8s w2-k8s w3-k8s]", fmt.Sprint(placed)
	})
	for _, p := range h.pods("default") {
		if p.Name == "pinned" {
			continue
		}
		want := fmt.Sprintf("Normal Scheduled Successfully assigned default/%s to %s", p.Name, p.Spec.NodeName)
		if len(h.events.matching(want)) != 1 {
			t.Errorf("missing event %q; events %v", want, h.events.matching(""))
		}
	}
	if len(h.events.matching("pinned")) != 0 {
		t.Errorf("pod with nodeName set was touched: %v", h.events.matching("pinned"))
	}
}

func TestSchedulerReportsUnschedulable(t *testing.T) {
	var objs []runtime.Object
	for _, n := range seedCluster() {
		objs = append(objs, n)
	}
	h := newHarness(t, objs...)
	h.start(NewScheduler(h.api, h.factory, h.events))
	ctx := context.Background()
	p := testPod("web-abc", withSelector("disk", "ssd"))
	p.UID = ""
	if _, err := h.api.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	msg := "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, " +
		"3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
	h.eventually("PodScheduled=False", func() (bool, string) {
		got, _ := h.api.CoreV1().Pods("default").Get(ctx, "web-abc", metav1.GetOptions{})
		c := podCondition(got, v1.PodScheduled)
		return c != nil && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable && c.Message == msg, fmt.Sprintf("%+v", c)
	})
	if len(h.events.matching("Warning FailedScheduling "+msg)) == 0 {
		t.Errorf("no FailedScheduling event; events %v", h.events.matching(""))
	}

	// Labelling a node makes the pod fit; the node update retries it.
	n, _ := h.api.CoreV1().Nodes().Get(ctx, "w2-k8s", metav1.GetOptions{})
	n.Labels["disk"] = "ssd"
	if _, err := h.api.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("bound to w2-k8s", func() (bool, string) {
		got, _ := h.api.CoreV1().Pods("default").Get(ctx, "web-abc", metav1.GetOptions{})
		return got.Spec.NodeName == "w2-k8s", got.Spec.NodeName
	})
}
