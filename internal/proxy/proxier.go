package proxy

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"sigs.k8s.io/knftables"
)

// Proxier applies snapshots to one node's "kube-proxy" table. It remembers
// what it applied last and sends only the difference; the first Sync and
// the one after any failure rebuild the whole table in one transaction.
type Proxier struct {
	cfg Config
	nft knftables.Interface

	mu      sync.Mutex
	applied *Desired // nil forces a full resync
}

// NewProxier returns a Proxier that programs nft (knftables.NewFake in
// tests, netns.NewNftables for a node's network namespace).
func NewProxier(cfg Config, nft knftables.Interface) *Proxier {
	return &Proxier{cfg: cfg, nft: nft}
}

// Sync computes the desired ruleset for snap and applies it. It is
// level-triggered and idempotent; an unchanged snapshot sends nothing.
func (p *Proxier) Sync(ctx context.Context, snap Snapshot) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	want, err := Ruleset(p.cfg, snap)
	if err != nil {
		return err
	}
	tx := p.nft.NewTransaction()
	if p.applied == nil || !diff(tx, p.applied, want) {
		tx = p.nft.NewTransaction()
		full(tx, want)
	}
	if tx.NumOperations() == 0 {
		return nil
	}
	if err := p.nft.Run(ctx, tx); err != nil {
		p.applied = nil
		return fmt.Errorf("proxy: sync: %w", err)
	}
	p.applied = want
	return nil
}

// full writes the whole table: delete it if present and recreate it with
// every object, all in tx.
func full(tx *knftables.Transaction, d *Desired) {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{})
	for _, n := range sortedKeys(d.Sets) {
		s := *d.Sets[n]
		tx.Add(&s)
	}
	for _, n := range sortedKeys(d.Maps) {
		m := *d.Maps[n]
		tx.Add(&m)
	}
	for _, n := range sortedKeys(d.Chains) {
		c := d.Chains[n].Chain
		tx.Add(&c)
	}
	for _, n := range sortedKeys(d.Chains) {
		addRules(tx, d.Chains[n])
	}
	for _, n := range sortedKeys(d.Elements) {
		for _, k := range sortedKeys(d.Elements[n]) {
			e := *d.Elements[n][k]
			tx.Add(&e)
		}
	}
}

func addRules(tx *knftables.Transaction, c *Chain) {
	for _, r := range c.Rules {
		tx.Add(&knftables.Rule{Chain: c.Name, Rule: r})
	}
}

// diff writes into tx the operations that turn old into want, and reports
// false when that needs a full resync (a set, map or base chain changed
// its definition).
func diff(tx *knftables.Transaction, old, want *Desired) bool {
	for n, s := range want.Sets {
		if o, ok := old.Sets[n]; ok && !reflect.DeepEqual(o, s) {
			return false
		}
	}
	for n, m := range want.Maps {
		if o, ok := old.Maps[n]; ok && !reflect.DeepEqual(o, m) {
			return false
		}
	}
	for n, c := range want.Chains {
		if o, ok := old.Chains[n]; ok && !reflect.DeepEqual(o.Chain, c.Chain) {
			return false
		}
	}
	// New sets and maps first: new rules and elements may refer to them.
	for _, n := range sortedKeys(want.Sets) {
		if _, ok := old.Sets[n]; !ok {
			s := *want.Sets[n]
			tx.Add(&s)
		}
	}
	for _, n := range sortedKeys(want.Maps) {
		if _, ok := old.Maps[n]; !ok {
			m := *want.Maps[n]
			tx.Add(&m)
		}
	}
	// New chains, empty, so that any rule can jump to any of them.
	for _, n := range sortedKeys(want.Chains) {
		if _, ok := old.Chains[n]; !ok {
			c := want.Chains[n].Chain
			tx.Add(&c)
		}
	}
	// Changed chains are flushed and refilled; new ones filled.
	for _, n := range sortedKeys(want.Chains) {
		c := want.Chains[n]
		o, ok := old.Chains[n]
		if ok && reflect.DeepEqual(o.Rules, c.Rules) {
			continue
		}
		if ok {
			tx.Flush(&knftables.Chain{Name: n})
		}
		addRules(tx, c)
	}
	// Elements: removed and changed ones out, then new and changed in.
	for _, n := range sortedKeys(old.Elements) {
		for _, k := range sortedKeys(old.Elements[n]) {
			oe := old.Elements[n][k]
			we := want.Elements[n][k]
			if we != nil && reflect.DeepEqual(oe, we) {
				continue
			}
			if _, ok := want.Sets[n]; !ok && oe.Set != "" {
				continue // the whole set goes away below
			}
			if _, ok := want.Maps[n]; !ok && oe.Map != "" {
				continue
			}
			e := *oe
			tx.Delete(&e)
		}
	}
	for _, n := range sortedKeys(want.Elements) {
		for _, k := range sortedKeys(want.Elements[n]) {
			we := want.Elements[n][k]
			if oe := old.Elements[n][k]; oe != nil && reflect.DeepEqual(oe, we) {
				continue
			}
			e := *we
			tx.Add(&e)
		}
	}
	// Stale chains last, after nothing refers to them any more; then the
	// sets and maps their rules used.
	for _, n := range sortedKeys(old.Chains) {
		if _, ok := want.Chains[n]; !ok {
			tx.Flush(&knftables.Chain{Name: n})
		}
	}
	for _, n := range sortedKeys(old.Chains) {
		if _, ok := want.Chains[n]; !ok {
			tx.Delete(&knftables.Chain{Name: n})
		}
	}
	for _, n := range sortedKeys(old.Sets) {
		if _, ok := want.Sets[n]; !ok {
			tx.Delete(&knftables.Set{Name: n})
		}
	}
	for _, n := range sortedKeys(old.Maps) {
		if _, ok := want.Maps[n]; !ok {
			tx.Delete(&knftables.Map{Name: n})
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
