package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestRunRequiresClient(t *testing.T) {
	if err := Run(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), "Client") {
		t.Fatalf("Run without a client: %v", err)
	}
}

// TestRun starts everything the way kin's daemon does and checks the seed
// lab's first steps: system namespaces, default service accounts, and a
// 3-replica Deployment spread over the three workers, with core/v1 Events.
func TestRun(t *testing.T) {
	var objs []runtime.Object
	for _, n := range seedCluster() {
		objs = append(objs, n)
	}
	api := newFakeAPI(t, objs...)
	// Discovery as a server without statefulsets or jobs would answer.
	served := func(gv string, names ...string) *metav1.APIResourceList {
		l := &metav1.APIResourceList{GroupVersion: gv}
		for _, n := range names {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: n, Namespaced: n != "nodes" && n != "namespaces"})
		}
		return l
	}
	api.Resources = []*metav1.APIResourceList{
		served("v1", "pods", "services", "endpoints", "configmaps", "secrets", "serviceaccounts", "nodes", "namespaces", "events"),
		served("apps/v1", "deployments", "replicasets", "daemonsets"),
		served("discovery.k8s.io/v1", "endpointslices"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var runErr error
	go func() {
		defer wg.Done()
		runErr = Run(ctx, Options{Client: api, NodeLifecycle: NodeLifecycleConfig{MonitorPeriod: time.Second}})
	}()
	h := &harness{t: t, api: api}

	h.eventually("system namespaces and service accounts", func() (bool, string) {
		for _, ns := range SystemNamespaces {
			if _, err := api.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err != nil {
				return false, ns + ": " + err.Error()
			}
		}
		return true, ""
	})
	if _, err := api.AppsV1().Deployments("default").Create(ctx, newTestDeployment("web", 3, appsv1.DeploymentStrategy{}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("pods spread over the workers", func() (bool, string) {
		var placed []string
		for _, p := range h.pods("default") {
			placed = append(placed, p.Spec.NodeName)
		}
		sort.Strings(placed)
		return fmt.Sprint(placed) == "[w1-k8s w2-k8s w3-k8s]", fmt.Sprint(placed)
	})
	h.eventually("rollout complete", func() (bool, string) {
		h.setPodsReady("default", nil)
		d, _ := api.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		return rolloutStatusOK(d)
	})
	h.eventually("Scheduled events written through the API", func() (bool, string) {
		evs, err := api.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		n := 0
		for _, e := range evs.Items {
			if e.Reason == "Scheduled" && e.Source.Component == "default-scheduler" && strings.HasPrefix(e.Message, "Successfully assigned default/web-") {
				n++
			}
		}
		return n == 3, fmt.Sprintf("%d Scheduled events", n)
	})

	// Deleting the Deployment lets the garbage collector take the rest.
	if err := api.AppsV1().Deployments("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("replicaset and pods collected", func() (bool, string) {
		rss, pods := h.replicaSets("default"), h.pods("default")
		return len(rss) == 0 && len(pods) == 0, fmt.Sprintf("%d replicasets, %d pods", len(rss), len(pods))
	})
	for _, a := range api.Actions() {
		if r := a.GetResource().Resource; r == "statefulsets" || r == "jobs" || r == "leases" {
			t.Errorf("Run used %s, which discovery does not list: %v", r, a)
		}
	}

	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if runErr != nil {
		t.Fatalf("Run returned %v", runErr)
	}
}

// rolloutStatusOK adapts rolloutStatus to eventually.
func rolloutStatusOK(d *appsv1.Deployment) (bool, string) {
	msg, ok := rolloutStatus(d)
	return ok, msg
}
