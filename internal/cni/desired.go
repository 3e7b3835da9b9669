package cni

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// RouteType is the kind of a kin-owned route.
type RouteType int

const (
	// RouteUnicast forwards to a gateway or a device.
	RouteUnicast RouteType = iota
	// RouteBlackhole drops silently (a node's own, not yet used addresses).
	RouteBlackhole
)

// Route is a kin-owned IPv4 route in a node's main table.
type Route struct {
	Dst    *net.IPNet
	Type   RouteType
	Gw     net.IP
	Dev    string
	OnLink bool
}

// String formats r the way `ip route` does.
func (r Route) String() string {
	var b strings.Builder
	if r.Type == RouteBlackhole {
		b.WriteString("blackhole ")
	}
	b.WriteString(r.Dst.String())
	if r.Gw != nil {
		fmt.Fprintf(&b, " via %s", r.Gw)
	}
	if r.Dev != "" {
		fmt.Fprintf(&b, " dev %s", r.Dev)
	}
	if r.OnLink {
		b.WriteString(" onlink")
	}
	return b.String()
}

// Equal reports whether r and o are the same route.
func (r Route) Equal(o Route) bool {
	return r.key() == o.key() && r.Type == o.Type && r.Gw.Equal(o.Gw) && r.Dev == o.Dev && r.OnLink == o.OnLink
}

// key identifies a route in the main table: its destination.
func (r Route) key() string { return r.Dst.String() }

// Neighbor is a permanent ARP entry: IP is at MAC on Dev.
type Neighbor struct {
	Dev string
	IP  net.IP
	MAC net.HardwareAddr
}

func (n Neighbor) String() string {
	return fmt.Sprintf("%s dev %s lladdr %s PERMANENT", n.IP, n.Dev, n.MAC)
}

func (n Neighbor) key() string { return n.Dev + "/" + n.IP.String() }

// FDBEntry is a VXLAN forwarding entry: frames for MAC go to the VTEP at Dst.
type FDBEntry struct {
	Dev string
	MAC net.HardwareAddr
	Dst net.IP
}

func (f FDBEntry) String() string {
	return fmt.Sprintf("%s dev %s dst %s self permanent", f.MAC, f.Dev, f.Dst)
}

func (f FDBEntry) key() string { return f.Dev + "/" + f.MAC.String() }

// PeerState is what a node needs to reach the other nodes' pods.
type PeerState struct {
	Routes    []Route
	Neighbors []Neighbor
	FDB       []FDBEntry
}

// DesiredBlackholes returns a blackhole route for each of the node's own
// blocks, so that traffic to an unused address of a local block is dropped
// instead of following the default route (Calico's `blackhole ... proto
// bird`, the seed's `172.16.103.128 ... U ... *` line).
func DesiredBlackholes(cfg NodeConfig) []Route {
	out := make([]Route, 0, len(cfg.Blocks))
	for _, b := range cfg.Blocks {
		out = append(out, Route{Dst: maskedNet(b), Type: RouteBlackhole})
	}
	return out
}

// DesiredPeerState returns the routes, ARP neighbours and FDB entries that
// make the peers' blocks reachable from the node cfg describes. Peers that are the node itself are ignored. A peer
// block that overlaps one of the node's own blocks or an earlier peer's block
// is left out and reported in the returned error; the state is still usable.
// Zero fields of cfg take their defaults.
//
// With VXLAN, for each peer with blocks:
//
//	<block> via <peer tunnel IP> dev vxlan.calico onlink     (each block)
//	<peer tunnel IP> lladdr <peer VTEP MAC> dev vxlan.calico PERMANENT
//	<peer VTEP MAC> dev vxlan.calico dst <peer node IP>      (FDB)
//
// Without an overlay: <block> via <peer node IP> dev <LAN interface>.
func DesiredPeerState(cfg NodeConfig, peers []Peer) (PeerState, error) {
	cfg = cfg.withDefaults()
	var st PeerState
	var errs []error
	claimed := make([]*net.IPNet, 0, len(cfg.Blocks))
	owner := map[*net.IPNet]string{}
	for _, b := range cfg.Blocks {
		claimed = append(claimed, b)
		owner[b] = "this node"
	}
	for _, p := range peers {
		if p.NodeIP == nil || (cfg.NodeName != "" && p.Name == cfg.NodeName) || p.NodeIP.Equal(cfg.NodeIP) {
			continue
		}
		var blocks []*net.IPNet
		for _, b := range p.Blocks {
			if b == nil || b.IP.To4() == nil {
				errs = append(errs, fmt.Errorf("peer %q: block %v: not an IPv4 block", p.Name, b))
				continue
			}
			if i := slices.IndexFunc(claimed, func(c *net.IPNet) bool { return overlaps(c, b) }); i >= 0 {
				errs = append(errs, fmt.Errorf("peer %q: block %s overlaps %s of %s", p.Name, b, claimed[i], owner[claimed[i]]))
				continue
			}
			claimed = append(claimed, b)
			owner[b] = fmt.Sprintf("peer %q", p.Name)
			blocks = append(blocks, b)
		}
		if len(blocks) == 0 {
			continue
		}
		nodeIP := normalizeIP(p.NodeIP)
		switch cfg.Overlay {
		case OverlayVXLAN:
			// The tunnel address is the first address of the peer's first
			// block even if that block had to be left out.
			tunnel := TunnelIP(p.Blocks)
			mac := VTEPMAC(nodeIP)
			for _, b := range blocks {
				st.Routes = append(st.Routes, Route{Dst: maskedNet(b), Gw: tunnel, Dev: VXLANDevice, OnLink: true})
			}
			st.Neighbors = append(st.Neighbors, Neighbor{Dev: VXLANDevice, IP: tunnel, MAC: mac})
			st.FDB = append(st.FDB, FDBEntry{Dev: VXLANDevice, MAC: mac, Dst: nodeIP})
		case OverlayNone:
			for _, b := range blocks {
				st.Routes = append(st.Routes, Route{Dst: maskedNet(b), Gw: nodeIP, Dev: cfg.LANInterface})
			}
		}
	}
	if len(errs) > 0 {
		return st, fmt.Errorf("cni: node %q: peers: %w", cfg.NodeName, errors.Join(errs...))
	}
	return st, nil
}

// routeDiff returns the routes to replace (missing or different) and the
// current routes to delete (not desired).
func routeDiff(current, desired []Route) (replace, del []Route) {
	cur := map[string]Route{}
	for _, r := range current {
		cur[r.key()] = r
	}
	want := map[string]bool{}
	for _, r := range desired {
		want[r.key()] = true
		if c, ok := cur[r.key()]; !ok || !c.Equal(r) {
			replace = append(replace, r)
		}
	}
	for _, r := range current {
		if !want[r.key()] {
			del = append(del, r)
		}
	}
	return replace, del
}

// neighborDiff is routeDiff for ARP entries.
func neighborDiff(current, desired []Neighbor) (set, del []Neighbor) {
	cur := map[string]Neighbor{}
	for _, n := range current {
		cur[n.key()] = n
	}
	want := map[string]bool{}
	for _, n := range desired {
		want[n.key()] = true
		if c, ok := cur[n.key()]; !ok || !bytes.Equal(c.MAC, n.MAC) {
			set = append(set, n)
		}
	}
	for _, n := range current {
		if !want[n.key()] {
			del = append(del, n)
		}
	}
	return set, del
}

// fdbDiff is routeDiff for FDB entries. A MAC with several destinations
// (appended entries) has all but the desired one deleted.
func fdbDiff(current, desired []FDBEntry) (set, del []FDBEntry) {
	want := map[string]FDBEntry{}
	for _, f := range desired {
		want[f.key()] = f
	}
	have := map[string]bool{}
	for _, f := range current {
		w, ok := want[f.key()]
		if ok && w.Dst.Equal(f.Dst) {
			have[f.key()] = true
			continue
		}
		del = append(del, f)
	}
	for _, f := range desired {
		if !have[f.key()] {
			set = append(set, f)
		}
	}
	return set, del
}

func maskedNet(n *net.IPNet) *net.IPNet {
	ip := normalizeIP(n.IP)
	ones, bits := n.Mask.Size()
	if len(ip) == 4 && bits == 128 {
		ones, bits = ones-96, 32
	}
	mask := net.CIDRMask(ones, bits)
	return &net.IPNet{IP: ip.Mask(mask), Mask: mask}
}

func overlaps(a, b *net.IPNet) bool {
	a, b = maskedNet(a), maskedNet(b)
	return a.Contains(b.IP) || b.Contains(a.IP)
}
