package cni

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
)

// Fake is an in-memory Interface for the node agent's tests: it validates
// and records what would be programmed, computes the same names and peer
// state as Network, and dumps it.
type Fake struct {
	mu    sync.Mutex
	nodes map[string]*fakeNode
}

type fakeNode struct {
	cfg   NodeConfig
	setup bool
	peers PeerState
	pods  map[string]PodResult
}

var _ Interface = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake { return &Fake{nodes: map[string]*fakeNode{}} }

func (f *Fake) node(path string) *fakeNode {
	n := f.nodes[path]
	if n == nil {
		n = &fakeNode{pods: map[string]PodResult{}}
		f.nodes[path] = n
	}
	return n
}

// SetupNode implements Interface.
func (f *Fake) SetupNode(cfg NodeConfig) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.node(cfg.NetNSPath)
	n.cfg, n.setup = cfg, true
	return nil
}

// SyncPeers implements Interface.
func (f *Fake) SyncPeers(cfg NodeConfig, peers []Peer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	st, err := DesiredPeerState(cfg, peers)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.node(cfg.NetNSPath).peers = st
	return err
}

// AddPod implements Interface. The pod's MAC is derived from its IP.
func (f *Fake) AddPod(node NodeConfig, pod PodConfig) (PodResult, error) {
	node = node.withDefaults()
	if err := checkPodConfig(node, pod); err != nil {
		return PodResult{}, err
	}
	ip := pod.IP.To4()
	res := PodResult{
		HostInterface: HostVethName(pod.ID),
		Interface:     PodInterface,
		MAC:           net.HardwareAddr{0x0a, 0x58, ip[0], ip[1], ip[2], ip[3]},
		IP:            hostRoute(ip),
		Gateway:       GatewayIP,
		MTU:           node.MTU,
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.node(node.NetNSPath)
	res.HostIndex = 100 + len(n.pods)
	if old, ok := n.pods[pod.ID]; ok {
		res.HostIndex = old.HostIndex
	}
	n.pods[pod.ID] = res
	return res, nil
}

// DelPod implements Interface.
func (f *Fake) DelPod(node NodeConfig, podID string, podIP net.IP) error {
	if node.NetNSPath == "" {
		return fmt.Errorf("cni: delete pod %q: node netNSPath: required", podID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.nodes[node.NetNSPath]; n != nil {
		delete(n.pods, podID)
	}
	return nil
}

// Pods returns the pods attached to the node at netnsPath.
func (f *Fake) Pods(netnsPath string) map[string]PodResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]PodResult{}
	if n := f.nodes[netnsPath]; n != nil {
		for k, v := range n.pods {
			out[k] = v
		}
	}
	return out
}

// Dump returns the recorded state of every node as sorted text lines in
// `ip route` / `ip neigh` / `bridge fdb` style.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var paths []string
	for p := range f.nodes {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var b strings.Builder
	for _, p := range paths {
		n := f.nodes[p]
		var lines []string
		if n.setup {
			if n.cfg.Overlay == OverlayVXLAN {
				s := vxlanSpecFor(n.cfg)
				lines = append(lines, fmt.Sprintf("link %s vni %d local %s dev %s dstport %d mtu %d mac %s addr %s/32",
					s.Name, s.VNI, s.Local, s.Parent, s.Port, s.MTU, s.MAC, s.Addr))
			}
			for _, r := range DesiredBlackholes(n.cfg) {
				lines = append(lines, "route "+r.String())
			}
		}
		for _, r := range n.peers.Routes {
			lines = append(lines, "route "+r.String())
		}
		for _, x := range n.peers.Neighbors {
			lines = append(lines, "neigh "+x.String())
		}
		for _, x := range n.peers.FDB {
			lines = append(lines, "fdb "+x.String())
		}
		for id, r := range n.pods {
			lines = append(lines, fmt.Sprintf("pod %s %s %s mtu %d", id, r.HostInterface, r.IP, r.MTU))
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "node %s\n", p)
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}
