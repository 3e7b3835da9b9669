package controllers

import (
	"context"
	"fmt"
	"net"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"kin/internal/cni"
)

// NodeIPAMConfig is the pod address space the node IPAM controller splits
// into per-node blocks.
type NodeIPAMConfig struct {
	// PodCIDR is the cluster's pod range (e.g. 172.16.0.0/16); empty
	// disables the controller.
	PodCIDR string
	// BlockSize is the prefix length of a node's block (26: 64 addresses).
	BlockSize int
}

// NodeIPAMController gives every node a block of the pod range in
// spec.podCIDR(s), as kube-controller-manager's node IPAM controller does
// (and Calico's block affinities, whose /26 size it uses). One writer
// assigns all blocks, so two nodes never get the same one; a block is kept
// by its node for good, so pod addresses survive restarts.
type NodeIPAMController struct {
	client  kubernetes.Interface
	factory informers.SharedInformerFactory
	nodes   corelisters.NodeLister
	synced  []cache.InformerSynced
	runner  *runner[string]
	podCIDR *net.IPNet
	size    int
	// assigned remembers the blocks this controller handed out, because the
	// lister may not show its own latest writes yet. Only the single worker
	// touches it.
	assigned map[string]*net.IPNet
}

// NewNodeIPAMController returns a node IPAM controller for cfg.
func NewNodeIPAMController(client kubernetes.Interface, factory informers.SharedInformerFactory, cfg NodeIPAMConfig) (*NodeIPAMController, error) {
	_, cidr, err := net.ParseCIDR(cfg.PodCIDR)
	if err != nil {
		return nil, errorf("node ipam: pod CIDR: %w", err)
	}
	size := cfg.BlockSize
	if size == 0 {
		size = 26
	}
	c := &NodeIPAMController{client: client, factory: factory, nodes: factory.Core().V1().Nodes().Lister(), podCIDR: cidr, size: size, assigned: map[string]*net.IPNet{}}
	c.runner = newRunner("nodeipam", c.sync)
	c.synced = append(c.synced, addHandler(factory.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueue(obj) },
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	}))
	return c, nil
}

func (c *NodeIPAMController) enqueue(obj any) {
	if n, ok := obj.(*v1.Node); ok && n.Spec.PodCIDR == "" {
		c.runner.add(n.Name)
	}
}

// Run assigns blocks with one worker (assignment must be serial) until ctx ends.
func (c *NodeIPAMController) Run(ctx context.Context, _ int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "nodeipam", c.synced...) {
		return nil
	}
	c.runner.run(ctx, 1)
	return nil
}

func (c *NodeIPAMController) sync(ctx context.Context, name string) outcome {
	node, err := c.nodes.Get(name)
	if err != nil {
		return done() // deleted
	}
	if node.Spec.PodCIDR != "" {
		return done()
	}
	all, err := c.nodes.List(labels.Everything())
	if err != nil {
		return retry(err)
	}
	block, ok := c.assigned[name]
	if !ok {
		if block, err = nextNodeBlock(c.podCIDR, c.size, all, c.assigned); err != nil {
			return noRetry(err)
		}
	}
	patch := fmt.Sprintf(`{"spec":{"podCIDR":%q,"podCIDRs":[%q]}}`, block, block)
	if _, err = c.client.CoreV1().Nodes().Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return retry(err)
	}
	c.assigned[name] = block
	return done()
}

// nextNodeBlock picks the lowest block that no node holds and that was not
// just handed out.
func nextNodeBlock(podCIDR *net.IPNet, size int, nodes []*v1.Node, assigned map[string]*net.IPNet) (*net.IPNet, error) {
	var taken []*net.IPNet
	for _, b := range assigned {
		taken = append(taken, b)
	}
	for _, n := range nodes {
		for _, s := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
			if _, b, err := net.ParseCIDR(s); err == nil {
				taken = append(taken, b)
			}
		}
	}
	return cni.NextBlock(podCIDR, size, taken)
}
