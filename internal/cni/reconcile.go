package cni

import (
	"errors"
	"fmt"
	"net"
)

// nodeKernel is a node's network namespace as SetupNode and SyncPeers see
// it. netlinkNode implements it on the kernel and fakeKernel (tests) in
// memory.
type nodeKernel interface {
	// EnableForwarding sets net.ipv4.ip_forward=1.
	EnableForwarding() error
	// EnsureVXLAN creates the VXLAN device or repairs it to match spec.
	EnsureVXLAN(spec vxlanSpec) error
	// DeleteLink deletes an interface; a missing one is not an error.
	DeleteLink(name string) error
	// Routes returns the main-table IPv4 routes with RouteProtocol.
	Routes() ([]Route, error)
	ReplaceRoute(r Route) error
	DeleteRoute(r Route) error
	// Neighbors returns the permanent IPv4 neighbours on dev (none when
	// dev does not exist).
	Neighbors(dev string) ([]Neighbor, error)
	SetNeighbor(n Neighbor) error
	DeleteNeighbor(n Neighbor) error
	// FDB returns the forwarding entries of the VXLAN device dev (none
	// when dev does not exist).
	FDB(dev string) ([]FDBEntry, error)
	SetFDB(f FDBEntry) error
	DeleteFDB(f FDBEntry) error
}

// vxlanSpec is the desired VXLAN device of a node.
type vxlanSpec struct {
	Name   string
	VNI    int
	Port   int
	Local  net.IP
	Parent string
	MTU    int
	MAC    net.HardwareAddr
	// Addr is the tunnel address, configured as a /32.
	Addr net.IP
}

// vxlanSpecFor returns the VXLAN device a (defaulted) node config asks for.
func vxlanSpecFor(cfg NodeConfig) vxlanSpec {
	return vxlanSpec{
		Name:   VXLANDevice,
		VNI:    cfg.VNI,
		Port:   cfg.VXLANPort,
		Local:  normalizeIP(cfg.NodeIP),
		Parent: cfg.LANInterface,
		MTU:    cfg.MTU,
		MAC:    VTEPMAC(cfg.NodeIP),
		Addr:   TunnelIP(cfg.Blocks),
	}
}

// setupNode brings a node's namespace to the state cfg (defaulted and
// validated) describes: forwarding on, the VXLAN device present (or absent
// without an overlay) and exactly one kin blackhole route per own block.
func setupNode(k nodeKernel, cfg NodeConfig) error {
	if err := k.EnableForwarding(); err != nil {
		return fmt.Errorf("enable ip forwarding: %w", err)
	}
	switch cfg.Overlay {
	case OverlayVXLAN:
		if err := k.EnsureVXLAN(vxlanSpecFor(cfg)); err != nil {
			return fmt.Errorf("vxlan device: %w", err)
		}
	case OverlayNone:
		if err := k.DeleteLink(VXLANDevice); err != nil {
			return fmt.Errorf("delete vxlan device: %w", err)
		}
	}
	routes, err := k.Routes()
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	replace, del := routeDiff(filterRoutes(routes, RouteBlackhole), DesiredBlackholes(cfg))
	var errs []error
	for _, r := range replace {
		if err := k.ReplaceRoute(r); err != nil {
			errs = append(errs, fmt.Errorf("route %s: %w", r, err))
		}
	}
	for _, r := range del {
		if err := k.DeleteRoute(r); err != nil {
			errs = append(errs, fmt.Errorf("delete route %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// syncPeerState applies the difference between the kernel's kin-owned
// unicast routes, permanent neighbours and FDB entries on the VXLAN device
// and the desired state. Entries are added before the routes that use them
// and deleted after.
func syncPeerState(k nodeKernel, desired PeerState) error {
	routes, err := k.Routes()
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	neighs, err := k.Neighbors(VXLANDevice)
	if err != nil {
		return fmt.Errorf("list neighbours: %w", err)
	}
	fdb, err := k.FDB(VXLANDevice)
	if err != nil {
		return fmt.Errorf("list fdb: %w", err)
	}
	routeSet, routeDel := routeDiff(filterRoutes(routes, RouteUnicast), desired.Routes)
	neighSet, neighDel := neighborDiff(neighs, desired.Neighbors)
	fdbSet, fdbDel := fdbDiff(fdb, desired.FDB)

	var errs []error
	for _, f := range fdbSet {
		if err := k.SetFDB(f); err != nil {
			errs = append(errs, fmt.Errorf("fdb %s: %w", f, err))
		}
	}
	for _, n := range neighSet {
		if err := k.SetNeighbor(n); err != nil {
			errs = append(errs, fmt.Errorf("neighbour %s: %w", n, err))
		}
	}
	for _, r := range routeSet {
		if err := k.ReplaceRoute(r); err != nil {
			errs = append(errs, fmt.Errorf("route %s: %w", r, err))
		}
	}
	for _, r := range routeDel {
		if err := k.DeleteRoute(r); err != nil {
			errs = append(errs, fmt.Errorf("delete route %s: %w", r, err))
		}
	}
	for _, n := range neighDel {
		if err := k.DeleteNeighbor(n); err != nil {
			errs = append(errs, fmt.Errorf("delete neighbour %s: %w", n, err))
		}
	}
	for _, f := range fdbDel {
		if err := k.DeleteFDB(f); err != nil {
			errs = append(errs, fmt.Errorf("delete fdb %s: %w", f, err))
		}
	}
	return errors.Join(errs...)
}

func filterRoutes(routes []Route, t RouteType) []Route {
	var out []Route
	for _, r := range routes {
		if r.Type == t {
			out = append(out, r)
		}
	}
	return out
}
