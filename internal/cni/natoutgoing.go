package cni

import (
	"context"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netns"
	"sigs.k8s.io/knftables"
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
	ns, err := netns.GetFromPath(netnsPath)
	if err != nil {
		return fmt.Errorf("cni: nat outgoing: %w", err)
	}
	defer ns.Close()
	errc := make(chan error, 1)
	// knftables runs the nft binary, which inherits the namespace of the
	// thread that forks it; that thread is never unlocked, so it ends with
	// the goroutine instead of going back to the scheduler in the node's
	// namespace.
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter namespace: %w", err)
			return
		}
		errc <- applyNATOutgoing(pool)
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("cni: nat outgoing: %w", err)
	}
	return nil
}

func applyNATOutgoing(pool *net.IPNet) error {
	nft, err := knftables.New(knftables.IPv4Family, natTable)
	if err != nil {
		return err
	}
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
	return nft.Run(context.Background(), tx)
}
