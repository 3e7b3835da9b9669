package cni

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
)

// Names and defaults of kin's pod network. They follow Calico's so that the
// labs print what a Calico cluster prints.
const (
	// VXLANDevice is the name of a node's VXLAN tunnel endpoint (Calico's).
	VXLANDevice = "vxlan.calico"
	// HostVethPrefix starts the name of every pod's host-side veth.
	HostVethPrefix = "cali"
	// PodInterface is the name of the pod's side of the veth pair.
	PodInterface = "eth0"

	// OverlayVXLAN encapsulates pod traffic between nodes in VXLAN.
	OverlayVXLAN = "vxlan"
	// OverlayNone routes pod traffic between nodes directly over the LAN;
	// the nodes must share one L2 segment.
	OverlayNone = "none"

	// DefaultLANInterface is the node's interface on the cluster LAN.
	DefaultLANInterface = "eth0"
	// DefaultMTU is the pod MTU without an overlay.
	DefaultMTU = 1500
	// DefaultVXLANMTU is the pod and tunnel MTU with VXLAN: 1500 minus the
	// 50 bytes of outer Ethernet, IP, UDP and VXLAN headers.
	DefaultVXLANMTU = 1450
	// DefaultVNI is Calico's VXLAN network identifier.
	DefaultVNI = 4096
	// DefaultVXLANPort is the IANA VXLAN port, Calico's default.
	DefaultVXLANPort = 4789

	// RouteProtocol marks the routes kin owns on a node (blackholes for the
	// node's own blocks and routes to other nodes' blocks), as Felix marks
	// its VXLAN routes ("proto 80" in `ip route`). Routes with any other
	// protocol are never changed.
	RouteProtocol = 80

	// DefaultBlockSize is the prefix length of an IPAM block (Calico's).
	DefaultBlockSize = 26
)

var (
	// GatewayIP is the pod's default gateway. No interface owns it: the
	// host veth answers ARP for it (proxy ARP), as in Calico.
	GatewayIP = net.IPv4(169, 254, 1, 1).To4()
	// HostVethMAC is the MAC address of every host-side veth (Calico's).
	HostVethMAC = net.HardwareAddr{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	// DefaultPodCIDR is the cluster's default pod network.
	DefaultPodCIDR = &net.IPNet{IP: net.IPv4(172, 16, 0, 0).To4(), Mask: net.CIDRMask(16, 32)}
)

// NodeConfig describes one node's pod network.
type NodeConfig struct {
	// NetNSPath is the node's network namespace file (/run/netns/NAME).
	NetNSPath string
	// NodeName is the Kubernetes node name; only used in messages.
	NodeName string
	// NodeIP is the node's address on the LAN, the VXLAN source address.
	NodeIP net.IP
	// LANInterface is the node's interface on the LAN (default "eth0").
	LANInterface string
	// Blocks are the node's IPAM blocks; the first address of the first
	// block is the node's tunnel address.
	Blocks []*net.IPNet
	// Overlay is OverlayVXLAN (the default) or OverlayNone.
	Overlay string
	// MTU is the MTU of the pods' interfaces and of the tunnel device
	// (default 1450 with VXLAN, 1500 without).
	MTU int
	// VNI is the VXLAN network identifier (default 4096).
	VNI int
	// VXLANPort is the VXLAN UDP port (default 4789).
	VXLANPort int
}

// Peer is another node of the cluster as SyncPeers needs it.
type Peer struct {
	Name   string
	NodeIP net.IP
	Blocks []*net.IPNet
}

// PodConfig describes one pod's network attachment.
type PodConfig struct {
	// ID identifies the pod on its node; the host veth name is derived from
	// it (see HostVethName). Use CalicoWorkloadID for Calico's exact names.
	ID string
	// NetNSPath is the pod's network namespace file.
	NetNSPath string
	// IP is the pod's address (from BlockIPAM).
	IP net.IP
}

// PodResult is what AddPod configured, CNI-result style.
type PodResult struct {
	// HostInterface is the name of the host-side veth (cali...).
	HostInterface string
	// HostIndex is the host-side veth's interface index in the node.
	HostIndex int
	// Interface is the pod's interface name (eth0).
	Interface string
	// MAC is the pod interface's MAC address.
	MAC net.HardwareAddr
	// IP is the pod's address with its /32 mask.
	IP *net.IPNet
	// Gateway is the pod's default gateway (169.254.1.1).
	Gateway net.IP
	// MTU is the pod interface's MTU.
	MTU int
}

// Interface is the pod network as the node agent uses it. *Network
// implements it on the kernel and *Fake in memory.
type Interface interface {
	SetupNode(cfg NodeConfig) error
	SyncPeers(cfg NodeConfig, peers []Peer) error
	AddPod(node NodeConfig, pod PodConfig) (PodResult, error)
	DelPod(node NodeConfig, podID string, podIP net.IP) error
}

// HostVethName returns the name of a pod's host-side veth: "cali" and the
// first 11 hex digits of the SHA-1 of the pod ID, 15 characters in all
// (Calico's naming).
func HostVethName(podID string) string {
	sum := sha1.Sum([]byte(podID))
	return HostVethPrefix + hex.EncodeToString(sum[:])[:11]
}

// CalicoWorkloadID returns the pod ID that makes HostVethName produce the
// interface name Calico gives the pod ("namespace.name").
func CalicoWorkloadID(namespace, name string) string {
	return namespace + "." + name
}

// VTEPMAC returns the MAC address of a node's VXLAN device, derived from its
// node IP so that every node can compute every other node's VTEP MAC without
// exchanging it: 66:6b followed by the four bytes of the IPv4 address (the
// last four bytes of an IPv6 address). The first byte is a locally
// administered unicast prefix.
func VTEPMAC(nodeIP net.IP) net.HardwareAddr {
	ip := nodeIP.To4()
	if ip == nil {
		ip = nodeIP.To16()
		if ip == nil {
			return nil
		}
		ip = ip[12:]
	}
	return net.HardwareAddr{0x66, 0x6b, ip[0], ip[1], ip[2], ip[3]}
}

// TunnelIP returns a node's tunnel address: the first address of its first
// block, as Calico gives tunl0 or vxlan.calico (nil without blocks).
func TunnelIP(blocks []*net.IPNet) net.IP {
	if len(blocks) == 0 || blocks[0] == nil {
		return nil
	}
	return normalizeIP(blocks[0].IP.Mask(blocks[0].Mask))
}

// withDefaults returns cfg with the zero fields set to their defaults.
func (c NodeConfig) withDefaults() NodeConfig {
	if c.LANInterface == "" {
		c.LANInterface = DefaultLANInterface
	}
	if c.Overlay == "" {
		c.Overlay = OverlayVXLAN
	}
	if c.MTU == 0 {
		if c.Overlay == OverlayVXLAN {
			c.MTU = DefaultVXLANMTU
		} else {
			c.MTU = DefaultMTU
		}
	}
	if c.VNI == 0 {
		c.VNI = DefaultVNI
	}
	if c.VXLANPort == 0 {
		c.VXLANPort = DefaultVXLANPort
	}
	return c
}

// validate reports what is wrong with a defaulted NodeConfig.
func (c NodeConfig) validate() error {
	name := c.NodeName
	if name == "" {
		name = c.NetNSPath
	}
	switch {
	case c.NetNSPath == "":
		return fmt.Errorf("cni: node %q: netNSPath: required", name)
	case c.Overlay != OverlayVXLAN && c.Overlay != OverlayNone:
		return fmt.Errorf("cni: node %q: overlay: unsupported value %q (want %q or %q)", name, c.Overlay, OverlayVXLAN, OverlayNone)
	case c.MTU < 576 || c.MTU > 65535:
		return fmt.Errorf("cni: node %q: mtu: %d out of range 576-65535", name, c.MTU)
	case c.Overlay == OverlayVXLAN && c.NodeIP.To4() == nil:
		return fmt.Errorf("cni: node %q: nodeIP: an IPv4 address is required for the vxlan overlay", name)
	case c.Overlay == OverlayVXLAN && len(c.Blocks) == 0:
		return fmt.Errorf("cni: node %q: blocks: the vxlan overlay needs a block for the tunnel address", name)
	case c.VNI < 1 || c.VNI > 1<<24-1:
		return fmt.Errorf("cni: node %q: vni: %d out of range 1-16777215", name, c.VNI)
	case c.VXLANPort < 1 || c.VXLANPort > 65535:
		return fmt.Errorf("cni: node %q: vxlanPort: %d out of range 1-65535", name, c.VXLANPort)
	}
	for i, b := range c.Blocks {
		if b == nil || b.IP.To4() == nil {
			return fmt.Errorf("cni: node %q: blocks[%d]: an IPv4 block is required", name, i)
		}
	}
	return nil
}

// normalizeIP returns the 4-byte form of an IPv4 address and ip otherwise.
func normalizeIP(ip net.IP) net.IP {
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

// hostRoute returns ip/32 (or /128).
func hostRoute(ip net.IP) *net.IPNet {
	ip = normalizeIP(ip)
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(len(ip)*8, len(ip)*8)}
}
