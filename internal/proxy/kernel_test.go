package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	kinnetns "kin/internal/netns"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// inNetns runs fn on a locked OS thread inside the named network namespace
// and moves the thread back afterwards (or discards it if that fails).
func inNetns(t *testing.T, name string, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(name)
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- err
			return
		}
		ferr := fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestKernelClusterIP builds a "node" and a "pod" network namespace joined
// by a veth pair (the node's address on its lo), runs a TCP server in the pod, programs the node with a
// Proxier and connects from the node to the service's ClusterIP and
// NodePort; a service without endpoints must refuse at once.
func TestKernelClusterIP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping real-kernel test: needs root to create network namespaces and nftables")
	}
	for _, bin := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping real-kernel test: %s not found", bin)
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	prefix := "kinproxytest-" + hex.EncodeToString(rnd[:])
	node, pod := prefix+"-node", prefix+"-pod"
	for _, ns := range []string{node, pod} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	run(t, "ip", "-n", node, "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", pod)
	run(t, "ip", "-n", node, "link", "set", "lo", "up")
	run(t, "ip", "-n", node, "addr", "add", "172.16.0.1/24", "dev", "veth0")
	run(t, "ip", "-n", node, "link", "set", "veth0", "up")
	// The node's own address (kernels without the dummy driver exist, so it
	// lives on lo).
	run(t, "ip", "-n", node, "addr", "add", "192.168.1.10/32", "dev", "lo")
	// The node reaches Services from its node address, so ClusterIP
	// traffic must be masqueraded to reach the pod and come back.
	run(t, "ip", "-n", node, "route", "add", "10.96.0.0/12", "dev", "veth0", "src", "192.168.1.10")
	run(t, "ip", "-n", pod, "link", "set", "lo", "up")
	run(t, "ip", "-n", pod, "addr", "add", "172.16.0.10/24", "dev", "eth0")
	run(t, "ip", "-n", pod, "link", "set", "eth0", "up")

	// The pod's server: says hello with the client address it sees.
	var ln net.Listener
	if err := inNetns(t, pod, func() (err error) {
		ln, err = net.Listen("tcp4", "172.16.0.10:8080")
		return err
	}); err != nil {
		t.Fatalf("listen in pod: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "hello from pod to "+c.RemoteAddr().(*net.TCPAddr).IP.String()+"\n")
			c.Close()
		}
	}()

	nft, err := kinnetns.NewNftables("/run/netns/"+node, Family, TableName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nft.Close)
	cfg := Config{NodeName: "w1", NodeIPs: []net.IP{net.ParseIP("192.168.1.10")}, ClusterCIDR: "172.16.0.0/16"}
	p := NewProxier(cfg, nft)
	web := svc("web", "10.96.0.100", nodePort(30080))
	withEps := Snapshot{
		Services: []*corev1.Service{web, svc("empty", "10.96.0.101")},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			slice("web", 8080, ep{ip: "172.16.0.10", node: "w1", ready: true}),
		},
	}
	noEps := Snapshot{Services: withEps.Services}
	ctx := context.Background()

	dial := func(addr string) (string, time.Duration, error) {
		var reply string
		start := time.Now()
		err := inNetns(t, node, func() error {
			c, err := net.DialTimeout("tcp4", addr, 3*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			b, err := io.ReadAll(c)
			reply = string(b)
			return err
		})
		return reply, time.Since(start), err
	}
	expectReply := func(addr string) {
		t.Helper()
		reply, _, err := dial(addr)
		if err != nil {
			t.Fatalf("dial %s from node: %v", addr, err)
		}
		// Masqueraded: the pod sees the node's veth address, not 192.168.1.10.
		if want := "hello from pod to 172.16.0.1\n"; reply != want {
			t.Fatalf("reply from %s = %q, want %q", addr, reply, want)
		}
	}
	expectRefused := func(addr string) {
		t.Helper()
		_, took, err := dial(addr)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: err = %v, want connection refused", addr, err)
		}
		if took > time.Second {
			t.Errorf("dial %s took %v to be refused, want at once", addr, took)
		}
	}

	if err := p.Sync(ctx, withEps); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	expectReply("10.96.0.100:80")
	expectReply("192.168.1.10:30080")
	expectRefused("10.96.0.101:80")

	// Incremental syncs on the real kernel: the endpoint goes away (now
	// refused), then comes back.
	if err := p.Sync(ctx, noEps); err != nil {
		t.Fatalf("incremental sync (no endpoints): %v", err)
	}
	expectRefused("10.96.0.100:80")
	expectRefused("192.168.1.10:30080")
	if err := p.Sync(ctx, withEps); err != nil {
		t.Fatalf("incremental sync (endpoint back): %v", err)
	}
	expectReply("10.96.0.100:80")

	// The kernel's table matches what was computed.
	chains, err := nft.List(ctx, "chains")
	if err != nil {
		t.Fatal(err)
	}
	if len(chains) != len(mustRulesetCfg(t, cfg, withEps).Chains) {
		t.Errorf("kernel has %d chains, want %d: %v", len(chains), len(mustRulesetCfg(t, cfg, withEps).Chains), chains)
	}

	// Every golden case, applied incrementally one after the other, is
	// accepted by the real nft and kernel (affinity sets, fib, reject...).
	for _, c := range append(rulesetCases, rulesetCase{name: "all", snap: baseSnapshot()}, rulesetCase{name: "empty"}) {
		if err := p.Sync(ctx, c.snap); err != nil {
			t.Errorf("incremental sync to %q on the kernel: %v", c.name, err)
		}
		sets, err := nft.List(ctx, "sets")
		if err != nil {
			t.Fatal(err)
		}
		if want := len(mustRulesetCfg(t, cfg, c.snap).Sets); len(sets) != want {
			t.Errorf("%q: kernel has sets %v, want %d", c.name, sets, want)
		}
	}
}

func mustRulesetCfg(t *testing.T, cfg Config, snap Snapshot) *Desired {
	t.Helper()
	d, err := Ruleset(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
