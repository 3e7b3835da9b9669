package cni

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Kernel constants the netlink library does not name
// (include/uapi/linux/ip.h and neighbour.h).
const (
	ipv4DevconfProxyARP = 3  // IPV4_DEVCONF_PROXY_ARP
	ndtaName            = 1  // NDTA_NAME
	ndtaParms           = 6  // NDTA_PARMS
	ndtpaIfindex        = 1  // NDTPA_IFINDEX
	ndtpaProxyDelay     = 13 // NDTPA_PROXY_DELAY, u64 milliseconds
)

// writeSysctlIn writes a sysctl of the network namespace ns. /proc/sys/net
// shows the namespace of the thread that opens it, so a fresh goroutine
// locks a thread, moves it into ns, and never unlocks it: the thread ends
// with the goroutine instead of going back to the scheduler in another
// namespace. Used only for namespace-wide settings, once per node; the
// per-pod device settings go through netlink (setProxyARP). The file is
// only written when its value differs.
func writeSysctlIn(ns netns.NsHandle, key, value string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter namespace: %w", err)
			return
		}
		file := "/proc/sys/" + key
		if cur, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(cur)) == value {
			errc <- nil
			return
		}
		errc <- os.WriteFile(file, []byte(value), 0o644)
	}()
	return <-errc
}

// setProxyARP turns on proxy ARP on an interface and sets its proxy delay
// to 0 through netlink, without entering the namespace: the equivalent of
// net.ipv4.conf.<dev>.proxy_arp=1 and net.ipv4.neigh.<dev>.proxy_delay=0,
// which Calico sets on every host veth. Without the zero delay the kernel
// holds back each proxied ARP reply for up to 0.8 s.
func setProxyARP(s *nl.SocketHandle, ifindex int) error {
	// RTM_SETLINK with IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { PROXY_ARP=1 } } }.
	req := nl.NewNetlinkRequest(unix.RTM_SETLINK, unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: s}
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(ifindex)
	req.AddData(msg)
	af := nl.NewRtAttr(unix.IFLA_AF_SPEC, nil)
	inet := af.AddRtAttr(unix.AF_INET, nil)
	conf := inet.AddRtAttr(unix.IFLA_INET_CONF, nil)
	conf.AddRtAttr(ipv4DevconfProxyARP, nl.Uint32Attr(1))
	req.AddData(af)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("set proxy_arp: %w", err)
	}

	// RTM_SETNEIGHTBL for table "arp_cache" with NDTA_PARMS { IFINDEX, PROXY_DELAY=0 }.
	req = nl.NewNetlinkRequest(unix.RTM_SETNEIGHTBL, unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: s}
	req.AddData(ndtMsg{family: unix.AF_INET})
	req.AddData(nl.NewRtAttr(ndtaName, nl.ZeroTerminated("arp_cache")))
	parms := nl.NewRtAttr(ndtaParms, nil)
	parms.AddRtAttr(ndtpaIfindex, nl.Uint32Attr(uint32(ifindex)))
	parms.AddRtAttr(ndtpaProxyDelay, nl.Uint64Attr(0))
	req.AddData(parms)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("set proxy_delay: %w", err)
	}
	return nil
}

// ndtMsg is struct ndtmsg: the header of neighbour table messages.
type ndtMsg struct{ family uint8 }

func (m ndtMsg) Len() int { return 4 }

func (m ndtMsg) Serialize() []byte {
	b := make([]byte, 4)
	b[0] = m.family
	binary.NativeEndian.PutUint16(b[2:], 0)
	return b
}
