// Package proxy implements kube-proxy's nftables-mode Service semantics for
// one kin node: it computes the desired "kube-proxy" nftables table from a
// snapshot of Services and EndpointSlices (Ruleset, a pure function) and
// programs it into the node's network namespace (Proxier), applying only the
// difference from what it applied last in one atomic knftables transaction.
package proxy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// TableName is the name of the nftables table the proxy owns.
const TableName = "kube-proxy"

// Family is the nftables family of the proxy's table (IPv4 only).
const Family = knftables.IPv4Family

const (
	filterInputChain      = "filter-input"
	filterForwardChain    = "filter-forward"
	filterOutputChain     = "filter-output"
	natPreroutingChain    = "nat-prerouting"
	natOutputChain        = "nat-output"
	natPostroutingChain   = "nat-postrouting"
	servicesChain         = "services"
	serviceIPsMap         = "service-ips"
	serviceNodePortsMap   = "service-nodeports"
	nodePortIPsSet        = "nodeport-ips"
	serviceEPCheckChain   = "service-endpoints-check"
	nodePortEPCheckChain  = "nodeport-endpoints-check"
	noEndpointServicesMap = "no-endpoint-services"
	noEndpointNodePorts   = "no-endpoint-nodeports"
	rejectChain           = "reject-chain"
	markMasqChain         = "mark-for-masquerade"
	masqueradingChain     = "masquerading"
	markMasqBit           = "0x4000"
	chainNameMaxLength    = 200
)

// Config is the node-level configuration of the proxy.
type Config struct {
	// NodeName is the node's name; endpoints with this nodeName are local.
	NodeName string
	// NodeIPs are the node's addresses; NodePorts answer on them.
	NodeIPs []net.IP
	// ClusterCIDR is the pod range (e.g. 172.16.0.0/16). Traffic to a
	// ClusterIP from outside it is masqueraded; when empty, all ClusterIP
	// traffic is masqueraded (kube-proxy's masqueradeAll).
	ClusterCIDR string
	// NodePortAddresses optionally restricts NodePorts to the NodeIPs inside
	// these CIDRs.
	NodePortAddresses []string
}

// Snapshot is everything the rules are computed from.
type Snapshot struct {
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
}

// Chain is one desired nftables chain with its rules in order.
type Chain struct {
	knftables.Chain
	Rules []string
}

// Desired is the complete desired content of the proxy's table.
type Desired struct {
	// Chains holds every chain (base and regular) by name.
	Chains map[string]*Chain
	// Sets holds the set definitions by name.
	Sets map[string]*knftables.Set
	// Maps holds the map definitions by name.
	Maps map[string]*knftables.Map
	// Elements holds the elements of each set or map, by set/map name and
	// then by the element's key joined with " . ".
	Elements map[string]map[string]*knftables.Element
}

func newDesired() *Desired {
	return &Desired{
		Chains:   map[string]*Chain{},
		Sets:     map[string]*knftables.Set{},
		Maps:     map[string]*knftables.Map{},
		Elements: map[string]map[string]*knftables.Element{},
	}
}

func (d *Desired) chain(name string, rules ...string) *Chain {
	c := &Chain{Chain: knftables.Chain{Name: name}, Rules: rules}
	d.Chains[name] = c
	return c
}

func (d *Desired) baseChain(name string, typ knftables.BaseChainType, hook knftables.BaseChainHook, prio string, rules ...string) {
	p := knftables.BaseChainPriority(prio)
	d.Chains[name] = &Chain{Chain: knftables.Chain{Name: name, Type: &typ, Hook: &hook, Priority: &p}, Rules: rules}
}

func (d *Desired) mapElem(m string, key []string, value string) {
	if d.Elements[m] == nil {
		d.Elements[m] = map[string]*knftables.Element{}
	}
	d.Elements[m][strings.Join(key, " . ")] = &knftables.Element{Map: m, Key: key, Value: []string{value}}
}

func (d *Desired) setElem(s string, key ...string) {
	if d.Elements[s] == nil {
		d.Elements[s] = map[string]*knftables.Element{}
	}
	d.Elements[s][strings.Join(key, " . ")] = &knftables.Element{Set: s, Key: key}
}

// hashAndTruncate returns name prefixed by a short hash, as kube-proxy names
// its per-service chains.
func hashAndTruncate(name string) string {
	hash := sha256.Sum256([]byte(name))
	n := base32.StdEncoding.EncodeToString(hash[:])[:8] + "-" + name
	if len(n) > chainNameMaxLength {
		n = n[:chainNameMaxLength-3] + "..."
	}
	return n
}

// endpoint is one usable endpoint of a service port.
type endpoint struct {
	ip    string
	port  int32
	local bool
	ready bool
	// servingTerminating is true for a serving, terminating endpoint.
	servingTerminating bool
}

func (e endpoint) String() string { return e.ip + ":" + strconv.Itoa(int(e.port)) }

// Ruleset computes the desired nftables objects for snap on the node that
// cfg describes. It is pure: the same input always gives the same output.
func Ruleset(cfg Config, snap Snapshot) (*Desired, error) {
	var clusterNet *net.IPNet
	if cfg.ClusterCIDR != "" {
		_, n, err := net.ParseCIDR(cfg.ClusterCIDR)
		if err != nil {
			return nil, fmt.Errorf("proxy: clusterCIDR: %w", err)
		}
		clusterNet = n
	}
	nodePortIPs, err := nodePortIPs(cfg)
	if err != nil {
		return nil, err
	}

	d := newDesired()
	d.skeleton(nodePortIPs)

	slices := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range snap.EndpointSlices {
		if s == nil || s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		svc := s.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		key := s.Namespace + "/" + svc
		slices[key] = append(slices[key], s)
	}

	for _, svc := range snap.Services {
		if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		ip := net.ParseIP(svc.Spec.ClusterIP)
		if ip == nil || ip.To4() == nil {
			continue // headless ("None"), unallocated or IPv6
		}
		for i := range svc.Spec.Ports {
			d.servicePort(cfg, clusterNet, svc, &svc.Spec.Ports[i], slices[svc.Namespace+"/"+svc.Name])
		}
	}
	return d, nil
}

func nodePortIPs(cfg Config) ([]string, error) {
	var nets []*net.IPNet
	for _, c := range cfg.NodePortAddresses {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("proxy: nodePortAddresses: %w", err)
		}
		nets = append(nets, n)
	}
	var out []string
	for _, ip := range cfg.NodeIPs {
		v4 := ip.To4()
		if v4 == nil {
			continue
		}
		ok := len(nets) == 0
		for _, n := range nets {
			ok = ok || n.Contains(v4)
		}
		if ok {
			out = append(out, v4.String())
		}
	}
	return out, nil
}

// skeleton adds the service-independent chains, sets and maps.
func (d *Desired) skeleton(nodePortIPs []string) {
	newCheck := func(chain string) string { return "ct state new jump " + chain }
	d.baseChain(filterInputChain, knftables.FilterType, knftables.InputHook, "-110",
		newCheck(nodePortEPCheckChain), newCheck(serviceEPCheckChain))
	d.baseChain(filterForwardChain, knftables.FilterType, knftables.ForwardHook, "-110",
		newCheck(serviceEPCheckChain))
	d.baseChain(filterOutputChain, knftables.FilterType, knftables.OutputHook, "-110",
		newCheck(nodePortEPCheckChain), newCheck(serviceEPCheckChain))
	d.baseChain(natPreroutingChain, knftables.NATType, knftables.PreroutingHook, "-100", "jump "+servicesChain)
	d.baseChain(natOutputChain, knftables.NATType, knftables.OutputHook, "-100", "jump "+servicesChain)
	d.baseChain(natPostroutingChain, knftables.NATType, knftables.PostroutingHook, "100", "jump "+masqueradingChain)

	d.chain(serviceEPCheckChain, "ip daddr . meta l4proto . th dport vmap @"+noEndpointServicesMap)
	d.chain(nodePortEPCheckChain, "ip daddr @"+nodePortIPsSet+" meta l4proto . th dport vmap @"+noEndpointNodePorts)
	d.chain(rejectChain, "meta l4proto tcp reject with tcp reset", "reject")
	d.chain(servicesChain,
		"ip daddr . meta l4proto . th dport vmap @"+serviceIPsMap,
		"ip daddr @"+nodePortIPsSet+" meta l4proto . th dport vmap @"+serviceNodePortsMap)
	d.chain(markMasqChain, "meta mark set meta mark | "+markMasqBit)
	d.chain(masqueradingChain,
		"meta mark & "+markMasqBit+" == 0 return",
		"meta mark set meta mark ^ "+markMasqBit,
		"masquerade fully-random")

	ipProtoPort := "ipv4_addr . inet_proto . inet_service : verdict"
	protoPort := "inet_proto . inet_service : verdict"
	d.Maps[serviceIPsMap] = &knftables.Map{Name: serviceIPsMap, Type: ipProtoPort}
	d.Maps[serviceNodePortsMap] = &knftables.Map{Name: serviceNodePortsMap, Type: protoPort}
	d.Maps[noEndpointServicesMap] = &knftables.Map{Name: noEndpointServicesMap, Type: ipProtoPort}
	d.Maps[noEndpointNodePorts] = &knftables.Map{Name: noEndpointNodePorts, Type: protoPort}
	d.Sets[nodePortIPsSet] = &knftables.Set{Name: nodePortIPsSet, Type: "ipv4_addr"}
	for _, ip := range nodePortIPs {
		d.setElem(nodePortIPsSet, ip)
	}
}

// endpointsFor returns the endpoints of one service port, deduplicated and
// sorted, with their readiness and locality.
func endpointsFor(cfg Config, sp *corev1.ServicePort, proto string, slices []*discoveryv1.EndpointSlice) []endpoint {
	seen := map[string]bool{}
	var eps []endpoint
	for _, s := range slices {
		for _, p := range s.Ports {
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			pp := "TCP"
			if p.Protocol != nil {
				pp = string(*p.Protocol)
			}
			if name != sp.Name || !strings.EqualFold(pp, proto) || p.Port == nil {
				continue
			}
			for _, e := range s.Endpoints {
				if len(e.Addresses) == 0 || net.ParseIP(e.Addresses[0]).To4() == nil {
					continue
				}
				ready := e.Conditions.Ready == nil || *e.Conditions.Ready
				serving := ready
				if e.Conditions.Serving != nil {
					serving = *e.Conditions.Serving
				}
				terminating := e.Conditions.Terminating != nil && *e.Conditions.Terminating
				ep := endpoint{
					ip:                 e.Addresses[0],
					port:               *p.Port,
					local:              e.NodeName != nil && *e.NodeName == cfg.NodeName,
					ready:              ready,
					servingTerminating: serving && terminating,
				}
				if seen[ep.String()] {
					continue
				}
				seen[ep.String()] = true
				eps = append(eps, ep)
			}
		}
	}
	sort.Slice(eps, func(i, j int) bool {
		a, b := net.ParseIP(eps[i].ip).To4(), net.ParseIP(eps[j].ip).To4()
		if c := strings.Compare(string(a), string(b)); c != 0 {
			return c < 0
		}
		return eps[i].port < eps[j].port
	})
	return eps
}

// usable picks the ready endpoints that pass keep, or if there are none, the
// serving terminating ones, as kube-proxy's CategorizeEndpoints does.
func usable(eps []endpoint, keep func(endpoint) bool) []endpoint {
	var ready, term []endpoint
	for _, e := range eps {
		if !keep(e) {
			continue
		}
		if e.ready {
			ready = append(ready, e)
		} else if e.servingTerminating {
			term = append(term, e)
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return term
}

// servicePort adds the chains and map elements of one service port.
func (d *Desired) servicePort(cfg Config, clusterNet *net.IPNet, svc *corev1.Service, sp *corev1.ServicePort, slices []*discoveryv1.EndpointSlice) {
	proto := "tcp"
	if sp.Protocol != "" {
		proto = strings.ToLower(string(sp.Protocol))
	}
	base := svc.Namespace + "/" + svc.Name + "/" + proto + "/" + sp.Name
	hashed := hashAndTruncate(base)
	clusterChain := "service-" + hashed
	localChain := "local-" + hashed
	externalChain := "external-" + hashed
	port := strconv.Itoa(int(sp.Port))
	clusterIP := net.ParseIP(svc.Spec.ClusterIP).To4().String()

	var externalIPs []string
	for _, s := range svc.Spec.ExternalIPs {
		if ip := net.ParseIP(s).To4(); ip != nil {
			externalIPs = append(externalIPs, ip.String())
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if ip := net.ParseIP(ing.IP).To4(); ip != nil {
				externalIPs = append(externalIPs, ip.String())
			}
		}
	}
	nodePort := 0
	if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		nodePort = int(sp.NodePort)
	}
	externallyAccessible := nodePort != 0 || len(externalIPs) > 0
	itpLocal := svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	etpLocal := (svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer) &&
		svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal

	all := endpointsFor(cfg, sp, proto, slices)
	clusterEps := usable(all, func(endpoint) bool { return true })
	localEps := usable(all, func(e endpoint) bool { return e.local })
	hasEndpoints := len(clusterEps) > 0 || len(localEps) > 0
	internalEps, internalChain := clusterEps, clusterChain
	if itpLocal {
		internalEps, internalChain = localEps, localChain
	}
	externalEps, externalPolicyChain := clusterEps, clusterChain
	if etpLocal {
		externalEps, externalPolicyChain = localEps, localChain
	}

	var affinity time.Duration
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		secs := int32(corev1.DefaultClientIPServiceAffinitySeconds)
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			secs = *c.ClientIP.TimeoutSeconds
		}
		affinity = time.Duration(secs) * time.Second
	}

	epChain := func(e endpoint) string {
		return "endpoint-" + hashAndTruncate(base+"__"+e.ip+"/"+strconv.Itoa(int(e.port)))
	}
	addEndpoint := func(e endpoint) {
		name := epChain(e)
		if d.Chains[name] != nil {
			return
		}
		rules := []string{"ip saddr " + e.ip + " jump " + markMasqChain}
		if affinity > 0 {
			set := "affinity-" + strings.TrimPrefix(name, "endpoint-")
			t := affinity
			d.Sets[set] = &knftables.Set{Name: set, Type: "ipv4_addr", Flags: []knftables.SetFlag{knftables.DynamicFlag}, Timeout: &t}
			rules = append(rules, "update @"+set+" { ip saddr }")
		}
		rules = append(rules, "meta l4proto "+proto+" dnat to "+e.String())
		d.chain(name, rules...)
	}
	policyChain := func(name string, eps []endpoint, masq string) {
		var rules []string
		if masq != "" {
			rules = append(rules, masq)
		}
		if affinity > 0 {
			for _, e := range eps {
				rules = append(rules, "ip saddr @affinity-"+strings.TrimPrefix(epChain(e), "endpoint-")+" goto "+epChain(e))
			}
		}
		vm := make([]string, len(eps))
		for i, e := range eps {
			addEndpoint(e)
			vm[i] = strconv.Itoa(i) + " : goto " + epChain(e)
		}
		rules = append(rules, "numgen random mod "+strconv.Itoa(len(eps))+" vmap { "+strings.Join(vm, " , ")+" }")
		d.chain(name, rules...)
	}

	usesCluster := len(clusterEps) > 0 && (!itpLocal || (externallyAccessible && (!etpLocal || hasEndpoints)))
	if usesCluster {
		masq := "ip daddr " + clusterIP + " " + proto + " dport " + port + " jump " + markMasqChain
		if clusterNet != nil {
			masq = "ip daddr " + clusterIP + " " + proto + " dport " + port + " ip saddr != " + clusterNet.String() + " jump " + markMasqChain
		}
		policyChain(clusterChain, clusterEps, masq)
	}
	if len(localEps) > 0 && (itpLocal || etpLocal) {
		policyChain(localChain, localEps, "")
	}
	usesExternal := hasEndpoints && externallyAccessible
	if usesExternal {
		var rules []string
		if !etpLocal {
			rules = append(rules, "jump "+markMasqChain)
		} else if usesCluster {
			if clusterNet != nil {
				rules = append(rules, "ip saddr "+clusterNet.String()+" goto "+clusterChain)
			}
			rules = append(rules, "fib saddr type local jump "+markMasqChain, "fib saddr type local goto "+clusterChain)
		}
		if len(externalEps) > 0 {
			rules = append(rules, "goto "+externalPolicyChain)
		}
		d.chain(externalChain, rules...)
	}

	internalVerdict, externalVerdict := "drop", "drop"
	if !hasEndpoints {
		internalVerdict, externalVerdict = "goto "+rejectChain, "goto "+rejectChain
	}
	if len(internalEps) > 0 {
		d.mapElem(serviceIPsMap, []string{clusterIP, proto, port}, "goto "+internalChain)
	} else {
		d.mapElem(noEndpointServicesMap, []string{clusterIP, proto, port}, internalVerdict)
	}
	for _, ip := range externalIPs {
		if len(externalEps) > 0 {
			d.mapElem(serviceIPsMap, []string{ip, proto, port}, "goto "+externalChain)
		} else {
			d.mapElem(noEndpointServicesMap, []string{ip, proto, port}, externalVerdict)
		}
	}
	if nodePort != 0 {
		np := strconv.Itoa(nodePort)
		if len(externalEps) > 0 {
			d.mapElem(serviceNodePortsMap, []string{proto, np}, "goto "+externalChain)
		} else {
			d.mapElem(noEndpointNodePorts, []string{proto, np}, externalVerdict)
		}
	}
}
