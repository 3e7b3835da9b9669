package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Do runs fn on a locked OS thread inside the sandbox's network namespace
// and returns its error. The thread is moved back to its own network
// namespace afterwards; if that fails the thread is discarded. Goroutines
// that fn starts run outside the namespace, but sockets created by fn itself
// belong to the namespace for their whole life. A panic in fn is raised
// again in the caller.
func (s *Sandbox) Do(fn func() error) error {
	return s.inNS(s.NetPath, unix.CLONE_NEWNET, fn)
}

// inNS runs fn on a locked thread that entered the namespace at path.
func (s *Sandbox) inNS(path string, nstype int, fn func() error) error {
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	defer unix.Close(target)
	kind := map[int]string{unix.CLONE_NEWNET: "net", unix.CLONE_NEWUTS: "uts"}[nstype]

	type result struct {
		err      error
		panicked bool
		value    any
	}
	var r result
	runLocked(func() bool {
		orig, err := unix.Open("/proc/thread-self/ns/"+kind, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			r.err = fmt.Errorf("netns: %w", err)
			return true
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, nstype); err != nil {
			r.err = fmt.Errorf("netns: sandbox %s: enter %s namespace: %w", s, kind, err)
			return true
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					r.panicked, r.value = true, v
				}
			}()
			r.err = fn()
		}()
		if err := unix.Setns(orig, nstype); err != nil {
			// The thread is discarded.
			if !r.panicked && r.err == nil {
				r.err = fmt.Errorf("netns: sandbox %s: leave %s namespace: %w", s, kind, err)
			}
			return false
		}
		return true
	})
	if r.panicked {
		panic(r.value)
	}
	return r.err
}

// runLocked runs fn on a goroutine locked to an OS thread that is not the
// process's main thread, and waits for it. When fn returns true the thread
// goes back to the runtime; when it returns false (its namespaces were
// changed for good) the goroutine exits locked, which ends the thread.
//
// The main thread must never change namespaces: /proc/self shows its view
// of the system, and a main thread left locked is parked, not ended. While
// a goroutine holds the main thread locked, no other goroutine can run on
// it, so a goroutine started from there gets another thread.
func runLocked(fn func() (reuse bool)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			runLocked(fn)
			runtime.UnlockOSThread()
			return
		}
		if fn() {
			runtime.UnlockOSThread()
		}
	}()
	<-done
}

// checkHost refuses host names in addresses: resolving them would use the
// machine's resolver outside the sandbox.
func checkHost(network, addr string) error {
	var host string
	switch {
	case strings.HasPrefix(network, "unix"):
		return nil
	case strings.HasPrefix(network, "ip"):
		host = addr
	default:
		h, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("netns: address %q: %w", addr, err)
		}
		host = h
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	if host == "" || net.ParseIP(host) != nil {
		return nil
	}
	return fmt.Errorf("netns: address %q: host must be an IP address inside a sandbox", addr)
}

// Listen creates a listener inside the sandbox's network namespace. The host
// part of addr must be empty or an IP address.
func (s *Sandbox) Listen(network, addr string) (net.Listener, error) {
	if err := checkHost(network, addr); err != nil {
		return nil, err
	}
	var l net.Listener
	err := s.Do(func() (err error) {
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// ListenPacket creates a packet connection inside the sandbox's network
// namespace ("udp", "ip4:icmp", ...). The host part of addr must be empty or
// an IP address.
func (s *Sandbox) ListenPacket(network, addr string) (net.PacketConn, error) {
	if err := checkHost(network, addr); err != nil {
		return nil, err
	}
	var c net.PacketConn
	err := s.Do(func() (err error) {
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// Dial connects from inside the sandbox's network namespace. The host part
// of addr must be an IP address.
func (s *Sandbox) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := checkHost(network, addr); err != nil {
		return nil, err
	}
	var c net.Conn
	err := s.Do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Command returns a command that runs a host program inside the sandbox's
// network, UTS and mount namespaces, through nsenter(1) from util-linux. The
// program starts in the directory "/" (cmd.Dir is not honoured) and is looked
// up in PATH inside the sandbox. Its pid is the program's own: nsenter execs
// it without forking.
func (s *Sandbox) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := make([]string, 0, len(args)+5)
	argv = append(argv, "--net="+s.NetPath, "--uts="+s.UTSPath, "--mount="+s.MntPath, "--", name)
	argv = append(argv, args...)
	return exec.CommandContext(ctx, "nsenter", argv...)
}

// SetSysctl writes a sysctl of the sandbox's network namespace, e.g.
// SetSysctl("net.ipv4.ip_forward", "1"). Only net.* sysctls belong to a
// network namespace; others are refused.
func (s *Sandbox) SetSysctl(name, value string) error {
	return s.SetSysctls(map[string]string{name: value})
}

// sysctlMu serializes sysctl writes in this process. The kernel handles some
// net sysctls (ip_forward, disable_ipv6 of "all") with rtnl_trylock and
// restarts the write until it gets the lock: writers spin on a CPU while
// another holds it, and several at once would starve the holder.
var sysctlMu sync.Mutex

// SetSysctls writes several sysctls of the sandbox's network namespace at
// once, in the order of their names. A sysctl the kernel does not have is
// an error wrapping fs.ErrNotExist.
func (s *Sandbox) SetSysctls(values map[string]string) error {
	names := make([]string, 0, len(values))
	for name := range values {
		if !strings.HasPrefix(name, "net.") || strings.Contains(name, "..") || strings.Contains(name, "/") {
			return fmt.Errorf("netns: sandbox %s: sysctl %q is not a network namespace sysctl", s, name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	sysctlMu.Lock()
	defer sysctlMu.Unlock()
	return s.Do(func() error {
		for _, name := range names {
			path := filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
			if err := os.WriteFile(path, []byte(values[name]), 0o644); err != nil {
				return fmt.Errorf("netns: sandbox %s: sysctl %s: %w", s, name, err)
			}
		}
		return nil
	})
}

// Sysctl reads a sysctl of the sandbox's network namespace.
func (s *Sandbox) Sysctl(name string) (string, error) {
	if !strings.HasPrefix(name, "net.") || strings.Contains(name, "..") || strings.Contains(name, "/") {
		return "", fmt.Errorf("netns: sandbox %s: sysctl %q is not a network namespace sysctl", s, name)
	}
	path := filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
	var v string
	err := s.Do(func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("netns: sandbox %s: sysctl %s: %w", s, name, err)
		}
		v = strings.TrimSpace(string(b))
		return nil
	})
	return v, err
}

// Netlink returns a rtnetlink handle whose socket lives in the sandbox's
// network namespace; the caller closes it with Close (Delete).
func (s *Sandbox) Netlink() (*netlink.Handle, error) {
	var h *netlink.Handle
	err := s.Do(func() (err error) {
		// A socket belongs to the namespace of the thread that made it.
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: sandbox %s: netlink: %w", s, err)
	}
	return h, nil
}

// NetNSHandle opens the sandbox's network namespace file; the caller closes
// it. netlink uses it for links moved into the namespace (LinkSetNsFd,
// Veth.PeerNamespace).
func (s *Sandbox) NetNSHandle() (vnetns.NsHandle, error) {
	ns, err := vnetns.GetFromPath(s.NetPath)
	if err != nil {
		return vnetns.None(), fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	return ns, nil
}
