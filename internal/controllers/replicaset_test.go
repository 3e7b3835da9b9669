package controllers

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podOpt adjusts a test pod.
type podOpt func(*v1.Pod)

// testPod builds a pending pod labelled app=web in default.
func testPod(name string, opts ...podOpt) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name),
		Labels: map[string]string{"app": "web"}}}
	p.Status.Phase = v1.PodPending
	for _, o := range opts {
		o(p)
	}
	return p
}

// onNode binds the pod to node n.
func onNode(n string) podOpt { return func(p *v1.Pod) { p.Spec.NodeName = n } }

// running makes the pod Running but not ready.
func running() podOpt { return func(p *v1.Pod) { p.Status.Phase = v1.PodRunning } }

// readySince makes the pod Running and Ready since d before time 10000.
func readySince(d time.Duration) podOpt {
	return func(p *v1.Pod) {
		p.Status.Phase = v1.PodRunning
		p.Status.Conditions = append(p.Status.Conditions, v1.PodCondition{
			Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: metav1.NewTime(time.Unix(10_000, 0).Add(-d)),
		})
	}
}

// restarts sets the pod's container restart count.
func restarts(n int32) podOpt {
	return func(p *v1.Pod) { p.Status.ContainerStatuses = []v1.ContainerStatus{{RestartCount: n}} }
}

// created sets the pod's creation time.
func created(sec int64) podOpt {
	return func(p *v1.Pod) { p.CreationTimestamp = metav1.NewTime(time.Unix(sec, 0)) }
}

func TestPodsToDeleteOrder(t *testing.T) {
	tests := []struct {
		name  string
		pods  []*v1.Pod
		first string
	}{
		{"unscheduled before scheduled", []*v1.Pod{testPod("a", onNode("w1")), testPod("b")}, "b"},
		{"pending before running", []*v1.Pod{testPod("a", onNode("w1"), running()), testPod("b", onNode("w2"))}, "b"},
		{"not ready before ready", []*v1.Pod{testPod("a", onNode("w1"), readySince(time.Hour)), testPod("b", onNode("w2"), running())}, "b"},
		{"doubled up before alone", []*v1.Pod{
			testPod("a", onNode("w1"), readySince(time.Hour)),
			testPod("b", onNode("w2"), readySince(time.Hour)),
			testPod("c", onNode("w2"), readySince(time.Hour)),
		}, "c"},
		{"recently ready before long ready", []*v1.Pod{testPod("a", onNode("w1"), readySince(time.Hour)), testPod("b", onNode("w2"), readySince(time.Minute))}, "b"},
		{"more restarts first", []*v1.Pod{testPod("a", onNode("w1"), running(), restarts(1)), testPod("b", onNode("w2"), running(), restarts(5))}, "b"},
		{"newer first", []*v1.Pod{testPod("a", onNode("w1"), running(), created(100)), testPod("b", onNode("w2"), running(), created(200))}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podsToDelete(tt.pods, 1)
			if len(got) != 1 || got[0].Name != tt.first {
				t.Fatalf("deleted %v first, want %s", names(got), tt.first)
			}
		})
	}
}

// names returns the pods' names.
func names(pods []*v1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPlanReplicaSet(t *testing.T) {
	now := time.Unix(10_000, 0)
	rs := func(replicas, minReady int32) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Generation: 4},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptrTo(replicas), MinReadySeconds: minReady,
				Template: v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe"}}}},
		}
	}
	fully := func(p *v1.Pod) { p.Labels["tier"] = "fe" }
	tests := []struct {
		name        string
		rs          *appsv1.ReplicaSet
		pods        []*v1.Pod
		manage      bool
		wantCreate  int
		wantDelete  []string
		wantStatus  appsv1.ReplicaSetStatus
		wantRequeue bool
	}{
		{
			name: "scale up from nothing", rs: rs(3, 0), manage: true, wantCreate: 3,
			wantStatus: appsv1.ReplicaSetStatus{ObservedGeneration: 4},
		},
		{
			name: "expectations pending: no writes", rs: rs(3, 0), manage: false,
			pods:       []*v1.Pod{testPod("a", fully)},
			wantStatus: appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ObservedGeneration: 4},
		},
		{
			name: "scale down deletes the least useful", rs: rs(1, 0), manage: true,
			pods:       []*v1.Pod{testPod("a", onNode("w1"), readySince(time.Hour), fully), testPod("b", onNode("w2")), testPod("c")},
			wantDelete: []string{"c", "b"},
			wantStatus: appsv1.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 4},
		},
		{
			name: "minReadySeconds holds availability and requeues", rs: rs(2, 30), manage: true,
			pods:        []*v1.Pod{testPod("a", onNode("w1"), readySince(time.Hour)), testPod("b", onNode("w2"), readySince(10*time.Second))},
			wantStatus:  appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 4},
			wantRequeue: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planReplicaSet(tt.rs, tt.pods, tt.manage, now)
			if p.create != tt.wantCreate {
				t.Errorf("create = %d, want %d", p.create, tt.wantCreate)
			}
			if fmt.Sprint(names(p.delete)) != fmt.Sprint(tt.wantDelete) {
				t.Errorf("delete = %v, want %v", names(p.delete), tt.wantDelete)
			}
			if fmt.Sprintf("%+v", p.status) != fmt.Sprintf("%+v", tt.wantStatus) {
				t.Errorf("status = %+v, want %+v", p.status, tt.wantStatus)
			}
			if (p.requeueAfter > 0) != tt.wantRequeue {
				t.Errorf("requeueAfter = %v, want requeue %v", p.requeueAfter, tt.wantRequeue)
			}
		})
	}
}

// newTestRS returns a ReplicaSet selecting app=<name>.
func newTestRS(name string, replicas int32) *appsv1.ReplicaSet {
	labels := map[string]string{"app": name}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptrTo(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
}

// generatedName matches `<prefix>-<5 chars of rand.String>`.
func generatedName(prefix string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + "-[bcdfghjklmnpqrstvwxz2456789]{5}$")
}

// activeOwned returns the active pods controlled by uid.
func activeOwned(pods []v1.Pod, owner metav1.Object) []v1.Pod {
	var out []v1.Pod
	for _, p := range pods {
		if ref := metav1.GetControllerOf(&p); ref != nil && ref.UID == owner.GetUID() && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func TestReplicaSetControllerCreatesAndReplacesPods(t *testing.T) {
	h := newHarness(t, newTestRS("web", 3))
	h.start(NewReplicaSetController(h.api, h.factory, h.events))
	ctx := context.Background()
	rs, _ := h.api.AppsV1().ReplicaSets("default").Get(ctx, "web", metav1.GetOptions{})

	h.eventually("3 pods", func() (bool, string) {
		pods := h.pods("default")
		return len(pods) == 3, fmt.Sprintf("%d pods", len(pods))
	})
	for _, p := range h.pods("default") {
		if !generatedName("web").MatchString(p.Name) {
			t.Errorf("pod name %q is not web-<5 random chars>", p.Name)
		}
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("pod %s owner reference = %+v", p.Name, p.OwnerReferences)
		}
		if p.Labels["app"] != "web" || p.Spec.Containers[0].Image != "nginx" {
			t.Errorf("pod %s not from template: %+v", p.Name, p)
		}
	}
	if n := len(h.events.matching("SuccessfulCreate Created pod: web-")); n != 3 {
		t.Errorf("%d SuccessfulCreate events, want 3", n)
	}

	victim := h.pods("default")[0].Name
	if err := h.api.CoreV1().Pods("default").Delete(ctx, victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("a replacement pod", func() (bool, string) {
		pods := h.pods("default")
		for _, p := range pods {
			if p.Name == victim {
				return false, "victim still there"
			}
		}
		return len(pods) == 3, fmt.Sprintf("%d pods", len(pods))
	})

	h.setPodsReady("default", nil)
	h.eventually("status ready 3", func() (bool, string) {
		rs, _ := h.api.AppsV1().ReplicaSets("default").Get(ctx, "web", metav1.GetOptions{})
		s := rs.Status
		return s.Replicas == 3 && s.ReadyReplicas == 3 && s.AvailableReplicas == 3 && s.FullyLabeledReplicas == 3 && s.ObservedGeneration == rs.Generation,
			fmt.Sprintf("%+v", s)
	})

	// Scaling down removes the surplus.
	rs, _ = h.api.AppsV1().ReplicaSets("default").Get(ctx, "web", metav1.GetOptions{})
	rs.Spec.Replicas = ptrTo[int32](1)
	if _, err := h.api.AppsV1().ReplicaSets("default").Update(ctx, rs, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("1 pod", func() (bool, string) {
		pods := h.pods("default")
		return len(pods) == 1, fmt.Sprintf("%d pods", len(pods))
	})
	// It stays at one: no oscillation from a stale cache.
	time.Sleep(100 * time.Millisecond)
	if n := len(h.pods("default")); n != 1 {
		t.Fatalf("%d pods after settling, want 1", n)
	}
}

func TestReplicaSetAdoptsAndReleases(t *testing.T) {
	orphan := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: "default", Labels: map[string]string{"app": "web"}}}
	other := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "default", Labels: map[string]string{"app": "db"}}}
	h := newHarness(t, newTestRS("web", 2), orphan, other)
	h.start(NewReplicaSetController(h.api, h.factory, h.events))
	ctx := context.Background()
	rs, _ := h.api.AppsV1().ReplicaSets("default").Get(ctx, "web", metav1.GetOptions{})

	h.eventually("orphan adopted and one pod created", func() (bool, string) {
		owned := activeOwned(h.pods("default"), rs)
		stray, _ := h.api.CoreV1().Pods("default").Get(ctx, "stray", metav1.GetOptions{})
		ref := metav1.GetControllerOf(stray)
		return len(owned) == 2 && ref != nil && ref.UID == rs.UID, fmt.Sprintf("%d owned, stray refs %+v", len(owned), stray.OwnerReferences)
	})
	if p, _ := h.api.CoreV1().Pods("default").Get(ctx, "other", metav1.GetOptions{}); len(p.OwnerReferences) != 0 {
		t.Errorf("non-matching pod was adopted: %+v", p.OwnerReferences)
	}

	// Relabelling a pod releases it and the ReplicaSet replaces it.
	stray, _ := h.api.CoreV1().Pods("default").Get(ctx, "stray", metav1.GetOptions{})
	stray.Labels = map[string]string{"app": "debug"}
	if _, err := h.api.CoreV1().Pods("default").Update(ctx, stray, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("stray released and replaced", func() (bool, string) {
		owned := activeOwned(h.pods("default"), rs)
		stray, _ := h.api.CoreV1().Pods("default").Get(ctx, "stray", metav1.GetOptions{})
		return len(owned) == 2 && len(stray.OwnerReferences) == 0, fmt.Sprintf("%d owned, stray refs %+v", len(owned), stray.OwnerReferences)
	})
}
