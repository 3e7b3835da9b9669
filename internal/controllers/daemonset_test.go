package controllers

import (
	"context"
	"fmt"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
)

// newTestDaemonSet returns a DaemonSet selecting app=<name>.
func newTestDaemonSet(name string) *appsv1.DaemonSet {
	labels := map[string]string{"app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "agent:1"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
	}
}

func TestShouldRunOn(t *testing.T) {
	noExec := v1.Taint{Key: "evict", Effect: v1.TaintEffectNoExecute}
	tests := []struct {
		name           string
		template       func(*v1.PodTemplateSpec)
		node           *v1.Node
		run, continue_ bool
	}{
		{"plain worker", nil, testNode("w1"), true, true},
		{"control plane taint", nil, testNode("cp", controlPlane), false, true},
		{"tolerated control plane", func(t *v1.PodTemplateSpec) {
			t.Spec.Tolerations = []v1.Toleration{{Key: controlPlaneTaint.Key, Operator: v1.TolerationOpExists}}
		}, testNode("cp", controlPlane), true, true},
		{"untolerated NoExecute", nil, testNode("w1", tainted(noExec)), false, false},
		{"node selector mismatch", func(t *v1.PodTemplateSpec) { t.Spec.NodeSelector = map[string]string{"role": "edge"} }, testNode("w1"), false, false},
		{"node selector match", func(t *v1.PodTemplateSpec) { t.Spec.NodeSelector = map[string]string{"role": "edge"} }, testNode("w1", labelled("role", "edge")), true, true},
		{"cordoned and not ready nodes still run daemons", nil, testNode("w1", cordoned, notReady,
			tainted(v1.Taint{Key: taintUnschedulable, Effect: v1.TaintEffectNoSchedule}),
			tainted(v1.Taint{Key: taintNotReady, Effect: v1.TaintEffectNoExecute})), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := newTestDaemonSet("agent")
			if tt.template != nil {
				tt.template(&ds.Spec.Template)
			}
			tmpl := daemonPodTemplate(ds, "h")
			run, cont := shouldRunOn(klog.Background(), tmpl, tt.node)
			if run != tt.run || cont != tt.continue_ {
				t.Fatalf("shouldRun, shouldContinue = %v, %v; want %v, %v", run, cont, tt.run, tt.continue_)
			}
		})
	}
}

func TestDaemonPodTemplate(t *testing.T) {
	ds := newTestDaemonSet("agent")
	ds.Generation = 3
	ds.Spec.Template.Spec.HostNetwork = true
	ds.Spec.Template.Spec.Tolerations = []v1.Toleration{{Key: v1.TaintNodeNotReady, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}}
	tmpl := daemonPodTemplate(ds, "abc")
	if tmpl.Labels[appsv1.ControllerRevisionHashLabelKey] != "abc" || tmpl.Labels[templateGenerationLabel] != "3" {
		t.Errorf("labels = %v", tmpl.Labels)
	}
	keys := map[string]int{}
	for _, tol := range tmpl.Spec.Tolerations {
		keys[tol.Key+":"+string(tol.Effect)]++
	}
	for _, want := range []string{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
		"node.kubernetes.io/unschedulable:NoSchedule", "node.kubernetes.io/network-unavailable:NoSchedule", "node.kubernetes.io/disk-pressure:NoSchedule"} {
		if keys[want] != 1 {
			t.Errorf("toleration %s appears %d times; tolerations %v", want, keys[want], tmpl.Spec.Tolerations)
		}
	}
	if len(ds.Spec.Template.Spec.Tolerations) != 1 {
		t.Error("daemonPodTemplate changed the DaemonSet")
	}
	pod := &v1.Pod{Spec: tmpl.Spec}
	pinToNode(pod, "w2-k8s")
	if targetNode(pod) != "w2-k8s" {
		t.Errorf("pinned pod targets %q", targetNode(pod))
	}
}

// daemonPodsByNode maps nodes to the images of the active pods targeting them.
func (h *harness) daemonPodsByNode(ns string) map[string][]string {
	out := map[string][]string{}
	for _, p := range h.pods(ns) {
		if p.DeletionTimestamp == nil {
			out[targetNode(&p)] = append(out[targetNode(&p)], p.Spec.Containers[0].Image)
		}
	}
	return out
}

func TestDaemonSetOnePodPerNode(t *testing.T) {
	objs := []runtime.Object{newTestDaemonSet("agent")}
	for _, n := range seedCluster() {
		objs = append(objs, n)
	}
	h := newHarness(t, objs...)
	h.start(NewDaemonSetController(h.api, h.factory, h.events), NewScheduler(h.api, h.factory, h.events))
	ctx := context.Background()

	h.eventually("one pod per worker, bound there", func() (bool, string) {
		var placed []string
		for _, p := range h.pods("kube-system") {
			if p.Spec.NodeName != targetNode(&p) {
				return false, fmt.Sprintf("%s pinned to %s but on %q", p.Name, targetNode(&p), p.Spec.NodeName)
			}
			placed = append(placed, p.Spec.NodeName)
		}
		sort.Strings(placed)
		return fmt.Sprint(placed) == "[w1-k8s w2-k8s w3-k8s]", fmt.Sprint(placed)
	})
	for _, p := range h.pods("kube-system") {
		if !generatedName("agent").MatchString(p.Name) || p.Labels[appsv1.ControllerRevisionHashLabelKey] == "" {
			t.Errorf("pod %s labels %v", p.Name, p.Labels)
		}
	}
	h.setPodsReady("kube-system", nil)
	h.eventually("status", func() (bool, string) {
		ds, _ := h.api.AppsV1().DaemonSets("kube-system").Get(ctx, "agent", metav1.GetOptions{})
		s := ds.Status
		return s.DesiredNumberScheduled == 3 && s.CurrentNumberScheduled == 3 && s.NumberReady == 3 && s.NumberAvailable == 3 &&
			s.UpdatedNumberScheduled == 3 && s.NumberUnavailable == 0 && s.NumberMisscheduled == 0 && s.ObservedGeneration == ds.Generation, fmt.Sprintf("%+v", s)
	})

	// A new node gets a pod; a node that stops matching loses it.
	if _, err := h.api.CoreV1().Nodes().Create(ctx, testNode("w4-k8s"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("pod on w4", func() (bool, string) {
		m := h.daemonPodsByNode("kube-system")
		return len(m["w4-k8s"]) == 1, fmt.Sprint(m)
	})
	ds, _ := h.api.AppsV1().DaemonSets("kube-system").Get(ctx, "agent", metav1.GetOptions{})
	ds.Spec.Template.Spec.Tolerations = []v1.Toleration{{Key: controlPlaneTaint.Key, Operator: v1.TolerationOpExists}}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "cp-k8s"}
	if _, err := h.api.AppsV1().DaemonSets("kube-system").Update(ctx, ds, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("only the control plane runs it", func() (bool, string) {
		m := h.daemonPodsByNode("kube-system")
		return len(m) == 1 && len(m["cp-k8s"]) == 1, fmt.Sprint(m)
	})
}

func TestDaemonSetRollingUpdate(t *testing.T) {
	objs := []runtime.Object{newTestDaemonSet("agent")}
	for _, n := range seedCluster()[1:] {
		objs = append(objs, n)
	}
	h := newHarness(t, objs...)
	h.start(NewDaemonSetController(h.api, h.factory, h.events))
	ctx := context.Background()
	h.eventually("3 available pods", func() (bool, string) {
		h.setPodsReady("kube-system", nil)
		ds, _ := h.api.AppsV1().DaemonSets("kube-system").Get(ctx, "agent", metav1.GetOptions{})
		return ds.Status.NumberAvailable == 3, fmt.Sprintf("%+v", ds.Status)
	})
	ds, _ := h.api.AppsV1().DaemonSets("kube-system").Get(ctx, "agent", metav1.GetOptions{})
	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	if _, err := h.api.AppsV1().DaemonSets("kube-system").Update(ctx, ds, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("all pods updated", func() (bool, string) {
		m := h.daemonPodsByNode("kube-system")
		// maxUnavailable 1: at most one node is without a ready pod.
		ready := 0
		for _, p := range h.pods("kube-system") {
			if p.DeletionTimestamp == nil && isPodReady(&p) {
				ready++
			}
		}
		if ready < 2 {
			t.Errorf("only %d ready daemon pods during the update: %v", ready, m)
		}
		h.setPodsReady("kube-system", nil)
		for _, node := range []string{"w1-k8s", "w2-k8s", "w3-k8s"} {
			if fmt.Sprint(m[node]) != "[agent:2]" {
				return false, fmt.Sprint(m)
			}
		}
		return true, ""
	})
	h.eventually("updated status", func() (bool, string) {
		ds, _ := h.api.AppsV1().DaemonSets("kube-system").Get(ctx, "agent", metav1.GetOptions{})
		return ds.Status.UpdatedNumberScheduled == 3 && ds.Status.NumberAvailable == 3, fmt.Sprintf("%+v", ds.Status)
	})
}
