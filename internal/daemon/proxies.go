package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"kin/internal/cluster"
	"kin/internal/netns"
	"kin/internal/proxy"
)

// serviceProxies runs one service proxy per node, as kube-proxy runs on
// every node: Service and EndpointSlice events only nudge, and each sync
// hands every proxier the full snapshot from the informers' caches (the
// proxier itself diffs and applies only what changed).
type serviceProxies struct {
	proxiers []*proxy.Proxier
	factory  informers.SharedInformerFactory
	log      *slog.Logger
	// synced is closed after the first successful sync of every node.
	synced chan struct{}
}

func newServiceProxies(cfg *cluster.Config, topo *cluster.Topology, factory informers.SharedInformerFactory, logger *slog.Logger) (*serviceProxies, error) {
	sp := &serviceProxies{factory: factory, log: logger, synced: make(chan struct{})}
	for _, n := range topo.Nodes {
		nft, err := netns.NewNftables(n.Sandbox.NetPath, proxy.Family, proxy.TableName)
		if err != nil {
			return nil, err
		}
		// NodePorts also answer on 127.0.0.1 inside a node, as kube-proxy's
		// iptables mode does (the seeds `curl localhost:30007` on a node);
		// the DNATed packets may then leave loopback only with route_localnet.
		if err := n.Sandbox.SetSysctl("net.ipv4.conf.all.route_localnet", "1"); err != nil {
			return nil, err
		}
		if err := routeServiceCIDR(n, cfg.Networking.ServiceSubnet); err != nil {
			return nil, err
		}
		sp.proxiers = append(sp.proxiers, proxy.NewProxier(proxy.Config{
			NodeName: n.Name, NodeIPs: []net.IP{n.Address, net.IPv4(127, 0, 0, 1)}, ClusterCIDR: cfg.Networking.PodSubnet,
		}, nft))
	}
	return sp, nil
}

func (sp *serviceProxies) run(ctx context.Context) {
	svcs := sp.factory.Core().V1().Services()
	slices := sp.factory.Discovery().V1().EndpointSlices()
	nudge := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case nudge <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: poke, DeleteFunc: poke, UpdateFunc: func(_, n any) { poke(n) }}
	svcs.Informer().AddEventHandler(handler)
	slices.Informer().AddEventHandler(handler)
	sp.factory.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), svcs.Informer().HasSynced, slices.Informer().HasSynced)
	retry := time.NewTimer(time.Hour)
	first := true
	for {
		var snap proxy.Snapshot
		var err error
		if snap.Services, err = svcs.Lister().List(labels.Everything()); err == nil {
			snap.EndpointSlices, err = slices.Lister().List(labels.Everything())
		}
		began := time.Now()
		if err == nil {
			err = sp.syncAll(ctx, snap)
		}
		took := time.Since(began)
		if err != nil && ctx.Err() == nil {
			sp.log.Error("service proxy sync failed; retrying", "err", err)
			retry.Reset(time.Second)
		} else if first {
			close(sp.synced)
			first = false
		}
		select {
		case <-ctx.Done():
			return
		case <-nudge:
		case <-retry.C:
		}
		// Coalesce bursts (kube-proxy's minSyncPeriod): wait at least
		// minProxySyncInterval, and twice as long as the last sync took, so
		// syncs of many services never take more than a third of the time.
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(minProxySyncInterval, 2*took)):
		}
	}
}

// minProxySyncInterval is the shortest time between two syncs of the
// service proxies: changes arriving meanwhile are applied together.
const minProxySyncInterval = 50 * time.Millisecond

// syncAll applies the snapshot on every node at once.
func (sp *serviceProxies) syncAll(ctx context.Context, snap proxy.Snapshot) error {
	var wg sync.WaitGroup
	errs := make([]error, len(sp.proxiers))
	for i, p := range sp.proxiers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Sync(ctx, snap)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// routeServiceCIDR gives a node a route for the service range over its LAN
// interface. Nodes have no default route (there is no internet), and a
// connection the node itself opens to a ClusterIP needs a route before the
// proxy's DNAT rewrites its destination, as the default route gives it on
// real nodes.
func routeServiceCIDR(n *cluster.Node, cidr string) error {
	_, dst, err := net.ParseCIDR(cidr)
	if err != nil {
		return fmt.Errorf("daemon: service subnet: %w", err)
	}
	h, err := n.Sandbox.Netlink()
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(n.Interface)
	if err != nil {
		return fmt.Errorf("daemon: node %s: %w", n.Name, err)
	}
	if err := h.RouteReplace(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK}); err != nil {
		return fmt.Errorf("daemon: node %s: route to %s: %w", n.Name, cidr, err)
	}
	return nil
}
