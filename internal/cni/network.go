package cni

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Network programs kin's pod network into node and pod namespaces. It keeps
// one netlink socket pair per node namespace (opened inside the namespace,
// so no thread ever has to switch to it) and re-opens them when the
// namespace file at the path changes. A Network is safe for concurrent use;
// operations on one node are serialised.
type Network struct {
	mu    sync.Mutex
	nodes map[string]*netlinkNode
}

var _ Interface = (*Network)(nil)

// New returns a Network with no namespaces open.
func New() *Network {
	return &Network{nodes: map[string]*netlinkNode{}}
}

var defaultNetwork = New()

// SetupNode prepares a node with the package's default Network; see
// (*Network).SetupNode.
func SetupNode(cfg NodeConfig) error { return defaultNetwork.SetupNode(cfg) }

// SyncPeers programs the routes to other nodes with the package's default
// Network; see (*Network).SyncPeers.
func SyncPeers(cfg NodeConfig, peers []Peer) error { return defaultNetwork.SyncPeers(cfg, peers) }

// AddPod attaches a pod with the package's default Network; see
// (*Network).AddPod.
func AddPod(node NodeConfig, pod PodConfig) (PodResult, error) {
	return defaultNetwork.AddPod(node, pod)
}

// DelPod detaches a pod with the package's default Network; see
// (*Network).DelPod.
func DelPod(node NodeConfig, podID string, podIP net.IP) error {
	return defaultNetwork.DelPod(node, podID, podIP)
}

// ForgetNode closes the package's default Network's sockets in a node
// namespace; see (*Network).ForgetNode.
func ForgetNode(netnsPath string) { defaultNetwork.ForgetNode(netnsPath) }

// SetupNode brings the node's network namespace to the state cfg
// describes, idempotently: net.ipv4.ip_forward=1; with the VXLAN overlay a
// "vxlan.calico" device (VNI, local NodeIP, dev LANInterface, port, no
// learning, MTU, the MAC VTEPMAC(NodeIP), the tunnel address as /32, up),
// without it no such device; and a blackhole route (proto 80) for each own
// block, removing those of blocks the node no longer has.
func (n *Network) SetupNode(cfg NodeConfig) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	err := n.withNode(cfg.NetNSPath, func(k *netlinkNode) error { return setupNode(k, cfg) })
	if err != nil {
		return fmt.Errorf("cni: setup node %q: %w", cfg.NodeName, err)
	}
	return nil
}

// SyncPeers makes the node's routes, ARP neighbours and FDB entries to
// other nodes' blocks match peers (see DesiredPeerState), deleting those of
// departed peers. It applies as much as it can and then reports peers it
// had to leave out. Run SetupNode first.
func (n *Network) SyncPeers(cfg NodeConfig, peers []Peer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	desired, derr := DesiredPeerState(cfg, peers)
	err := n.withNode(cfg.NetNSPath, func(k *netlinkNode) error { return syncPeerState(k, desired) })
	if err != nil {
		err = fmt.Errorf("cni: sync peers of node %q: %w", cfg.NodeName, err)
	}
	return errors.Join(err, derr)
}

// ForgetNode closes the sockets the Network holds in a node namespace (call
// it when the node is removed). Using the node again reopens them.
func (n *Network) ForgetNode(netnsPath string) {
	n.mu.Lock()
	e := n.nodes[netnsPath]
	delete(n.nodes, netnsPath)
	n.mu.Unlock()
	if e != nil {
		e.close()
	}
}

// Close closes every socket the Network holds. The Network stays usable.
func (n *Network) Close() {
	n.mu.Lock()
	nodes := n.nodes
	n.nodes = map[string]*netlinkNode{}
	n.mu.Unlock()
	for _, e := range nodes {
		e.close()
	}
}

// withNode runs fn with the node's sockets, holding the node's lock.
func (n *Network) withNode(path string, fn func(*netlinkNode) error) error {
	for range 2 {
		e, err := n.node(path)
		if err != nil {
			return err
		}
		e.mu.Lock()
		if e.closed { // replaced or forgotten meanwhile: look it up again
			e.mu.Unlock()
			continue
		}
		err = fn(e)
		e.mu.Unlock()
		return err
	}
	return fmt.Errorf("node namespace %s: changed during the operation", path)
}

// node returns the open sockets for the namespace at path, opening them when
// there are none or the file at path is no longer the namespace they were
// opened in (the node was recreated).
func (n *Network) node(path string) (*netlinkNode, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, fmt.Errorf("node namespace %s: %w", path, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if e := n.nodes[path]; e != nil {
		if e.dev == st.Dev && e.ino == st.Ino {
			return e, nil
		}
		delete(n.nodes, path)
		go e.close() // waits for operations in flight
	}
	e, err := openNode(path)
	if err != nil {
		return nil, err
	}
	n.nodes[path] = e
	return e, nil
}

// netlinkNode is a node namespace reached through netlink sockets opened
// inside it. It implements nodeKernel. Callers hold mu.
type netlinkNode struct {
	mu       sync.Mutex
	path     string
	dev, ino uint64
	closed   bool
	ns       netns.NsHandle
	h        *netlink.Handle
	// raw is a second NETLINK_ROUTE socket in the namespace for requests
	// the netlink library has no call for (per-device sysctls).
	raw *nl.SocketHandle
}

func openNode(path string) (*netlinkNode, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open node namespace %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(ns), &st); err != nil {
		ns.Close()
		return nil, fmt.Errorf("stat node namespace %s: %w", path, err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink socket in node namespace %s: %w", path, err)
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		ns.Close()
		return nil, fmt.Errorf("netlink socket in node namespace %s: %w", path, err)
	}
	return &netlinkNode{path: path, dev: st.Dev, ino: st.Ino, ns: ns, h: h, raw: &nl.SocketHandle{Socket: s}}, nil
}

func (k *netlinkNode) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return
	}
	k.closed = true
	k.h.Close()
	k.raw.Close()
	k.ns.Close()
}

var _ nodeKernel = (*netlinkNode)(nil)

// EnableForwarding implements nodeKernel.
func (k *netlinkNode) EnableForwarding() error {
	return writeSysctlIn(k.ns, "net/ipv4/ip_forward", "1")
}

// EnsureVXLAN implements nodeKernel.
func (k *netlinkNode) EnsureVXLAN(spec vxlanSpec) error {
	parent, err := k.h.LinkByName(spec.Parent)
	if err != nil {
		return fmt.Errorf("LAN interface %q: %w", spec.Parent, err)
	}
	var link netlink.Link
	switch l, err := k.h.LinkByName(spec.Name); {
	case isLinkNotFound(err):
	case err != nil:
		return err
	default:
		vx, ok := l.(*netlink.Vxlan)
		if ok && vx.VxlanId == spec.VNI && vx.Port == spec.Port && vx.SrcAddr.Equal(spec.Local) &&
			vx.VtepDevIndex == parent.Attrs().Index && !vx.Learning {
			link = l
		} else if err := k.h.LinkDel(l); err != nil {
			return fmt.Errorf("delete mismatching %s: %w", spec.Name, err)
		}
	}
	if link == nil {
		la := netlink.NewLinkAttrs()
		la.Name = spec.Name
		la.MTU = spec.MTU
		la.HardwareAddr = spec.MAC
		la.Flags = net.FlagUp
		vx := &netlink.Vxlan{LinkAttrs: la, VxlanId: spec.VNI, VtepDevIndex: parent.Attrs().Index,
			SrcAddr: spec.Local, Port: spec.Port, Learning: false}
		if err := k.h.LinkAdd(vx); err != nil {
			return fmt.Errorf("create %s: %w", spec.Name, err)
		}
		link = vx
	} else {
		a := link.Attrs()
		if a.MTU != spec.MTU {
			if err := k.h.LinkSetMTU(link, spec.MTU); err != nil {
				return fmt.Errorf("set mtu of %s: %w", spec.Name, err)
			}
		}
		if a.HardwareAddr.String() != spec.MAC.String() {
			if err := k.h.LinkSetHardwareAddr(link, spec.MAC); err != nil {
				return fmt.Errorf("set mac of %s: %w", spec.Name, err)
			}
		}
		if a.Flags&net.FlagUp == 0 {
			if err := k.h.LinkSetUp(link); err != nil {
				return fmt.Errorf("set %s up: %w", spec.Name, err)
			}
		}
	}
	return ensureOnlyAddr(k.h, link, spec.Addr)
}

// ensureOnlyAddr makes ip/32 the only IPv4 address of link.
func ensureOnlyAddr(h *netlink.Handle, link netlink.Link, ip net.IP) error {
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	want := hostRoute(ip)
	found := false
	for _, a := range addrs {
		if a.IPNet.String() == want.String() {
			found = true
			continue
		}
		if err := h.AddrDel(link, &a); err != nil {
			return fmt.Errorf("delete address %s of %s: %w", a.IPNet, link.Attrs().Name, err)
		}
	}
	if !found {
		if err := h.AddrAdd(link, &netlink.Addr{IPNet: want}); err != nil {
			return fmt.Errorf("add address %s to %s: %w", want, link.Attrs().Name, err)
		}
	}
	return nil
}

// DeleteLink implements nodeKernel.
func (k *netlinkNode) DeleteLink(name string) error {
	l, err := k.h.LinkByName(name)
	if isLinkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := k.h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return err
	}
	return nil
}

// Routes implements nodeKernel.
func (k *netlinkNode) Routes() ([]Route, error) {
	var rs []netlink.Route
	err := retryInterrupted(func() (err error) {
		rs, err = k.h.RouteListFiltered(netlink.FAMILY_V4,
			&netlink.Route{Table: unix.RT_TABLE_MAIN, Protocol: RouteProtocol},
			netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
		return err
	})
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	out := make([]Route, 0, len(rs))
	for _, r := range rs {
		var rt Route
		switch r.Type {
		case unix.RTN_UNICAST:
			rt.Type = RouteUnicast
		case unix.RTN_BLACKHOLE:
			rt.Type = RouteBlackhole
		default:
			continue
		}
		rt.Dst = r.Dst
		if rt.Dst == nil {
			rt.Dst = &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
		}
		rt.Gw = r.Gw
		rt.OnLink = r.Flags&int(netlink.FLAG_ONLINK) != 0
		if r.LinkIndex > 0 {
			name, ok := names[r.LinkIndex]
			if !ok {
				l, err := k.h.LinkByIndex(r.LinkIndex)
				if err == nil {
					name = l.Attrs().Name
				} else {
					name = fmt.Sprintf("if%d", r.LinkIndex)
				}
				names[r.LinkIndex] = name
			}
			rt.Dev = name
		}
		out = append(out, rt)
	}
	return out, nil
}

// ReplaceRoute implements nodeKernel.
func (k *netlinkNode) ReplaceRoute(r Route) error {
	nr, err := k.toNetlinkRoute(r)
	if err != nil {
		return err
	}
	return k.h.RouteReplace(nr)
}

// DeleteRoute implements nodeKernel.
func (k *netlinkNode) DeleteRoute(r Route) error {
	nr := &netlink.Route{Dst: r.Dst, Table: unix.RT_TABLE_MAIN, Protocol: RouteProtocol,
		Scope: netlink.SCOPE_NOWHERE, Type: unix.RTN_UNICAST}
	if r.Type == RouteBlackhole {
		nr.Type = unix.RTN_BLACKHOLE
	}
	if err := k.h.RouteDel(nr); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	return nil
}

func (k *netlinkNode) toNetlinkRoute(r Route) (*netlink.Route, error) {
	nr := &netlink.Route{Dst: r.Dst, Table: unix.RT_TABLE_MAIN, Protocol: RouteProtocol, Gw: r.Gw}
	if r.Type == RouteBlackhole {
		nr.Type = unix.RTN_BLACKHOLE
		return nr, nil
	}
	nr.Type = unix.RTN_UNICAST
	if r.Dev != "" {
		l, err := k.h.LinkByName(r.Dev)
		if err != nil {
			return nil, fmt.Errorf("device %q: %w", r.Dev, err)
		}
		nr.LinkIndex = l.Attrs().Index
	}
	if r.OnLink {
		nr.Flags = int(netlink.FLAG_ONLINK)
	}
	if r.Gw == nil {
		nr.Scope = netlink.SCOPE_LINK
	}
	return nr, nil
}

// linkIndex returns the index of dev, 0 when it does not exist.
func (k *netlinkNode) linkIndex(dev string) (int, error) {
	l, err := k.h.LinkByName(dev)
	if isLinkNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return l.Attrs().Index, nil
}

// Neighbors implements nodeKernel.
func (k *netlinkNode) Neighbors(dev string) ([]Neighbor, error) {
	idx, err := k.linkIndex(dev)
	if err != nil || idx == 0 {
		return nil, err
	}
	var ns []netlink.Neigh
	err = retryInterrupted(func() (err error) {
		ns, err = k.h.NeighList(idx, netlink.FAMILY_V4)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []Neighbor
	for _, n := range ns {
		if n.State&netlink.NUD_PERMANENT == 0 || n.LinkIndex != idx {
			continue
		}
		out = append(out, Neighbor{Dev: dev, IP: normalizeIP(n.IP), MAC: n.HardwareAddr})
	}
	return out, nil
}

// SetNeighbor implements nodeKernel.
func (k *netlinkNode) SetNeighbor(n Neighbor) error {
	idx, err := k.linkIndex(n.Dev)
	if err != nil {
		return err
	}
	if idx == 0 {
		return fmt.Errorf("device %q not found", n.Dev)
	}
	return k.h.NeighSet(&netlink.Neigh{LinkIndex: idx, Family: netlink.FAMILY_V4,
		State: netlink.NUD_PERMANENT, Type: unix.RTN_UNICAST, IP: n.IP, HardwareAddr: n.MAC})
}

// DeleteNeighbor implements nodeKernel.
func (k *netlinkNode) DeleteNeighbor(n Neighbor) error {
	idx, err := k.linkIndex(n.Dev)
	if err != nil || idx == 0 {
		return err
	}
	err = k.h.NeighDel(&netlink.Neigh{LinkIndex: idx, Family: netlink.FAMILY_V4, IP: n.IP})
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// FDB implements nodeKernel.
func (k *netlinkNode) FDB(dev string) ([]FDBEntry, error) {
	idx, err := k.linkIndex(dev)
	if err != nil || idx == 0 {
		return nil, err
	}
	var ns []netlink.Neigh
	err = retryInterrupted(func() (err error) {
		ns, err = k.h.NeighList(idx, unix.AF_BRIDGE)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []FDBEntry
	for _, n := range ns {
		if n.LinkIndex != idx || len(n.HardwareAddr) != 6 {
			continue
		}
		out = append(out, FDBEntry{Dev: dev, MAC: n.HardwareAddr, Dst: normalizeIP(n.IP)})
	}
	return out, nil
}

// SetFDB implements nodeKernel.
func (k *netlinkNode) SetFDB(f FDBEntry) error {
	idx, err := k.linkIndex(f.Dev)
	if err != nil {
		return err
	}
	if idx == 0 {
		return fmt.Errorf("device %q not found", f.Dev)
	}
	return k.h.NeighSet(&netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
		State: netlink.NUD_PERMANENT, IP: f.Dst, HardwareAddr: f.MAC})
}

// DeleteFDB implements nodeKernel.
func (k *netlinkNode) DeleteFDB(f FDBEntry) error {
	idx, err := k.linkIndex(f.Dev)
	if err != nil || idx == 0 {
		return err
	}
	err = k.h.NeighDel(&netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
		IP: f.Dst, HardwareAddr: f.MAC})
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// retryInterrupted runs a netlink dump again when the kernel reports that
// it was interrupted by a concurrent change.
func retryInterrupted(dump func() error) error {
	var err error
	for range 5 {
		if err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return err
		}
	}
	return err
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}
