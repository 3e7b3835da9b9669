package cni

import (
	"errors"
	"fmt"
	"io/fs"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// loopbackIndex is the interface index of "lo" in every network namespace.
const loopbackIndex = 1

// AddPod connects the pod's network namespace to its node, Calico style,
// and is idempotent: adding an existing pod again repairs whatever differs.
//
// On the node: a veth "cali" + 11 hex digits of sha1(pod.ID) with MAC
// ee:ee:ee:ee:ee:ee, the pod MTU, up, proxy_arp=1 and proxy_delay=0, and
// the route `<pod IP> dev cali... scope link`. In the pod: "eth0" with a
// kernel-chosen random MAC, the pod IP as /32, the pod MTU, up; lo up; the
// routes `169.254.1.1 dev eth0 scope link` and `default via 169.254.1.1 dev
// eth0`, and a permanent ARP entry for 169.254.1.1 (the host veth's MAC), so
// that the pod never waits for proxy ARP.
//
// The netlink sockets are opened inside the namespaces (the node's are
// cached), so no thread of the caller switches namespaces.
func (n *Network) AddPod(node NodeConfig, pod PodConfig) (PodResult, error) {
	node = node.withDefaults()
	if err := checkPodConfig(node, pod); err != nil {
		return PodResult{}, err
	}
	res := PodResult{
		HostInterface: HostVethName(pod.ID),
		Interface:     PodInterface,
		IP:            hostRoute(pod.IP),
		Gateway:       GatewayIP,
		MTU:           node.MTU,
	}
	fail := func(err error) (PodResult, error) {
		return PodResult{}, fmt.Errorf("cni: add pod %q: %w", pod.ID, err)
	}

	podNS, err := netns.GetFromPath(pod.NetNSPath)
	if err != nil {
		return fail(fmt.Errorf("open pod namespace: %w", err))
	}
	defer podNS.Close()
	ph, err := netlink.NewHandleAt(podNS, unix.NETLINK_ROUTE)
	if err != nil {
		return fail(fmt.Errorf("netlink socket in pod namespace: %w", err))
	}
	defer ph.Close()

	var fresh bool
	err = n.withNode(node.NetNSPath, func(k *netlinkNode) error {
		var err error
		res.HostIndex, fresh, err = k.ensureHostVeth(ph, podNS, res.HostInterface, node.MTU)
		if err != nil {
			return err
		}
		if err := setProxyARP(k.raw, res.HostIndex); err != nil {
			return fmt.Errorf("%s: %w", res.HostInterface, err)
		}
		route := &netlink.Route{Dst: res.IP, LinkIndex: res.HostIndex, Scope: netlink.SCOPE_LINK, Table: unix.RT_TABLE_MAIN}
		if err := k.h.RouteReplace(route); err != nil {
			return fmt.Errorf("node route %s dev %s: %w", res.IP, res.HostInterface, err)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if res.MAC, err = configurePod(ph, res, fresh); err != nil {
		return fail(err)
	}
	return res, nil
}

// ensureHostVeth returns the index of the pod's host veth, creating the
// pair (the peer directly inside the pod as eth0) when it is missing or not
// paired with the pod's eth0, and repairing the host side's MTU, MAC and
// state otherwise. fresh reports whether the pair was created.
func (k *netlinkNode) ensureHostVeth(ph *netlink.Handle, podNS netns.NsHandle, name string, mtu int) (index int, fresh bool, err error) {
	switch l, err := k.h.LinkByName(name); {
	case isLinkNotFound(err):
	case err != nil:
		return 0, false, fmt.Errorf("look up %s: %w", name, err)
	case pairedWithPod(l, ph):
		a := l.Attrs()
		if a.MTU != mtu {
			if err := k.h.LinkSetMTU(l, mtu); err != nil {
				return 0, false, fmt.Errorf("set mtu of %s: %w", name, err)
			}
		}
		if a.HardwareAddr.String() != HostVethMAC.String() {
			if err := k.h.LinkSetHardwareAddr(l, HostVethMAC); err != nil {
				return 0, false, fmt.Errorf("set mac of %s: %w", name, err)
			}
		}
		if a.Flags&net.FlagUp == 0 {
			if err := k.h.LinkSetUp(l); err != nil {
				return 0, false, fmt.Errorf("set %s up: %w", name, err)
			}
		}
		return a.Index, false, nil
	default:
		// A leftover of an earlier sandbox of the pod: replace it.
		if err := k.h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return 0, false, fmt.Errorf("delete stale %s: %w", name, err)
		}
	}

	la := netlink.NewLinkAttrs()
	la.Name = name
	la.MTU = mtu
	la.HardwareAddr = HostVethMAC
	la.Flags = net.FlagUp
	veth := &netlink.Veth{LinkAttrs: la, PeerName: PodInterface, PeerNamespace: netlink.NsFd(podNS),
		PeerMTU: uint32(mtu), PeerTxQLen: -1}
	err = k.h.LinkAdd(veth)
	if errors.Is(err, unix.EEXIST) {
		// The pod already has an eth0 that belongs to no host veth of ours.
		if e, lerr := ph.LinkByName(PodInterface); lerr == nil {
			if derr := ph.LinkDel(e); derr != nil {
				return 0, false, fmt.Errorf("delete stale %s in the pod: %w", PodInterface, derr)
			}
		}
		err = k.h.LinkAdd(veth)
	}
	if err != nil {
		return 0, false, fmt.Errorf("create veth %s: %w", name, err)
	}
	if veth.Index == 0 {
		return 0, false, fmt.Errorf("create veth %s: no interface index", name)
	}
	return veth.Index, true, nil
}

// pairedWithPod reports whether the host veth l is the peer of the pod's
// eth0: each names the other as its link.
func pairedWithPod(l netlink.Link, ph *netlink.Handle) bool {
	if _, ok := l.(*netlink.Veth); !ok {
		return false
	}
	e, err := ph.LinkByName(PodInterface)
	if err != nil {
		return false
	}
	if _, ok := e.(*netlink.Veth); !ok {
		return false
	}
	return e.Attrs().ParentIndex == l.Attrs().Index && l.Attrs().ParentIndex == e.Attrs().Index
}

// configurePod configures the pod's side and returns eth0's MAC. On a
// freshly created pair it skips the checks a repair needs.
func configurePod(ph *netlink.Handle, res PodResult, fresh bool) (net.HardwareAddr, error) {
	eth0, err := ph.LinkByName(PodInterface)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", PodInterface, err)
	}
	a := eth0.Attrs()
	if a.MTU != res.MTU {
		if err := ph.LinkSetMTU(eth0, res.MTU); err != nil {
			return nil, fmt.Errorf("set mtu of pod %s: %w", PodInterface, err)
		}
	}
	if a.Flags&net.FlagUp == 0 {
		if err := ph.LinkSetUp(eth0); err != nil {
			return nil, fmt.Errorf("set pod %s up: %w", PodInterface, err)
		}
	}
	lo := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: loopbackIndex}}
	if err := ph.LinkSetUp(lo); err != nil {
		return nil, fmt.Errorf("set pod lo up: %w", err)
	}
	if fresh {
		if err := ph.AddrAdd(eth0, &netlink.Addr{IPNet: res.IP}); err != nil {
			return nil, fmt.Errorf("add address %s to pod %s: %w", res.IP, PodInterface, err)
		}
	} else if err := ensureOnlyAddr(ph, eth0, res.IP.IP); err != nil {
		return nil, fmt.Errorf("pod: %w", err)
	}
	gw := &net.IPNet{IP: res.Gateway, Mask: net.CIDRMask(32, 32)}
	if err := ph.NeighSet(&netlink.Neigh{LinkIndex: a.Index, Family: netlink.FAMILY_V4, State: netlink.NUD_PERMANENT,
		Type: unix.RTN_UNICAST, IP: res.Gateway, HardwareAddr: HostVethMAC}); err != nil {
		return nil, fmt.Errorf("pod neighbour %s: %w", res.Gateway, err)
	}
	if err := ph.RouteReplace(&netlink.Route{Dst: gw, LinkIndex: a.Index, Scope: netlink.SCOPE_LINK, Table: unix.RT_TABLE_MAIN}); err != nil {
		return nil, fmt.Errorf("pod route %s dev %s: %w", res.Gateway, PodInterface, err)
	}
	def := &netlink.Route{Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, Gw: res.Gateway,
		LinkIndex: a.Index, Table: unix.RT_TABLE_MAIN}
	if err := ph.RouteReplace(def); err != nil {
		return nil, fmt.Errorf("pod default route via %s: %w", res.Gateway, err)
	}
	return a.HardwareAddr, nil
}

// DelPod removes the pod's host veth (which removes the pod's eth0 with it)
// and the pod's /32 route on the node. Removing a pod that is not there, or
// whose node namespace is gone, is not an error. The pod's namespace itself
// is not needed.
func (n *Network) DelPod(node NodeConfig, podID string, podIP net.IP) error {
	if node.NetNSPath == "" {
		return fmt.Errorf("cni: delete pod %q: node netNSPath: required", podID)
	}
	name := HostVethName(podID)
	err := n.withNode(node.NetNSPath, func(k *netlinkNode) error {
		l, err := k.h.LinkByName(name)
		if isLinkNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up %s: %w", name, err)
		}
		if podIP.To4() != nil {
			route := &netlink.Route{Dst: hostRoute(podIP), LinkIndex: l.Attrs().Index, Table: unix.RT_TABLE_MAIN,
				Scope: netlink.SCOPE_NOWHERE}
			if err := k.h.RouteDel(route); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("delete route %s dev %s: %w", route.Dst, name, err)
			}
		}
		if err := k.h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cni: delete pod %q: %w", podID, err)
	}
	return nil
}

// checkPodConfig validates an AddPod request; the kernel and the fake share it.
func checkPodConfig(node NodeConfig, pod PodConfig) error {
	switch {
	case node.NetNSPath == "":
		return fmt.Errorf("cni: add pod %q: node netNSPath: required", pod.ID)
	case pod.ID == "":
		return errors.New("cni: add pod: id: required")
	case pod.NetNSPath == "":
		return fmt.Errorf("cni: add pod %q: netNSPath: required", pod.ID)
	case pod.IP.To4() == nil:
		return fmt.Errorf("cni: add pod %q: ip: an IPv4 address is required, got %v", pod.ID, pod.IP)
	case node.MTU < 576 || node.MTU > 65535:
		return fmt.Errorf("cni: add pod %q: mtu: %d out of range 576-65535", pod.ID, node.MTU)
	}
	return nil
}
