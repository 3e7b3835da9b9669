package daemon

import (
	"context"
	"log/slog"
	"net"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"kin/internal/cni"
)

// peerSync keeps every node's routes to the other nodes' pod blocks in step
// with the Node objects (their addresses and spec.podCIDR), as Calico's
// Felix does from its datastore. Node events only nudge; each sync
// recomputes everything from the informer's cache.
type peerSync struct {
	net     *cni.Network
	nodes   map[string]cni.NodeConfig // the local nodes' base configs, by name
	factory informers.SharedInformerFactory
	log     *slog.Logger
}

func (p *peerSync) run(ctx context.Context) {
	inf := p.factory.Core().V1().Nodes().Informer()
	nudge := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case nudge <- struct{}{}:
		default:
		}
	}
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, DeleteFunc: poke, UpdateFunc: func(_, n any) { poke(n) },
	})
	p.factory.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)
	lister := p.factory.Core().V1().Nodes().Lister()
	retry := time.NewTimer(time.Hour)
	for {
		select {
		case <-ctx.Done():
			return
		case <-nudge:
		case <-retry.C:
		}
		all, err := lister.List(labels.Everything())
		if err == nil {
			err = p.sync(all)
		}
		if err != nil {
			p.log.Error("syncing pod routes between nodes", "err", err)
			retry.Reset(time.Second)
		}
	}
}

// sync programs every local node that has a block with routes to all others.
func (p *peerSync) sync(all []*corev1.Node) error {
	peers := make([]cni.Peer, 0, len(all))
	for _, n := range all {
		block := nodeBlock(n)
		ip := internalIP(n)
		if block == nil || ip == nil {
			continue
		}
		peers = append(peers, cni.Peer{Name: n.Name, NodeIP: ip, Blocks: []*net.IPNet{block}})
	}
	sort.Slice(peers, func(i, j int) bool { return peers[i].Name < peers[j].Name })
	var firstErr error
	for _, me := range peers {
		cfg, local := p.nodes[me.Name]
		if !local {
			continue
		}
		cfg.Blocks = me.Blocks
		var others []cni.Peer
		for _, o := range peers {
			if o.Name != me.Name {
				others = append(others, o)
			}
		}
		err := p.net.SetupNode(cfg)
		if err == nil {
			err = p.net.SyncPeers(cfg, others)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func nodeBlock(n *corev1.Node) *net.IPNet {
	_, block, err := net.ParseCIDR(n.Spec.PodCIDR)
	if err != nil {
		return nil
	}
	return block
}

func internalIP(n *corev1.Node) net.IP {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return net.ParseIP(a.Address)
		}
	}
	return nil
}
