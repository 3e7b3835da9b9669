package cni

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fakeKernel is an in-memory nodeKernel: links, kin routes, permanent
// neighbours and FDB entries, with a count of the writes made.
type fakeKernel struct {
	forwarding bool
	links      map[string]bool
	vxlan      *vxlanSpec
	routes     map[string]Route
	neighs     map[string]Neighbor
	fdb        map[string]FDBEntry
	writes     int
}

func newFakeKernel() *fakeKernel {
	return &fakeKernel{links: map[string]bool{"lo": true, "eth0": true},
		routes: map[string]Route{}, neighs: map[string]Neighbor{}, fdb: map[string]FDBEntry{}}
}

func (k *fakeKernel) EnableForwarding() error {
	if !k.forwarding {
		k.forwarding = true
		k.writes++
	}
	return nil
}

func (k *fakeKernel) EnsureVXLAN(spec vxlanSpec) error {
	if !k.links[spec.Parent] {
		return fmt.Errorf("LAN interface %q: not found", spec.Parent)
	}
	if k.vxlan == nil || fmt.Sprint(*k.vxlan) != fmt.Sprint(spec) {
		s := spec
		k.vxlan = &s
		k.links[spec.Name] = true
		k.writes++
	}
	return nil
}

func (k *fakeKernel) DeleteLink(name string) error {
	if !k.links[name] {
		return nil
	}
	delete(k.links, name)
	k.writes++
	if name == VXLANDevice {
		k.vxlan = nil
	}
	// The kernel drops what used the device.
	for key, r := range k.routes {
		if r.Dev == name {
			delete(k.routes, key)
		}
	}
	for key, n := range k.neighs {
		if n.Dev == name {
			delete(k.neighs, key)
		}
	}
	for key, f := range k.fdb {
		if f.Dev == name {
			delete(k.fdb, key)
		}
	}
	return nil
}

func (k *fakeKernel) Routes() ([]Route, error) {
	var out []Route
	for _, r := range k.routes {
		out = append(out, r)
	}
	return out, nil
}

func (k *fakeKernel) ReplaceRoute(r Route) error {
	if r.Type == RouteUnicast && !k.links[r.Dev] {
		return fmt.Errorf("device %q: not found", r.Dev)
	}
	k.routes[r.key()] = r
	k.writes++
	return nil
}

func (k *fakeKernel) DeleteRoute(r Route) error {
	delete(k.routes, r.key())
	k.writes++
	return nil
}

func (k *fakeKernel) Neighbors(dev string) ([]Neighbor, error) {
	var out []Neighbor
	for _, n := range k.neighs {
		if n.Dev == dev {
			out = append(out, n)
		}
	}
	return out, nil
}

func (k *fakeKernel) SetNeighbor(n Neighbor) error {
	if !k.links[n.Dev] {
		return fmt.Errorf("device %q not found", n.Dev)
	}
	k.neighs[n.key()] = n
	k.writes++
	return nil
}

func (k *fakeKernel) DeleteNeighbor(n Neighbor) error {
	delete(k.neighs, n.key())
	k.writes++
	return nil
}

func (k *fakeKernel) FDB(dev string) ([]FDBEntry, error) {
	var out []FDBEntry
	for _, f := range k.fdb {
		if f.Dev == dev {
			out = append(out, f)
		}
	}
	return out, nil
}

func (k *fakeKernel) SetFDB(f FDBEntry) error {
	if !k.links[f.Dev] {
		return fmt.Errorf("device %q not found", f.Dev)
	}
	k.fdb[f.key()] = f
	k.writes++
	return nil
}

func (k *fakeKernel) DeleteFDB(f FDBEntry) error {
	delete(k.fdb, f.key())
	k.writes++
	return nil
}

// dump returns the fake's state as sorted lines.
func (k *fakeKernel) dump() string {
	var lines []string
	if k.vxlan != nil {
		s := k.vxlan
		lines = append(lines, fmt.Sprintf("link %s vni %d local %s dev %s dstport %d mtu %d mac %s addr %s/32",
			s.Name, s.VNI, s.Local, s.Parent, s.Port, s.MTU, s.MAC, s.Addr))
	}
	for _, r := range k.routes {
		lines = append(lines, "route "+r.String())
	}
	for _, n := range k.neighs {
		lines = append(lines, "neigh "+n.String())
	}
	for _, f := range k.fdb {
		lines = append(lines, "fdb "+f.String())
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

var _ nodeKernel = (*fakeKernel)(nil)

// seedNodes is the seed lab's cluster: cp-k8s and three workers.
func seedNodes() []Peer {
	return []Peer{
		{Name: "cp-k8s", NodeIP: ip("192.168.1.10"), Blocks: cidrs("172.16.196.128/26")},
		{Name: "w1-k8s", NodeIP: ip("192.168.1.101"), Blocks: cidrs("172.16.221.128/26")},
		{Name: "w2-k8s", NodeIP: ip("192.168.1.102"), Blocks: cidrs("172.16.103.128/26")},
		{Name: "w3-k8s", NodeIP: ip("192.168.1.103"), Blocks: cidrs("172.16.132.0/26", "172.16.132.64/26")},
	}
}

func w2Config() NodeConfig {
	return NodeConfig{NetNSPath: "/run/netns/w2", NodeName: "w2-k8s", NodeIP: ip("192.168.1.102"),
		Blocks: cidrs("172.16.103.128/26")}.withDefaults()
}

func TestSetupNodeOnFake(t *testing.T) {
	k := newFakeKernel()
	cfg := w2Config()
	if err := setupNode(k, cfg); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"link vxlan.calico vni 4096 local 192.168.1.102 dev eth0 dstport 4789 mtu 1450 mac 66:6b:c0:a8:01:66 addr 172.16.103.128/32",
		"route blackhole 172.16.103.128/26",
	}, "\n")
	if got := k.dump(); got != want {
		t.Fatalf("state after setupNode:\n%s\nwant:\n%s", got, want)
	}
	if !k.forwarding {
		t.Fatal("forwarding is off")
	}
	// Idempotent: no writes the second time.
	k.writes = 0
	if err := setupNode(k, cfg); err != nil || k.writes != 0 {
		t.Fatalf("second setupNode: err %v, %d writes; want none", err, k.writes)
	}
	// A new block adds a blackhole, a released one loses it.
	cfg.Blocks = cidrs("172.16.103.192/26")
	if err := setupNode(k, cfg); err != nil {
		t.Fatal(err)
	}
	if got := k.dump(); !strings.Contains(got, "route blackhole 172.16.103.192/26") || strings.Contains(got, "172.16.103.128/26") {
		t.Fatalf("after changing blocks:\n%s", got)
	}
	// Switching to no overlay removes the VXLAN device.
	cfg.Overlay = OverlayNone
	if err := setupNode(k, cfg); err != nil {
		t.Fatal(err)
	}
	if k.vxlan != nil || k.links[VXLANDevice] {
		t.Fatal("vxlan device survived the switch to overlay none")
	}
	// Missing LAN interface.
	k2 := newFakeKernel()
	cfg2 := w2Config()
	cfg2.LANInterface = "eth1"
	if err := setupNode(k2, cfg2); err == nil {
		t.Fatal("setupNode without the LAN interface succeeded")
	}
}

func TestDesiredPeerStateVXLAN(t *testing.T) {
	st, err := DesiredPeerState(w2Config(), seedNodes())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range st.Routes {
		got = append(got, "route "+r.String())
	}
	for _, n := range st.Neighbors {
		got = append(got, "neigh "+n.String())
	}
	for _, f := range st.FDB {
		got = append(got, "fdb "+f.String())
	}
	want := []string{
		"route 172.16.196.128/26 via 172.16.196.128 dev vxlan.calico onlink",
		"route 172.16.221.128/26 via 172.16.221.128 dev vxlan.calico onlink",
		"route 172.16.132.0/26 via 172.16.132.0 dev vxlan.calico onlink",
		"route 172.16.132.64/26 via 172.16.132.0 dev vxlan.calico onlink",
		"neigh 172.16.196.128 dev vxlan.calico lladdr 66:6b:c0:a8:01:0a PERMANENT",
		"neigh 172.16.221.128 dev vxlan.calico lladdr 66:6b:c0:a8:01:65 PERMANENT",
		"neigh 172.16.132.0 dev vxlan.calico lladdr 66:6b:c0:a8:01:67 PERMANENT",
		"fdb 66:6b:c0:a8:01:0a dev vxlan.calico dst 192.168.1.10 self permanent",
		"fdb 66:6b:c0:a8:01:65 dev vxlan.calico dst 192.168.1.101 self permanent",
		"fdb 66:6b:c0:a8:01:67 dev vxlan.calico dst 192.168.1.103 self permanent",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("desired state:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDesiredPeerStateNone(t *testing.T) {
	cfg := w2Config()
	cfg.Overlay = OverlayNone
	st, err := DesiredPeerState(cfg, seedNodes())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Neighbors) != 0 || len(st.FDB) != 0 || len(st.Routes) != 4 {
		t.Fatalf("overlay none state: %+v", st)
	}
	if got, want := st.Routes[0].String(), "172.16.196.128/26 via 192.168.1.10 dev eth0"; got != want {
		t.Fatalf("route = %q, want %q", got, want)
	}
}

func TestDesiredPeerStateConflicts(t *testing.T) {
	peers := append(seedNodes(),
		Peer{Name: "bad1", NodeIP: ip("192.168.1.104"), Blocks: cidrs("172.16.103.128/26")},                // own block
		Peer{Name: "bad2", NodeIP: ip("192.168.1.105"), Blocks: cidrs("172.16.221.0/24", "172.16.9.0/26")}, // overlaps w1
		Peer{Name: "noblocks", NodeIP: ip("192.168.1.106")},
	)
	st, err := DesiredPeerState(w2Config(), peers)
	if err == nil || !strings.Contains(err.Error(), `peer "bad1"`) || !strings.Contains(err.Error(), `peer "bad2"`) {
		t.Fatalf("err = %v, want conflicts of bad1 and bad2", err)
	}
	var dsts []string
	for _, r := range st.Routes {
		dsts = append(dsts, r.Dst.String())
	}
	if slices.Contains(dsts, "172.16.103.128/26") {
		t.Fatalf("own block routed to a peer: %v", dsts)
	}
	if !slices.Contains(dsts, "172.16.9.0/26") || slices.Contains(dsts, "172.16.221.0/24") {
		t.Fatalf("routes = %v, want bad2's free block only", dsts)
	}
}

func TestSyncPeersOnFake(t *testing.T) {
	k := newFakeKernel()
	cfg := w2Config()
	if err := setupNode(k, cfg); err != nil {
		t.Fatal(err)
	}
	sync := func(peers []Peer) {
		t.Helper()
		st, err := DesiredPeerState(cfg, peers)
		if err != nil {
			t.Fatal(err)
		}
		if err := syncPeerState(k, st); err != nil {
			t.Fatal(err)
		}
	}
	sync(seedNodes())
	full := k.dump()
	if n := strings.Count(full, "\nroute 172.16.") + strings.Count(full, "neigh ") + strings.Count(full, "fdb "); n != 10 {
		t.Fatalf("after the first sync (%d entries):\n%s", n, full)
	}
	// Idempotent.
	k.writes = 0
	sync(seedNodes())
	if k.writes != 0 {
		t.Fatalf("second sync made %d writes, want 0", k.writes)
	}
	// w3 leaves: its routes, neighbour and FDB entry go; the blackhole stays.
	sync(seedNodes()[:3])
	got := k.dump()
	if strings.Contains(got, "172.16.132.") || strings.Contains(got, "192.168.1.103") || strings.Contains(got, "66:6b:c0:a8:01:67") {
		t.Fatalf("w3's state survived its departure:\n%s", got)
	}
	if !strings.Contains(got, "route blackhole 172.16.103.128/26") {
		t.Fatalf("blackhole removed by SyncPeers:\n%s", got)
	}
	// w1 moves to another node IP: the FDB entry and MAC follow.
	peers := seedNodes()[:3]
	peers[1].NodeIP = ip("192.168.1.111")
	sync(peers)
	got = k.dump()
	if !strings.Contains(got, "fdb 66:6b:c0:a8:01:6f dev vxlan.calico dst 192.168.1.111") || strings.Contains(got, "192.168.1.101") {
		t.Fatalf("after w1 moved:\n%s", got)
	}
	// No peers: only the node's own state is left.
	sync(nil)
	want := strings.Join([]string{
		"link vxlan.calico vni 4096 local 192.168.1.102 dev eth0 dstport 4789 mtu 1450 mac 66:6b:c0:a8:01:66 addr 172.16.103.128/32",
		"route blackhole 172.16.103.128/26",
	}, "\n")
	if got := k.dump(); got != want {
		t.Fatalf("after removing every peer:\n%s\nwant:\n%s", got, want)
	}
}

func TestSyncPeersSwitchOverlayOnFake(t *testing.T) {
	k := newFakeKernel()
	cfg := w2Config()
	if err := setupNode(k, cfg); err != nil {
		t.Fatal(err)
	}
	st, _ := DesiredPeerState(cfg, seedNodes())
	if err := syncPeerState(k, st); err != nil {
		t.Fatal(err)
	}
	cfg.Overlay = OverlayNone
	cfg.MTU = 1500
	if err := setupNode(k, cfg); err != nil {
		t.Fatal(err)
	}
	st, _ = DesiredPeerState(cfg, seedNodes())
	if err := syncPeerState(k, st); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"route 172.16.132.0/26 via 192.168.1.103 dev eth0",
		"route 172.16.132.64/26 via 192.168.1.103 dev eth0",
		"route 172.16.196.128/26 via 192.168.1.10 dev eth0",
		"route 172.16.221.128/26 via 192.168.1.101 dev eth0",
		"route blackhole 172.16.103.128/26",
	}, "\n")
	if got := k.dump(); got != want {
		t.Fatalf("after switching to overlay none:\n%s\nwant:\n%s", got, want)
	}
}

func TestFake(t *testing.T) {
	f := NewFake()
	cfg := w2Config()
	if err := f.SetupNode(cfg); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncPeers(cfg, seedNodes()); err != nil {
		t.Fatal(err)
	}
	res, err := f.AddPod(cfg, PodConfig{ID: "default/ubuntu-test", NetNSPath: "/run/netns/p", IP: ip("172.16.103.134")})
	if err != nil || res.IP.String() != "172.16.103.134/32" || res.MTU != 1450 {
		t.Fatalf("AddPod = %+v, %v", res, err)
	}
	if _, err := f.AddPod(cfg, PodConfig{ID: "x", NetNSPath: "/run/netns/p"}); err == nil {
		t.Fatal("AddPod without an IP succeeded")
	}
	dump := f.Dump()
	for _, want := range []string{"route blackhole 172.16.103.128/26", "pod default/ubuntu-test " + res.HostInterface,
		"fdb 66:6b:c0:a8:01:67 dev vxlan.calico dst 192.168.1.103"} {
		if !strings.Contains(dump, want) {
			t.Errorf("Dump lacks %q:\n%s", want, dump)
		}
	}
	if err := f.DelPod(cfg, "default/ubuntu-test", res.IP.IP); err != nil || len(f.Pods(cfg.NetNSPath)) != 0 {
		t.Fatalf("DelPod: %v, pods %v", err, f.Pods(cfg.NetNSPath))
	}
}

func TestNodeConfigValidate(t *testing.T) {
	good := w2Config()
	for name, mut := range map[string]func(*NodeConfig){
		"no path":       func(c *NodeConfig) { c.NetNSPath = "" },
		"bad overlay":   func(c *NodeConfig) { c.Overlay = "ipip" },
		"no node IP":    func(c *NodeConfig) { c.NodeIP = nil },
		"no blocks":     func(c *NodeConfig) { c.Blocks = nil },
		"tiny mtu":      func(c *NodeConfig) { c.MTU = 100 },
		"bad vni":       func(c *NodeConfig) { c.VNI = 1 << 24 },
		"IPv6 block":    func(c *NodeConfig) { c.Blocks = cidrs("fd00::/64") },
		"negative port": func(c *NodeConfig) { c.VXLANPort = -1 },
	} {
		c := good
		mut(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: validate succeeded", name)
		}
	}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	none := NodeConfig{NetNSPath: "/x", Overlay: OverlayNone}.withDefaults()
	if err := none.validate(); err != nil || none.MTU != 1500 {
		t.Fatalf("overlay none without blocks: %v, mtu %d", err, none.MTU)
	}
}
