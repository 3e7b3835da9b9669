// Package cluster builds a cluster's machines out of namespaces: a LAN (a
// Linux bridge in its own network namespace), the nodes and the external
// hosts, each a sandbox with hostname, /etc/hosts and an eth0 on the LAN; and
// reads the cluster config file that describes them.
//
// Everything lives in namespaces kin made: nothing is attached to the
// machine's own interfaces, no route is added to the machine's routing table
// and no default route exists anywhere (there is no internet inside kin).
// The bridge-side veth ends live in the LAN namespace, so interface names
// never collide between clusters.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"kin/internal/netns"
)

// Names of the LAN's sandbox and bridge, and of a node's or host's interface.
const (
	LANSandbox = "lan"
	BridgeName = "br0"
	Interface  = "eth0"
)

// Topology is a cluster's LAN, nodes and hosts as made by Up.
type Topology struct {
	Config *Config
	LAN    *netns.Sandbox
	Nodes  []*Node
	Hosts  []*Host
}

// Node is a Kubernetes node: a sandbox with an interface on the LAN.
type Node struct {
	Name, Role string
	Address    net.IP
	Labels     map[string]string
	Sandbox    *netns.Sandbox
	// Interface is the node's LAN interface, "eth0".
	Interface string
}

// Host is an external host on the LAN, such as the user's laptop.
type Host struct {
	Name      string
	Address   net.IP
	Sandbox   *netns.Sandbox
	Interface string
}

// Node returns the node with that name.
func (t *Topology) Node(name string) (*Node, bool) {
	for _, n := range t.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return nil, false
}

// Host returns the external host with that name.
func (t *Topology) Host(name string) (*Host, bool) {
	for _, h := range t.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return nil, false
}

// NodeSandbox and HostSandbox are the sandbox names of a node and a host.
func NodeSandbox(name string) string { return "node-" + name }

// HostSandbox is the sandbox name of an external host.
func HostSandbox(name string) string { return "host-" + name }

// HostsFile returns the /etc/hosts of the cluster's nodes and hosts:
// localhost, then every node and every host.
func (c *Config) HostsFile() []byte {
	var b strings.Builder
	b.WriteString("127.0.0.1 localhost\n")
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "%s %s\n", n.Address, n.Name)
	}
	for _, h := range c.Hosts {
		fmt.Fprintf(&b, "%s %s\n", h.Address, h.Name)
	}
	return []byte(b.String())
}

// resolvConf is the /etc/resolv.conf of nodes and hosts until the cluster
// DNS serves them. Without a nameserver line the resolver asks 127.0.0.1 in
// the sandbox's own network namespace, which is inside kin.
const resolvConf = "# kin: no nameserver yet; names resolve through /etc/hosts.\n"

// member is a node or host being made.
type member struct {
	sandbox  string // sandbox name
	name     string
	address  net.IP
	forward  bool // ip_forward=1 (nodes)
	sb       *netns.Sandbox
	portName string
}

// Up builds the cluster's LAN, nodes and hosts, or resumes them: existing
// sandboxes are reused, missing or broken pieces are made again, and nodes
// or hosts no longer in the config are removed. It returns when every
// interface is configured.
func Up(ctx context.Context, cfg *Config) (*Topology, error) {
	c := cfg.DeepCopy()
	c.Default()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	lanNet := c.LANNet()
	prefix, _ := lanNet.Mask.Size()
	hosts := c.HostsFile()

	members := make([]*member, 0, len(c.Nodes)+len(c.Hosts))
	for _, n := range c.Nodes {
		members = append(members, &member{sandbox: NodeSandbox(n.Name), name: n.Name, address: net.ParseIP(n.Address).To4(), forward: true})
	}
	for _, h := range c.Hosts {
		members = append(members, &member{sandbox: HostSandbox(h.Name), name: h.Name, address: net.ParseIP(h.Address).To4()})
	}
	for _, m := range members {
		m.portName = PortName(m.name)
	}

	if err := removeStale(c.Name, members); err != nil {
		return nil, err
	}

	// The LAN first makes its bridge; members make their sandboxes at the
	// same time and wait for the bridge to plug in.
	var lan *netns.Sandbox
	var bridgeIndex int
	var lanFresh bool
	bridgeReady := make(chan struct{})
	var lanErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(bridgeReady)
		lan, bridgeIndex, lanFresh, lanErr = upLAN(c.Name)
	}()
	errs := make([]error, len(members))
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = upMember(ctx, c.Name, m, hosts, bridgeReady, func() (*netns.Sandbox, int, bool, bool) {
				return lan, bridgeIndex, lanFresh, lanErr == nil
			}, prefix)
		}()
	}
	wg.Wait()
	if err := errors.Join(append([]error{lanErr}, errs...)...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}

	t := &Topology{Config: c, LAN: lan}
	for i, n := range c.Nodes {
		m := members[i]
		t.Nodes = append(t.Nodes, &Node{Name: n.Name, Role: n.Role, Address: m.address, Labels: n.Labels, Sandbox: m.sb, Interface: Interface})
	}
	for i, h := range c.Hosts {
		m := members[len(c.Nodes)+i]
		t.Hosts = append(t.Hosts, &Host{Name: h.Name, Address: m.address, Sandbox: m.sb, Interface: Interface})
	}
	return t, nil
}

// Down removes everything the cluster's topology made: every sandbox of the
// cluster (nodes, hosts, the LAN and any other, such as pods), with the
// processes inside. It also cleans up after a killed process.
func Down(cluster string) error {
	if !clusterNameRE.MatchString(cluster) {
		return fmt.Errorf("cluster: invalid cluster name %q", cluster)
	}
	if err := netns.Cleanup(cluster); err != nil {
		return fmt.Errorf("cluster %s: down: %w", cluster, err)
	}
	return nil
}

// removeStale deletes node and host sandboxes that the config no longer has.
func removeStale(cluster string, members []*member) error {
	names, err := netns.List(cluster)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, m := range members {
		want[m.sandbox] = true
	}
	var stale []string
	for _, n := range names {
		if (strings.HasPrefix(n, "node-") || strings.HasPrefix(n, "host-")) && !want[n] {
			stale = append(stale, n)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	// Their LAN ports go first: a namespace's veths vanish only when the
	// kernel gets round to destroying it, and a new member may want the name.
	if lan, err := netns.Open(cluster, LANSandbox); err == nil {
		h, err := lan.Netlink()
		if err != nil {
			return err
		}
		defer h.Close()
		for _, n := range stale {
			name := n[strings.IndexByte(n, '-')+1:]
			if l, err := h.LinkByName(PortName(name)); err == nil {
				_ = h.LinkDel(l)
			}
		}
	}
	for _, n := range stale {
		if err := netns.Remove(cluster, n); err != nil {
			return fmt.Errorf("cluster %s: remove %s: %w", cluster, n, err)
		}
	}
	return nil
}

// sysctls sets a sandbox's sysctls. IPv6 is turned off before the
// interfaces are made: the cluster is IPv4, and link-local addresses, DAD
// and router solicitations would only add noise to the LAN. A kernel
// without IPv6 has nothing to turn off.
func sysctls(sb *netns.Sandbox, forward bool) error {
	v := map[string]string{
		"net.ipv6.conf.all.disable_ipv6":     "1",
		"net.ipv6.conf.default.disable_ipv6": "1",
	}
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		v = map[string]string{}
	}
	// A new network namespace inherits the machine's ip_forward.
	v["net.ipv4.ip_forward"] = "0"
	if forward {
		v["net.ipv4.ip_forward"] = "1"
	}
	return sb.SetSysctls(v)
}

// upLAN makes the LAN sandbox and its bridge and returns the bridge's index
// and whether the LAN's network namespace is new.
func upLAN(cluster string) (*netns.Sandbox, int, bool, error) {
	_, err := netns.Open(cluster, LANSandbox)
	fresh := err != nil
	sb, bridge, err := upBridge(cluster)
	return sb, bridge, fresh, err
}

func upBridge(cluster string) (*netns.Sandbox, int, error) {
	sb, err := netns.Create(netns.SandboxSpec{Cluster: cluster, Name: LANSandbox, Hostname: cluster + "-lan", NamedNetNS: true})
	if err != nil {
		return nil, 0, err
	}
	if err := sysctls(sb, false); err != nil {
		return nil, 0, err
	}
	h, err := sb.Netlink()
	if err != nil {
		return nil, 0, err
	}
	defer h.Close()
	l, err := h.LinkByName(BridgeName)
	if err == nil && l.Type() != "bridge" {
		if err := h.LinkDel(l); err != nil {
			return nil, 0, fmt.Errorf("cluster %s: remove %s: %w", cluster, BridgeName, err)
		}
		err = netlink.LinkNotFoundError{}
	}
	if err != nil {
		if !isNotFound(err) {
			return nil, 0, fmt.Errorf("cluster %s: %s: %w", cluster, BridgeName, err)
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: BridgeName, MTU: 1500, Flags: net.FlagUp}}
		if err := h.LinkAdd(br); err != nil {
			return nil, 0, fmt.Errorf("cluster %s: add bridge %s: %w", cluster, BridgeName, err)
		}
		if l, err = h.LinkByName(BridgeName); err != nil {
			return nil, 0, fmt.Errorf("cluster %s: %s: %w", cluster, BridgeName, err)
		}
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := h.LinkSetUp(l); err != nil {
			return nil, 0, fmt.Errorf("cluster %s: set %s up: %w", cluster, BridgeName, err)
		}
	}
	return sb, l.Attrs().Index, nil
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

// upMember makes a node's or host's sandbox and plugs its eth0 into the LAN.
func upMember(ctx context.Context, cluster string, m *member, hosts []byte, bridgeReady <-chan struct{}, lanState func() (lan *netns.Sandbox, bridge int, fresh, ok bool), prefix int) error {
	sb, err := netns.Create(netns.SandboxSpec{
		Cluster:  cluster,
		Name:     m.sandbox,
		Hostname: m.name,
		Files: map[string][]byte{
			"/etc/hosts":       hosts,
			"/etc/hostname":    []byte(m.name + "\n"),
			"/etc/resolv.conf": []byte(resolvConf),
		},
		NamedNetNS: true,
	})
	if err != nil {
		return err
	}
	m.sb = sb
	if err := sysctls(sb, m.forward); err != nil {
		return err
	}
	select {
	case <-bridgeReady:
	case <-ctx.Done():
		return fmt.Errorf("cluster %s: %s: %w", cluster, m.name, ctx.Err())
	}
	lan, bridge, fresh, ok := lanState()
	if !ok {
		return nil // the LAN's error is reported
	}
	if err := plug(lan, bridge, fresh, m, prefix); err != nil {
		return fmt.Errorf("cluster %s: %s: %w", cluster, m.name, err)
	}
	return nil
}

// MAC returns the hardware address of the eth0 whose address is ip:
// 02:6b (locally administered, 'k') followed by the four bytes of ip, so
// that an eth0 made again keeps its address and the LAN's neighbour caches
// stay right.
func MAC(ip net.IP) net.HardwareAddr {
	ip4 := ip.To4()
	return net.HardwareAddr{0x02, 0x6b, ip4[0], ip4[1], ip4[2], ip4[3]}
}

// plug makes sure the member's eth0 is a veth whose other end is its port on
// the bridge, both up, and that eth0 has the member's address. When the LAN
// is new, an eth0 left from the old one (whose end the kernel is about to
// destroy with the old namespace) is replaced.
func plug(lan *netns.Sandbox, bridge int, lanFresh bool, m *member, prefix int) error {
	lh, err := lan.Netlink()
	if err != nil {
		return err
	}
	defer lh.Close()
	mh, err := m.sb.Netlink()
	if err != nil {
		return err
	}
	defer mh.Close()

	port, perr := lh.LinkByName(m.portName)
	eth, eerr := mh.LinkByName(Interface)
	if perr != nil && !isNotFound(perr) {
		return fmt.Errorf("LAN port %s: %w", m.portName, perr)
	}
	if eerr != nil && !isNotFound(eerr) {
		return fmt.Errorf("%s: %w", Interface, eerr)
	}
	paired := !lanFresh && perr == nil && eerr == nil && port.Type() == "veth" && eth.Type() == "veth" &&
		eth.Attrs().ParentIndex == port.Attrs().Index && port.Attrs().ParentIndex == eth.Attrs().Index
	if !paired {
		// Half a pair, or a pair with the wrong ends: make it again.
		if perr == nil {
			if err := lh.LinkDel(port); err != nil {
				return fmt.Errorf("remove LAN port %s: %w", m.portName, err)
			}
		}
		if eerr == nil {
			if err := mh.LinkDel(eth); err != nil && !isNotFound(err) {
				return fmt.Errorf("remove %s: %w", Interface, err)
			}
		}
		ns, err := m.sb.NetNSHandle()
		if err != nil {
			return err
		}
		veth := &netlink.Veth{
			LinkAttrs:        netlink.LinkAttrs{Name: m.portName, MTU: 1500, MasterIndex: bridge, Flags: net.FlagUp},
			PeerName:         Interface,
			PeerHardwareAddr: MAC(m.address),
			PeerNamespace:    netlink.NsFd(int(ns)),
		}
		err = lh.LinkAdd(veth)
		ns.Close()
		if err != nil {
			return fmt.Errorf("add veth %s/%s: %w", m.portName, Interface, err)
		}
		if port, err = lh.LinkByName(m.portName); err != nil {
			return fmt.Errorf("LAN port %s: %w", m.portName, err)
		}
		if eth, err = mh.LinkByName(Interface); err != nil {
			return fmt.Errorf("%s: %w", Interface, err)
		}
	}
	if port.Attrs().MasterIndex != bridge {
		if err := lh.LinkSetMasterByIndex(port, bridge); err != nil {
			return fmt.Errorf("attach %s to %s: %w", m.portName, BridgeName, err)
		}
	}
	if port.Attrs().Flags&net.FlagUp == 0 {
		if err := lh.LinkSetUp(port); err != nil {
			return fmt.Errorf("set %s up: %w", m.portName, err)
		}
	}

	want := &net.IPNet{IP: m.address, Mask: net.CIDRMask(prefix, 32)}
	addrs, err := mh.AddrList(eth, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("%s addresses: %w", Interface, err)
	}
	have := false
	for _, a := range addrs {
		if a.IPNet.String() == want.String() {
			have = true
			continue
		}
		// An address of an earlier config; others (added later by other
		// components) are theirs.
		if a.IPNet.Contains(m.address) || want.Contains(a.IP) {
			if err := mh.AddrDel(eth, &a); err != nil {
				return fmt.Errorf("remove %s from %s: %w", a.IPNet, Interface, err)
			}
		}
	}
	if !have {
		if err := mh.AddrAdd(eth, &netlink.Addr{IPNet: want}); err != nil {
			return fmt.Errorf("add %s to %s: %w", want, Interface, err)
		}
	}
	if eth.Attrs().Flags&net.FlagUp == 0 {
		if err := mh.LinkSetUp(eth); err != nil {
			return fmt.Errorf("set %s up: %w", Interface, err)
		}
	}
	return nil
}
