package proxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// baseSnapshot merges the distinct services of several ruleset cases.
func baseSnapshot() Snapshot {
	var s Snapshot
	for _, i := range []int{0, 1, 2, 3, 5, 7, 8} {
		s.Services = append(s.Services, rulesetCases[i].snap.Services...)
		s.EndpointSlices = append(s.EndpointSlices, rulesetCases[i].snap.EndpointSlices...)
	}
	return s
}

// checkMatchesFull checks that what the fake holds equals a full apply of
// snap's ruleset.
func checkMatchesFull(t *testing.T, fake *knftables.Fake, snap Snapshot) {
	t.Helper()
	want := canon(dumpDesired(t, mustRuleset(t, snap)))
	if diff := cmp.Diff(want, canon(fake.Dump())); diff != "" {
		t.Fatalf("fake state differs from a full apply (-want +got):\n%s", diff)
	}
}

func txLines(tx *knftables.Transaction) []string {
	var out []string
	for _, l := range strings.Split(tx.String(), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestSyncFirstIsFull(t *testing.T) {
	fake := knftables.NewFake(Family, TableName)
	p := NewProxier(testCfg, fake)
	snap := baseSnapshot()
	if err := p.Sync(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	checkMatchesFull(t, fake, snap)
	dump := fake.Dump()
	for _, want := range []string{
		"add element ip kube-proxy service-ips { 10.96.0.11 . tcp . 80 : goto service-7KSYXNGS-ns1/a/tcp/http }",
		"add rule ip kube-proxy endpoint-6NHZIAA6-ns1/a/tcp/http__172.16.1.5/8080 meta l4proto tcp dnat to 172.16.1.5:8080",
		"add element ip kube-proxy service-nodeports { tcp . 30080 : goto external-MR56TIOZ-ns1/np/tcp/http }",
		"add element ip kube-proxy no-endpoint-services { 10.96.0.16 . tcp . 80 : goto reject-chain }",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	first := txLines(fake.LastTransaction)
	if first[0] != "add table ip kube-proxy" || first[1] != "delete table ip kube-proxy" {
		t.Errorf("first sync should recreate the table, starts with %q", first[:2])
	}

	// An unchanged snapshot sends nothing.
	last := fake.LastTransaction
	if err := p.Sync(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	if fake.LastTransaction != last {
		t.Errorf("unchanged sync ran a transaction:\n%s", fake.LastTransaction)
	}
}

func TestSyncOneEndpointChangeTouchesOnlyThatService(t *testing.T) {
	fake := knftables.NewFake(Family, TableName)
	p := NewProxier(testCfg, fake)
	snap := baseSnapshot()
	if err := p.Sync(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	// Service ns1/a: endpoint 172.16.2.5 is replaced by 172.16.2.9.
	next := snap
	next.EndpointSlices = append([]*discoveryv1.EndpointSlice(nil), snap.EndpointSlices...)
	next.EndpointSlices[0] = slice("a", 8080, epLocal, ep{ip: "172.16.2.9", node: "w2", ready: true})
	if err := p.Sync(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	checkMatchesFull(t, fake, next)
	lines := txLines(fake.LastTransaction)
	want := []string{
		"add chain ip kube-proxy endpoint-MMR47DH2-ns1/a/tcp/http__172.16.2.9/8080",
		"add rule ip kube-proxy endpoint-MMR47DH2-ns1/a/tcp/http__172.16.2.9/8080 ip saddr 172.16.2.9 jump mark-for-masquerade",
		"add rule ip kube-proxy endpoint-MMR47DH2-ns1/a/tcp/http__172.16.2.9/8080 meta l4proto tcp dnat to 172.16.2.9:8080",
		"flush chain ip kube-proxy service-7KSYXNGS-ns1/a/tcp/http",
		"add rule ip kube-proxy service-7KSYXNGS-ns1/a/tcp/http ip daddr 10.96.0.11 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade",
		"add rule ip kube-proxy service-7KSYXNGS-ns1/a/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-6NHZIAA6-ns1/a/tcp/http__172.16.1.5/8080 , 1 : goto endpoint-MMR47DH2-ns1/a/tcp/http__172.16.2.9/8080 }",
		"flush chain ip kube-proxy endpoint-HBZUMTVZ-ns1/a/tcp/http__172.16.2.5/8080",
		"delete chain ip kube-proxy endpoint-HBZUMTVZ-ns1/a/tcp/http__172.16.2.5/8080",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("incremental transaction (-want +got):\n%s", diff)
	}
	for _, l := range lines {
		if !strings.Contains(l, "ns1/a/tcp/http") {
			t.Errorf("transaction touches something other than ns1/a: %q", l)
		}
	}
	if !strings.Contains(fake.LastTransaction.String(), "delete chain ip kube-proxy endpoint-HBZUMTVZ-ns1/a/tcp/http__172.16.2.5/8080") {
		t.Errorf("stale endpoint chain not deleted:\n%s", fake.LastTransaction)
	}
	if !strings.Contains(fake.LastTransaction.String(), "dnat to 172.16.2.9:8080") {
		t.Errorf("new endpoint not added:\n%s", fake.LastTransaction)
	}
	t.Logf("incremental transaction (%d operations):\n%s", fake.LastTransaction.NumOperations(), fake.LastTransaction)
}

// TestSyncSequence walks through snapshots that add, change and remove
// services, endpoints, affinity and policies; after each incremental sync
// the table must equal a full apply.
func TestSyncSequence(t *testing.T) {
	fake := knftables.NewFake(Family, TableName)
	p := NewProxier(testCfg, fake)
	var snaps []Snapshot
	for _, c := range rulesetCases {
		snaps = append(snaps, c.snap)
	}
	snaps = append(snaps, baseSnapshot(), Snapshot{}, baseSnapshot())
	// Endpoints going away one by one, then the service ending in reject.
	for n := 2; n >= 0; n-- {
		eps := []ep{epLocal, epRemote}[:n]
		snaps = append(snaps, Snapshot{
			Services:       []*corev1.Service{rulesetCases[8].snap.Services[0]},
			EndpointSlices: []*discoveryv1.EndpointSlice{slice("aff", 8080, eps...)},
		})
	}
	for i, s := range snaps {
		if err := p.Sync(context.Background(), s); err != nil {
			t.Fatalf("sync %d: %v", i, err)
		}
		checkMatchesFull(t, fake, s)
	}
}

// failingNFT fails the next Run when fail is set.
type failingNFT struct {
	*knftables.Fake
	fail bool
}

func (f *failingNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	if f.fail {
		f.fail = false
		return errors.New("injected failure")
	}
	return f.Fake.Run(ctx, tx)
}

func TestSyncFailureForcesFullResync(t *testing.T) {
	nft := &failingNFT{Fake: knftables.NewFake(Family, TableName)}
	p := NewProxier(testCfg, nft)
	snap := baseSnapshot()
	if err := p.Sync(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	nft.fail = true
	err := p.Sync(context.Background(), rulesetCases[0].snap)
	if err == nil || !strings.HasPrefix(err.Error(), "proxy: sync: ") {
		t.Fatalf("Sync error = %v, want a proxy: sync: error", err)
	}
	// Someone else also meddled with the table meanwhile.
	tx := nft.NewTransaction()
	tx.Add(&knftables.Chain{Name: "stray"})
	if err := nft.Fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if err := p.Sync(context.Background(), rulesetCases[0].snap); err != nil {
		t.Fatal(err)
	}
	if l := txLines(nft.LastTransaction); l[1] != "delete table ip kube-proxy" {
		t.Errorf("sync after a failure was not a full resync: %q", l[:2])
	}
	checkMatchesFull(t, nft.Fake, rulesetCases[0].snap)
}

func ExampleProxier_Sync() {
	fake := knftables.NewFake(Family, TableName)
	p := NewProxier(testCfg, fake)
	_ = p.Sync(context.Background(), rulesetCases[0].snap)
	fmt.Println(strings.Contains(fake.Dump(), "dnat to 172.16.2.5:8080"))
	// Output: true
}
