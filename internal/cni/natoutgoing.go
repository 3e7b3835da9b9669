package cni

import (
	"context"
	"fmt"
	"net"

	"sigs.k8s.io/knftables"

	"kin/internal/netns"
)

// natTable is the nftables table in each node's namespace that holds
// Calico's natOutgoing rule.
const natTable = "kin-calico-nat"

// EnsureNATOutgoing makes the node masquerade traffic from the pool's pods
// to destinations outside the pool, as Calico's natOutgoing does: replies
// from hosts on the LAN (which have no routes to pod blocks) come back to
// the node, which forwards them to the pod. Traffic between pods keeps its
// addresses. The table is replaced in one transaction; calling it again is
// cheap and idempotent.
func EnsureNATOutgoing(netnsPath string, pool *net.IPNet) error {
	nft, err := netns.NewNftables(netnsPath, knftables.IPv4Family, natTable)
	if err != nil {
		return fmt.Errorf("cni: nat outgoing: %w", err)
	}
	defer nft.Close()
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("kin: Calico-style natOutgoing for pod traffic leaving the pool")})
	tx.Flush(&knftables.Table{})
	tx.Add(&knftables.Chain{
		Name: "postrouting", Type: knftables.PtrTo(knftables.NATType),
		Hook: knftables.PtrTo(knftables.PostroutingHook), Priority: knftables.PtrTo(knftables.SNATPriority),
	})
	tx.Add(&knftables.Rule{
		Chain: "postrouting",
		Rule:  knftables.Concat("ip saddr", pool.String(), "ip daddr !=", pool.String(), "masquerade fully-random"),
	})
	if err := nft.Run(context.Background(), tx); err != nil {
		return fmt.Errorf("cni: nat outgoing: %w", err)
	}
	return nil
}
