package controllers

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

func TestDecideGC(t *testing.T) {
	refs := func(n int) []metav1.OwnerReference {
		var out []metav1.OwnerReference
		for i := 0; i < n; i++ {
			out = append(out, metav1.OwnerReference{UID: types.UID(fmt.Sprint("o", i))})
		}
		return out
	}
	tests := []struct {
		name       string
		states     []ownerState
		deps       bool
		finalizers []string
		want       gcDecision
	}{
		{"live owner keeps it", []ownerState{ownerSolid}, false, nil, gcDecision{}},
		{"gone owner beside a live one is dropped", []ownerState{ownerSolid, ownerDangling}, false, nil, gcDecision{remove: []types.UID{"o1"}}},
		{"all owners gone: background", []ownerState{ownerDangling}, true, nil, gcDecision{delete: true, policy: metav1.DeletePropagationBackground}},
		{"owner waits and object has dependents: foreground", []ownerState{ownerWaiting}, true, nil, gcDecision{delete: true, policy: metav1.DeletePropagationForeground}},
		{"owner waits, no dependents: background", []ownerState{ownerWaiting}, false, nil, gcDecision{delete: true, policy: metav1.DeletePropagationBackground}},
		{"own orphan finalizer is honoured", []ownerState{ownerDangling}, true, []string{metav1.FinalizerOrphanDependents}, gcDecision{delete: true, policy: metav1.DeletePropagationOrphan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decideGC(refs(len(tt.states)), tt.states, tt.deps, tt.finalizers)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// ownerRef returns a blocking controller reference.
func ownerRef(apiVersion, kind, name, uid string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(uid),
		Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true)}
}

// deploymentTree is a Deployment with a ReplicaSet and two pods, linked by
// owner references, as the controllers leave them.
func deploymentTree() []runtime.Object {
	d := newTestDeployment("web", 2, appsv1.DeploymentStrategy{})
	d.UID = "d-uid"
	rs := newTestRS("web-abc", 2)
	rs.UID = "rs-uid"
	rs.OwnerReferences = []metav1.OwnerReference{ownerRef("apps/v1", "Deployment", "web", "d-uid")}
	objs := []runtime.Object{d, rs}
	for i := 0; i < 2; i++ {
		p := testPod(fmt.Sprintf("web-abc-%d", i))
		p.OwnerReferences = []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "web-abc", "rs-uid")}
		objs = append(objs, p)
	}
	return objs
}

// gcHarness runs only the garbage collector.
func gcHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	h := newHarness(t, objs...)
	gc, err := NewGarbageCollector(h.api, h.factory)
	if err != nil {
		t.Fatal(err)
	}
	h.start(gc)
	h.factory.Start(h.ctx.Done())
	h.factory.WaitForCacheSync(h.ctx.Done())
	return h
}

// exists reports whether a Get finds the object.
func exists(err error) bool { return !apierrors.IsNotFound(err) }

func TestGarbageCollectorBackground(t *testing.T) {
	h := gcHarness(t, deploymentTree()...)
	ctx := context.Background()
	if err := h.api.AppsV1().Deployments("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("replicaset and pods collected", func() (bool, string) {
		_, err := h.api.AppsV1().ReplicaSets("default").Get(ctx, "web-abc", metav1.GetOptions{})
		pods := h.pods("default")
		return !exists(err) && len(pods) == 0, fmt.Sprintf("rs exists=%v, %d pods", exists(err), len(pods))
	})
}

func TestGarbageCollectorForeground(t *testing.T) {
	h := gcHarness(t, deploymentTree()...)
	ctx := context.Background()
	fg := metav1.DeletePropagationForeground
	if err := h.api.AppsV1().Deployments("default").Delete(ctx, "web", metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	h.eventually("deployment gone after its dependents", func() (bool, string) {
		_, derr := h.api.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		_, rerr := h.api.AppsV1().ReplicaSets("default").Get(ctx, "web-abc", metav1.GetOptions{})
		pods := h.pods("default")
		if !exists(derr) && (exists(rerr) || len(pods) > 0) {
			t.Fatalf("deployment removed while dependents remain: rs exists=%v, %d pods", exists(rerr), len(pods))
		}
		return !exists(derr), fmt.Sprintf("deployment exists=%v rs exists=%v pods=%d", exists(derr), exists(rerr), len(pods))
	})
}

func TestGarbageCollectorOrphan(t *testing.T) {
	h := gcHarness(t, deploymentTree()...)
	ctx := context.Background()
	orphan := metav1.DeletePropagationOrphan
	if err := h.api.AppsV1().Deployments("default").Delete(ctx, "web", metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
		t.Fatal(err)
	}
	h.eventually("deployment gone, replicaset orphaned", func() (bool, string) {
		_, derr := h.api.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		rs, rerr := h.api.AppsV1().ReplicaSets("default").Get(ctx, "web-abc", metav1.GetOptions{})
		if rerr != nil {
			t.Fatalf("orphaned replicaset was deleted: %v", rerr)
		}
		return !exists(derr) && len(rs.OwnerReferences) == 0, fmt.Sprintf("deployment exists=%v rs refs=%v", exists(derr), rs.OwnerReferences)
	})
	if n := len(h.pods("default")); n != 2 {
		t.Fatalf("%d pods left, want the 2 of the orphaned replicaset", n)
	}
}

func TestGarbageCollectorOtherOwners(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds-uid"}}
	dsPod := testPod("agent-xyz")
	dsPod.OwnerReferences = []metav1.OwnerReference{ownerRef("apps/v1", "DaemonSet", "agent", "ds-uid")}
	svc := &v1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "svc-uid"}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-x1", Namespace: "default",
		OwnerReferences: []metav1.OwnerReference{ownerRef("v1", "Service", "web", "svc-uid")}}, AddressType: discoveryv1.AddressTypeIPv4}
	cm := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default", UID: "cm-uid"}}
	twoOwners := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: "default", OwnerReferences: []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "ConfigMap", Name: "cfg", UID: "cm-uid"},
		{APIVersion: "v1", Kind: "Service", Name: "web", UID: "svc-uid"},
	}}}
	danglingAtStart := testPod("stale")
	danglingAtStart.OwnerReferences = []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "gone", "gone-uid")}
	unknownKind := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "crd-child", Namespace: "default", OwnerReferences: []metav1.OwnerReference{
		{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "widget-uid"},
	}}}
	h := gcHarness(t, ds, dsPod, svc, slice, cm, twoOwners, danglingAtStart, unknownKind)
	ctx := context.Background()

	h.eventually("dependent of a missing owner collected", func() (bool, string) {
		_, err := h.api.CoreV1().Pods("default").Get(ctx, "stale", metav1.GetOptions{})
		return !exists(err), "stale pod still there"
	})
	if err := h.api.AppsV1().DaemonSets("default").Delete(ctx, "agent", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := h.api.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("daemonset pod and endpointslice collected", func() (bool, string) {
		_, perr := h.api.CoreV1().Pods("default").Get(ctx, "agent-xyz", metav1.GetOptions{})
		_, serr := h.api.DiscoveryV1().EndpointSlices("default").Get(ctx, "web-x1", metav1.GetOptions{})
		return !exists(perr) && !exists(serr), fmt.Sprintf("pod exists=%v slice exists=%v", exists(perr), exists(serr))
	})
	h.eventually("reference to the deleted service dropped, secret kept", func() (bool, string) {
		s, err := h.api.CoreV1().Secrets("default").Get(ctx, "shared", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("secret with a live owner was deleted: %v", err)
		}
		return len(s.OwnerReferences) == 1 && s.OwnerReferences[0].UID == "cm-uid", fmt.Sprint(s.OwnerReferences)
	})
	if _, err := h.api.CoreV1().ConfigMaps("default").Get(ctx, "crd-child", metav1.GetOptions{}); err != nil {
		t.Fatalf("dependent of an unwatched kind was collected: %v", err)
	}
}

func TestGarbageCollectorWithControllers(t *testing.T) {
	h := newHarness(t, newTestDeployment("web", 3, appsv1.DeploymentStrategy{}))
	gc, err := NewGarbageCollector(h.api, h.factory)
	if err != nil {
		t.Fatal(err)
	}
	h.start(NewDeploymentController(h.api, h.factory, h.events), NewReplicaSetController(h.api, h.factory, h.events), gc)
	h.waitRolledOut("web", nil)
	// Nothing the controllers made is collected while the owners live.
	if n := len(h.pods("default")); n != 3 {
		t.Fatalf("%d pods, want 3", n)
	}
	if err := h.api.AppsV1().Deployments("default").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("everything collected", func() (bool, string) {
		rss, pods := h.replicaSets("default"), h.pods("default")
		return len(rss) == 0 && len(pods) == 0, fmt.Sprintf("%d replicasets, %d pods", len(rss), len(pods))
	})
}
