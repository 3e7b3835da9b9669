package controllers

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestPlanNodeTaints(t *testing.T) {
	now := time.Unix(5000, 0)
	old := metav1.NewTime(time.Unix(100, 0))
	foreign := v1.Taint{Key: "dedicated", Value: "db", Effect: v1.TaintEffectNoSchedule}
	unreachableNE := v1.Taint{Key: taintUnreachable, Effect: v1.TaintEffectNoExecute, TimeAdded: &old}
	tests := []struct {
		name          string
		taints        []v1.Taint
		ready         v1.ConditionStatus
		unschedulable bool
		want          []string
		changed       bool
	}{
		{"ready node untouched", []v1.Taint{foreign}, v1.ConditionTrue, false, []string{"dedicated=db:NoSchedule"}, false},
		{"ready again drops lifecycle taints", []v1.Taint{foreign, unreachableNE, {Key: taintUnreachable, Effect: v1.TaintEffectNoSchedule}},
			v1.ConditionTrue, false, []string{"dedicated=db:NoSchedule"}, true},
		{"not ready", nil, v1.ConditionFalse, false, []string{"node.kubernetes.io/not-ready:NoExecute@5000", "node.kubernetes.io/not-ready:NoSchedule"}, true},
		{"unknown keeps existing timeAdded", []v1.Taint{unreachableNE}, v1.ConditionUnknown, false,
			[]string{"node.kubernetes.io/unreachable:NoExecute@100", "node.kubernetes.io/unreachable:NoSchedule"}, true},
		{"unknown replaces not-ready", []v1.Taint{{Key: taintNotReady, Effect: v1.TaintEffectNoExecute}}, v1.ConditionUnknown, false,
			[]string{"node.kubernetes.io/unreachable:NoExecute@5000", "node.kubernetes.io/unreachable:NoSchedule"}, true},
		{"cordoned", nil, v1.ConditionTrue, true, []string{"node.kubernetes.io/unschedulable:NoSchedule"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := planNodeTaints(tt.taints, tt.ready, tt.unschedulable, now)
			var s []string
			for _, tn := range got {
				x := tn.ToString()
				if tn.TimeAdded != nil {
					x += fmt.Sprintf("@%d", tn.TimeAdded.Unix())
				}
				s = append(s, x)
			}
			sort.Strings(s)
			if fmt.Sprint(s) != fmt.Sprint(tt.want) || changed != tt.changed {
				t.Fatalf("got %v changed=%v, want %v changed=%v", s, changed, tt.want, tt.changed)
			}
		})
	}
}

func TestPlanEvictions(t *testing.T) {
	since := time.Unix(1000, 0)
	unreachable := []v1.Taint{{Key: taintUnreachable, Effect: v1.TaintEffectNoExecute}}
	tol := func(key string, seconds *int64) podOpt {
		return tolerating(v1.Toleration{Key: key, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: seconds})
	}
	tests := []struct {
		name     string
		taints   []v1.Taint
		pod      *v1.Pod
		defaults int64
		at       time.Duration
		evict    bool
		next     time.Duration
	}{
		{"default toleration: kept before 300s", unreachable, testPod("a"), 300, 299 * time.Second, false, time.Second},
		{"default toleration: evicted at 300s", unreachable, testPod("a"), 300, 300 * time.Second, true, 0},
		{"explicit 30s", unreachable, testPod("b", tol(taintUnreachable, ptrTo[int64](30))), 300, 31 * time.Second, true, 0},
		{"tolerated forever", unreachable, testPod("c", tol(taintUnreachable, nil)), 300, time.Hour, false, 0},
		{"defaults disabled", unreachable, testPod("d"), -1, 0, true, 0},
		{"untolerated custom taint", []v1.Taint{{Key: "maintenance", Effect: v1.TaintEffectNoExecute}}, testPod("e"), 300, 0, true, 0},
		{"no NoExecute taint", []v1.Taint{{Key: taintUnreachable, Effect: v1.TaintEffectNoSchedule}}, testPod("f"), 300, time.Hour, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, next := planEvictions(klog.Background(), []*v1.Pod{tt.pod}, tt.taints,
				func(v1.Taint) time.Time { return since }, tt.defaults, since.Add(tt.at))
			if (len(due) == 1) != tt.evict || next != tt.next {
				t.Fatalf("evicted %v next %v, want evict=%v next %v", names(due), next, tt.evict, tt.next)
			}
		})
	}
}

func TestNodeLifecycleController(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	clk := clocktesting.NewFakePassiveClock(start)
	renew := metav1.NewMicroTime(start)
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "w2-k8s", Namespace: v1.NamespaceNodeLease},
		Spec: coordinationv1.LeaseSpec{RenewTime: &renew}}
	evictable := testPod("a", onNode("w1-k8s"), readySince(time.Hour))
	short := testPod("b", onNode("w1-k8s"), readySince(time.Hour), tolerating(v1.Toleration{Key: taintUnreachable, Operator: v1.TolerationOpExists,
		Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptrTo[int64](30)}))
	forever := testPod("c", onNode("w1-k8s"), readySince(time.Hour), tolerating(v1.Toleration{Key: taintUnreachable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}))
	objs := []runtime.Object{testNode("w1-k8s"), testNode("w2-k8s"), lease, evictable, short, forever}
	h := newHarness(t, objs...)
	c := NewNodeLifecycleController(h.api, h.factory, h.events, NodeLifecycleConfig{
		GracePeriod: 40 * time.Second, UseLeases: true, Clock: clk,
	})
	h.factory.Start(h.ctx.Done())
	if !waitForSync(h.ctx, "test", c.synced...) {
		t.Fatal("caches did not sync")
	}
	ctx := klog.NewContext(context.Background(), klog.Background())
	sync := func(name string) outcome {
		t.Helper()
		out := c.sync(ctx, name)
		if out.err != nil {
			t.Fatalf("sync %s: %v", name, out.err)
		}
		return out
	}
	node := func(name string) *v1.Node {
		n, _ := h.api.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		return n
	}
	// waitCached waits until the controller's caches show cond.
	waitCached := func(what string, cond func() bool) {
		h.eventually(what, func() (bool, string) { return cond(), "not in cache yet" })
	}

	if out := sync("w1-k8s"); out.requeueAfter != 40*time.Second {
		t.Fatalf("healthy node rechecked after %v, want 40s", out.requeueAfter)
	}
	sync("w2-k8s")

	// 41s without a status heartbeat; w2 renews its lease meanwhile.
	clk.SetTime(start.Add(41 * time.Second))
	renew2 := metav1.NewMicroTime(start.Add(35 * time.Second))
	lease.Spec.RenewTime = &renew2
	if _, err := h.api.CoordinationV1().Leases(v1.NamespaceNodeLease).Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCached("lease renewal", func() bool {
		l, err := c.leases.Leases(v1.NamespaceNodeLease).Get("w2-k8s")
		return err == nil && l.Spec.RenewTime.Equal(&renew2)
	})
	sync("w2-k8s")
	if r := nodeReadyCondition(node("w2-k8s")); r.Status != v1.ConditionTrue || len(node("w2-k8s").Spec.Taints) != 0 {
		t.Fatalf("node renewing its lease was marked: %+v taints %v", r, node("w2-k8s").Spec.Taints)
	}

	out := sync("w1-k8s")
	w1 := node("w1-k8s")
	if r := nodeReadyCondition(w1); r.Status != v1.ConditionUnknown || r.Reason != "NodeStatusUnknown" || r.Message != "Kubelet stopped posting node status." {
		t.Fatalf("silent node Ready = %+v", r)
	}
	var taints []string
	for _, tn := range w1.Spec.Taints {
		taints = append(taints, tn.ToString())
	}
	sort.Strings(taints)
	if fmt.Sprint(taints) != "[node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule]" {
		t.Fatalf("taints = %v", taints)
	}
	if out.requeueAfter != 30*time.Second {
		t.Fatalf("next eviction check after %v, want 30s", out.requeueAfter)
	}
	if len(h.pods("default")) != 3 {
		t.Fatal("tolerating pods evicted at once")
	}
	for _, p := range h.pods("default") {
		if c := podReadyCondition(&p); c == nil || c.Status != v1.ConditionFalse {
			t.Errorf("pod %s on the unreachable node: Ready = %+v, want False", p.Name, c)
		}
	}
	if n := len(h.events.matching("Warning NodeNotReady Node is not ready")); n != 3 {
		t.Errorf("%d NodeNotReady pod events, want 3", n)
	}

	waitCached("taints", func() bool { n, _ := c.nodes.Get("w1-k8s"); return len(n.Spec.Taints) == 2 })
	clk.SetTime(start.Add(71 * time.Second))
	sync("w1-k8s")
	if got := podNames(h.pods("default")); fmt.Sprint(got) != "[a c]" {
		t.Fatalf("after 30s pods %v, want [a c]", got)
	}
	if len(h.events.matching("TaintManagerEviction Marking for deletion Pod default/b")) != 1 {
		t.Errorf("no eviction event: %v", h.events.matching(""))
	}
	clk.SetTime(start.Add(341 * time.Second))
	sync("w1-k8s")
	if got := podNames(h.pods("default")); fmt.Sprint(got) != "[c]" {
		t.Fatalf("after 300s pods %v, want [c]", got)
	}

	// The kubelet comes back: Ready with a fresh heartbeat clears the taints.
	w1 = node("w1-k8s")
	r := nodeReadyCondition(w1)
	r.Status, r.Reason, r.LastHeartbeatTime = v1.ConditionTrue, "KubeletReady", metav1.NewTime(start.Add(340*time.Second))
	if _, err := h.api.CoreV1().Nodes().UpdateStatus(ctx, w1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCached("ready node", func() bool {
		n, _ := c.nodes.Get("w1-k8s")
		return nodeReadyCondition(n).Status == v1.ConditionTrue
	})
	sync("w1-k8s")
	if tn := node("w1-k8s").Spec.Taints; len(tn) != 0 {
		t.Fatalf("taints after recovery: %v", tn)
	}
}

// podNames returns the sorted names of pods.
func podNames(pods []v1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}
