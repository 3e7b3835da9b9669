package cni

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// testLab is a private topology for real-kernel tests: a "lan" namespace
// with a bridge, node namespaces attached to it by veths, pod namespaces.
// Every namespace is named <prefix>-<name> with a random prefix and is
// deleted when the test ends, whatever happened. Traffic stays inside them.
type testLab struct {
	tb      testing.TB
	prefix  string
	lan     string
	net     *Network
	handles map[string]*netlink.Handle
}

const labSubnet = "192.168.250." // test-private LAN, only inside the lab's namespaces

func newTestLab(tb testing.TB) *testLab {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("cni: real-kernel test skipped: creating network namespaces needs root")
	}
	l := &testLab{tb: tb, prefix: fmt.Sprintf("kc%06x", rand.IntN(1<<24)), net: New(), handles: map[string]*netlink.Handle{}}
	// Cleanups run last-registered first: namespaces are deleted, then the
	// sockets that keep them alive are closed.
	tb.Cleanup(func() {
		l.net.Close()
		for _, h := range l.handles {
			h.Close()
		}
	})
	l.lan = l.newNS("lan")
	h := l.handle(l.lan)
	la := netlink.NewLinkAttrs()
	la.Name = "br0"
	la.Flags = net.FlagUp
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
		tb.Fatalf("create lan bridge: %v", err)
	}
	return l
}

// newNS creates a named network namespace, deleted when the test ends,
// and returns its path.
func (l *testLab) newNS(name string) string {
	l.tb.Helper()
	full := l.prefix + "-" + name
	path := l.newNSNoCleanup(full)
	l.tb.Cleanup(func() {
		if err := netns.DeleteNamed(full); err != nil {
			l.tb.Errorf("delete namespace %s: %v", full, err)
		}
	})
	if err := l.handle(path).LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: loopbackIndex}}); err != nil {
		l.tb.Fatalf("lo up in %s: %v", full, err)
	}
	return path
}

// newNSNoCleanup creates the namespace full and returns its path.
func (l *testLab) newNSNoCleanup(full string) string {
	l.tb.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		h, err := netns.NewNamed(full)
		if err == nil {
			h.Close()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		l.tb.Fatalf("create namespace %s: %v", full, err)
	}
	return "/run/netns/" + full
}

// handle returns a netlink handle in the namespace at path.
func (l *testLab) handle(path string) *netlink.Handle {
	l.tb.Helper()
	if h := l.handles[path]; h != nil {
		return h
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		l.tb.Fatalf("open %s: %v", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		l.tb.Fatalf("netlink handle in %s: %v", path, err)
	}
	l.handles[path] = h
	return h
}

// addNode creates a node namespace with eth0 on the lab LAN at
// 192.168.250.<host>/24.
func (l *testLab) addNode(name string, host int, blocks ...*net.IPNet) NodeConfig {
	l.tb.Helper()
	path := l.newNS(name)
	ns, err := netns.GetFromPath(path)
	if err != nil {
		l.tb.Fatal(err)
	}
	defer ns.Close()
	lan := l.handle(l.lan)
	br, err := lan.LinkByName("br0")
	if err != nil {
		l.tb.Fatal(err)
	}
	la := netlink.NewLinkAttrs()
	la.Name = "v-" + name
	la.MasterIndex = br.Attrs().Index
	la.Flags = net.FlagUp
	if err := lan.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "eth0", PeerNamespace: netlink.NsFd(ns), PeerTxQLen: -1}); err != nil {
		l.tb.Fatalf("node %s: veth: %v", name, err)
	}
	h := l.handle(path)
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		l.tb.Fatal(err)
	}
	nodeIP := net.ParseIP(fmt.Sprintf("%s%d", labSubnet, host)).To4()
	if err := h.AddrAdd(eth0, &netlink.Addr{IPNet: &net.IPNet{IP: nodeIP, Mask: net.CIDRMask(24, 32)}}); err != nil {
		l.tb.Fatal(err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		l.tb.Fatal(err)
	}
	return NodeConfig{NetNSPath: path, NodeName: name, NodeIP: nodeIP, Blocks: blocks}
}

// inNS runs fn on a thread inside the namespace at path. The thread is
// never unlocked, so it ends with fn's goroutine.
func inNS(path string, fn func() error) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return err
	}
	defer ns.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// readSysctl reads /proc/sys/<key> inside the namespace at path.
func readSysctl(tb testing.TB, path, key string) string {
	tb.Helper()
	var v []byte
	err := inNS(path, func() (err error) {
		v, err = os.ReadFile("/proc/sys/" + key)
		return err
	})
	if err != nil {
		tb.Fatalf("read %s in %s: %v", key, path, err)
	}
	return strings.TrimSpace(string(v))
}

// ping sends ICMP echo requests from the namespace at path to dst until
// one is answered or the timeout passes.
func ping(path string, dst net.IP, timeout time.Duration) error {
	return inNS(path, func() error {
		c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		id := uint16(rand.IntN(1 << 16))
		deadline := time.Now().Add(timeout)
		buf := make([]byte, 1500)
		for seq := uint16(1); time.Now().Before(deadline); seq++ {
			if _, err := c.WriteTo(echoRequest(id, seq), &net.IPAddr{IP: dst}); err != nil {
				// Unreachable routes fail at once; wait a little and retry.
				time.Sleep(20 * time.Millisecond)
				continue
			}
			c.SetReadDeadline(minTime(deadline, time.Now().Add(200*time.Millisecond)))
			for {
				n, from, err := c.ReadFrom(buf)
				if err != nil {
					break
				}
				if n >= 8 && buf[0] == 0 && binary.BigEndian.Uint16(buf[4:]) == id && from.(*net.IPAddr).IP.Equal(dst) {
					return nil
				}
			}
		}
		return fmt.Errorf("ping %s: no reply within %v", dst, timeout)
	})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func echoRequest(id, seq uint16) []byte {
	b := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), byte(seq >> 8), byte(seq), 'k', 'i', 'n', '!'}
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[2:], ^uint16(sum))
	return b
}

// serveEcho starts a TCP echo server on addr inside the namespace at path.
func serveEcho(tb testing.TB, path, addr string) {
	tb.Helper()
	var ln net.Listener
	if err := inNS(path, func() (err error) {
		ln, err = net.Listen("tcp4", addr)
		return err
	}); err != nil {
		tb.Fatalf("listen on %s: %v", addr, err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
}

// echoRoundTrip sends n bytes to the echo server at addr from the namespace
// at path and checks that they come back.
func echoRoundTrip(path, addr string, n int) error {
	return inNS(path, func() error {
		c, err := net.DialTimeout("tcp4", addr, 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		out := make([]byte, n)
		for i := range out {
			out[i] = byte(i * 7)
		}
		werr := make(chan error, 1)
		go func() {
			_, err := c.Write(out)
			werr <- err
		}()
		in := make([]byte, n)
		if _, err := io.ReadFull(c, in); err != nil {
			return fmt.Errorf("read echo: %w", err)
		}
		if err := <-werr; err != nil {
			return err
		}
		if !bytes.Equal(in, out) {
			return errors.New("echo differs")
		}
		return nil
	})
}
