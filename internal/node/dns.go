package node

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DNS limits the kubelet applies to a pod's resolv.conf.
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
	maxHostnameLength     = 63
)

// dnsConfig is a parsed or generated resolv.conf.
type dnsConfig struct {
	servers, searches, options []string
}

// render writes the resolv.conf as containerd does: search, nameserver and
// options lines, each only when it has entries.
func (d dnsConfig) render() []byte {
	var b bytes.Buffer
	if len(d.searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(d.searches, " "))
	}
	for _, s := range d.servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(d.options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(d.options, " "))
	}
	return b.Bytes()
}

// parseResolvConf reads nameserver, search and options lines; later search
// and options lines replace earlier ones, as the resolver does.
func parseResolvConf(content string) dnsConfig {
	var d dnsConfig
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				d.servers = append(d.servers, f[1])
			}
		case "search":
			d.searches = nil
			for _, s := range f[1:] {
				d.searches = append(d.searches, strings.TrimSuffix(s, "."))
			}
		case "options":
			d.options = append([]string(nil), f[1:]...)
		}
	}
	return d
}

// resolvConf is the pod's /etc/resolv.conf by its dnsPolicy and dnsConfig,
// as the kubelet builds it. warn receives the kubelet's DNS warnings
// (reason, message) for events.
func (a *Agent) resolvConf(pod *corev1.Pod, warn func(reason, message string)) ([]byte, error) {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
	}
	var d dnsConfig
	switch policy {
	case corev1.DNSNone:
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet:
		if a.cfg.ClusterDNS != "" {
			d.servers = []string{a.cfg.ClusterDNS}
			d.searches = []string{
				pod.Namespace + ".svc." + a.cfg.ClusterDomain,
				"svc." + a.cfg.ClusterDomain,
				a.cfg.ClusterDomain,
			}
			d.options = []string{"ndots:5"}
			break
		}
		warn("MissingClusterDNS", fmt.Sprintf("pod: %q. kubelet does not have ClusterDNS IP configured and cannot create Pod using %q policy. Falling back to %q policy.",
			pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")", corev1.DNSClusterFirst, corev1.DNSDefault))
		fallthrough
	default:
		host, err := os.ReadFile(a.cfg.ResolvConf)
		if err != nil {
			return nil, fmt.Errorf("reading the node's resolv.conf: %w", err)
		}
		d = parseResolvConf(string(host))
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		d.servers = omitDuplicates(append(d.servers, dc.Nameservers...))
		d.searches = omitDuplicates(append(d.searches, dc.Searches...))
		d.options = mergeDNSOptions(d.options, dc.Options)
	}
	if len(d.servers) > maxDNSNameservers {
		d.servers = d.servers[:maxDNSNameservers]
		warn("DNSConfigForming", "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: "+strings.Join(d.servers, " "))
	}
	if s, cut := fitSearches(d.searches); cut {
		d.searches = s
		warn("DNSConfigForming", "Search Line limits were exceeded, some search paths have been omitted, the applied search line is: "+strings.Join(s, " "))
	}
	return d.render(), nil
}

// fitSearches applies the search path limits and reports whether it cut.
func fitSearches(s []string) ([]string, bool) {
	cut := false
	if len(s) > maxDNSSearchPaths {
		s, cut = s[:maxDNSSearchPaths], true
	}
	var kept []string
	for _, d := range s {
		if len(d) > 253 {
			cut = true
			continue
		}
		kept = append(kept, d)
	}
	for len(strings.Join(kept, " ")) > maxDNSSearchListChars {
		kept, cut = kept[:len(kept)-1], true
	}
	return kept, cut
}

// omitDuplicates keeps the first of equal strings.
func omitDuplicates(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// mergeDNSOptions merges dnsConfig options into existing ones; an option
// given again replaces the earlier value in place.
func mergeDNSOptions(existing []string, extra []corev1.PodDNSConfigOption) []string {
	type opt struct{ name, value string }
	var opts []opt
	set := func(name, value string) {
		for i := range opts {
			if opts[i].name == name {
				opts[i].value = value
				return
			}
		}
		opts = append(opts, opt{name, value})
	}
	for _, o := range existing {
		name, value, _ := strings.Cut(o, ":")
		set(name, value)
	}
	for _, o := range extra {
		value := ""
		if o.Value != nil {
			value = *o.Value
		}
		set(o.Name, value)
	}
	out := make([]string, 0, len(opts))
	for _, o := range opts {
		if o.value != "" {
			out = append(out, o.name+":"+o.value)
		} else {
			out = append(out, o.name)
		}
	}
	return out
}

// podHostname returns the pod's hostname (spec.hostname or its name, cut
// to 63 characters) and, with spec.subdomain, its domain.
func podHostname(pod *corev1.Pod, clusterDomain string) (hostname, domain string) {
	hostname = pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	if len(hostname) > maxHostnameLength {
		hostname = strings.TrimRight(hostname[:maxHostnameLength], "-.")
	}
	if pod.Spec.Subdomain != "" {
		domain = fmt.Sprintf("%s.%s.svc.%s", pod.Spec.Subdomain, pod.Namespace, clusterDomain)
	}
	return hostname, domain
}

// managedHostsFile is the kubelet's /etc/hosts for a pod with its own
// network namespace.
func managedHostsFile(podIPs []string, hostname, domain string, aliases []corev1.HostAlias) []byte {
	var b bytes.Buffer
	b.WriteString("# Kubernetes-managed hosts file.\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("fe00::0\tip6-mcastprefix\n")
	b.WriteString("fe00::1\tip6-allnodes\n")
	b.WriteString("fe00::2\tip6-allrouters\n")
	for _, ip := range podIPs {
		if domain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s\t%s\n", ip, hostname, domain, hostname)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
		}
	}
	b.Write(hostAliasEntries(aliases))
	return b.Bytes()
}

// hostNetworkHostsFile is /etc/hosts for a pod in the node's network
// namespace: the kubelet copies the node's hosts file, which for a kin node
// names the node itself.
func hostNetworkHostsFile(nodeIP, nodeName string, aliases []corev1.HostAlias) []byte {
	var b bytes.Buffer
	b.WriteString("# Kubernetes-managed hosts file (host network).\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	fmt.Fprintf(&b, "%s\t%s\n", nodeIP, nodeName)
	b.Write(hostAliasEntries(aliases))
	return b.Bytes()
}

// hostAliasEntries are the hosts lines of spec.hostAliases.
func hostAliasEntries(aliases []corev1.HostAlias) []byte {
	if len(aliases) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("\n# Entries added by HostAliases.\n")
	for _, h := range aliases {
		fmt.Fprintf(&b, "%s\t%s\n", h.IP, strings.Join(h.Hostnames, "\t"))
	}
	return b.Bytes()
}
