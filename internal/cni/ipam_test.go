package cni

import (
	"errors"
	"fmt"
	"net"
	"testing"
)

func cidr(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

func cidrs(ss ...string) []*net.IPNet {
	out := make([]*net.IPNet, len(ss))
	for i, s := range ss {
		out[i] = cidr(s)
	}
	return out
}

func TestNextBlock(t *testing.T) {
	tests := []struct {
		name    string
		pool    string
		size    int
		taken   []string
		want    string
		wantErr error
	}{
		{name: "empty pool", pool: "172.16.0.0/16", size: 26, want: "172.16.0.0/26"},
		{name: "first taken", pool: "172.16.0.0/16", size: 26, taken: []string{"172.16.0.0/26"}, want: "172.16.0.64/26"},
		{name: "gap is reused", pool: "172.16.0.0/16", size: 26,
			taken: []string{"172.16.0.0/26", "172.16.0.128/26"}, want: "172.16.0.64/26"},
		{name: "unsorted taken", pool: "172.16.0.0/16", size: 26,
			taken: []string{"172.16.0.128/26", "172.16.0.64/26", "172.16.0.0/26"}, want: "172.16.0.192/26"},
		{name: "larger taken network skips blocks", pool: "172.16.0.0/16", size: 26,
			taken: []string{"172.16.0.0/24"}, want: "172.16.1.0/26"},
		{name: "small taken network blocks its block", pool: "172.16.0.0/16", size: 26,
			taken: []string{"172.16.0.5/32"}, want: "172.16.0.64/26"},
		{name: "taken outside the pool is ignored", pool: "172.16.0.0/16", size: 26,
			taken: []string{"10.0.0.0/8", "172.17.0.0/26"}, want: "172.16.0.0/26"},
		{name: "taken containing the pool", pool: "172.16.0.0/16", size: 26,
			taken: []string{"172.0.0.0/8"}, wantErr: ErrPoolExhausted},
		{name: "IPv6 taken ignored", pool: "172.16.0.0/16", size: 26,
			taken: []string{"fd00::/64"}, want: "172.16.0.0/26"},
		{name: "unmasked pool address", pool: "172.16.3.4/16", size: 26, want: "172.16.0.0/26"},
		{name: "block size 24", pool: "10.244.0.0/16", size: 24,
			taken: []string{"10.244.0.0/24", "10.244.1.0/24"}, want: "10.244.2.0/24"},
		{name: "block equals pool", pool: "172.16.0.0/26", size: 26, want: "172.16.0.0/26"},
		{name: "exhausted", pool: "172.16.0.0/25", size: 26,
			taken: []string{"172.16.0.0/26", "172.16.0.64/26"}, wantErr: ErrPoolExhausted},
		{name: "last block", pool: "172.16.0.0/16", size: 26,
			taken: []string{"172.16.0.0/17", "172.16.128.0/18", "172.16.192.0/19", "172.16.224.0/20",
				"172.16.240.0/21", "172.16.248.0/22", "172.16.252.0/23", "172.16.254.0/24",
				"172.16.255.0/25", "172.16.255.128/26"}, want: "172.16.255.192/26"},
		{name: "IPv6", pool: "fd00:10::/56", size: 64, taken: []string{"fd00:10::/64"}, want: "fd00:10:0:1::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip, pool, _ := net.ParseCIDR(tt.pool)
			pool.IP = ip // unmasked, and 16 bytes for IPv4
			got, err := NextBlock(pool, tt.size, cidrs(tt.taken...))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("NextBlock = %v, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("NextBlock = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestNextBlockInvalid(t *testing.T) {
	for _, tt := range []struct {
		pool *net.IPNet
		size int
	}{
		{nil, 26},
		{cidr("172.16.0.0/16"), 15},
		{cidr("172.16.0.0/16"), 32},
		{cidr("172.16.0.0/16"), 33},
	} {
		if got, err := NextBlock(tt.pool, tt.size, nil); err == nil {
			t.Errorf("NextBlock(%v, %d) = %v, want an error", tt.pool, tt.size, got)
		}
	}
}

func TestNextBlockFillsPool(t *testing.T) {
	pool := cidr("172.16.0.0/16")
	var taken []*net.IPNet
	for i := range 1024 {
		b, err := NextBlock(pool, 26, taken)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if want := fmt.Sprintf("172.16.%d.%d/26", i/4, i%4*64); b.String() != want {
			t.Fatalf("block %d = %s, want %s", i, b, want)
		}
		taken = append(taken, b)
	}
	if b, err := NextBlock(pool, 26, taken); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("NextBlock on a full pool = %v, %v; want ErrPoolExhausted", b, err)
	}
}

func TestBlockIPAMAllocate(t *testing.T) {
	a, err := NewBlockIPAM(cidrs("172.16.132.0/26"))
	if err != nil {
		t.Fatal(err)
	}
	ip, err := a.Allocate("default/a")
	if err != nil || ip.String() != "172.16.132.1" {
		t.Fatalf("first Allocate = %v, %v; want 172.16.132.1 (the first address is the tunnel's)", ip, err)
	}
	again, _ := a.Allocate("default/a")
	if !again.Equal(ip) {
		t.Fatalf("Allocate is not idempotent: %v then %v", ip, again)
	}
	b, _ := a.Allocate("default/b")
	if b.String() != "172.16.132.2" {
		t.Fatalf("second pod got %v, want 172.16.132.2", b)
	}
	if got := a.Release("default/a"); !got.Equal(ip) {
		t.Fatalf("Release = %v, want %v", got, ip)
	}
	if got := a.Release("default/a"); got != nil {
		t.Fatalf("second Release = %v, want nil", got)
	}
	// Next-fit: the released .1 is not handed out again before the block wraps.
	c, _ := a.Allocate("default/c")
	if c.String() != "172.16.132.3" {
		t.Fatalf("after a release the next pod got %v, want 172.16.132.3", c)
	}
	if got, ok := a.Lookup("default/b"); !ok || !got.Equal(b) {
		t.Fatalf("Lookup(b) = %v, %v", got, ok)
	}
	if _, ok := a.Lookup("default/a"); ok {
		t.Fatal("Lookup of a released pod succeeded")
	}
}

func TestBlockIPAMFullAndWrap(t *testing.T) {
	a, _ := NewBlockIPAM(cidrs("10.0.0.0/29")) // .1-.7 usable
	seen := map[string]bool{}
	for i := range 7 {
		ip, err := a.Allocate(fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatalf("Allocate %d: %v", i, err)
		}
		if ip.String() == "10.0.0.0" || seen[ip.String()] {
			t.Fatalf("Allocate %d = %v: reserved or duplicate", i, ip)
		}
		seen[ip.String()] = true
	}
	if ip, err := a.Allocate("p7"); !errors.Is(err, ErrBlockFull) {
		t.Fatalf("Allocate on a full block = %v, %v; want ErrBlockFull", ip, err)
	}
	a.Release("p3") // 10.0.0.4
	if ip, err := a.Allocate("p8"); err != nil || ip.String() != "10.0.0.4" {
		t.Fatalf("Allocate after release on a full block = %v, %v; want 10.0.0.4", ip, err)
	}
	if in, capacity := a.Stats(); in != 7 || capacity != 7 {
		t.Fatalf("Stats = %d, %d; want 7, 7", in, capacity)
	}
	// A second block makes room; its first address is reserved too.
	if err := a.AddBlock(cidr("10.0.0.64/29")); err != nil {
		t.Fatal(err)
	}
	if ip, err := a.Allocate("p9"); err != nil || ip.String() != "10.0.0.65" {
		t.Fatalf("Allocate with a second block = %v, %v; want 10.0.0.65", ip, err)
	}
	if err := a.AddBlock(cidr("10.0.0.0/28")); err == nil {
		t.Fatal("AddBlock of an overlapping block succeeded")
	}
	if err := a.AddBlock(cidr("10.0.0.64/29")); err != nil {
		t.Fatalf("AddBlock of an existing block: %v", err)
	}
	if got := len(a.Blocks()); got != 2 {
		t.Fatalf("Blocks() has %d blocks, want 2", got)
	}
}

func TestBlockIPAMRestore(t *testing.T) {
	a, _ := NewBlockIPAM(cidrs("172.16.103.128/26", "172.16.103.192/26"))
	steps := []struct {
		key, ip string
		ok      bool
	}{
		{"default/ubuntu-test", "172.16.103.134", true},
		{"default/ubuntu-test", "172.16.103.134", true},  // idempotent
		{"default/other", "172.16.103.134", false},       // owned by another pod
		{"default/ubuntu-test", "172.16.103.135", false}, // pod has another address
		{"default/x", "172.16.103.128", false},           // reserved tunnel address
		{"default/y", "172.16.103.192", false},           // reserved first address of block 2
		{"default/z", "10.1.1.1", false},                 // outside the blocks
		{"kube-system/dns", "172.16.103.130", true},
	}
	for _, s := range steps {
		err := a.Restore(s.key, net.ParseIP(s.ip))
		if (err == nil) != s.ok {
			t.Errorf("Restore(%s, %s) = %v, want ok=%v", s.key, s.ip, err, s.ok)
		}
	}
	// Allocation continues after the highest restored address and never
	// hands out one in use.
	ip, err := a.Allocate("default/new")
	if err != nil || ip.String() != "172.16.103.135" {
		t.Fatalf("Allocate after Restore = %v, %v; want 172.16.103.135", ip, err)
	}
	for i := range 200 {
		ip, err := a.Allocate(fmt.Sprintf("p%d", i))
		if errors.Is(err, ErrBlockFull) {
			break
		}
		if s := ip.String(); s == "172.16.103.134" || s == "172.16.103.130" || s == "172.16.103.135" {
			t.Fatalf("Allocate handed out %s, which is in use", s)
		}
	}
	if in, capacity := a.Stats(); in != capacity || capacity != 126 {
		t.Fatalf("Stats = %d, %d; want a full 126", in, capacity)
	}
}

func TestBlockIPAMDeterministic(t *testing.T) {
	run := func() []string {
		a, _ := NewBlockIPAM(cidrs("172.16.0.0/26"))
		var out []string
		for i := range 10 {
			ip, _ := a.Allocate(fmt.Sprintf("p%d", i))
			out = append(out, ip.String())
			if i%3 == 0 {
				a.Release(fmt.Sprintf("p%d", i/2))
			}
		}
		return out
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("two identical runs differ:\n%v\n%v", a, b)
	}
}

func TestNames(t *testing.T) {
	// Calico's name for pod default/multi-container is derived the same way:
	// "cali" + sha1("default.multi-container")[:11].
	if got := HostVethName(CalicoWorkloadID("default", "nginx")); len(got) != 15 || got[:4] != "cali" {
		t.Fatalf("HostVethName = %q, want cali + 11 hex digits", got)
	}
	if got, want := HostVethName("abc"), "calia9993e36470"; got != want {
		t.Fatalf("HostVethName(abc) = %q, want %q", got, want)
	}
	if got := VTEPMAC(net.ParseIP("192.168.1.101")).String(); got != "66:6b:c0:a8:01:65" {
		t.Fatalf("VTEPMAC = %s", got)
	}
	if got := TunnelIP(cidrs("172.16.132.0/26", "172.16.133.0/26")); got.String() != "172.16.132.0" {
		t.Fatalf("TunnelIP = %v", got)
	}
	if got := TunnelIP(nil); got != nil {
		t.Fatalf("TunnelIP(nil) = %v", got)
	}
}

func ip(s string) net.IP { return net.ParseIP(s).To4() }
