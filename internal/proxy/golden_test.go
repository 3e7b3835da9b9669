package proxy

// goldens holds, for each rulesetCases entry, the ruleset lines beyond
// the empty-snapshot skeleton (reviewed by hand against kube-proxy).
var goldens = map[string]string{
	"clusterip two endpoints": `
add chain ip kube-proxy endpoint-6NHZIAA6-ns1/a/tcp/http__172.16.1.5/8080
add chain ip kube-proxy endpoint-HBZUMTVZ-ns1/a/tcp/http__172.16.2.5/8080
add chain ip kube-proxy service-7KSYXNGS-ns1/a/tcp/http
add element ip kube-proxy service-ips { 10.96.0.11 . tcp . 80 : goto service-7KSYXNGS-ns1/a/tcp/http }
add rule ip kube-proxy endpoint-6NHZIAA6-ns1/a/tcp/http__172.16.1.5/8080 ip saddr 172.16.1.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-6NHZIAA6-ns1/a/tcp/http__172.16.1.5/8080 meta l4proto tcp dnat to 172.16.1.5:8080
add rule ip kube-proxy endpoint-HBZUMTVZ-ns1/a/tcp/http__172.16.2.5/8080 ip saddr 172.16.2.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-HBZUMTVZ-ns1/a/tcp/http__172.16.2.5/8080 meta l4proto tcp dnat to 172.16.2.5:8080
add rule ip kube-proxy service-7KSYXNGS-ns1/a/tcp/http ip daddr 10.96.0.11 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-7KSYXNGS-ns1/a/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-6NHZIAA6-ns1/a/tcp/http__172.16.1.5/8080 , 1 : goto endpoint-HBZUMTVZ-ns1/a/tcp/http__172.16.2.5/8080 }
`,
	"nodeport": `
add chain ip kube-proxy endpoint-ORPNDGVU-ns1/np/tcp/http__172.16.1.5/8080
add chain ip kube-proxy endpoint-PW3P2GOV-ns1/np/tcp/http__172.16.2.5/8080
add chain ip kube-proxy external-MR56TIOZ-ns1/np/tcp/http
add chain ip kube-proxy service-MR56TIOZ-ns1/np/tcp/http
add element ip kube-proxy service-ips { 10.96.0.12 . tcp . 80 : goto service-MR56TIOZ-ns1/np/tcp/http }
add element ip kube-proxy service-nodeports { tcp . 30080 : goto external-MR56TIOZ-ns1/np/tcp/http }
add rule ip kube-proxy endpoint-ORPNDGVU-ns1/np/tcp/http__172.16.1.5/8080 ip saddr 172.16.1.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-ORPNDGVU-ns1/np/tcp/http__172.16.1.5/8080 meta l4proto tcp dnat to 172.16.1.5:8080
add rule ip kube-proxy endpoint-PW3P2GOV-ns1/np/tcp/http__172.16.2.5/8080 ip saddr 172.16.2.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-PW3P2GOV-ns1/np/tcp/http__172.16.2.5/8080 meta l4proto tcp dnat to 172.16.2.5:8080
add rule ip kube-proxy external-MR56TIOZ-ns1/np/tcp/http jump mark-for-masquerade
add rule ip kube-proxy external-MR56TIOZ-ns1/np/tcp/http goto service-MR56TIOZ-ns1/np/tcp/http
add rule ip kube-proxy service-MR56TIOZ-ns1/np/tcp/http ip daddr 10.96.0.12 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-MR56TIOZ-ns1/np/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-ORPNDGVU-ns1/np/tcp/http__172.16.1.5/8080 , 1 : goto endpoint-PW3P2GOV-ns1/np/tcp/http__172.16.2.5/8080 }
`,
	"loadbalancer and externalIPs": `
add chain ip kube-proxy endpoint-UIBLAKCN-ns1/lb/tcp/http__172.16.2.5/8080
add chain ip kube-proxy external-GAKIKLID-ns1/lb/tcp/http
add chain ip kube-proxy service-GAKIKLID-ns1/lb/tcp/http
add element ip kube-proxy service-ips { 10.96.0.13 . tcp . 80 : goto service-GAKIKLID-ns1/lb/tcp/http }
add element ip kube-proxy service-ips { 192.168.1.200 . tcp . 80 : goto external-GAKIKLID-ns1/lb/tcp/http }
add element ip kube-proxy service-ips { 192.168.1.250 . tcp . 80 : goto external-GAKIKLID-ns1/lb/tcp/http }
add element ip kube-proxy service-nodeports { tcp . 30081 : goto external-GAKIKLID-ns1/lb/tcp/http }
add rule ip kube-proxy endpoint-UIBLAKCN-ns1/lb/tcp/http__172.16.2.5/8080 ip saddr 172.16.2.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-UIBLAKCN-ns1/lb/tcp/http__172.16.2.5/8080 meta l4proto tcp dnat to 172.16.2.5:8080
add rule ip kube-proxy external-GAKIKLID-ns1/lb/tcp/http jump mark-for-masquerade
add rule ip kube-proxy external-GAKIKLID-ns1/lb/tcp/http goto service-GAKIKLID-ns1/lb/tcp/http
add rule ip kube-proxy service-GAKIKLID-ns1/lb/tcp/http ip daddr 10.96.0.13 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-GAKIKLID-ns1/lb/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-UIBLAKCN-ns1/lb/tcp/http__172.16.2.5/8080 }
`,
	"etp local": `
add chain ip kube-proxy endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080
add chain ip kube-proxy endpoint-WS6ALJMT-ns1/etp/tcp/http__172.16.1.5/8080
add chain ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http
add chain ip kube-proxy local-WCGLTCRV-ns1/etp/tcp/http
add chain ip kube-proxy service-WCGLTCRV-ns1/etp/tcp/http
add element ip kube-proxy service-ips { 10.96.0.14 . tcp . 80 : goto service-WCGLTCRV-ns1/etp/tcp/http }
add element ip kube-proxy service-nodeports { tcp . 30082 : goto external-WCGLTCRV-ns1/etp/tcp/http }
add rule ip kube-proxy endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080 ip saddr 172.16.2.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080 meta l4proto tcp dnat to 172.16.2.5:8080
add rule ip kube-proxy endpoint-WS6ALJMT-ns1/etp/tcp/http__172.16.1.5/8080 ip saddr 172.16.1.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-WS6ALJMT-ns1/etp/tcp/http__172.16.1.5/8080 meta l4proto tcp dnat to 172.16.1.5:8080
add rule ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http ip saddr 172.16.0.0/16 goto service-WCGLTCRV-ns1/etp/tcp/http
add rule ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http fib saddr type local jump mark-for-masquerade
add rule ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http fib saddr type local goto service-WCGLTCRV-ns1/etp/tcp/http
add rule ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http goto local-WCGLTCRV-ns1/etp/tcp/http
add rule ip kube-proxy local-WCGLTCRV-ns1/etp/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-WS6ALJMT-ns1/etp/tcp/http__172.16.1.5/8080 }
add rule ip kube-proxy service-WCGLTCRV-ns1/etp/tcp/http ip daddr 10.96.0.14 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-WCGLTCRV-ns1/etp/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-WS6ALJMT-ns1/etp/tcp/http__172.16.1.5/8080 , 1 : goto endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080 }
`,
	"etp local without local endpoints drops": `
add chain ip kube-proxy endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080
add chain ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http
add chain ip kube-proxy service-WCGLTCRV-ns1/etp/tcp/http
add element ip kube-proxy no-endpoint-nodeports { tcp . 30082 : drop }
add element ip kube-proxy service-ips { 10.96.0.14 . tcp . 80 : goto service-WCGLTCRV-ns1/etp/tcp/http }
add rule ip kube-proxy endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080 ip saddr 172.16.2.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080 meta l4proto tcp dnat to 172.16.2.5:8080
add rule ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http ip saddr 172.16.0.0/16 goto service-WCGLTCRV-ns1/etp/tcp/http
add rule ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http fib saddr type local jump mark-for-masquerade
add rule ip kube-proxy external-WCGLTCRV-ns1/etp/tcp/http fib saddr type local goto service-WCGLTCRV-ns1/etp/tcp/http
add rule ip kube-proxy service-WCGLTCRV-ns1/etp/tcp/http ip daddr 10.96.0.14 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-WCGLTCRV-ns1/etp/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-W4VU7MRY-ns1/etp/tcp/http__172.16.2.5/8080 }
`,
	"itp local": `
add chain ip kube-proxy endpoint-4OZB4O3O-ns1/itp/tcp/http__172.16.1.5/8080
add chain ip kube-proxy local-NCDYCKFH-ns1/itp/tcp/http
add element ip kube-proxy service-ips { 10.96.0.15 . tcp . 80 : goto local-NCDYCKFH-ns1/itp/tcp/http }
add rule ip kube-proxy endpoint-4OZB4O3O-ns1/itp/tcp/http__172.16.1.5/8080 ip saddr 172.16.1.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-4OZB4O3O-ns1/itp/tcp/http__172.16.1.5/8080 meta l4proto tcp dnat to 172.16.1.5:8080
add rule ip kube-proxy local-NCDYCKFH-ns1/itp/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-4OZB4O3O-ns1/itp/tcp/http__172.16.1.5/8080 }
`,
	"itp local without local endpoints drops": `
add element ip kube-proxy no-endpoint-services { 10.96.0.15 . tcp . 80 : drop }
`,
	"no endpoints rejects": `
add element ip kube-proxy no-endpoint-nodeports { tcp . 30083 : goto reject-chain }
add element ip kube-proxy no-endpoint-services { 10.96.0.16 . tcp . 80 : goto reject-chain }
add element ip kube-proxy no-endpoint-services { 10.96.0.17 . tcp . 80 : goto reject-chain }
`,
	"session affinity": `
add chain ip kube-proxy endpoint-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080
add chain ip kube-proxy endpoint-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080
add chain ip kube-proxy service-S2NY62D7-ns1/aff/tcp/http
add element ip kube-proxy service-ips { 10.96.0.18 . tcp . 80 : goto service-S2NY62D7-ns1/aff/tcp/http }
add rule ip kube-proxy endpoint-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080 ip saddr 172.16.2.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080 update @affinity-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080 { ip saddr }
add rule ip kube-proxy endpoint-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080 meta l4proto tcp dnat to 172.16.2.5:8080
add rule ip kube-proxy endpoint-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080 ip saddr 172.16.1.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080 update @affinity-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080 { ip saddr }
add rule ip kube-proxy endpoint-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080 meta l4proto tcp dnat to 172.16.1.5:8080
add rule ip kube-proxy service-S2NY62D7-ns1/aff/tcp/http ip daddr 10.96.0.18 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-S2NY62D7-ns1/aff/tcp/http ip saddr @affinity-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080 goto endpoint-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080
add rule ip kube-proxy service-S2NY62D7-ns1/aff/tcp/http ip saddr @affinity-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080 goto endpoint-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080
add rule ip kube-proxy service-S2NY62D7-ns1/aff/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080 , 1 : goto endpoint-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080 }
add set ip kube-proxy affinity-4G4OEZPD-ns1/aff/tcp/http__172.16.2.5/8080 { type ipv4_addr ; flags dynamic ; timeout 300s ; }
add set ip kube-proxy affinity-DEBAB4KE-ns1/aff/tcp/http__172.16.1.5/8080 { type ipv4_addr ; flags dynamic ; timeout 300s ; }
`,
	"only ready endpoints, terminating fallback": `
add chain ip kube-proxy endpoint-PH2NH6T7-ns1/rdy/tcp/http__172.16.1.5/8080
add chain ip kube-proxy endpoint-WDK26DYO-ns1/term/tcp/http__172.16.2.7/8080
add chain ip kube-proxy service-J2EA74XB-ns1/rdy/tcp/http
add chain ip kube-proxy service-NO2MJSQ3-ns1/term/tcp/http
add element ip kube-proxy service-ips { 10.96.0.19 . tcp . 80 : goto service-J2EA74XB-ns1/rdy/tcp/http }
add element ip kube-proxy service-ips { 10.96.0.20 . tcp . 80 : goto service-NO2MJSQ3-ns1/term/tcp/http }
add rule ip kube-proxy endpoint-PH2NH6T7-ns1/rdy/tcp/http__172.16.1.5/8080 ip saddr 172.16.1.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-PH2NH6T7-ns1/rdy/tcp/http__172.16.1.5/8080 meta l4proto tcp dnat to 172.16.1.5:8080
add rule ip kube-proxy endpoint-WDK26DYO-ns1/term/tcp/http__172.16.2.7/8080 ip saddr 172.16.2.7 jump mark-for-masquerade
add rule ip kube-proxy endpoint-WDK26DYO-ns1/term/tcp/http__172.16.2.7/8080 meta l4proto tcp dnat to 172.16.2.7:8080
add rule ip kube-proxy service-J2EA74XB-ns1/rdy/tcp/http ip daddr 10.96.0.19 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-J2EA74XB-ns1/rdy/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-PH2NH6T7-ns1/rdy/tcp/http__172.16.1.5/8080 }
add rule ip kube-proxy service-NO2MJSQ3-ns1/term/tcp/http ip daddr 10.96.0.20 tcp dport 80 ip saddr != 172.16.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-NO2MJSQ3-ns1/term/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-WDK26DYO-ns1/term/tcp/http__172.16.2.7/8080 }
`,
	"headless and externalname ignored": `

`,
}
