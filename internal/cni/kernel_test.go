package cni

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// cluster is a lab with nodes, their blocks and pod IPAM.
type cluster struct {
	*testLab
	nodes []NodeConfig
	ipam  map[string]*BlockIPAM
}

// newCluster creates nodes n1..nN with one /26 block each from
// 172.16.0.0/16 and sets them up with the given overlay.
func newCluster(t *testing.T, overlay string, n int) *cluster {
	c := &cluster{testLab: newTestLab(t), ipam: map[string]*BlockIPAM{}}
	var taken []*net.IPNet
	for i := 1; i <= n; i++ {
		b, err := NextBlock(DefaultPodCIDR, DefaultBlockSize, taken)
		if err != nil {
			t.Fatal(err)
		}
		taken = append(taken, b)
		cfg := c.addNode(fmt.Sprintf("n%d", i), 10+i, b)
		cfg.Overlay = overlay
		c.nodes = append(c.nodes, cfg)
		c.ipam[cfg.NodeName], _ = NewBlockIPAM(cfg.Blocks)
	}
	for _, cfg := range c.nodes {
		if err := c.net.SetupNode(cfg); err != nil {
			t.Fatal(err)
		}
	}
	c.syncAll()
	return c
}

func (c *cluster) peers() []Peer {
	var out []Peer
	for _, n := range c.nodes {
		out = append(out, Peer{Name: n.NodeName, NodeIP: n.NodeIP, Blocks: n.Blocks})
	}
	return out
}

func (c *cluster) syncAll() {
	c.tb.Helper()
	for _, cfg := range c.nodes {
		if err := c.net.SyncPeers(cfg, c.peers()); err != nil {
			c.tb.Fatal(err)
		}
	}
}

type testPod struct {
	PodConfig
	node NodeConfig
	res  PodResult
}

// addPod creates a pod namespace on node i (0-based) and attaches it.
func (c *cluster) addPod(name string, i int) *testPod {
	c.tb.Helper()
	node := c.nodes[i]
	ip, err := c.ipam[node.NodeName].Allocate("default/" + name)
	if err != nil {
		c.tb.Fatal(err)
	}
	p := &testPod{PodConfig: PodConfig{ID: "default/" + name, NetNSPath: c.newNS(name), IP: ip}, node: node}
	if p.res, err = c.net.AddPod(node, p.PodConfig); err != nil {
		c.tb.Fatal(err)
	}
	return p
}

func mustPing(t *testing.T, what, path string, dst net.IP) {
	t.Helper()
	if err := ping(path, dst, 3*time.Second); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

func TestKernelVXLAN(t *testing.T) {
	c := newCluster(t, OverlayVXLAN, 3)
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	a1 := c.addPod("a1", 0)
	a2 := c.addPod("a2", 0)
	b1 := c.addPod("b1", 1)
	c1 := c.addPod("c1", 2)
	h1 := c.handle(n1.NetNSPath)

	t.Run("node", func(t *testing.T) {
		if v := readSysctl(t, n1.NetNSPath, "net/ipv4/ip_forward"); v != "1" {
			t.Errorf("ip_forward = %s, want 1", v)
		}
		l, err := h1.LinkByName(VXLANDevice)
		if err != nil {
			t.Fatal(err)
		}
		vx, ok := l.(*netlink.Vxlan)
		eth0, _ := h1.LinkByName("eth0")
		if !ok || vx.VxlanId != 4096 || vx.Port != 4789 || !vx.SrcAddr.Equal(n1.NodeIP) || vx.Learning ||
			vx.VtepDevIndex != eth0.Attrs().Index || vx.MTU != 1450 || vx.HardwareAddr.String() != VTEPMAC(n1.NodeIP).String() ||
			vx.Flags&net.FlagUp == 0 {
			t.Errorf("vxlan.calico = %+v", l)
		}
		addrs, _ := h1.AddrList(l, netlink.FAMILY_V4)
		if len(addrs) != 1 || addrs[0].IPNet.String() != "172.16.0.0/32" {
			t.Errorf("vxlan.calico addresses = %v, want 172.16.0.0/32", addrs)
		}
		got := nodeRoutes(t, h1)
		for _, want := range []string{
			"blackhole 172.16.0.0/26 proto 80",
			"172.16.0.64/26 via 172.16.0.64 dev vxlan.calico proto 80 onlink",
			"172.16.0.128/26 via 172.16.0.128 dev vxlan.calico proto 80 onlink",
			fmt.Sprintf("%s/32 dev %s scope link", a1.IP, a1.res.HostInterface),
			fmt.Sprintf("%s/32 dev %s scope link", a2.IP, a2.res.HostInterface),
		} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("node routes lack %q:\n%s", want, got)
			}
		}
		neighs, _ := h1.NeighList(l.Attrs().Index, netlink.FAMILY_V4)
		wantNeigh := map[string]string{"172.16.0.64": VTEPMAC(n2.NodeIP).String(), "172.16.0.128": VTEPMAC(n3.NodeIP).String()}
		for _, n := range neighs {
			if n.State&netlink.NUD_PERMANENT != 0 && wantNeigh[n.IP.String()] == n.HardwareAddr.String() {
				delete(wantNeigh, n.IP.String())
			}
		}
		if len(wantNeigh) != 0 {
			t.Errorf("missing permanent neighbours %v in %v", wantNeigh, neighs)
		}
		fdb, _ := h1.NeighList(l.Attrs().Index, unix.AF_BRIDGE)
		wantFDB := map[string]string{VTEPMAC(n2.NodeIP).String(): n2.NodeIP.String(), VTEPMAC(n3.NodeIP).String(): n3.NodeIP.String()}
		for _, f := range fdb {
			if wantFDB[f.HardwareAddr.String()] == f.IP.String() {
				delete(wantFDB, f.HardwareAddr.String())
			}
		}
		if len(wantFDB) != 0 {
			t.Errorf("missing fdb entries %v in %v", wantFDB, fdb)
		}
	})

	t.Run("pod", func(t *testing.T) {
		checkPod(t, c.testLab, a1, 1450)
	})

	t.Run("traffic", func(t *testing.T) {
		mustPing(t, "pod to pod on the same node", a1.NetNSPath, a2.IP)
		mustPing(t, "pod to pod on another node", a1.NetNSPath, b1.IP)
		mustPing(t, "pod to pod on a third node", b1.NetNSPath, c1.IP)
		mustPing(t, "node to its pod", n1.NetNSPath, a1.IP)
		mustPing(t, "node to a remote pod", n1.NetNSPath, c1.IP)
		mustPing(t, "pod to its node", a1.NetNSPath, n1.NodeIP)
		mustPing(t, "pod to its node's tunnel address", a1.NetNSPath, TunnelIP(n1.Blocks))
		// A TCP stream much larger than the MTU proves the MTU chain (pod
		// 1450 + 50 bytes of VXLAN = 1500 on the LAN).
		serveEcho(t, c1.NetNSPath, c1.IP.String()+":8080")
		if err := echoRoundTrip(a1.NetNSPath, c1.IP.String()+":8080", 1<<20); err != nil {
			t.Errorf("1 MiB TCP echo from a1 to c1: %v", err)
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		again, err := c.net.AddPod(n1, a1.PodConfig)
		if err != nil {
			t.Fatal(err)
		}
		if again.HostIndex != a1.res.HostIndex || again.MAC.String() != a1.res.MAC.String() {
			t.Errorf("AddPod twice recreated the pair: %+v then %+v", a1.res, again)
		}
		vx1, _ := h1.LinkByName(VXLANDevice)
		if err := c.net.SetupNode(n1); err != nil {
			t.Fatal(err)
		}
		if err := c.net.SyncPeers(n1, c.peers()); err != nil {
			t.Fatal(err)
		}
		vx2, _ := h1.LinkByName(VXLANDevice)
		if vx1.Attrs().Index != vx2.Attrs().Index {
			t.Error("SetupNode twice recreated vxlan.calico")
		}
		checkPod(t, c.testLab, a1, 1450)
		mustPing(t, "after AddPod twice", a1.NetNSPath, b1.IP)
	})

	t.Run("repair", func(t *testing.T) {
		// Break the pod's side and the host side, then add the pod again.
		ph := c.handle(a1.NetNSPath)
		eth0, _ := ph.LinkByName("eth0")
		ph.RouteDel(&netlink.Route{Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, LinkIndex: eth0.Attrs().Index})
		ph.AddrDel(eth0, &netlink.Addr{IPNet: hostRoute(a1.IP)})
		ph.AddrAdd(eth0, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 9, 9, 9), Mask: net.CIDRMask(24, 32)}})
		ph.LinkSetMTU(eth0, 1500)
		host, _ := h1.LinkByName(a1.res.HostInterface)
		h1.LinkSetDown(host)
		if err := ping(a1.NetNSPath, b1.IP, 300*time.Millisecond); err == nil {
			t.Fatal("the broken pod still reaches b1")
		}
		if _, err := c.net.AddPod(n1, a1.PodConfig); err != nil {
			t.Fatal(err)
		}
		checkPod(t, c.testLab, a1, 1450)
		mustPing(t, "after repair", a1.NetNSPath, b1.IP)
	})

	t.Run("stale pair", func(t *testing.T) {
		// The pod's sandbox was recreated: a new namespace, same pod ID.
		// The old host veth (still paired with the old namespace) is replaced.
		old := a2.res
		a2.NetNSPath = c.newNS("a2-new")
		res, err := c.net.AddPod(n1, a2.PodConfig)
		if err != nil {
			t.Fatal(err)
		}
		if res.HostIndex == old.HostIndex {
			t.Error("the host veth of the old sandbox was kept")
		}
		a2.res = res
		checkPod(t, c.testLab, a2, 1450)
		mustPing(t, "new sandbox", a2.NetNSPath, b1.IP)
	})

	t.Run("peer departs", func(t *testing.T) {
		if err := c.net.SyncPeers(n1, c.peers()[:2]); err != nil {
			t.Fatal(err)
		}
		got := nodeRoutes(t, h1)
		if strings.Contains(got, "172.16.0.128/26") {
			t.Errorf("routes of departed n3 survive:\n%s", got)
		}
		if !strings.Contains(got, "172.16.0.64/26 via 172.16.0.64") || !strings.Contains(got, "blackhole 172.16.0.0/26") {
			t.Errorf("SyncPeers removed too much:\n%s", got)
		}
		vx, _ := h1.LinkByName(VXLANDevice)
		neighs, _ := h1.NeighList(vx.Attrs().Index, netlink.FAMILY_V4)
		for _, n := range neighs {
			if n.IP.String() == "172.16.0.128" {
				t.Errorf("neighbour of departed n3 survives: %v", n)
			}
		}
		fdb, _ := h1.NeighList(vx.Attrs().Index, unix.AF_BRIDGE)
		for _, f := range fdb {
			if f.IP.Equal(n3.NodeIP) {
				t.Errorf("fdb entry of departed n3 survives: %v", f)
			}
		}
		if err := ping(a1.NetNSPath, c1.IP, 300*time.Millisecond); err == nil {
			t.Error("a1 still reaches c1 on the departed node")
		}
		mustPing(t, "remaining peer", a1.NetNSPath, b1.IP)
		// n3 comes back.
		if err := c.net.SyncPeers(n1, c.peers()); err != nil {
			t.Fatal(err)
		}
		mustPing(t, "returned peer", a1.NetNSPath, c1.IP)
	})

	t.Run("delete", func(t *testing.T) {
		if err := c.net.DelPod(n1, a2.ID, a2.IP); err != nil {
			t.Fatal(err)
		}
		if _, err := h1.LinkByName(a2.res.HostInterface); !isLinkNotFound(err) {
			t.Errorf("host veth survives DelPod: %v", err)
		}
		if got := nodeRoutes(t, h1); strings.Contains(got, a2.IP.String()+"/32") {
			t.Errorf("pod route survives DelPod:\n%s", got)
		}
		if _, err := c.handle(a2.NetNSPath).LinkByName("eth0"); !isLinkNotFound(err) {
			t.Errorf("pod eth0 survives DelPod: %v", err)
		}
		if err := c.net.DelPod(n1, a2.ID, a2.IP); err != nil {
			t.Errorf("second DelPod: %v", err)
		}
		if err := c.net.DelPod(NodeConfig{NetNSPath: "/run/netns/" + c.prefix + "-gone"}, a2.ID, a2.IP); err != nil {
			t.Errorf("DelPod on a missing node: %v", err)
		}
		mustPing(t, "other pod after DelPod", a1.NetNSPath, b1.IP)
	})
}

func TestKernelOverlayNone(t *testing.T) {
	c := newCluster(t, OverlayNone, 2)
	n1 := c.nodes[0]
	a1 := c.addPod("a1", 0)
	b1 := c.addPod("b1", 1)
	h1 := c.handle(n1.NetNSPath)
	if _, err := h1.LinkByName(VXLANDevice); !isLinkNotFound(err) {
		t.Errorf("vxlan.calico exists without an overlay: %v", err)
	}
	got := nodeRoutes(t, h1)
	for _, want := range []string{"blackhole 172.16.0.0/26 proto 80", "172.16.0.64/26 via 192.168.250.12 dev eth0 proto 80"} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("node routes lack %q:\n%s", want, got)
		}
	}
	checkPod(t, c.testLab, a1, 1500)
	mustPing(t, "pod to pod across nodes", a1.NetNSPath, b1.IP)
	mustPing(t, "node to remote pod", n1.NetNSPath, b1.IP)
	serveEcho(t, b1.NetNSPath, b1.IP.String()+":8080")
	if err := echoRoundTrip(a1.NetNSPath, b1.IP.String()+":8080", 1<<20); err != nil {
		t.Errorf("1 MiB TCP echo: %v", err)
	}

	// Switch the cluster to VXLAN: the routes move to the tunnel.
	for i := range c.nodes {
		c.nodes[i].Overlay = OverlayVXLAN
		c.nodes[i].MTU = 1500 - 50
		if err := c.net.SetupNode(c.nodes[i]); err != nil {
			t.Fatal(err)
		}
	}
	c.syncAll()
	got = nodeRoutes(t, h1)
	if !strings.Contains(got, "172.16.0.64/26 via 172.16.0.64 dev vxlan.calico proto 80 onlink\n") || strings.Contains(got, "via 192.168.250.12") {
		t.Errorf("routes after switching to vxlan:\n%s", got)
	}
	for i, p := range []*testPod{a1, b1} {
		p.node = c.nodes[i]
		if _, err := c.net.AddPod(p.node, p.PodConfig); err != nil {
			t.Fatal(err)
		}
	}
	checkPod(t, c.testLab, a1, 1450)
	mustPing(t, "pod to pod after switching to vxlan", a1.NetNSPath, b1.IP)

	// And back.
	for i := range c.nodes {
		c.nodes[i].Overlay = OverlayNone
		if err := c.net.SetupNode(c.nodes[i]); err != nil {
			t.Fatal(err)
		}
	}
	c.syncAll()
	if _, err := h1.LinkByName(VXLANDevice); !isLinkNotFound(err) {
		t.Errorf("vxlan.calico survives the switch back: %v", err)
	}
	mustPing(t, "pod to pod after switching back", a1.NetNSPath, b1.IP)
}

// checkPod verifies both sides of a pod's attachment.
func checkPod(t *testing.T, l *testLab, p *testPod, mtu int) {
	t.Helper()
	ph := l.handle(p.NetNSPath)
	eth0, err := ph.LinkByName("eth0")
	if err != nil {
		t.Fatalf("pod eth0: %v", err)
	}
	if eth0.Attrs().MTU != mtu || eth0.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("pod eth0 mtu %d flags %v, want mtu %d and up", eth0.Attrs().MTU, eth0.Attrs().Flags, mtu)
	}
	if eth0.Attrs().HardwareAddr.String() != p.res.MAC.String() {
		t.Errorf("pod MAC %s, AddPod reported %s", eth0.Attrs().HardwareAddr, p.res.MAC)
	}
	addrs, _ := ph.AddrList(eth0, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != p.IP.String()+"/32" {
		t.Errorf("pod addresses = %v, want %s/32 only", addrs, p.IP)
	}
	routes, _ := ph.RouteList(nil, netlink.FAMILY_V4)
	var rs []string
	for _, r := range routes {
		rs = append(rs, r.String())
	}
	var gw, def bool
	for _, r := range routes {
		if r.Dst != nil && r.Dst.String() == "169.254.1.1/32" && r.Scope == netlink.SCOPE_LINK && r.LinkIndex == eth0.Attrs().Index {
			gw = true
		}
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.Equal(GatewayIP) && r.LinkIndex == eth0.Attrs().Index {
			def = true
		}
	}
	if !gw || !def {
		t.Errorf("pod routes %v lack 169.254.1.1 dev eth0 scope link or default via 169.254.1.1", rs)
	}
	lo, _ := ph.LinkByIndex(loopbackIndex)
	if lo == nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("pod lo is not up: %v", lo)
	}

	nh := l.handle(p.node.NetNSPath)
	host, err := nh.LinkByName(p.res.HostInterface)
	if err != nil {
		t.Fatalf("host veth: %v", err)
	}
	if !strings.HasPrefix(host.Attrs().Name, "cali") || len(host.Attrs().Name) != 15 || host.Attrs().Name != HostVethName(p.ID) {
		t.Errorf("host veth name %q", host.Attrs().Name)
	}
	if host.Attrs().HardwareAddr.String() != "ee:ee:ee:ee:ee:ee" || host.Attrs().MTU != mtu || host.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("host veth mac %s mtu %d flags %v", host.Attrs().HardwareAddr, host.Attrs().MTU, host.Attrs().Flags)
	}
	if v := readSysctl(t, p.node.NetNSPath, "net/ipv4/conf/"+p.res.HostInterface+"/proxy_arp"); v != "1" {
		t.Errorf("proxy_arp = %s, want 1", v)
	}
	if v := readSysctl(t, p.node.NetNSPath, "net/ipv4/neigh/"+p.res.HostInterface+"/proxy_delay"); v != "0" {
		t.Errorf("proxy_delay = %s, want 0", v)
	}
	want := fmt.Sprintf("%s/32 dev %s scope link\n", p.IP, p.res.HostInterface)
	if got := nodeRoutes(t, nh); !strings.Contains(got, want) {
		t.Errorf("node routes lack %q:\n%s", want, got)
	}
}

// nodeRoutes formats the main-table IPv4 routes of a namespace roughly as
// `ip route` does, one per line.
func nodeRoutes(t *testing.T, h *netlink.Handle) string {
	t.Helper()
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range routes {
		if r.Type == unix.RTN_BLACKHOLE {
			b.WriteString("blackhole ")
		}
		if r.Dst == nil {
			b.WriteString("default")
		} else {
			b.WriteString(r.Dst.String())
		}
		if r.Gw != nil {
			fmt.Fprintf(&b, " via %s", r.Gw)
		}
		if r.LinkIndex > 0 {
			l, err := h.LinkByIndex(r.LinkIndex)
			if err == nil {
				fmt.Fprintf(&b, " dev %s", l.Attrs().Name)
			}
		}
		if r.Protocol != unix.RTPROT_BOOT && r.Protocol != unix.RTPROT_KERNEL {
			fmt.Fprintf(&b, " proto %d", r.Protocol)
		}
		if r.Scope == netlink.SCOPE_LINK {
			b.WriteString(" scope link")
		}
		if r.Flags&int(netlink.FLAG_ONLINK) != 0 {
			b.WriteString(" onlink")
		}
		b.WriteString("\n")
	}
	return b.String()
}
