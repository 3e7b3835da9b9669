package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseGood(t *testing.T) {
	src := `name: demo
seed: 001 section 1.2
description: a demo
requires: [nodes, dns]
tools: [curl]
steps:
  - name: create
    apply: |
      apiVersion: v1
      kind: ConfigMap
  - run: kubectl get svc
    on: cp-k8s
    expect:
      - 'nginx\s+ClusterIP'
    expectNot: ['Error']
    expectExit: 1
    retry: 30s
    timeout: 5s
    save: OUT
  - wait: pods -l app=web --for=condition=Ready
  - create: {file: m.yaml}
  - run: curl ${OUT}
    on: pod/web/${OUT}
    container: c
    expect: ['^${OUT}$']
cleanup:
  - delete: {file: m.yaml}
`
	l, err := Parse("demo.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if l.Name != "demo" || l.Seed != "001 section 1.2" || len(l.Requires) != 2 || l.Tools[0] != "curl" {
		t.Errorf("header = %+v", l)
	}
	if len(l.Steps) != 5 || len(l.Cleanup) != 1 {
		t.Fatalf("steps = %d, cleanup = %d", len(l.Steps), len(l.Cleanup))
	}
	s := l.Steps[1]
	if s.Line != 11 || s.On != "cp-k8s" || s.Save != "OUT" || *s.ExpectExit != 1 ||
		time.Duration(s.Retry) != 30*time.Second || time.Duration(s.Timeout) != 5*time.Second {
		t.Errorf("step 2 = %+v", s)
	}
	if got := l.Steps[0].Apply.Text; !strings.HasPrefix(got, "apiVersion: v1\nkind: ConfigMap") {
		t.Errorf("inline manifest = %q", got)
	}
	if l.Steps[3].Create.File != "m.yaml" || l.Cleanup[0].Delete.File != "m.yaml" {
		t.Errorf("file manifests = %+v, %+v", l.Steps[3].Create, l.Cleanup[0].Delete)
	}
	if l.Steps[0].expectedExit() != 0 {
		t.Errorf("default expectExit = %d, want 0", l.Steps[0].expectedExit())
	}
	if !l.vars["OUT"] {
		t.Errorf("vars = %v, want OUT declared", l.vars)
	}
}

func TestParseAnchors(t *testing.T) {
	src := `name: anchors
steps:
  - apply: &m |
      kind: ConfigMap
    expect: &e ['a', 'b']
  - delete: *m
    expect: *e
`
	l, err := Parse("a.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if l.Steps[1].Delete == nil || l.Steps[1].Delete.Text != "kind: ConfigMap\n" || len(l.Steps[1].Expect) != 2 {
		t.Errorf("aliased step = %+v", l.Steps[1])
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"yaml syntax", "name: x\nsteps:\n\t- run: ls\n", "bad.yaml:3: found character that cannot start any token"},
		{"unclosed flow sequence", "name: x\nsteps:\n  - run: ls\n    expect: [a\n", "bad.yaml:3: did not find expected ',' or ']'"},
		{"unknown field", "name: x\nsteps:\n  - run: ls\n    expekt: [a]\n", `bad.yaml:4: unknown field "expekt" in step`},
		{"unknown top-level field", "name: x\nstep:\n  - run: ls\n", `bad.yaml:2: unknown field "step" in lab`},
		{"wrong type", "name: x\nsteps:\n  - run: ls\n    expectExit: one\n", "bad.yaml:4: cannot unmarshal !!str `one` into int"},
		{"bad duration", "name: x\nsteps:\n  - run: ls\n    retry: soon\n", `bad.yaml:4: invalid duration "soon"`},
		{"negative duration", "name: x\nsteps:\n  - run: ls\n    timeout: -1s\n", `bad.yaml:4: invalid duration "-1s"`},
		{"manifest mapping", "name: x\nsteps:\n  - apply: {path: a.yaml}\n", "bad.yaml:3: field path not found in manifest"},
		{"no name", "steps:\n  - run: ls\n", "bad.yaml:1: name is required"},
		{"no steps", "name: x\n", "bad.yaml:1: a lab needs at least one step"},
		{"two actions", "name: x\nsteps:\n  - run: ls\n  - run: ls\n    wait: pods\n", "bad.yaml:4: step 2: a step needs exactly one of run, apply, create, delete, wait"},
		{"no action", "name: x\nsteps:\n  - name: nothing\n", "bad.yaml:3: step 1: a step needs exactly one of"},
		{"bad pattern", "name: x\nsteps:\n  - run: ls\n    expect: ['a(']\n", `bad.yaml:3: step 1: invalid pattern "a("`},
		{"bad cleanup pattern", "name: x\nsteps:\n  - run: ls\ncleanup:\n  - run: ls\n    expectNot: ['[z-a]']\n", `bad.yaml:5: cleanup step 1: invalid pattern "[z-a]"`},
		{"unknown capability", "name: x\nrequires: [gpus]\nsteps:\n  - run: ls\n", `bad.yaml:2: unknown capability "gpus" in requires`},
		{"bad target", "name: x\nsteps:\n  - run: ls\n    on: vm/x\n", `bad.yaml:3: step 1: on: "vm/x": want local, node/NAME`},
		{"bad node name", "name: x\nsteps:\n  - run: ls\n    on: W1_K8S\n", `invalid node name "W1_K8S"`},
		{"kubectl off local", "name: x\nsteps:\n  - wait: pods\n    on: cp-k8s\n", "apply, create, delete and wait run kubectl locally"},
		{"container off pod", "name: x\nsteps:\n  - run: ls\n    container: c\n", "container: only a step on a pod has containers"},
		{"bad variable", "name: x\nsteps:\n  - run: ls\n    save: 1X\n", `save: "1X" is not a variable name`},
		{"two documents", "name: x\nsteps:\n  - run: ls\n---\nname: y\n", "bad.yaml:4: a lab file holds one YAML document"},
		{"empty", "", "bad.yaml: empty lab file"},
		{"not a mapping", "- run: ls\n", "bad.yaml:1: cannot unmarshal !!seq into lab.Lab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadResolvesFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("m/app.yaml", "kind: ConfigMap\n")
	good := write("good.yaml", "name: good\nsteps:\n  - apply: {file: m/app.yaml}\n")
	missing := write("missing.yaml", "name: missing\nsteps:\n  - run: ls\n  - apply: {file: m/nope.yaml}\n")

	l, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if l.Path != good || l.Dir != dir {
		t.Errorf("Path, Dir = %q, %q; want %q, %q", l.Path, l.Dir, good, dir)
	}
	if got := l.resolve("m/app.yaml"); got != filepath.Join(dir, "m/app.yaml") {
		t.Errorf("resolve = %q", got)
	}
	_, err = Load(missing)
	if err == nil || !strings.Contains(err.Error(), missing+":4: manifest file m/nope.yaml") {
		t.Errorf("Load(missing) = %v, want the file, line and manifest named", err)
	}

	// A directory stands for its lab files, in name order; manifests in
	// subdirectories are not labs.
	labs, err := LoadAll([]string{dir})
	if err == nil {
		t.Fatalf("LoadAll(dir) = %d labs, want the missing manifest reported", len(labs))
	}
	os.Remove(missing)
	write("a.yml", "name: a\nsteps:\n  - run: ls\n")
	labs, err = LoadAll([]string{dir})
	if err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	var names []string
	for _, l := range labs {
		names = append(names, l.Name)
	}
	if strings.Join(names, ",") != "a,good" {
		t.Errorf("LoadAll names = %v, want [a good]", names)
	}
	if _, err := LoadAll([]string{filepath.Join(dir, "m", "nothing")}); err == nil {
		t.Error("LoadAll of a missing path succeeded")
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
		str  string
		err  bool
	}{
		{"", Target{Kind: Local}, "local", false},
		{"local", Target{Kind: Local}, "local", false},
		{"cp-k8s", Target{Kind: Node, Name: "cp-k8s"}, "node/cp-k8s", false},
		{"node/w1-k8s", Target{Kind: Node, Name: "w1-k8s"}, "node/w1-k8s", false},
		{"host/client", Target{Kind: Host, Name: "client"}, "host/client", false},
		{"pod/web", Target{Kind: Pod, Name: "web"}, "pod/web", false},
		{"pod/kube-system/coredns-1", Target{Kind: Pod, Namespace: "kube-system", Name: "coredns-1"}, "pod/kube-system/coredns-1", false},
		{"pod/", Target{}, "", true},
		{"pod/NS/x", Target{}, "", true},
		{"vm/x", Target{}, "", true},
		{"node/a b", Target{}, "", true},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseTarget(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if got != tt.want || got.String() != tt.str {
			t.Errorf("ParseTarget(%q) = %+v (%s), want %+v (%s)", tt.in, got, got, tt.want, tt.str)
		}
	}
	if h := (Target{Kind: Local}).PromptHost("cp-k8s"); h != "cp-k8s" {
		t.Errorf("local prompt host = %q", h)
	}
	if h := (Target{Kind: Pod, Namespace: "ns", Name: "web"}).PromptHost("cp-k8s"); h != "web" {
		t.Errorf("pod prompt host = %q", h)
	}
}

// TestExampleLabs checks that every lab kin ships parses, is valid and
// names its seed.
func TestExampleLabs(t *testing.T) {
	const dir = "../../examples/labs"
	labs, err := LoadAll([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(labs) != len(files) || len(labs) < 10 {
		t.Fatalf("loaded %d labs from %d files", len(labs), len(files))
	}
	names := map[string]string{}
	for _, l := range labs {
		if prev, dup := names[l.Name]; dup {
			t.Errorf("%s: lab name %q is also used by %s", l.Path, l.Name, prev)
		}
		names[l.Name] = l.Path
		if l.Seed == "" || l.Description == "" {
			t.Errorf("%s: want seed and description", l.Path)
		}
		for _, s := range l.allSteps() {
			for _, m := range []*Manifest{s.Apply, s.Create, s.Delete} {
				if m != nil && m.File != "" && !strings.HasPrefix(m.File, "manifests/") {
					t.Errorf("%s:%d: manifest %s is outside manifests/", l.Path, s.Line, m.File)
				}
			}
		}
	}
	if p, ok := names["control-plane"]; !ok {
		t.Error("no control-plane lab")
	} else if l, _ := Load(p); len(l.Requires) != 0 {
		t.Errorf("control-plane lab requires %v, want nothing", l.Requires)
	}
}
