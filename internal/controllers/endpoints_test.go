package controllers

import (
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

func TestTruncateSubsets(t *testing.T) {
	addrs := func(prefix string, n int) []v1.EndpointAddress {
		var out []v1.EndpointAddress
		for i := 0; i < n; i++ {
			out = append(out, v1.EndpointAddress{IP: fmt.Sprintf("%s.%d", prefix, i)})
		}
		return out
	}
	subsets := []v1.EndpointSubset{
		{Addresses: addrs("10.0.0", 3), NotReadyAddresses: addrs("10.0.1", 3)},
		{Addresses: addrs("10.0.2", 2), NotReadyAddresses: addrs("10.0.3", 2)},
	}
	if _, truncated := truncateSubsets(subsets, 10); truncated {
		t.Fatal("10 addresses truncated at capacity 10")
	}
	got, truncated := truncateSubsets(subsets, 6)
	if !truncated {
		t.Fatal("not truncated")
	}
	var ready, notReady int
	for _, ss := range got {
		ready += len(ss.Addresses)
		notReady += len(ss.NotReadyAddresses)
	}
	if ready != 5 || notReady != 1 {
		t.Errorf("kept %d ready and %d not ready, want 5 and 1", ready, notReady)
	}
}

func TestDesiredSubsetsHeadlessWithoutPorts(t *testing.T) {
	svc := epService("db")
	svc.Spec.ClusterIP = v1.ClusterIPNone
	svc.Spec.Ports = nil
	pod := epPod("db-0", "172.16.1.5", "w1", true)
	pod.Spec.Hostname, pod.Spec.Subdomain = "db-0", "db"
	got := desiredSubsets(svc, []*v1.Pod{pod})
	if len(got) != 1 || len(got[0].Ports) != 0 || len(got[0].Addresses) != 1 || got[0].Addresses[0].Hostname != "db-0" {
		t.Fatalf("subsets %+v", got)
	}
}

func TestSliceWritesWaitForCache(t *testing.T) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	lister := discoverylisters.NewEndpointSliceLister(indexer).EndpointSlices("default")
	w := newSliceWrites()
	now := time.Unix(1000, 0)
	w.now = func() time.Time { return now }
	w.created("default/web", "web-abcde")
	if w.caughtUp("default/web", lister) {
		t.Fatal("caught up before the created slice is cached")
	}
	s := &discovery.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-abcde", Namespace: "default", ResourceVersion: "5"}}
	_ = indexer.Add(s)
	if !w.caughtUp("default/web", lister) {
		t.Fatal("not caught up once the slice is cached")
	}
	w.updated("default/web", "web-abcde", "5")
	if w.caughtUp("default/web", lister) {
		t.Fatal("caught up while the cache holds the version the update replaced")
	}
	s = s.DeepCopy()
	s.ResourceVersion = "6"
	_ = indexer.Update(s)
	if !w.caughtUp("default/web", lister) {
		t.Fatal("not caught up after the update reached the cache")
	}
	w.deleted("default/web", "web-abcde")
	if w.caughtUp("default/web", lister) {
		t.Fatal("caught up while the deleted slice is cached")
	}
	now = now.Add(sliceExpectationTTL + time.Second)
	if !w.caughtUp("default/web", lister) {
		t.Fatal("expired write still waited for")
	}
}
