package lab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKinExecutorArgv(t *testing.T) {
	e := &KinExecutor{Kin: "/usr/bin/kin", Cluster: "demo"}
	tests := []struct {
		where Target
		want  string
	}{
		{Target{Kind: Local}, "bash -c CMD"},
		{Target{Kind: Node, Name: "w1-k8s"}, "/usr/bin/kin exec --name demo node/w1-k8s -- bash -c CMD"},
		{Target{Kind: Host, Name: "client"}, "/usr/bin/kin exec --name demo host/client -- bash -c CMD"},
		{Target{Kind: Pod, Name: "web"}, "/usr/bin/kin exec --name demo web -- bash -c CMD"},
		{Target{Kind: Pod, Namespace: "kube-system", Name: "coredns-1", Container: "coredns"},
			"/usr/bin/kin exec --name demo -n kube-system coredns-1 -c coredns -- bash -c CMD"},
	}
	for _, tt := range tests {
		if got := strings.Join(e.Argv(tt.where, "CMD"), " "); got != tt.want {
			t.Errorf("Argv(%v) = %q, want %q", tt.where, got, tt.want)
		}
	}
}

// fakeKin writes a stand-in for the kin binary: it prints its arguments and,
// for exec, runs the command after "--" as kin exec would inside a namespace.
func fakeKin(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	p := filepath.Join(t.TempDir(), "kin")
	script := `#!/bin/bash
echo "kin[$KIN_NAME] $*"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
[ "$1" = "--" ] && shift && exec "$@"
exit 0
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKinExecutorRun(t *testing.T) {
	kin := fakeKin(t)
	e, err := NewKinExecutor(kin, "demo", "/state/demo/kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dir := t.TempDir()
	ctx := context.Background()
	tests := []struct {
		name    string
		where   Target
		command string
		stdin   string
		out     string
		code    int
	}{
		{"local", Target{Kind: Local, Dir: dir}, "pwd; echo $KUBECONFIG $KIN_NAME", "", dir + "\n/state/demo/kubeconfig demo\n", 0},
		{"exit code and stderr", Target{Kind: Local}, "echo out; echo err >&2; exit 3", "", "out\nerr\n", 3},
		{"stdin", Target{Kind: Local}, "tr a-z A-Z", "kind: pod\n", "KIND: POD\n", 0},
		{"kubectl is kin's", Target{Kind: Local}, "kubectl get svc -A", "", "kin[demo] kubectl get svc -A\n", 0},
		{"k is kubectl", Target{Kind: Local}, "k get po 'a b'", "", "kin[demo] kubectl get po a b\n", 0},
		{"kin is this cluster's", Target{Kind: Local}, "kin exec node/w1-k8s -- true", "", "kin[demo] exec node/w1-k8s -- true\n", 0},
		{"node", Target{Kind: Node, Name: "w1-k8s"}, "echo in node; exit 4", "", "kin[demo] exec --name demo node/w1-k8s -- bash -c echo in node; exit 4\nin node\n", 4},
		{"pod", Target{Kind: Pod, Namespace: "ns", Name: "web", Container: "c"}, "echo in pod", "",
			"kin[demo] exec --name demo -n ns web -c c -- bash -c echo in pod\nin pod\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdin []byte
			if tt.stdin != "" {
				stdin = []byte(tt.stdin)
			}
			out, code, err := e.Run(ctx, tt.where, tt.command, stdin)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if string(out) != tt.out || code != tt.code {
				t.Errorf("Run = %q, %d; want %q, %d", out, code, tt.out, tt.code)
			}
		})
	}

	// curl runs as in a terminal: no progress meter.
	rc, err := os.ReadFile(filepath.Join(e.binDir, ".curlrc"))
	if err != nil || !strings.Contains(string(rc), "--silent") {
		t.Errorf(".curlrc = %q, %v", rc, err)
	}
	bin := e.binDir
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Errorf("Close left %s behind", bin)
	}
}

func TestKinExecutorTimeoutKillsEverything(t *testing.T) {
	e, err := NewKinExecutor(fakeKin(t), "demo", "/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The background sleep holds the output pipe open unless the whole
	// process group is killed.
	out, code, err := e.Run(ctx, Target{Kind: Local}, "echo started; sleep 30 & sleep 30", nil)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Run took %s after its context ended", took)
	}
	if err != nil || code != -1 || string(out) != "started\n" {
		t.Errorf("Run = %q, %d, %v; want the output so far and exit code -1", out, code, err)
	}
}

func TestKinExecutorStartFailure(t *testing.T) {
	e := &KinExecutor{Kin: filepath.Join(t.TempDir(), "missing-kin"), Cluster: "demo"}
	_, _, err := e.Run(context.Background(), Target{Kind: Node, Name: "w1-k8s"}, "true", nil)
	if err == nil || !strings.Contains(err.Error(), "missing-kin") {
		t.Errorf("Run with a missing kin binary: err = %v", err)
	}
}

func TestRunLabWithBash(t *testing.T) {
	e, err := NewKinExecutor(fakeKin(t), "demo", "/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lab.yaml")
	src := `name: bash
steps:
  - run: echo 10.96.0.7
    save: IP
  # Succeeds on the third attempt: the count lives in the lab's directory.
  - run: n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; echo attempt $((n+1)) ${IP}
    retry: 10s
    expect: ['^attempt 3 10\.96\.0\.7$']
  - run: cat app.yaml
    expect: ['^kind: ConfigMap$']
  - apply: {file: app.yaml}
    expect: ['^kin\[demo\] kubectl apply -f ` + filepath.Join(dir, "app.yaml") + `$']
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r := &Runner{Exec: e, Out: &out, RetryInterval: 10 * time.Millisecond}
	if res := r.Run(context.Background(), l); res.Status != Passed {
		t.Fatalf("Run = %v: %v\n%s", res.Status, res.Err, out.String())
	}
	for _, s := range []string{
		"root@cp-k8s:~# n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; echo attempt $((n+1)) 10.96.0.7\nattempt 3 10.96.0.7\n# (passed after 3 attempts in ",
		"root@cp-k8s:~# kubectl apply -f app.yaml\n",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("transcript lacks %q:\n%s", s, out.String())
		}
	}
}
