package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeExec is an Executor that answers from a script and records every call.
type fakeExec struct {
	mu sync.Mutex
	// answers maps a command to its successive results; the last one repeats.
	answers map[string][]answer
	calls   []call
}

type answer struct {
	out  string
	code int
	err  error
	// block makes the command run until its context ends.
	block bool
}

type call struct {
	where   Target
	command string
	stdin   string
}

func (f *fakeExec) Run(ctx context.Context, where Target, command string, stdin []byte) ([]byte, int, error) {
	f.mu.Lock()
	n := 0
	for _, c := range f.calls {
		if c.command == command {
			n++
		}
	}
	f.calls = append(f.calls, call{where, command, string(stdin)})
	list := f.answers[command]
	f.mu.Unlock()
	if len(list) == 0 {
		return []byte("bash: unknown command\n"), 127, nil
	}
	a := list[min(n, len(list)-1)]
	if a.block {
		<-ctx.Done()
		return []byte(a.out), -1, nil
	}
	return []byte(a.out), a.code, a.err
}

func (f *fakeExec) commands() []string {
	var out []string
	for _, c := range f.calls {
		out = append(out, c.command)
	}
	return out
}

func mustParse(t *testing.T, src string) *Lab {
	t.Helper()
	l, err := Parse("lab.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	l.Path = "labs/lab.yaml"
	l.Dir = "/labs"
	return l
}

var durations = regexp.MustCompile(`(?m)\(\d[\d.]*(ms|s|µs|ns)\)$`)

func TestTranscript(t *testing.T) {
	l := mustParse(t, `name: services
seed: 001 section 1.2
description: |
  A pod and its Service.
steps:
  - name: create the pod
    apply: |
      kind: Pod
      metadata: {name: web}
    expect: ['^pod/web created$']
  - run: k get svc
    expect: ['^web\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s']
  - run: kubectl get svc web -o jsonpath='{.spec.clusterIP}'
    save: IP
  - run: curl ${IP}
    on: cp-k8s
    expect: ['Welcome to nginx']
  - run: ip addr
    on: pod/web
  - run: curl 192.168.1.150
    on: host/client
cleanup:
  - delete: |
      kind: Pod
`)
	fx := &fakeExec{answers: map[string][]answer{
		"kubectl apply -f -": {{out: "pod/web created\n"}},
		"k get svc": {{out: "NAME   TYPE        CLUSTER-IP    EXTERNAL-IP   PORT(S)   AGE\n" +
			"web    ClusterIP   10.96.12.34   <none>        80/TCP    3s\n"}},
		"kubectl get svc web -o jsonpath='{.spec.clusterIP}'": {{out: "10.96.12.34"}},
		"curl 10.96.12.34":                       {{out: "<h1>Welcome to nginx!</h1>\n"}},
		"ip addr":                                {{out: "1: lo: <LOOPBACK,UP>\n"}},
		"curl 192.168.1.150":                     {{out: ""}},
		"kubectl delete --ignore-not-found -f -": {{out: "pod \"web\" deleted from default namespace\n"}},
	}}
	var out bytes.Buffer
	r := &Runner{Exec: fx, Out: &out}
	res := r.Run(context.Background(), l)
	if res.Status != Passed || res.Err != nil {
		t.Fatalf("Run = %v %v\n%s", res.Status, res.Err, out.String())
	}
	want := `=== RUN   services (labs/lab.yaml; seed 001 section 1.2)
# A pod and its Service.
# create the pod
root@cp-k8s:~# kubectl apply -f - <<'EOF'
> kind: Pod
> metadata: {name: web}
> EOF
pod/web created
root@cp-k8s:~# k get svc
NAME   TYPE        CLUSTER-IP    EXTERNAL-IP   PORT(S)   AGE
web    ClusterIP   10.96.12.34   <none>        80/TCP    3s
root@cp-k8s:~# kubectl get svc web -o jsonpath='{.spec.clusterIP}'
10.96.12.34
root@cp-k8s:~# curl 10.96.12.34
<h1>Welcome to nginx!</h1>
root@web:~# ip addr
1: lo: <LOOPBACK,UP>
root@client:~# curl 192.168.1.150
# cleanup
root@cp-k8s:~# kubectl delete --ignore-not-found -f - <<'EOF'
> kind: Pod
> EOF
pod "web" deleted from default namespace
--- PASS  services D
`
	if got := durations.ReplaceAllString(out.String(), "D"); got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
	wantCalls := []call{
		{Target{Kind: Local, Dir: "/labs"}, "kubectl apply -f -", "kind: Pod\nmetadata: {name: web}\n"},
		{Target{Kind: Local, Dir: "/labs"}, "k get svc", ""},
		{Target{Kind: Local, Dir: "/labs"}, "kubectl get svc web -o jsonpath='{.spec.clusterIP}'", ""},
		{Target{Kind: Node, Name: "cp-k8s"}, "curl 10.96.12.34", ""},
		{Target{Kind: Pod, Name: "web"}, "ip addr", ""},
		{Target{Kind: Host, Name: "client"}, "curl 192.168.1.150", ""},
		{Target{Kind: Local, Dir: "/labs"}, "kubectl delete --ignore-not-found -f -", "kind: Pod\n"},
	}
	if fmt.Sprint(fx.calls) != fmt.Sprint(wantCalls) {
		t.Errorf("calls:\n%v\nwant:\n%v", fx.calls, wantCalls)
	}
}

func TestCheck(t *testing.T) {
	compile := func(ps ...string) []*regexp.Regexp {
		res, err := compileAll(ps, func(s string, _ bool) (string, error) { return s, nil })
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	out := "NAME   TYPE\nweb    ClusterIP\n\x1b[32mdb\x1b[0m     ExternalName\n"
	tests := []struct {
		name      string
		code      int
		wantCode  int
		expect    []string
		expectNot []string
		want      string
	}{
		{"all match", 0, 0, []string{`^web\s+ClusterIP$`, `^NAME`}, nil, ""},
		{"colours are ignored", 0, 0, []string{`^db\s+ExternalName$`}, nil, ""},
		{"multi-line pattern", 0, 0, []string{`^NAME\s+TYPE\nweb\s`}, nil, ""},
		{"missing pattern", 0, 0, []string{`^web`, `^api\s`}, nil, "expected pattern `^api\\s` not found in the output"},
		{"line anchors", 0, 0, []string{`^ClusterIP`}, nil, "expected pattern `^ClusterIP` not found in the output"},
		{"exit code", 1, 0, []string{`^web`}, nil, "exit code 1, expected 0"},
		{"expected failure", 1, 1, nil, nil, ""},
		{"unexpected pattern", 0, 0, nil, []string{`External\w+`}, "unexpected pattern `External\\w+` found in the output: \"ExternalName\""},
		{"absent unwanted pattern", 0, 0, nil, []string{`Error`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check([]byte(out), tt.code, tt.wantCode, compile(tt.expect...), compile(tt.expectNot...))
			if got != tt.want {
				t.Errorf("check = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRetryUntilSuccess(t *testing.T) {
	l := mustParse(t, `name: retry
steps:
  - run: kubectl get svc lb
    retry: 5s
    expect: ['192\.168\.1\.15\d']
`)
	fx := &fakeExec{answers: map[string][]answer{"kubectl get svc lb": {
		{out: "lb  LoadBalancer  <pending>\n"},
		{out: "error: connection refused\n", code: 1},
		{out: "lb  LoadBalancer  192.168.1.150\n"},
	}}}
	var out bytes.Buffer
	r := &Runner{Exec: fx, Out: &out, RetryInterval: time.Millisecond}
	res := r.Run(context.Background(), l)
	if res.Status != Passed {
		t.Fatalf("Run = %v: %v", res.Status, res.Err)
	}
	if len(fx.calls) != 3 {
		t.Errorf("attempts = %d, want 3", len(fx.calls))
	}
	text := out.String()
	// Only the last attempt's output is shown, with a note on the retries.
	if strings.Contains(text, "<pending>") || !strings.Contains(text, "lb  LoadBalancer  192.168.1.150\n# (passed after 3 attempts in ") {
		t.Errorf("transcript:\n%s", text)
	}
}

func TestRetryGivesUp(t *testing.T) {
	l := mustParse(t, `name: retry
steps:
  - run: kubectl get svc lb
    retry: 50ms
    expect: ['192\.168\.1\.15\d']
  - run: echo never
`)
	fx := &fakeExec{answers: map[string][]answer{"kubectl get svc lb": {{out: "lb  LoadBalancer  <pending>\n"}}}}
	var out bytes.Buffer
	r := &Runner{Exec: fx, Out: &out, RetryInterval: 5 * time.Millisecond}
	start := time.Now()
	res := r.Run(context.Background(), l)
	if took := time.Since(start); took < 50*time.Millisecond || took > 5*time.Second {
		t.Errorf("gave up after %s, want about 50ms", took)
	}
	if res.Status != Failed {
		t.Fatalf("Run = %v, want FAIL", res.Status)
	}
	if n := len(fx.calls); n < 3 {
		t.Errorf("attempts = %d, want several", n)
	}
	want := "lab retry: step 1 \"kubectl get svc lb\" (labs/lab.yaml:3): after retrying for 50ms: " +
		"expected pattern `192\\.168\\.1\\.15\\d` not found in the output"
	if res.Err.Error() != want {
		t.Errorf("error = %q\nwant    %q", res.Err, want)
	}
	if !strings.Contains(out.String(), "# (still failing after ") {
		t.Errorf("transcript lacks the retry note:\n%s", out.String())
	}
	for _, c := range fx.commands() {
		if c == "echo never" {
			t.Error("the step after a failed step ran")
		}
	}
}

func TestTimeout(t *testing.T) {
	l := mustParse(t, `name: slow
steps:
  - run: sleep 100
    timeout: 20ms
`)
	fx := &fakeExec{answers: map[string][]answer{"sleep 100": {{block: true}}}}
	r := &Runner{Exec: fx, Out: &bytes.Buffer{}}
	res := r.Run(context.Background(), l)
	var se *StepError
	if !errors.As(res.Err, &se) || se.Reason != "timed out after 20ms" {
		t.Errorf("Run error = %v, want a step that timed out after 20ms", res.Err)
	}
}

func TestFailureAndCleanup(t *testing.T) {
	l := mustParse(t, `name: fails
steps:
  - name: apply it
    apply: {file: m/app.yaml}
  - name: look
    run: kubectl get svc
    expect:
      - '^web\s'
      - '^nginx-service\s+ClusterIP'
  - run: echo not reached
cleanup:
  - delete: {file: m/app.yaml}
  - run: echo second cleanup
`)
	fx := &fakeExec{answers: map[string][]answer{
		"kubectl apply -f /labs/m/app.yaml":                     {{out: "service/web created\n"}},
		"kubectl get svc":                                       {{out: "web   ClusterIP\n"}},
		"kubectl delete --ignore-not-found -f /labs/m/app.yaml": {{out: "boom\n", code: 1}},
		"echo second cleanup":                                   {{out: "second cleanup\n"}},
	}}
	var out bytes.Buffer
	r := &Runner{Exec: fx, Out: &out}
	res := r.Run(context.Background(), l)
	var se *StepError
	if !errors.As(res.Err, &se) {
		t.Fatalf("Run error = %v, want a *StepError", res.Err)
	}
	want := "lab fails: step 2 \"look\" (labs/lab.yaml:5): expected pattern `^nginx-service\\s+ClusterIP` not found in the output"
	if se.Error() != want {
		t.Errorf("error = %q\nwant    %q", se.Error(), want)
	}
	if se.Output != "web   ClusterIP\n" || se.Index != 2 || se.Section != "step" {
		t.Errorf("StepError = %+v", se)
	}
	// The failing step stops the lab; every cleanup step still runs, and a
	// failing cleanup does not hide the first failure.
	got := strings.Join(fx.commands(), "\n")
	wantCmds := "kubectl apply -f /labs/m/app.yaml\nkubectl get svc\n" +
		"kubectl delete --ignore-not-found -f /labs/m/app.yaml\necho second cleanup"
	if got != wantCmds {
		t.Errorf("commands:\n%s\nwant:\n%s", got, wantCmds)
	}
	text := out.String()
	for _, s := range []string{
		"root@cp-k8s:~# kubectl apply -f m/app.yaml\n",
		"root@cp-k8s:~# kubectl delete --ignore-not-found -f m/app.yaml\nboom\n",
		"--- FAIL  fails (",
		"    " + want + "\n",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("transcript lacks %q:\n%s", s, text)
		}
	}
}

func TestCleanupFailureFailsLab(t *testing.T) {
	l := mustParse(t, `name: leaky
steps:
  - run: "true"
cleanup:
  - run: kubectl delete ns x
`)
	fx := &fakeExec{answers: map[string][]answer{
		"true":                {{}},
		"kubectl delete ns x": {{out: "Error from server (Forbidden)\n", code: 1}},
	}}
	res := (&Runner{Exec: fx, Out: &bytes.Buffer{}}).Run(context.Background(), l)
	want := `lab leaky: cleanup step 1 "kubectl delete ns x" (labs/lab.yaml:5): exit code 1, expected 0`
	if res.Status != Failed || res.Err == nil || res.Err.Error() != want {
		t.Errorf("Run = %v %v, want FAIL %q", res.Status, res.Err, want)
	}
}

func TestVariables(t *testing.T) {
	l := mustParse(t, `name: vars
steps:
  - run: kubectl get pod -o name
    save: POD
  - run: kubectl get svc -o ip
    save: IP
  - run: ping -c1 ${IP} && echo $HOME ${UNSAVED}
    on: pod/${POD}
    expect: ['^reply from ${IP}$']
`)
	fx := &fakeExec{answers: map[string][]answer{
		"kubectl get pod -o name": {{out: "\x1b[1mweb-7d9f\x1b[0m\n\n"}},
		"kubectl get svc -o ip":   {{out: "10.0.0.1\n"}},
		// The saved IP is matched literally: dots are not wildcards.
		"ping -c1 10.0.0.1 && echo $HOME ${UNSAVED}": {{out: "reply from 10a0b0c1\n"}},
	}}
	res := (&Runner{Exec: fx, Out: &bytes.Buffer{}}).Run(context.Background(), l)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "expected pattern `^reply from 10\\.0\\.0\\.1$` not found") {
		t.Errorf("Run error = %v, want the saved IP quoted in the pattern", res.Err)
	}
	last := fx.calls[len(fx.calls)-1]
	if last.where != (Target{Kind: Pod, Name: "web-7d9f"}) {
		t.Errorf("target = %+v, want pod web-7d9f (saved, trimmed, without colours)", last.where)
	}

	unset := mustParse(t, `name: unset
steps:
  - run: "false"
    save: X
cleanup:
  - run: echo ${X}
`)
	fx = &fakeExec{answers: map[string][]answer{"false": {{code: 1}}}}
	res = (&Runner{Exec: fx, Out: &bytes.Buffer{}}).Run(context.Background(), unset)
	if len(fx.calls) != 1 {
		t.Errorf("calls = %v, want the cleanup with an unset variable not to run", fx.commands())
	}
	if !strings.Contains(res.Err.Error(), "exit code 1") {
		t.Errorf("error = %v, want the first failure", res.Err)
	}
}

func TestSubstitute(t *testing.T) {
	declared := map[string]bool{"A": true, "B": true}
	vars := map[string]string{"A": "1.2"}
	tests := []struct {
		in    string
		quote bool
		want  string
		err   string
	}{
		{"x ${A} y", false, "x 1.2 y", ""},
		{"x ${A} y", true, `x 1\.2 y`, ""},
		{"$A ${HOME} ${C}", false, "$A ${HOME} ${C}", ""},
		{"${B}", false, "", "variable B is not set"},
	}
	for _, tt := range tests {
		got, err := substitute(tt.in, declared, vars, tt.quote)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("substitute(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("substitute(%q, %v) = %q, %v; want %q", tt.in, tt.quote, got, err, tt.want)
		}
	}
}

func TestSkip(t *testing.T) {
	l := mustParse(t, `name: needs-nodes
requires: [dns, nodes]
tools: [dig]
steps:
  - run: dig kubernetes.default
`)
	tests := []struct {
		name   string
		caps   Capabilities
		look   func(string) (string, error)
		status Status
		reason string
	}{
		{"missing capability", NewCapabilitySet("dns"), nil, Skipped, `the cluster lacks the "nodes" capability this lab requires`},
		{"missing tool", NewCapabilitySet("dns", "nodes"), func(string) (string, error) { return "", errors.New("not found") },
			Skipped, `this lab needs "dig", which is not installed on this machine`},
		{"detection fails", errCaps{}, nil, Failed, ""},
		{"everything there", NewCapabilitySet("dns", "nodes", "ingress"), func(string) (string, error) { return "/usr/bin/dig", nil }, Passed, ""},
		{"capabilities unknown", nil, func(string) (string, error) { return "/usr/bin/dig", nil }, Passed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := &fakeExec{answers: map[string][]answer{"dig kubernetes.default": {{out: "10.96.0.1\n"}}}}
			var out bytes.Buffer
			r := &Runner{Exec: fx, Out: &out, Capabilities: tt.caps, LookPath: tt.look}
			res := r.Run(context.Background(), l)
			if res.Status != tt.status || res.Reason != tt.reason {
				t.Fatalf("Run = %v %q (%v), want %v %q", res.Status, res.Reason, res.Err, tt.status, tt.reason)
			}
			if tt.status != Passed && len(fx.calls) != 0 {
				t.Errorf("a lab that did not run ran %v", fx.commands())
			}
			if tt.status == Skipped && !strings.Contains(out.String(), "--- SKIP  needs-nodes: "+tt.reason+"\n") {
				t.Errorf("transcript:\n%s", out.String())
			}
			if tt.status == Failed && !strings.Contains(res.Err.Error(), `detecting capability "dns": api unreachable`) {
				t.Errorf("error = %v", res.Err)
			}
		})
	}
}

type errCaps struct{}

func (errCaps) Has(context.Context, string) (bool, error) {
	return false, errors.New("api unreachable")
}

func TestExecutorError(t *testing.T) {
	l := mustParse(t, "name: broken\nsteps:\n  - run: ls\n    retry: 1m\n")
	fx := &fakeExec{answers: map[string][]answer{"ls": {{err: errors.New("bash: not found")}}}}
	res := (&Runner{Exec: fx, Out: &bytes.Buffer{}}).Run(context.Background(), l)
	if res.Err == nil || !strings.HasSuffix(res.Err.Error(), "running the command: bash: not found") || len(fx.calls) != 1 {
		t.Errorf("Run = %v after %d calls, want one call and the executor's error", res.Err, len(fx.calls))
	}
}

func TestRunAllAndSummary(t *testing.T) {
	pass := mustParse(t, "name: a\nsteps:\n  - run: ok\n")
	fail := mustParse(t, "name: b\nsteps:\n  - run: bad\n")
	skip := mustParse(t, "name: c\nrequires: [ingress]\nsteps:\n  - run: ok\n")
	fx := &fakeExec{answers: map[string][]answer{"ok": {{}}, "bad": {{code: 2}}}}
	r := &Runner{Exec: fx, Out: &bytes.Buffer{}, Capabilities: NewCapabilitySet("nodes")}
	results := r.RunAll(context.Background(), []*Lab{pass, fail, skip})
	if len(results) != 3 || results[0].Status != Passed || results[1].Status != Failed || results[2].Status != Skipped {
		t.Fatalf("results = %+v", results)
	}
	if got := Summary(results); got != "1 passed, 1 failed, 1 skipped" {
		t.Errorf("Summary = %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := r.RunAll(ctx, []*Lab{pass}); len(got) != 0 {
		t.Errorf("RunAll after cancel ran %d labs", len(got))
	}
}

func TestStepTitle(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{Name: "named", Run: "ls"}, "named"},
		{Step{Run: "kubectl get svc"}, "kubectl get svc"},
		{Step{Run: "cat <<EOF\nx\nEOF"}, "cat <<EOF ..."},
		{Step{Wait: "pod/x --for=condition=Ready"}, "kubectl wait pod/x --for=condition=Ready"},
		{Step{Apply: &Manifest{Text: "kind: Pod"}}, "kubectl apply -f - <<'EOF' ..."},
		{Step{Create: &Manifest{File: "a.yaml"}}, "kubectl create -f a.yaml"},
		{Step{Run: strings.Repeat("x", 100)}, strings.Repeat("x", 72) + " ..."},
	}
	for _, tt := range tests {
		if got := tt.step.Title(); got != tt.want {
			t.Errorf("Title(%+v) = %q, want %q", tt.step, got, tt.want)
		}
	}
}
