package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testCluster returns a unique cluster name and removes the cluster when the
// test ends, also on failure. It skips the test when not root.
func testCluster(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipping: real-kernel namespace test needs root")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	cluster := "kt" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		if err := Cleanup(cluster); err != nil {
			tb.Errorf("Cleanup(%s): %v", cluster, err)
		}
	})
	return cluster
}

func needNsenter(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("nsenter"); err != nil {
		tb.Skip("skipping: nsenter (util-linux) not installed")
	}
}

func output(t *testing.T, s *Sandbox, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v in %s: %v\n%s", name, args, s, err, out)
	}
	return string(out)
}

func TestCheckHost(t *testing.T) {
	for _, tc := range []struct {
		network, addr string
		ok            bool
	}{
		{"tcp", "127.0.0.1:80", true},
		{"tcp", ":0", true},
		{"tcp6", "[::1]:80", true},
		{"tcp", "[fe80::1%eth0]:80", true},
		{"udp", "192.168.1.1:53", true},
		{"ip4:icmp", "192.168.1.1", true},
		{"ip4:icmp", "", true},
		{"unix", "/tmp/x.sock", true},
		{"tcp", "example.com:80", false},
		{"tcp", "localhost:80", false},
		{"tcp", "127.0.0.1", false},
		{"ip4:icmp", "example.com", false},
	} {
		err := checkHost(tc.network, tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("checkHost(%q, %q) = %v, want ok=%v", tc.network, tc.addr, err, tc.ok)
		}
	}
}

func TestUnescapeMountInfo(t *testing.T) {
	for in, want := range map[string]string{
		`/run/kin`:         "/run/kin",
		`/a\040b`:          "/a b",
		`/a\134b`:          `/a\b`,
		`/x\04`:            `/x\04`,
		`/tab\011end\012`:  "/tab\tend\n",
		`/not\999octal\01`: `/not\999octal\01`,
	} {
		if got := unescapeMountInfo(in); got != want {
			t.Errorf("unescapeMountInfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSandbox(t *testing.T) {
	needNsenter(t)
	cluster := testCluster(t)
	hosts := []byte("127.0.0.1 localhost\n192.168.1.10 cp-k8s\n")
	s, err := Create(SandboxSpec{
		Cluster:    cluster,
		Name:       "node-a",
		Hostname:   "cp-k8s",
		Files:      map[string][]byte{"/etc/hosts": hosts},
		NamedNetNS: true,
	})
	if err != nil {
		t.Fatal(err)
	}

	if got := strings.TrimSpace(output(t, s, "hostname")); got != "cp-k8s" {
		t.Errorf("hostname inside = %q, want cp-k8s", got)
	}
	if h, _ := os.Hostname(); h == "cp-k8s" {
		t.Errorf("hostname outside changed to %q", h)
	}
	if got := output(t, s, "cat", "/etc/hosts"); got != string(hosts) {
		t.Errorf("/etc/hosts inside = %q, want %q", got, hosts)
	}
	if outside, err := os.ReadFile("/etc/hosts"); err != nil || bytes.Equal(outside, hosts) {
		t.Errorf("/etc/hosts outside = %q, %v: the sandbox's file leaked out", outside, err)
	}

	// Only loopback, and it is up; /sys shows the sandbox's interfaces.
	if got := strings.Fields(output(t, s, "ls", "/sys/class/net")); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("/sys/class/net inside = %v, want [lo]", got)
	}
	if err := s.Do(func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		if len(ifs) != 1 || ifs[0].Name != "lo" || ifs[0].Flags&net.FlagUp == 0 {
			t.Errorf("interfaces inside = %+v, want lo up", ifs)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Named network namespace for `ip netns exec`.
	if s.NetNSName != NetNSName(cluster, "node-a") {
		t.Errorf("NetNSName = %q", s.NetNSName)
	}
	if nsInode(filepath.Join(NetNSDir, s.NetNSName)) != nsInode(s.NetPath) {
		t.Errorf("%s is not the sandbox's network namespace", s.NetNSName)
	}
	if _, err := exec.LookPath("ip"); err == nil {
		out, err := exec.Command("ip", "netns", "exec", s.NetNSName, "ip", "-o", "link", "show").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "lo:") || strings.Count(string(out), "\n") != 1 {
			t.Errorf("ip netns exec %s ip link: %v\n%s", s.NetNSName, err, out)
		}
	}

	// Listen and Dial inside, over the sandbox's loopback.
	l, err := s.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write([]byte("hello from inside"))
		c.Close()
	}()
	port := l.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := s.Dial(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "hello from inside" {
		t.Errorf("read %q, %v", got, err)
	}
	// The port is the sandbox's: the machine's loopback still has it free.
	if outside, err := net.Listen("tcp", l.Addr().String()); err != nil {
		t.Logf("port %d busy outside too (another program?): %v", port, err)
	} else {
		outside.Close()
	}
	// Programs run by Command reach the listener too.
	if _, err := exec.LookPath("bash"); err == nil {
		go func() {
			if c, err := l.Accept(); err == nil {
				_, _ = c.Write([]byte("again"))
				c.Close()
			}
		}()
		got := output(t, s, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(port)+"; cat <&3")
		if got != "again" {
			t.Errorf("bash /dev/tcp inside read %q", got)
		}
	}

	pc, err := s.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc.Close()
	if _, err := s.Dial(ctx, "tcp", "localhost:80"); err == nil {
		t.Error("Dial with a host name succeeded, want an error")
	}

	// Open finds it; a missing one wraps fs.ErrNotExist.
	o, err := Open(cluster, "node-a")
	if err != nil || o.NetPath != s.NetPath || o.NetNSName != s.NetNSName {
		t.Errorf("Open = %+v, %v", o, err)
	}
	if _, err := Open(cluster, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
	if names, err := List(cluster); err != nil || !slices.Equal(names, []string{"node-a"}) {
		t.Errorf("List = %v, %v", names, err)
	}
}

func TestSysctlStaysInside(t *testing.T) {
	cluster := testCluster(t)
	s, err := Create(SandboxSpec{Cluster: cluster, Name: "sysctl"})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	inside, err := s.Sysctl("net.ipv4.ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	want := "1"
	if inside == "1" {
		want = "0"
	}
	if err := s.SetSysctl("net.ipv4.ip_forward", want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Sysctl("net.ipv4.ip_forward"); err != nil || got != want {
		t.Errorf("ip_forward inside = %q, %v, want %q", got, err, want)
	}
	after, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if !bytes.Equal(before, after) {
		_ = os.WriteFile("/proc/sys/net/ipv4/ip_forward", before, 0o644)
		t.Fatalf("machine's ip_forward changed from %q to %q (restored)", before, after)
	}
	if err := s.SetSysctl("kernel.hostname", "x"); err == nil {
		t.Error("SetSysctl(kernel.hostname) succeeded, want refusal")
	}
}

func TestCreateIdempotent(t *testing.T) {
	needNsenter(t)
	cluster := testCluster(t)
	spec := SandboxSpec{
		Cluster:    cluster,
		Name:       "host-client",
		Hostname:   "client",
		Files:      map[string][]byte{"/etc/hosts": []byte("127.0.0.1 localhost\n")},
		NamedNetNS: true,
	}
	s1, err := Create(spec)
	if err != nil {
		t.Fatal(err)
	}
	ino := nsInode(s1.NetPath)
	l, err := s1.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	// Same spec: the same namespaces.
	s2, err := Create(spec)
	if err != nil {
		t.Fatal(err)
	}
	if nsInode(s2.NetPath) != ino || s2.NetNSName != s1.NetNSName {
		t.Fatal("second Create made a new network namespace")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := s2.Dial(ctx, "tcp", l.Addr().String()); err != nil {
		t.Errorf("listener of the first Create not reachable after the second: %v", err)
	} else {
		c.Close()
	}

	// Changed spec: files rewritten, added and removed; hostname set again;
	// named namespace removed.
	spec.Hostname = "client2"
	spec.Files = map[string][]byte{
		"/etc/hosts":    []byte("127.0.0.1 localhost\n192.168.1.1 client2\n"),
		"/etc/hostname": []byte("client2\n"),
	}
	spec.NamedNetNS = false
	s3, err := Create(spec)
	if err != nil {
		t.Fatal(err)
	}
	if nsInode(s3.NetPath) != ino {
		t.Fatal("Create with a changed spec made a new network namespace")
	}
	if got := output(t, s3, "cat", "/etc/hosts", "/etc/hostname"); got != "127.0.0.1 localhost\n192.168.1.1 client2\nclient2\n" {
		t.Errorf("files inside = %q", got)
	}
	if got := strings.TrimSpace(output(t, s3, "hostname")); got != "client2" {
		t.Errorf("hostname = %q, want client2", got)
	}
	if _, err := os.Stat(filepath.Join(NetNSDir, NetNSName(cluster, "host-client"))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("named netns still there: %v", err)
	}
	spec.Files = nil
	if _, err := Create(spec); err != nil {
		t.Fatal(err)
	}
	if got := output(t, s3, "cat", "/etc/hosts"); got == "127.0.0.1 localhost\n192.168.1.1 client2\n" {
		t.Error("/etc/hosts still mounted after it left the spec")
	}
}

func TestCreateRepairsHalfMade(t *testing.T) {
	cluster := testCluster(t)
	s, err := Create(SandboxSpec{Cluster: cluster, Name: "half", NamedNetNS: true})
	if err != nil {
		t.Fatal(err)
	}
	old := nsInode(s.NetPath)
	// A killed daemon may leave a sandbox with some namespace files only.
	if err := unix.Unmount(s.MntPath, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cluster, "half"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(half made) = %v, want fs.ErrNotExist", err)
	}
	s, err = Create(SandboxSpec{Cluster: cluster, Name: "half", NamedNetNS: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.mounted() != 3 || nsInode(s.NetPath) == old {
		t.Errorf("half-made sandbox not made anew")
	}
	if nsInode(filepath.Join(NetNSDir, s.NetNSName)) != nsInode(s.NetPath) {
		t.Errorf("named netns does not follow the new namespace")
	}
}

func TestDeleteKillsProcesses(t *testing.T) {
	needNsenter(t)
	cluster := testCluster(t)
	s, err := Create(SandboxSpec{Cluster: cluster, Name: "pod-1"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := s.Command(context.Background(), "sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitInside(t, cluster, "pod-1", cmd.Process.Pid)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err == nil {
			t.Error("sleep exited cleanly, want killed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sleep still running after Delete")
	}
	if _, err := os.Stat(s.dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sandbox directory still there: %v", err)
	}
	if err := s.Delete(); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

// waitInside waits until pid is in the sandbox's namespaces: a program run
// by Command is once nsenter has entered them.
func waitInside(t *testing.T, cluster, name string, pid int) {
	t.Helper()
	var pids []int
	var err error
	for i := 0; i < 400; i++ {
		if pids, err = Processes(cluster, name); err != nil || slices.Contains(pids, pid) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !slices.Contains(pids, pid) {
		t.Fatalf("Processes(%s) = %v, %v, want %d among them", name, pids, err, pid)
	}
}

func TestCleanup(t *testing.T) {
	needNsenter(t)
	cluster := testCluster(t)
	for _, n := range []string{"lan", "node-w1-k8s", "pod-x"} {
		if _, err := Create(SandboxSpec{
			Cluster:    cluster,
			Name:       n,
			Files:      map[string][]byte{"/etc/hosts": []byte("127.0.0.1 localhost\n")},
			NamedNetNS: n != "pod-x",
		}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := Open(cluster, "pod-x")
	cmd := s.Command(context.Background(), "sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitInside(t, cluster, "pod-x", cmd.Process.Pid)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	if err := Cleanup(cluster); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("process still running after Cleanup")
	}
	named, _ := filepath.Glob(filepath.Join(NetNSDir, "kin-"+cluster+"-*"))
	if len(named) > 0 {
		t.Errorf("named namespaces left: %v", named)
	}
	if mps, err := mountPointsUnder(clusterDir(cluster)); err != nil || len(mps) > 0 {
		t.Errorf("mounts left: %v, %v", mps, err)
	}
	if _, err := os.Stat(clusterDir(cluster)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still there: %v", clusterDir(cluster), err)
	}
	if names, err := List(cluster); err != nil || len(names) > 0 {
		t.Errorf("List after Cleanup = %v, %v", names, err)
	}
	if err := Cleanup(cluster); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
}

func TestDoPanics(t *testing.T) {
	cluster := testCluster(t)
	s, err := Create(SandboxSpec{Cluster: cluster, Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if v := recover(); v != "boom" {
			t.Errorf("recovered %v, want boom", v)
		}
	}()
	_ = s.Do(func() error { panic("boom") })
}

func TestCreateInvalid(t *testing.T) {
	for _, spec := range []SandboxSpec{
		{Cluster: "", Name: "a"},
		{Cluster: "c", Name: "../a"},
		{Cluster: "c/d", Name: "a"},
		{Cluster: "c", Name: "a", Files: map[string][]byte{"etc/hosts": nil}},
		{Cluster: "c", Name: "a", Files: map[string][]byte{"/etc": nil}},
		{Cluster: "c", Name: "a", Files: map[string][]byte{"/no/such/file": nil}},
		{Cluster: "c", Name: "a", Hostname: strings.Repeat("h", 65)},
	} {
		if _, err := Create(spec); err == nil {
			t.Errorf("Create(%+v) succeeded, want an error", spec)
		}
	}
}

// BenchmarkCreateDelete measures one pod-like sandbox (two files, no named
// network namespace) made and removed.
func BenchmarkCreateDelete(b *testing.B) {
	cluster := testCluster(b)
	files := map[string][]byte{
		"/etc/hosts":       []byte("127.0.0.1 localhost\n"),
		"/etc/resolv.conf": []byte("# kin\n"),
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Create(SandboxSpec{Cluster: cluster, Name: "pod-bench", Files: files})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Delete(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate measures Create alone, as the node agent makes pods.
func BenchmarkCreate(b *testing.B) {
	cluster := testCluster(b)
	files := map[string][]byte{
		"/etc/hosts":       []byte("127.0.0.1 localhost\n"),
		"/etc/resolv.conf": []byte("# kin\n"),
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Create(SandboxSpec{Cluster: cluster, Name: "pod-" + strconv.Itoa(i+1), Files: files}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	start := time.Now()
	if err := Cleanup(cluster); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "cleanup-µs/op")
}

// BenchmarkCreate100Parallel makes 100 pod-like sandboxes at once, as the
// node agent does for a 100-replica Deployment, then removes them.
func BenchmarkCreate100Parallel(b *testing.B) {
	cluster := testCluster(b)
	files := map[string][]byte{
		"/etc/hosts":       []byte("127.0.0.1 localhost\n"),
		"/etc/resolv.conf": []byte("# kin\n"),
	}
	for i := 0; i < b.N; i++ {
		errs := make(chan error, 100)
		for j := 0; j < 100; j++ {
			go func() {
				_, err := Create(SandboxSpec{Cluster: cluster, Name: "pod-" + strconv.Itoa(j), Files: files})
				errs <- err
			}()
		}
		for j := 0; j < 100; j++ {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := Cleanup(cluster); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// TestThreadsStayOutside checks that no thread of the process is left in a
// sandbox's namespaces after Create, Do and a resume with new files, and
// that the main thread (whose view /proc/self shows) never moves.
func TestThreadsStayOutside(t *testing.T) {
	cluster := testCluster(t)
	links := func(task string) string {
		var b strings.Builder
		for _, kind := range []string{"net", "uts", "mnt"} {
			l, _ := os.Readlink(filepath.Join(task, "ns", kind))
			b.WriteString(l + " ")
		}
		return b.String()
	}
	self := links("/proc/self")
	for i := 0; i < 20; i++ {
		files := map[string][]byte{"/etc/hosts": []byte("x\n")}
		if i%2 == 1 {
			files["/etc/hostname"] = []byte("y\n")
		}
		s, err := Create(SandboxSpec{Cluster: cluster, Name: "t" + strconv.Itoa(i%5), Files: files})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got := links("/proc/self"); got != self {
			t.Fatalf("main thread moved: %s, was %s", got, self)
		}
	}
	// Discarded threads end soon after their goroutine.
	deadline := time.Now().Add(2 * time.Second)
	for {
		tasks, _ := filepath.Glob("/proc/self/task/*")
		var inside []string
		for _, task := range tasks {
			if l := links(task); l != self && l != "   " {
				inside = append(inside, task+": "+l)
			}
		}
		if len(inside) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads left inside sandboxes: %v", inside)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
