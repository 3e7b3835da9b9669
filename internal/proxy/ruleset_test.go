package proxy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const skeletonGolden = `
add table ip kube-proxy
add chain ip kube-proxy filter-forward { type filter hook forward priority -110 ; }
add chain ip kube-proxy filter-input { type filter hook input priority -110 ; }
add chain ip kube-proxy filter-output { type filter hook output priority -110 ; }
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy reject-chain
add chain ip kube-proxy service-endpoints-check
add chain ip kube-proxy services
add set ip kube-proxy nodeport-ips { type ipv4_addr ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; }
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy mark-for-masquerade meta mark set meta mark | 0x4000
add rule ip kube-proxy masquerading meta mark & 0x4000 == 0 return
add rule ip kube-proxy masquerading meta mark set meta mark ^ 0x4000
add rule ip kube-proxy masquerading masquerade fully-random
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy reject-chain meta l4proto tcp reject with tcp reset
add rule ip kube-proxy reject-chain reject
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
add element ip kube-proxy nodeport-ips { 192.168.1.101 }
`

func TestRulesetSkeleton(t *testing.T) {
	d, err := Ruleset(testCfg, Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(canon(skeletonGolden), canon(dumpDesired(t, d))); diff != "" {
		t.Errorf("skeleton (-want +got):\n%s", diff)
	}
}

// TestRulesetGolden compares, order-free except for rule order within a
// chain, each case's ruleset with its golden (skeleton + goldens[name]).
func TestRulesetGolden(t *testing.T) {
	for _, c := range rulesetCases {
		t.Run(c.name, func(t *testing.T) {
			golden, ok := goldens[c.name]
			if !ok {
				t.Fatalf("no golden for %q", c.name)
			}
			d, err := Ruleset(testCfg, c.snap)
			if err != nil {
				t.Fatal(err)
			}
			want := canon(skeletonGolden + "\n" + golden)
			got := canon(dumpDesired(t, d))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ruleset (-want +got):\n%s", diff)
			}
			// Ruleset is pure: a second call gives the same answer.
			if again := canon(dumpDesired(t, mustRuleset(t, c.snap))); !cmp.Equal(got, again) {
				t.Errorf("Ruleset is not deterministic")
			}
		})
	}
}

func mustRuleset(t testing.TB, snap Snapshot) *Desired {
	t.Helper()
	d, err := Ruleset(testCfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRulesetNodePortAddresses(t *testing.T) {
	cfg := testCfg
	cfg.NodeIPs = append(cfg.NodeIPs, []byte{10, 0, 0, 5})
	cfg.NodePortAddresses = []string{"10.0.0.0/8"}
	d, err := Ruleset(cfg, Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	got := d.Elements[nodePortIPsSet]
	if len(got) != 1 || got["10.0.0.5"] == nil {
		t.Errorf("nodeport-ips = %v, want only 10.0.0.5", got)
	}
}

func TestRulesetBadConfig(t *testing.T) {
	for _, cfg := range []Config{{ClusterCIDR: "nope"}, {NodePortAddresses: []string{"1.2.3.4"}}} {
		if _, err := Ruleset(cfg, Snapshot{}); err == nil || !strings.HasPrefix(err.Error(), "proxy: ") {
			t.Errorf("Ruleset(%+v) error = %v, want a proxy: error", cfg, err)
		}
	}
}

// TestRulesetNoClusterCIDRMasqueradesAll checks that without a ClusterCIDR
// every ClusterIP connection is masqueraded.
func TestRulesetNoClusterCIDRMasqueradesAll(t *testing.T) {
	cfg := testCfg
	cfg.ClusterCIDR = ""
	d, err := Ruleset(cfg, rulesetCases[0].snap)
	if err != nil {
		t.Fatal(err)
	}
	rules := d.Chains["service-7KSYXNGS-ns1/a/tcp/http"].Rules
	if want := "ip daddr 10.96.0.11 tcp dport 80 jump mark-for-masquerade"; rules[0] != want {
		t.Errorf("first rule = %q, want %q", rules[0], want)
	}
}
