package proxy

import (
	"context"
	"fmt"
	"testing"

	"sigs.k8s.io/knftables"
)

// bigSnapshot returns n ClusterIP services with e endpoints each.
func bigSnapshot(n, e int) Snapshot {
	var s Snapshot
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc%d", i)
		s.Services = append(s.Services, svc(name, fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)))
		var eps []ep
		for j := 0; j < e; j++ {
			eps = append(eps, ep{ip: fmt.Sprintf("172.16.%d.%d", i/50, (i%50)*5+j+1), node: "w1", ready: true})
		}
		s.EndpointSlices = append(s.EndpointSlices, slice(name, 8080, eps...))
	}
	return s
}

// BenchmarkRuleset measures computing the desired state for 1,000
// services x 5 endpoints.
func BenchmarkRuleset(b *testing.B) {
	snap := bigSnapshot(1000, 5)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Ruleset(testCfg, snap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullSync measures a first (full) Sync of 1,000 services x 5
// endpoints into a fresh knftables fake.
func BenchmarkFullSync(b *testing.B) {
	snap := bigSnapshot(1000, 5)
	b.ReportAllocs()
	for b.Loop() {
		p := NewProxier(testCfg, knftables.NewFake(Family, TableName))
		if err := p.Sync(context.Background(), snap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIncrementalSync measures a Sync of 1,000 services x 5 endpoints
// in which one endpoint of one service changes.
func BenchmarkIncrementalSync(b *testing.B) {
	snaps := [2]Snapshot{bigSnapshot(1000, 5), bigSnapshot(1000, 5)}
	s := snaps[1].EndpointSlices[500].DeepCopy()
	s.Endpoints[0].Addresses = []string{"172.16.200.1"}
	snaps[1].EndpointSlices[500] = s
	fake := knftables.NewFake(Family, TableName)
	p := NewProxier(testCfg, fake)
	if err := p.Sync(context.Background(), snaps[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := p.Sync(context.Background(), snaps[i%2]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fake.LastTransaction.NumOperations()), "ops/tx")
}
