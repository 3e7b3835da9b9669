package controllers

import (
	"context"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func TestNodeIPAMGivesEachNodeItsOwnBlock(t *testing.T) {
	client := fake.NewSimpleClientset(
		&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "old"}, Spec: v1.NodeSpec{PodCIDR: "172.16.0.0/26", PodCIDRs: []string{"172.16.0.0/26"}}},
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := NewNodeIPAMController(client, factory, NodeIPAMConfig{PodCIDR: "172.16.0.0/16", BlockSize: 26})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"cp-k8s", "w1-k8s", "w2-k8s", "w3-k8s"} {
		client.CoreV1().Nodes().Create(ctx, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
	}
	go c.Run(ctx, 1)
	seen := map[string]string{}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		nodes, _ := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		seen = map[string]string{}
		for _, n := range nodes.Items {
			if n.Spec.PodCIDR != "" {
				seen[n.Name] = n.Spec.PodCIDR
			}
		}
		if len(seen) == 5 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(seen) != 5 {
		t.Fatalf("not every node got a block: %v", seen)
	}
	blocks := map[string]string{}
	for n, b := range seen {
		if other, dup := blocks[b]; dup {
			t.Fatalf("%s and %s share block %s", n, other, b)
		}
		blocks[b] = n
	}
	if seen["old"] != "172.16.0.0/26" {
		t.Fatalf("existing block changed: %v", seen)
	}
}
