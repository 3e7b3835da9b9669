package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "1", "EMPTY": ""}
	for in, want := range map[string]string{
		"$(A)":          "1",
		"x$(A)y$(A)":    "x1y1",
		"$(B)":          "$(B)",
		"$$(A)":         "$(A)",
		"$$":            "$",
		"$":             "$",
		"a$b":           "a$b",
		"$(A":           "$(A",
		"$(EMPTY)-":     "-",
		"$($(A))":       "$($(A))",
		"no references": "no references",
	} {
		if got := expand(in, env); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
	if got := expandCommand([]string{"echo", "$(A)"}, []string{"$(A)$(A)"}, env); strings.Join(got, " ") != "echo 1 11" {
		t.Errorf("expandCommand = %q", got)
	}
}

func TestServiceEnvVars(t *testing.T) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "my-svc"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.5.5", Ports: []corev1.ServicePort{
			{Name: "http", Port: 80}, {Name: "dns-udp", Port: 53, Protocol: corev1.ProtocolUDP},
		}},
	}
	got := map[string]string{}
	for _, e := range serviceEnvVars(svc) {
		got[e.Name] = e.Value
	}
	want := map[string]string{
		"MY_SVC_SERVICE_HOST":         "10.96.5.5",
		"MY_SVC_SERVICE_PORT":         "80",
		"MY_SVC_SERVICE_PORT_HTTP":    "80",
		"MY_SVC_SERVICE_PORT_DNS_UDP": "53",
		"MY_SVC_PORT":                 "tcp://10.96.5.5:80",
		"MY_SVC_PORT_80_TCP":          "tcp://10.96.5.5:80",
		"MY_SVC_PORT_80_TCP_PROTO":    "tcp",
		"MY_SVC_PORT_80_TCP_PORT":     "80",
		"MY_SVC_PORT_80_TCP_ADDR":     "10.96.5.5",
		"MY_SVC_PORT_53_UDP":          "udp://10.96.5.5:53",
		"MY_SVC_PORT_53_UDP_PROTO":    "udp",
		"MY_SVC_PORT_53_UDP_PORT":     "53",
		"MY_SVC_PORT_53_UDP_ADDR":     "10.96.5.5",
	}
	if len(got) != len(want) {
		t.Errorf("got %d variables, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestResolvConfPolicies(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "resolv.conf")
	os.WriteFile(host, []byte("# generated\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lan. example.com\noptions edns0 ndots:2\n"), 0o644)
	a := &Agent{cfg: Config{ClusterDNS: "10.96.0.10", ClusterDomain: "cluster.local", ResolvConf: host}}
	val := "3"
	tests := []struct {
		name string
		spec corev1.PodSpec
		want string
	}{
		{"cluster first", corev1.PodSpec{}, "search ns1.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{"default", corev1.PodSpec{DNSPolicy: corev1.DNSDefault}, "search lan example.com\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0 ndots:2\n"},
		{"host network falls back to default", corev1.PodSpec{HostNetwork: true}, "search lan example.com\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0 ndots:2\n"},
		{"cluster first with host net", corev1.PodSpec{HostNetwork: true, DNSPolicy: corev1.DNSClusterFirstWithHostNet},
			"search ns1.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{"none", corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.b"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &val}}}},
			"search a.b\nnameserver 1.1.1.1\noptions ndots:3\n"},
		{"merged options and duplicates", corev1.PodSpec{DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"10.96.0.10", "8.8.8.8"}, Searches: []string{"svc.cluster.local", "corp"},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &val}, {Name: "edns0"}}}},
			"search ns1.svc.cluster.local svc.cluster.local cluster.local corp\nnameserver 10.96.0.10\nnameserver 8.8.8.8\noptions ndots:3 edns0\n"},
		{"nameserver limit", corev1.PodSpec{DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"}}},
			"search ns1.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\nnameserver 1.1.1.1\nnameserver 2.2.2.2\noptions ndots:5\n"},
	}
	for _, tt := range tests {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns1"}, Spec: tt.spec}
		var warnings []string
		got, err := a.resolvConf(pod, func(reason, msg string) { warnings = append(warnings, reason) })
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got\n%s(err %v)\nwant\n%s", tt.name, got, err, tt.want)
		}
		if tt.name == "nameserver limit" && (len(warnings) != 1 || warnings[0] != "DNSConfigForming") {
			t.Errorf("%s: warnings = %v", tt.name, warnings)
		}
	}
	// Without a cluster DNS address, ClusterFirst falls back to Default.
	a.cfg.ClusterDNS = ""
	var warned string
	got, _ := a.resolvConf(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns1"}}, func(r, _ string) { warned = r })
	if warned != "MissingClusterDNS" || !strings.Contains(string(got), "nameserver 192.168.1.1\n") {
		t.Errorf("fallback = %q, warning %q", got, warned)
	}
}

func TestHostsFileWithSubdomain(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "lab"},
		Spec:       corev1.PodSpec{Hostname: "web-0", Subdomain: "web"},
	}
	h, d := podHostname(pod, "cluster.local")
	got := string(managedHostsFile([]string{"172.16.1.5"}, h, d, nil))
	if !strings.HasSuffix(got, "fe00::2\tip6-allrouters\n172.16.1.5\tweb-0.web.lab.svc.cluster.local\tweb-0\n") {
		t.Errorf("hosts =\n%s", got)
	}
	long := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("a", 62) + "-bcd"}}
	if h, _ := podHostname(long, "cluster.local"); h != strings.Repeat("a", 62) {
		t.Errorf("long hostname = %q", h)
	}
}

func TestPodPhase(t *testing.T) {
	running := corev1.ContainerStatus{Name: "c", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	exited := func(code int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "c", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
	}
	crashLoop := corev1.ContainerStatus{Name: "c",
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}
	creating := corev1.ContainerStatus{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	pod := func(policy corev1.RestartPolicy, init bool) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: policy, Containers: []corev1.Container{{Name: "c"}}}}
		if init {
			p.Spec.InitContainers = []corev1.Container{{Name: "i"}}
		}
		return p
	}
	initStatus := func(s corev1.ContainerStatus) []corev1.ContainerStatus {
		s.Name = "i"
		return []corev1.ContainerStatus{s}
	}
	tests := []struct {
		name     string
		pod      *corev1.Pod
		init     []corev1.ContainerStatus
		statuses []corev1.ContainerStatus
		terminal bool
		want     corev1.PodPhase
	}{
		{"creating", pod(corev1.RestartPolicyAlways, false), nil, []corev1.ContainerStatus{creating}, false, corev1.PodPending},
		{"running", pod(corev1.RestartPolicyAlways, false), nil, []corev1.ContainerStatus{running}, false, corev1.PodRunning},
		{"crash loop", pod(corev1.RestartPolicyAlways, false), nil, []corev1.ContainerStatus{crashLoop}, false, corev1.PodRunning},
		{"exited always", pod(corev1.RestartPolicyAlways, false), nil, []corev1.ContainerStatus{exited(0)}, false, corev1.PodRunning},
		{"succeeded", pod(corev1.RestartPolicyOnFailure, false), nil, []corev1.ContainerStatus{exited(0)}, false, corev1.PodSucceeded},
		{"on failure restarting", pod(corev1.RestartPolicyOnFailure, false), nil, []corev1.ContainerStatus{exited(2)}, false, corev1.PodRunning},
		{"failed", pod(corev1.RestartPolicyNever, false), nil, []corev1.ContainerStatus{exited(2)}, false, corev1.PodFailed},
		{"init running", pod(corev1.RestartPolicyAlways, true), initStatus(running), []corev1.ContainerStatus{creating}, false, corev1.PodPending},
		{"init failed never", pod(corev1.RestartPolicyNever, true), initStatus(exited(1)), []corev1.ContainerStatus{creating}, false, corev1.PodFailed},
		{"init crash loop", pod(corev1.RestartPolicyAlways, true), initStatus(crashLoop), []corev1.ContainerStatus{creating}, false, corev1.PodPending},
		{"deleted after exit 0", pod(corev1.RestartPolicyAlways, false), nil, []corev1.ContainerStatus{exited(0)}, true, corev1.PodSucceeded},
		{"deleted after SIGTERM", pod(corev1.RestartPolicyAlways, false), nil, []corev1.ContainerStatus{exited(143)}, true, corev1.PodFailed},
		{"deleted before start", pod(corev1.RestartPolicyAlways, false), nil, []corev1.ContainerStatus{creating}, true, corev1.PodFailed},
	}
	for _, tt := range tests {
		if got := podPhase(tt.pod, tt.init, tt.statuses, tt.terminal); got != tt.want {
			t.Errorf("%s: phase %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	base, max := 10*time.Second, 5*time.Minute
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b backoff
	// The first crash restarts at once.
	if b.inBackoffSince(t0, t0, max) {
		t.Fatal("first exit in back-off")
	}
	b.next(t0, t0, base, max)
	// The second waits 10s after it exited, then 20s, 40s, ... up to 5m.
	t1 := t0.Add(time.Second)
	if !b.inBackoffSince(t1, t1.Add(9*time.Second), max) || b.inBackoffSince(t1, t1.Add(10*time.Second), max) {
		t.Errorf("second exit back-off wrong: %v", b.delay)
	}
	for _, want := range []time.Duration{20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second} {
		b.next(t1, t1, base, max)
		if b.delay != want {
			t.Errorf("delay = %v, want %v", b.delay, want)
		}
	}
	// Ten quiet minutes reset it.
	later := t1.Add(11 * time.Minute)
	if b.inBackoffSince(later, later, max) {
		t.Errorf("back-off survived ten minutes of running")
	}
	b.next(later, later, base, max)
	if b.delay != base {
		t.Errorf("delay after reset = %v", b.delay)
	}
}

func TestLogFilePartialLinesTailAndRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	tick := time.Date(2026, 11, 24, 5, 39, 18, 123456789, time.UTC)
	l, err := createLog(path, func() time.Time { tick = tick.Add(time.Millisecond); return tick })
	if err != nil {
		t.Fatal(err)
	}
	out, errs := l.stream("stdout"), l.stream("stderr")
	out.Write([]byte("one\ntw"))
	errs.Write([]byte("err\n"))
	out.Write([]byte("o\n"))
	long := strings.Repeat("x", maxLogLine+10)
	out.Write([]byte(long + "\nlast"))
	out.flush()
	l.Close()
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 6 || lines[0] != "2026-11-24T05:39:18.124456789Z stdout F one" ||
		!strings.HasSuffix(lines[1], " stderr F err") || !strings.HasSuffix(lines[2], " stdout F two") ||
		!strings.Contains(lines[3], " stdout P ") || !strings.HasSuffix(lines[4], " stdout F xxxxxxxxxx") ||
		!strings.HasSuffix(lines[5], " stdout F last") {
		t.Fatalf("CRI log:\n%.300s", raw)
	}
	f, _ := os.Open(path)
	defer f.Close()
	off, _ := tailOffset(f, 2)
	f.Seek(off, 0)
	rest := make([]byte, 1<<20)
	n, _ := f.Read(rest)
	if !strings.Contains(string(rest[:n]), " stdout P ") || strings.Contains(string(rest[:n]), "two") {
		t.Errorf("tail 2 starts at the wrong line: %.80q", rest[:n])
	}
	var b strings.Builder
	lw := &logWriter{w: &b, timestamps: true}
	for _, line := range lines[3:5] {
		e, _ := parseLogEntry([]byte(line))
		lw.write(e)
	}
	if got := b.String(); got != lines[3][:30]+" "+long+"\n" {
		t.Errorf("partial lines joined wrongly: %.60q", got)
	}

	// Rotation keeps maxFiles-1 rotated files next to the current one.
	path2 := filepath.Join(t.TempDir(), "1.log")
	l2, _ := createLog(path2, func() time.Time { tick = tick.Add(time.Second); return tick })
	l2.maxSize, l2.maxFiles = 100, 3
	s := l2.stream("stdout")
	for i := 0; i < 20; i++ {
		s.Write([]byte("0123456789012345678901234567890123456789\n"))
	}
	l2.Close()
	rotatedFiles, _ := filepath.Glob(path2 + ".*")
	if len(rotatedFiles) != 2 {
		t.Errorf("rotated files = %v", rotatedFiles)
	}
	if fi, err := os.Stat(path2); err != nil || fi.Size() > 200 {
		t.Errorf("current log = %v, %v", fi, err)
	}
}
