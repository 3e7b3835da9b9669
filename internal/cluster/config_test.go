package cluster

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig("kin")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := &Config{
		APIVersion: APIVersion,
		Kind:       Kind,
		Name:       "kin",
		Networking: Networking{
			LAN:           "192.168.1.0/24",
			PodSubnet:     "172.16.0.0/16",
			PodBlockSize:  26,
			ServiceSubnet: "10.96.0.0/12",
			Overlay:       "vxlan",
			MTU:           1450,
			NodePortRange: "30000-32767",
		},
		Nodes: []NodeConfig{
			{Name: "cp-k8s", Role: "control-plane", Address: "192.168.1.10"},
			{Name: "w1-k8s", Role: "worker", Address: "192.168.1.101"},
			{Name: "w2-k8s", Role: "worker", Address: "192.168.1.102"},
			{Name: "w3-k8s", Role: "worker", Address: "192.168.1.103"},
		},
		Hosts:              []HostConfig{{Name: "client", Address: "192.168.1.1"}},
		PodEvictionTimeout: "300s",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("DefaultConfig =\n%+v\nwant\n%+v", c, want)
	}
	if got := string(c.HostsFile()); got != "127.0.0.1 localhost\n192.168.1.10 cp-k8s\n192.168.1.101 w1-k8s\n192.168.1.102 w2-k8s\n192.168.1.103 w3-k8s\n192.168.1.1 client\n" {
		t.Errorf("HostsFile = %q", got)
	}
	if c.EvictionTimeout() != 300*time.Second || c.LANNet().String() != "192.168.1.0/24" {
		t.Errorf("EvictionTimeout = %v, LANNet = %v", c.EvictionTimeout(), c.LANNet())
	}
	d := c.DeepCopy()
	d.Nodes[0].Name = "changed"
	d.Hosts[0].Name = "changed"
	if c.Nodes[0].Name != "cp-k8s" || c.Hosts[0].Name != "client" {
		t.Error("DeepCopy shares slices")
	}
	c.Default()
	if !reflect.DeepEqual(c, want) {
		t.Error("Default is not idempotent")
	}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kin.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigFull(t *testing.T) {
	path := writeConfig(t, `# a lab on another LAN
apiVersion: kin.dev/v1alpha1
kind: Cluster
name: lab
networking:
  lan: 10.0.0.0/24
  podSubnet: 10.244.0.0/16
  podBlockSize: 24
  serviceSubnet: 10.96.0.0/16
  overlay: none
  mtu: 1500
  nodePortRange: 31000-31999
nodes:
- name: master
  role: control-plane
  address: 10.0.0.2
  labels:
    topology.kubernetes.io/zone: a
- name: worker1
  address: 10.0.0.3
- name: worker2
hosts:
- name: laptop
  address: 10.0.0.100
- name: router
podEvictionTimeout: 30s
`)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "lab" || c.Networking.Overlay != "none" || c.Networking.MTU != 1500 || c.Networking.PodBlockSize != 24 {
		t.Errorf("config = %+v", c)
	}
	if c.Nodes[0].Labels["topology.kubernetes.io/zone"] != "a" || c.Nodes[1].Role != RoleWorker {
		t.Errorf("nodes = %+v", c.Nodes)
	}
	// Addresses left out are assigned: workers from .101, hosts from .1.
	if c.Nodes[2].Address != "10.0.0.101" || c.Hosts[1].Address != "10.0.0.1" {
		t.Errorf("assigned addresses = %s, %s", c.Nodes[2].Address, c.Hosts[1].Address)
	}
	if c.EvictionTimeout() != 30*time.Second {
		t.Errorf("EvictionTimeout = %v", c.EvictionTimeout())
	}
	if first, last, err := ParsePortRange(c.Networking.NodePortRange); err != nil || first != 31000 || last != 31999 {
		t.Errorf("ParsePortRange = %d, %d, %v", first, last, err)
	}
}

func TestLoadConfigMinimal(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, "apiVersion: kin.dev/v1alpha1\nkind: Cluster\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig(DefaultName)
	if !reflect.DeepEqual(c, want) {
		t.Errorf("minimal config =\n%+v\nwant the default\n%+v", c, want)
	}
	// An empty list means none; the MTU follows the overlay.
	c, err = LoadConfig(writeConfig(t, "apiVersion: kin.dev/v1alpha1\nkind: Cluster\nhosts: []\nnetworking:\n  overlay: none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Hosts) != 0 || len(c.Nodes) != 4 || c.Networking.MTU != 1500 {
		t.Errorf("hosts = %v, nodes = %d, mtu = %d", c.Hosts, len(c.Nodes), c.Networking.MTU)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	const head = "apiVersion: kin.dev/v1alpha1\nkind: Cluster\n"
	for _, tc := range []struct {
		name, text string
		want       []string // substrings of the error; FILE stands for the path
	}{
		// yaml.v3 gives the line where the broken construct started.
		{"bad yaml", head + "nodes:\n- name: a\n  address: [1\n", []string{"FILE:4: did not find expected ',' or ']'"}},
		{"tab", head + "name: x\n\tnodes: []\n", []string{"FILE:3: found a tab character"}},
		{"unknown field", head + "nodes:\n- name: cp\n  role: control-plane\n  adress: 192.168.1.10\n", []string{`FILE:6: unknown field "adress"`}},
		{"unknown top field", head + "networkin:\n  lan: 10.0.0.0/24\n", []string{`FILE:3: unknown field "networkin"`}},
		{"wrong type", head + "networking:\n  podBlockSize: big\n", []string{"FILE:4: networking.podBlockSize: cannot unmarshal !!str `big` into int"}},
		{"address outside LAN", head + "nodes:\n- name: cp\n  role: control-plane\n  address: 10.0.0.5\n",
			[]string{"FILE:6: nodes[0].address", "10.0.0.5", "inside the LAN 192.168.1.0/24"}},
		{"broadcast address", head + "hosts:\n- name: h\n  address: 192.168.1.255\n", []string{"FILE:5: hosts[0].address", "broadcast"}},
		{"not an address", head + "hosts:\n- name: h\n  address: client\n", []string{"FILE:5: hosts[0].address", "IPv4 address"}},
		{"duplicate names", head + "nodes:\n- name: cp\n  role: control-plane\n- name: cp\n", []string{"FILE:6: nodes[1].name: Duplicate value: \"cp\"", "also nodes[0].name"}},
		{"node and host same name", head + "hosts:\n- name: cp-k8s\n", []string{"FILE:4: hosts[0].name: Duplicate value"}},
		{"duplicate addresses", head + "nodes:\n- name: a\n  role: control-plane\n  address: 192.168.1.10\n- name: b\n  address: 192.168.1.10\n",
			[]string{"FILE:8: nodes[1].address: Duplicate value: \"192.168.1.10\""}},
		{"bad name", head + "nodes:\n- name: CP_1\n  role: control-plane\n", []string{"FILE:4: nodes[0].name", "RFC 1123"}},
		{"bad CIDR", head + "networking:\n  lan: 192.168.1.0/33\n", []string{"FILE:4: networking.lan", "CIDR"}},
		{"host bits in LAN", head + "networking:\n  lan: 192.168.1.1/24\n", []string{"FILE:4: networking.lan", "did you mean 192.168.1.0/24"}},
		{"overlap", head + "networking:\n  serviceSubnet: 172.16.128.0/20\n", []string{"FILE:4: networking.serviceSubnet", "overlaps networking.podSubnet"}},
		{"no control plane", head + "nodes:\n- name: a\n", []string{"FILE:3: nodes: Required value", "control-plane"}},
		{"no nodes", head + "nodes: []\n", []string{"nodes: Required value"}},
		{"bad role", head + "nodes:\n- name: a\n  role: master\n", []string{"FILE:5: nodes[0].role: Unsupported value: \"master\""}},
		{"mtu", head + "networking:\n  mtu: 1500\n", []string{"FILE:4: networking.mtu", "1450"}},
		{"overlay", head + "networking:\n  overlay: ipip\n", []string{"FILE:4: networking.overlay: Unsupported value: \"ipip\""}},
		{"node ports", head + "networking:\n  nodePortRange: 32767-30000\n", []string{"FILE:4: networking.nodePortRange"}},
		{"blocks", head + "networking:\n  podSubnet: 10.0.0.0/24\n  podBlockSize: 26\nnodes:\n- {name: a, role: control-plane}\n- {name: b}\n- {name: c}\n- {name: d}\n- {name: e}\n",
			[]string{"networking.podBlockSize", "fewer than the 5 nodes"}},
		{"eviction", head + "podEvictionTimeout: soon\n", []string{"FILE:3: podEvictionTimeout"}},
		{"labels", head + "nodes:\n- name: a\n  role: control-plane\n  labels:\n    'bad key!': x\n", []string{"FILE:6: nodes[0].labels"}},
		{"missing apiVersion", "kind: Cluster\n", []string{"apiVersion: Required value"}},
		{"wrong kind", "apiVersion: kin.dev/v1alpha1\nkind: Pod\n", []string{"FILE:2: kind: Invalid value: \"Pod\""}},
		{"bad cluster name", head + "name: My_Cluster\n", []string{"FILE:3: name: Invalid value"}},
		{"two documents", head + "---\n" + head, []string{"FILE:3: more than one YAML document"}},
		{"empty", "", []string{"FILE: empty config"}},
		{"not a mapping", "- a\n", []string{"FILE:1: the config must be a mapping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.text)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("LoadConfig succeeded for:\n%s", tc.text)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "FILE", path)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadConfig(missing) = %v, want an error naming the file", err)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := DefaultConfig("kin")
	c.Nodes[1].Address = "10.1.1.1"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), `cluster config "kin": nodes[1].address: Invalid value: "10.1.1.1"`) {
		t.Errorf("Validate = %v", err)
	}
}

func TestPortName(t *testing.T) {
	seen := map[string]string{}
	for _, n := range []string{"client", "w1-k8s", "exactly-13chr", "worker-number-1", "worker-number-2", "control-plane-node-with-a-long-name"} {
		p := PortName(n)
		if len(p) > 15 || !strings.HasPrefix(p, "v-") {
			t.Errorf("PortName(%q) = %q", n, p)
		}
		if prev, ok := seen[p]; ok {
			t.Errorf("PortName(%q) = PortName(%q) = %q", n, prev, p)
		}
		seen[p] = n
	}
	if PortName("w1-k8s") != "v-w1-k8s" {
		t.Errorf("PortName(w1-k8s) = %q", PortName("w1-k8s"))
	}
}

func TestSplitPath(t *testing.T) {
	got := splitPath("nodes[1].labels[topology.kubernetes.io/zone]")
	want := []string{"nodes", "1", "labels", "topology.kubernetes.io/zone"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitPath = %q, want %q", got, want)
	}
}
