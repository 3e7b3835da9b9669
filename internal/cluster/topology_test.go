package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"kin/internal/netns"
)

// testCluster returns a unique cluster name and takes the cluster down when
// the test ends, also on failure. It skips the test when not root.
func testCluster(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipping: real-kernel topology test needs root")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "kt" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		if err := Down(name); err != nil {
			tb.Errorf("Down(%s): %v", name, err)
		}
	})
	return name
}

func needTool(tb testing.TB, name string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		tb.Skipf("skipping: %s not installed", name)
	}
}

func run(t *testing.T, sb *netns.Sandbox, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := sb.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), sb, err, out)
	}
	return string(out)
}

// rootLinks lists the machine's own interfaces, which kin must never touch.
func rootLinks(t *testing.T) []string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, fmt.Sprintf("%s/%d/%v", i.Name, i.Index, i.Flags))
	}
	return names
}

// reach checks that from can open a TCP connection to to's address and read
// what a listener in to's sandbox says.
func reach(t *testing.T, from, to *netns.Sandbox, addr net.IP, say string) {
	t.Helper()
	l, err := to.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, _ = c.Write([]byte(say))
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := from.Dial(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("%s -> %s: %v", from, l.Addr(), err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != say {
		t.Fatalf("%s -> %s: read %q, %v; want %q", from, l.Addr(), got, err, say)
	}
}

// icmpEcho sends one ICMP echo from sb to dst and waits for the reply, for
// machines without ping(8).
func icmpEcho(sb *netns.Sandbox, dst net.IP) error {
	c, err := sb.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return err
	}
	defer c.Close()
	id := uint16(os.Getpid())
	msg := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'k', 'i', 'n'}
	binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	if _, err := c.WriteTo(msg, &net.IPAddr{IP: dst}); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if n >= 8 && buf[0] == 0 && from.(*net.IPAddr).IP.Equal(dst) && binary.BigEndian.Uint16(buf[4:]) == id {
			return nil
		}
	}
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func TestUpDefault(t *testing.T) {
	needTool(t, "nsenter")
	name := testCluster(t)
	before := rootLinks(t)
	start := time.Now()
	topo, err := Up(context.Background(), DefaultConfig(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Up of the default topology took %v", time.Since(start))
	if !slices.Equal(rootLinks(t), before) {
		t.Errorf("the machine's interfaces changed:\nbefore %v\nafter  %v", before, rootLinks(t))
	}

	var names []string
	for _, n := range topo.Nodes {
		names = append(names, n.Name+"="+n.Address.String()+"/"+n.Role)
	}
	want := []string{"cp-k8s=192.168.1.10/control-plane", "w1-k8s=192.168.1.101/worker", "w2-k8s=192.168.1.102/worker", "w3-k8s=192.168.1.103/worker"}
	if !slices.Equal(names, want) {
		t.Errorf("nodes = %v, want %v", names, want)
	}
	client, ok := topo.Host("client")
	if !ok || !client.Address.Equal(net.ParseIP("192.168.1.1")) || client.Interface != "eth0" {
		t.Fatalf("host client = %+v", client)
	}
	w1, ok := topo.Node("w1-k8s")
	if !ok {
		t.Fatal("no node w1-k8s")
	}

	// ping from the external host to a worker.
	if _, err := exec.LookPath("ping"); err == nil {
		out := run(t, client.Sandbox, "ping", "-c1", "-W1", "192.168.1.101")
		if !strings.Contains(out, "1 received") {
			t.Errorf("ping: %s", out)
		}
	} else {
		t.Log("ping(8) not installed: sending the ICMP echo from Go")
	}
	if err := icmpEcho(client.Sandbox, w1.Address); err != nil {
		t.Errorf("ICMP echo client -> w1-k8s: %v", err)
	}
	reach(t, client.Sandbox, w1.Sandbox, w1.Address, "w1 says hi")
	cp, _ := topo.Node("cp-k8s")
	reach(t, w1.Sandbox, cp.Sandbox, cp.Address, "cp says hi")

	// Hostname, /etc/hosts, /etc/hostname and resolv.conf as in the labs.
	if got := strings.TrimSpace(run(t, w1.Sandbox, "hostname")); got != "w1-k8s" {
		t.Errorf("hostname = %q", got)
	}
	wantHosts := "127.0.0.1 localhost\n192.168.1.10 cp-k8s\n192.168.1.101 w1-k8s\n192.168.1.102 w2-k8s\n192.168.1.103 w3-k8s\n192.168.1.1 client\n"
	for _, sb := range []*netns.Sandbox{cp.Sandbox, client.Sandbox} {
		if got := run(t, sb, "cat", "/etc/hosts"); got != wantHosts {
			t.Errorf("%s /etc/hosts = %q, want %q", sb, got, wantHosts)
		}
	}
	if got := run(t, cp.Sandbox, "cat", "/etc/hostname"); got != "cp-k8s\n" {
		t.Errorf("/etc/hostname = %q", got)
	}
	if got := run(t, cp.Sandbox, "cat", "/etc/resolv.conf"); strings.Contains(got, "\nnameserver") || strings.HasPrefix(got, "nameserver") {
		t.Errorf("/etc/resolv.conf has a nameserver: %q", got)
	}

	// Interfaces, addresses, routes and sysctls of a node.
	h, err := w1.Sandbox.Netlink()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if got := eth.Attrs().HardwareAddr.String(); got != "02:6b:c0:a8:01:65" {
		t.Errorf("eth0 MAC = %s, want 02:6b:c0:a8:01:65", got)
	}
	addrs, _ := h.AddrList(eth, netlink.FAMILY_ALL)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "192.168.1.101/24" {
		t.Errorf("eth0 addresses = %v, want only 192.168.1.101/24", addrs)
	}
	routes, _ := h.RouteList(nil, netlink.FAMILY_V4)
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			t.Errorf("default route in %s: %v", w1.Sandbox, r)
		}
	}
	if v, err := w1.Sandbox.Sysctl("net.ipv4.ip_forward"); err != nil || v != "1" {
		t.Errorf("ip_forward in w1-k8s = %q, %v", v, err)
	}
	if v, err := client.Sandbox.Sysctl("net.ipv4.ip_forward"); err != nil || v != "0" {
		t.Errorf("ip_forward in client = %q, %v", v, err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Log("ip(8) not installed: not checking ip netns exec")
	} else if out, err := exec.Command("ip", "netns", "exec", netns.NetNSName(name, "node-w1-k8s"), "ip", "-4", "-o", "addr", "show", "dev", "eth0").CombinedOutput(); err != nil || !strings.Contains(string(out), "192.168.1.101/24") {
		t.Errorf("ip netns exec: %v\n%s", err, out)
	}

	// The LAN: one bridge with a port per node and host.
	lh, err := topo.LAN.Netlink()
	if err != nil {
		t.Fatal(err)
	}
	defer lh.Close()
	br, err := lh.LinkByName("br0")
	if err != nil {
		t.Fatal(err)
	}
	links, _ := lh.LinkList()
	var ports []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			ports = append(ports, l.Attrs().Name)
		}
	}
	slices.Sort(ports)
	if want := []string{"v-client", "v-cp-k8s", "v-w1-k8s", "v-w2-k8s", "v-w3-k8s"}; !slices.Equal(ports, want) {
		t.Errorf("bridge ports = %v, want %v", ports, want)
	}
}

func TestUpIdempotentAndDown(t *testing.T) {
	needTool(t, "nsenter")
	name := testCluster(t)
	cfg := DefaultConfig(name)
	topo, err := Up(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w2, _ := topo.Node("w2-k8s")
	client, _ := topo.Host("client")
	ino := inode(t, w2.Sandbox.NetPath)
	// A listener made before the second Up still answers after it.
	l, err := w2.Sandbox.Listen("tcp", "192.168.1.102:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("still here"))
			c.Close()
		}
	}()
	sleep := w2.Sandbox.Command(context.Background(), "sleep", "100")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleep.Process.Kill() })
	waited := make(chan error, 1)
	go func() { waited <- sleep.Wait() }()

	start := time.Now()
	topo2, err := Up(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second Up took %v", time.Since(start))
	w2b, _ := topo2.Node("w2-k8s")
	if inode(t, w2b.Sandbox.NetPath) != ino {
		t.Error("second Up made a new network namespace for w2-k8s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Sandbox.Dial(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("listener unreachable after the second Up: %v", err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "still here" {
		t.Errorf("read %q", got)
	}

	// Damage: the LAN port of w3 and the address of cp are gone; Up repairs.
	lh, err := topo.LAN.Netlink()
	if err != nil {
		t.Fatal(err)
	}
	if p, err := lh.LinkByName(PortName("w3-k8s")); err != nil {
		t.Fatal(err)
	} else if err := lh.LinkDel(p); err != nil {
		t.Fatal(err)
	}
	lh.Close()
	cp, _ := topo.Node("cp-k8s")
	ch, err := cp.Sandbox.Netlink()
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := ch.LinkByName("eth0")
	addrs, _ := ch.AddrList(eth, netlink.FAMILY_V4)
	for _, a := range addrs {
		_ = ch.AddrDel(eth, &a)
	}
	ch.Close()
	topo3, err := Up(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w3, _ := topo3.Node("w3-k8s")
	cp3, _ := topo3.Node("cp-k8s")
	t0 := time.Now()
	reach(t, client.Sandbox, w3.Sandbox, w3.Address, "w3 repaired")
	t.Logf("reach w3 %v", time.Since(t0))
	reach(t, client.Sandbox, cp3.Sandbox, cp3.Address, "cp repaired")

	// A node left out of the config is removed.
	small := cfg.DeepCopy()
	small.Nodes = small.Nodes[:3]
	topo4, err := Up(context.Background(), small)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := topo4.Node("w3-k8s"); ok || len(topo4.Nodes) != 3 {
		t.Errorf("nodes after removing w3 = %d", len(topo4.Nodes))
	}
	if _, err := netns.Open(name, NodeSandbox("w3-k8s")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("w3-k8s sandbox still there: %v", err)
	}

	// Down removes everything, processes included.
	if err := Down(name); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Error("sleep in w2-k8s still running after Down")
	}
	if left, _ := filepath.Glob(filepath.Join(netns.NetNSDir, "kin-"+name+"-*")); len(left) > 0 {
		t.Errorf("named namespaces left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(netns.RunDir, name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s/%s still there: %v", netns.RunDir, name, err)
	}
	mi, _ := os.ReadFile("/proc/thread-self/mountinfo")
	if bytes.Contains(mi, []byte(name)) {
		t.Errorf("mounts left:\n%s", mi)
	}
	if err := Down(name); err != nil {
		t.Errorf("second Down: %v", err)
	}
}

func TestUpRebuildsLostSandboxes(t *testing.T) {
	name := testCluster(t)
	cfg := DefaultConfig(name)
	if _, err := Up(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// The LAN and a node are lost (a half-made sandbox, a reboot, a user's
	// ip netns delete): the next Up makes them again and plugs everyone in.
	if err := netns.Remove(name, LANSandbox); err != nil {
		t.Fatal(err)
	}
	if err := netns.Remove(name, NodeSandbox("w2-k8s")); err != nil {
		t.Fatal(err)
	}
	topo, err := Up(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := topo.Host("client")
	for _, n := range topo.Nodes {
		reach(t, client.Sandbox, n.Sandbox, n.Address, "back on "+n.Name)
	}
}

func TestTwoClustersSideBySide(t *testing.T) {
	a, b := testCluster(t), testCluster(t)
	ta, err := Up(context.Background(), DefaultConfig(a))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Up(context.Background(), DefaultConfig(b))
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := ta.Host("client")
	cb, _ := tb.Host("client")
	wa, _ := ta.Node("w1-k8s")
	wb, _ := tb.Node("w1-k8s")
	reach(t, ca.Sandbox, wa.Sandbox, wa.Address, "cluster a")
	reach(t, cb.Sandbox, wb.Sandbox, wb.Address, "cluster b")

	// A listener on w1-k8s of cluster a is not reachable from cluster b's
	// client, although the addresses are the same.
	l, err := wa.Sandbox.Listen("tcp", "192.168.1.101:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := cb.Sandbox.Dial(ctx, "tcp", l.Addr().String()); err == nil {
		c.Close()
		t.Fatal("cluster b's client reached cluster a's w1-k8s")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial from cluster b: %v, want connection refused by b's own w1-k8s", err)
	}

	// Taking a down leaves b working.
	if err := Down(a); err != nil {
		t.Fatal(err)
	}
	reach(t, cb.Sandbox, wb.Sandbox, wb.Address, "b still up")
}

func TestUpCustomConfig(t *testing.T) {
	name := testCluster(t)
	cfg, err := ParseConfig([]byte(`apiVersion: kin.dev/v1alpha1
kind: Cluster
name: `+name+`
networking:
  lan: 10.20.0.0/16
nodes:
- name: control-plane-node-with-a-long-name
  role: control-plane
- name: worker
hosts: []
`), "custom.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo, err := Up(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Hosts) != 0 || len(topo.Nodes) != 2 {
		t.Fatalf("topology = %d nodes, %d hosts", len(topo.Nodes), len(topo.Hosts))
	}
	cp, w := topo.Nodes[0], topo.Nodes[1]
	if cp.Address.String() != "10.20.0.10" || w.Address.String() != "10.20.0.101" {
		t.Errorf("addresses = %v, %v", cp.Address, w.Address)
	}
	reach(t, w.Sandbox, cp.Sandbox, cp.Address, "long names work")
}

// BenchmarkUpDown makes and removes the default topology (1 LAN, 4 nodes,
// 1 host).
func BenchmarkUpDown(b *testing.B) {
	name := testCluster(b)
	cfg := DefaultConfig(name)
	var up, down time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := Up(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
		up += time.Since(start)
		start = time.Now()
		if err := Down(name); err != nil {
			b.Fatal(err)
		}
		down += time.Since(start)
	}
	b.ReportMetric(float64(up.Microseconds())/float64(b.N)/1000, "up-ms/op")
	b.ReportMetric(float64(down.Microseconds())/float64(b.N)/1000, "down-ms/op")
}

// BenchmarkUp makes the default topology of a new cluster each time, as
// `kin up` does; the clusters are taken down after the timing.
func BenchmarkUp(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipping: real-kernel topology benchmark needs root")
	}
	var names []string
	b.Cleanup(func() {
		for _, n := range names {
			if err := Down(n); err != nil {
				b.Errorf("Down(%s): %v", n, err)
			}
		}
	})
	for i := 0; i < b.N; i++ {
		raw := make([]byte, 4)
		_, _ = rand.Read(raw)
		name := "kb" + hex.EncodeToString(raw)
		names = append(names, name)
		if _, err := Up(context.Background(), DefaultConfig(name)); err != nil {
			b.Fatal(err)
		}
	}
}
