// Package cni is kin's pod network, built the way Calico builds it.
//
// It has three layers:
//
//   - IPAM: NextBlock splits the pod CIDR into blocks (a /26 each by default)
//     and BlockIPAM hands out pod addresses from one node's blocks. Both only
//     compute; where blocks and pod addresses are recorded (node.spec.podCIDRs,
//     pod.status.podIP) is the caller's business.
//   - Node and peer state: SetupNode prepares a node's network namespace (IP
//     forwarding, the "vxlan.calico" VTEP, a blackhole route per own block) and
//     SyncPeers programs the routes, ARP neighbours and VXLAN FDB entries that
//     reach the other nodes' blocks. The desired state comes from pure
//     functions (DesiredBlackholes, DesiredPeerState); a thin shell diffs it
//     against the kernel through the nodeKernel interface and applies only the
//     difference.
//   - Pods: AddPod wires a pod's network namespace to its node with a veth
//     pair (cali<hash> on the node, eth0 with a /32 in the pod, default route
//     via 169.254.1.1) and DelPod removes it.
//
// The package never touches the namespace it runs in: every operation takes
// the path of a network namespace file (/run/netns/NAME or
// /proc/PID/ns/net) and talks to that namespace through netlink sockets
// opened inside it. See README.md for the design.
package cni
