package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind identify a cluster config file.
const (
	APIVersion = "kin.dev/v1alpha1"
	Kind       = "Cluster"
)

// Node roles.
const (
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
)

// Overlays between nodes for pod traffic.
const (
	OverlayVXLAN = "vxlan"
	OverlayNone  = "none"
)

// DefaultName is the cluster name when none is given.
const DefaultName = "kin"

// Config is the cluster config file (YAML, kind-like):
//
//	apiVersion: kin.dev/v1alpha1
//	kind: Cluster
//	name: kin
//	networking:
//	  lan: 192.168.1.0/24
//	  podSubnet: 172.16.0.0/16
//	  podBlockSize: 26
//	  serviceSubnet: 10.96.0.0/12
//	  overlay: vxlan
//	  mtu: 1450
//	  nodePortRange: 30000-32767
//	nodes:
//	- name: cp-k8s
//	  role: control-plane
//	  address: 192.168.1.10
//	- name: w1-k8s
//	  address: 192.168.1.101
//	  labels: {zone: a}
//	hosts:
//	- name: client
//	  address: 192.168.1.1
//	podEvictionTimeout: 300s
//
// Omitted fields take the defaults of DefaultConfig; omitted nodes or hosts
// are the default topology's (an empty list means none); a node or host
// without an address gets a free one (control planes from .10, workers from
// .101, hosts from .1).
type Config struct {
	APIVersion         string       `yaml:"apiVersion" json:"apiVersion"`
	Kind               string       `yaml:"kind" json:"kind"`
	Name               string       `yaml:"name,omitempty" json:"name,omitempty"`
	Networking         Networking   `yaml:"networking,omitempty" json:"networking,omitempty"`
	Nodes              []NodeConfig `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	Hosts              []HostConfig `yaml:"hosts,omitempty" json:"hosts,omitempty"`
	PodEvictionTimeout string       `yaml:"podEvictionTimeout,omitempty" json:"podEvictionTimeout,omitempty"`
}

// Networking holds the cluster's address ranges.
type Networking struct {
	// LAN is the network the nodes and hosts share, e.g. 192.168.1.0/24.
	LAN string `yaml:"lan,omitempty" json:"lan,omitempty"`
	// PodSubnet is split into blocks of PodBlockSize bits, one or more per node.
	PodSubnet    string `yaml:"podSubnet,omitempty" json:"podSubnet,omitempty"`
	PodBlockSize int    `yaml:"podBlockSize,omitempty" json:"podBlockSize,omitempty"`
	// ServiceSubnet holds ClusterIPs; its first address is the kubernetes
	// Service and its tenth the cluster DNS.
	ServiceSubnet string `yaml:"serviceSubnet,omitempty" json:"serviceSubnet,omitempty"`
	// Overlay is "vxlan" (default) or "none" (routes over the LAN).
	Overlay string `yaml:"overlay,omitempty" json:"overlay,omitempty"`
	// MTU of pod interfaces: 1450 for vxlan, 1500 for none by default.
	MTU int `yaml:"mtu,omitempty" json:"mtu,omitempty"`
	// NodePortRange is "first-last".
	NodePortRange string `yaml:"nodePortRange,omitempty" json:"nodePortRange,omitempty"`
}

// NodeConfig is one Kubernetes node.
type NodeConfig struct {
	Name    string            `yaml:"name" json:"name"`
	Role    string            `yaml:"role,omitempty" json:"role,omitempty"`
	Address string            `yaml:"address,omitempty" json:"address,omitempty"`
	Labels  map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// HostConfig is an external host on the LAN, such as the user's laptop.
type HostConfig struct {
	Name    string `yaml:"name" json:"name"`
	Address string `yaml:"address,omitempty" json:"address,omitempty"`
}

// DefaultConfig returns DESIGN.md's topology: control plane cp-k8s at .10,
// workers w1-k8s, w2-k8s, w3-k8s at .101-.103 and the external host client
// at .1 on 192.168.1.0/24.
func DefaultConfig(name string) *Config {
	c := &Config{APIVersion: APIVersion, Kind: Kind, Name: name}
	c.Default()
	return c
}

// DeepCopy returns a copy of c that shares nothing with it.
func (c *Config) DeepCopy() *Config {
	out := *c
	if c.Nodes != nil {
		out.Nodes = make([]NodeConfig, len(c.Nodes))
		for i, n := range c.Nodes {
			n.Labels = maps.Clone(n.Labels)
			out.Nodes[i] = n
		}
	}
	out.Hosts = slices.Clone(c.Hosts)
	return &out
}

// Default fills what c leaves out with the defaults. It is idempotent.
func (c *Config) Default() {
	if c.APIVersion == "" {
		c.APIVersion = APIVersion
	}
	if c.Kind == "" {
		c.Kind = Kind
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	n := &c.Networking
	if n.LAN == "" {
		n.LAN = "192.168.1.0/24"
	}
	if n.PodSubnet == "" {
		n.PodSubnet = "172.16.0.0/16"
	}
	if n.PodBlockSize == 0 {
		n.PodBlockSize = 26
	}
	if n.ServiceSubnet == "" {
		n.ServiceSubnet = "10.96.0.0/12"
	}
	if n.Overlay == "" {
		n.Overlay = OverlayVXLAN
	}
	if n.MTU == 0 {
		n.MTU = 1500
		if n.Overlay == OverlayVXLAN {
			n.MTU = 1450
		}
	}
	if n.NodePortRange == "" {
		n.NodePortRange = "30000-32767"
	}
	if c.PodEvictionTimeout == "" {
		c.PodEvictionTimeout = "300s"
	}
	if c.Nodes == nil {
		c.Nodes = []NodeConfig{
			{Name: "cp-k8s", Role: RoleControlPlane}, // .10
			{Name: "w1-k8s", Role: RoleWorker},       // .101
			{Name: "w2-k8s", Role: RoleWorker},       // .102
			{Name: "w3-k8s", Role: RoleWorker},       // .103
		}
	}
	if c.Hosts == nil {
		c.Hosts = []HostConfig{{Name: "client"}} // .1
	}
	for i := range c.Nodes {
		if c.Nodes[i].Role == "" {
			c.Nodes[i].Role = RoleWorker
		}
	}
	c.assignAddresses()
}

// assignAddresses gives nodes and hosts without an address a free one.
func (c *Config) assignAddresses() {
	_, lan, err := net.ParseCIDR(c.Networking.LAN)
	if err != nil || lan.IP.To4() == nil {
		return
	}
	used := map[string]bool{}
	for _, n := range c.Nodes {
		used[n.Address] = true
	}
	for _, h := range c.Hosts {
		used[h.Address] = true
	}
	base := ipToUint(lan.IP.To4())
	ones, _ := lan.Mask.Size()
	size := uint32(1) << (32 - ones)
	next := func(from uint32) string {
		for i := uint32(0); i < size; i++ {
			off := (from + i) % size
			if off == 0 || off == size-1 {
				continue
			}
			a := uintToIP(base + off).String()
			if !used[a] {
				used[a] = true
				return a
			}
		}
		return ""
	}
	for i := range c.Nodes {
		if c.Nodes[i].Address == "" {
			from := uint32(101)
			if c.Nodes[i].Role == RoleControlPlane {
				from = 10
			}
			c.Nodes[i].Address = next(from % size)
		}
	}
	for i := range c.Hosts {
		if c.Hosts[i].Address == "" {
			c.Hosts[i].Address = next(1)
		}
	}
}

func ipToUint(ip net.IP) uint32 {
	ip = ip.To4()
	return uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
}

func uintToIP(v uint32) net.IP { return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4() }

var clusterNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$`)

// parseNet parses an IPv4 network address in CIDR notation.
func parseNet(errs *field.ErrorList, path *field.Path, value string) *net.IPNet {
	ip, n, err := net.ParseCIDR(value)
	switch {
	case err != nil:
		*errs = append(*errs, field.Invalid(path, value, "must be an IPv4 network in CIDR notation, e.g. 192.168.1.0/24"))
		return nil
	case ip.To4() == nil:
		*errs = append(*errs, field.Invalid(path, value, "must be an IPv4 network (IPv6 is not supported yet)"))
		return nil
	case !ip.Equal(n.IP):
		*errs = append(*errs, field.Invalid(path, value, "must be a network address; did you mean "+n.String()+"?"))
		return nil
	}
	return n
}

func overlaps(a, b *net.IPNet) bool { return a.Contains(b.IP) || b.Contains(a.IP) }

// Validate checks a defaulted config. The errors name fields by their path,
// as Kubernetes does (nodes[1].address: Invalid value: ...).
func (c *Config) Validate() error {
	errs := c.validate()
	if len(errs) == 0 {
		return nil
	}
	return &ConfigError{Name: c.Name, Errs: errs}
}

func (c *Config) validate() field.ErrorList {
	var errs field.ErrorList
	if c.APIVersion != APIVersion {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), c.APIVersion, "must be "+APIVersion))
	}
	if c.Kind != Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), c.Kind, "must be "+Kind))
	}
	if !clusterNameRE.MatchString(c.Name) {
		errs = append(errs, field.Invalid(field.NewPath("name"), c.Name, "must be up to 32 lowercase letters, digits and '-', starting and ending with a letter or digit"))
	}

	np := field.NewPath("networking")
	nw := c.Networking
	lan := parseNet(&errs, np.Child("lan"), nw.LAN)
	if lan != nil {
		if ones, _ := lan.Mask.Size(); ones < 8 || ones > 29 {
			errs = append(errs, field.Invalid(np.Child("lan"), nw.LAN, "prefix length must be between /8 and /29"))
			lan = nil
		}
	}
	pods := parseNet(&errs, np.Child("podSubnet"), nw.PodSubnet)
	svcs := parseNet(&errs, np.Child("serviceSubnet"), nw.ServiceSubnet)
	if pods != nil {
		ones, _ := pods.Mask.Size()
		if nw.PodBlockSize < ones || nw.PodBlockSize > 30 {
			errs = append(errs, field.Invalid(np.Child("podBlockSize"), nw.PodBlockSize,
				fmt.Sprintf("must be between the pod subnet's prefix length %d and 30", ones)))
		} else if blocks := 1 << min(nw.PodBlockSize-ones, 30); blocks < len(c.Nodes) {
			errs = append(errs, field.Invalid(np.Child("podBlockSize"), nw.PodBlockSize,
				fmt.Sprintf("the pod subnet has %d blocks of this size, fewer than the %d nodes", blocks, len(c.Nodes))))
		}
	}
	if svcs != nil {
		if ones, _ := svcs.Mask.Size(); ones > 28 {
			errs = append(errs, field.Invalid(np.Child("serviceSubnet"), nw.ServiceSubnet, "must be /28 or larger (10 addresses are reserved)"))
		}
	}
	for _, p := range []struct {
		a, b   *net.IPNet
		fa, fb string
	}{{lan, pods, "lan", "podSubnet"}, {lan, svcs, "lan", "serviceSubnet"}, {pods, svcs, "podSubnet", "serviceSubnet"}} {
		if p.a != nil && p.b != nil && overlaps(p.a, p.b) {
			errs = append(errs, field.Invalid(np.Child(p.fb), p.b.String(), "overlaps networking."+p.fa+" "+p.a.String()))
		}
	}
	maxMTU := 1500
	switch nw.Overlay {
	case OverlayVXLAN:
		maxMTU = 1450
	case OverlayNone:
	default:
		errs = append(errs, field.NotSupported(np.Child("overlay"), nw.Overlay, []string{OverlayVXLAN, OverlayNone}))
	}
	if nw.MTU < 576 || nw.MTU > maxMTU {
		errs = append(errs, field.Invalid(np.Child("mtu"), nw.MTU, fmt.Sprintf("must be between 576 and %d for overlay %q", maxMTU, nw.Overlay)))
	}
	if _, _, err := ParsePortRange(nw.NodePortRange); err != nil {
		errs = append(errs, field.Invalid(np.Child("nodePortRange"), nw.NodePortRange, err.Error()))
	}

	if d, err := time.ParseDuration(c.PodEvictionTimeout); err != nil || d < 0 {
		errs = append(errs, field.Invalid(field.NewPath("podEvictionTimeout"), c.PodEvictionTimeout, "must be a duration such as 300s or 5m"))
	}

	names := map[string]*field.Path{}
	addrs := map[string]*field.Path{}
	ports := map[string]*field.Path{}
	member := func(path *field.Path, name, address string) {
		if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
			errs = append(errs, field.Invalid(path.Child("name"), name, strings.Join(msgs, "; ")))
		} else if prev, ok := names[name]; ok {
			errs = append(errs, duplicate(path.Child("name"), name, prev))
		} else {
			names[name] = path.Child("name")
			port := PortName(name)
			if prev, ok := ports[port]; ok {
				errs = append(errs, field.Invalid(path.Child("name"), name, "its LAN port name "+port+" is the same as "+prev.String()+"'s; choose a shorter name"))
			}
			ports[port] = path.Child("name")
		}
		ap := path.Child("address")
		ip := net.ParseIP(address)
		switch {
		case address == "":
			errs = append(errs, field.Required(ap, "no free address left in the LAN"))
		case ip == nil || ip.To4() == nil:
			errs = append(errs, field.Invalid(ap, address, "must be an IPv4 address"))
		case lan == nil:
		case !lan.Contains(ip):
			errs = append(errs, field.Invalid(ap, address, "must be inside the LAN "+lan.String()))
		case ip.Equal(lan.IP) || ip.Equal(broadcast(lan)):
			errs = append(errs, field.Invalid(ap, address, "is the LAN's network or broadcast address"))
		default:
			if prev, ok := addrs[ip.String()]; ok {
				errs = append(errs, duplicate(ap, address, prev))
			} else {
				addrs[ip.String()] = ap
			}
		}
	}
	controlPlanes := 0
	if len(c.Nodes) == 0 {
		errs = append(errs, field.Required(field.NewPath("nodes"), "a cluster needs at least one node"))
	}
	for i, n := range c.Nodes {
		p := field.NewPath("nodes").Index(i)
		member(p, n.Name, n.Address)
		switch n.Role {
		case RoleControlPlane:
			controlPlanes++
		case RoleWorker:
		default:
			errs = append(errs, field.NotSupported(p.Child("role"), n.Role, []string{RoleControlPlane, RoleWorker}))
		}
		errs = append(errs, metav1validation.ValidateLabels(n.Labels, p.Child("labels"))...)
	}
	if len(c.Nodes) > 0 && controlPlanes == 0 {
		errs = append(errs, field.Required(field.NewPath("nodes"), "at least one node must have role control-plane"))
	}
	for i, h := range c.Hosts {
		member(field.NewPath("hosts").Index(i), h.Name, h.Address)
	}
	return errs
}

func duplicate(path *field.Path, value string, prev *field.Path) *field.Error {
	e := field.Duplicate(path, value)
	e.Detail = "also " + prev.String()
	return e
}

func broadcast(n *net.IPNet) net.IP {
	ip := n.IP.To4()
	out := make(net.IP, 4)
	for i := range out {
		out[i] = ip[i] | ^n.Mask[i]
	}
	return out
}

// ParsePortRange parses "30000-32767".
func ParsePortRange(s string) (first, last int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, errors.New("must be first-last, e.g. 30000-32767")
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || first < 1 || last > 65535 || first > last {
		return 0, 0, errors.New("must be first-last with 1 <= first <= last <= 65535")
	}
	return first, last, nil
}

// PortName is the name of a node's or host's veth end on the LAN bridge:
// "v-<name>", or a prefix of the name and a hash when that is longer than
// the 15 characters an interface name can have.
func PortName(name string) string {
	if len(name) <= 13 {
		return "v-" + name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("v-%s%05x", name[:8], h.Sum32()&0xfffff)
}

// LANNet returns the LAN network of a valid config.
func (c *Config) LANNet() *net.IPNet {
	_, n, _ := net.ParseCIDR(c.Networking.LAN)
	return n
}

// EvictionTimeout returns PodEvictionTimeout of a valid config.
func (c *Config) EvictionTimeout() time.Duration {
	d, _ := time.ParseDuration(c.PodEvictionTimeout)
	return d
}

// ConfigError lists the problems of a config, each with its field path and,
// when the config came from a file, the file and line.
type ConfigError struct {
	// Name is the cluster's name, File the config file ("" when none).
	Name, File string
	Errs       field.ErrorList
	// Lines has the line of each of Errs in File (0 when unknown).
	Lines []int
	// Syntax is a problem found before the fields could be read.
	Syntax []LineMessage
}

// LineMessage is a problem at a line of a config file.
type LineMessage struct {
	Line    int
	Message string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	prefix := func(line int) {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		switch {
		case e.File != "" && line > 0:
			fmt.Fprintf(&b, "%s:%d: ", e.File, line)
		case e.File != "":
			fmt.Fprintf(&b, "%s: ", e.File)
		default:
			fmt.Fprintf(&b, "cluster config %q: ", e.Name)
		}
	}
	for _, s := range e.Syntax {
		prefix(s.Line)
		b.WriteString(s.Message)
	}
	for i, fe := range e.Errs {
		line := 0
		if i < len(e.Lines) {
			line = e.Lines[i]
		}
		prefix(line)
		b.WriteString(fe.Error())
	}
	return b.String()
}

// LoadConfig reads a cluster config file, fills in the defaults and
// validates it. Unknown fields are refused; every error names the file and
// the line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster config: %w", err)
	}
	return ParseConfig(data, path)
}

var (
	yamlLineRE     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// ParseConfig is LoadConfig for data read from file (which only names the
// source in errors).
func ParseConfig(data []byte, file string) (*Config, error) {
	fail := func(line int, msg string) error {
		return &ConfigError{File: file, Syntax: []LineMessage{{line, msg}}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, fail(line, m[2])
		}
		return nil, fail(0, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return nil, fail(0, "empty config: want apiVersion: "+APIVersion+", kind: "+Kind)
	}
	if root.Content[0].Kind != yaml.MappingNode {
		return nil, fail(root.Content[0].Line, "the config must be a mapping with apiVersion: "+APIVersion+" and kind: "+Kind)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, fail(0, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		ce := &ConfigError{File: file}
		for _, msg := range te.Errors {
			line := 0
			if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
				msg = fmt.Sprintf("unknown field %q", m[1])
			} else if p := pathAtLine(root.Content[0], line, ""); p != "" {
				msg = p + ": " + msg
			}
			ce.Syntax = append(ce.Syntax, LineMessage{line, msg})
		}
		return nil, ce
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fail(extra.Line, "more than one YAML document: a config file holds one cluster")
	} else if !errors.Is(err, io.EOF) {
		return nil, fail(0, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// apiVersion and kind must be written; the rest has defaults.
	var errs field.ErrorList
	if c.APIVersion == "" {
		errs = append(errs, field.Required(field.NewPath("apiVersion"), "must be "+APIVersion))
	}
	if c.Kind == "" {
		errs = append(errs, field.Required(field.NewPath("kind"), "must be "+Kind))
	}
	c.Default()
	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		lines := make([]int, len(errs))
		for i, fe := range errs {
			lines[i] = lineOf(root.Content[0], fe.Field)
		}
		order := make([]int, len(errs))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return lines[order[a]] < lines[order[b]] })
		ce := &ConfigError{Name: c.Name, File: file}
		for _, i := range order {
			ce.Errs = append(ce.Errs, errs[i])
			ce.Lines = append(ce.Lines, lines[i])
		}
		return nil, ce
	}
	return &c, nil
}

// lineOf returns the line of the YAML node at a field path such as
// "nodes[1].labels[zone]", or of its nearest ancestor present in the file.
func lineOf(doc *yaml.Node, path string) int {
	node, line := doc, doc.Line
	for _, seg := range splitPath(path) {
		var next *yaml.Node
		switch node.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == seg {
					next = node.Content[i+1]
					line = node.Content[i].Line
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(node.Content) {
				next = node.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		node = next
	}
	return line
}

// pathAtLine returns the field path of the innermost value that starts on
// line, or "".
func pathAtLine(node *yaml.Node, line int, path string) string {
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if inner := pathAtLine(v, line, p); inner != "" {
				return inner
			}
			if k.Line == line && (v.Kind == yaml.ScalarNode || v.Line == line) {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, v := range node.Content {
			if inner := pathAtLine(v, line, fmt.Sprintf("%s[%d]", path, i)); inner != "" {
				return inner
			}
		}
	}
	return ""
}

// splitPath splits "nodes[1].labels[a.b/c]" into nodes, 1, labels, a.b/c.
func splitPath(path string) []string {
	var segs []string
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return append(segs, path[1:])
			}
			segs = append(segs, path[1:end])
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			segs = append(segs, path[:end])
			path = path[end:]
		}
	}
	return segs
}
