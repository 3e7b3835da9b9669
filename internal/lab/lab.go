// Package lab runs lab files: small YAML scripts of kubectl and shell steps
// whose output is printed like a terminal transcript and checked against
// expected patterns. kin's examples (examples/labs) and users' CI checks of
// their manifests are lab files; examples/labs/README.md documents the format.
package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Capability names a feature a lab needs from the cluster.
const (
	CapNodes        = "nodes"
	CapServices     = "services"
	CapDNS          = "dns"
	CapLoadBalancer = "loadbalancer"
	CapIngress      = "ingress"
)

// KnownCapabilities lists the capability names a lab may require.
var KnownCapabilities = []string{CapNodes, CapServices, CapDNS, CapLoadBalancer, CapIngress}

// Lab is one lab file: a named sequence of steps and the cleanup that always
// follows them.
type Lab struct {
	Name        string   `yaml:"name"`
	Seed        string   `yaml:"seed"`
	Description string   `yaml:"description"`
	Requires    []string `yaml:"requires"`
	Tools       []string `yaml:"tools"`
	Steps       []Step   `yaml:"steps"`
	Cleanup     []Step   `yaml:"cleanup"`

	// Path is the file the lab was loaded from; it is empty for labs parsed
	// from memory.
	Path string `yaml:"-"`
	// Dir is the directory relative paths in the lab are resolved against.
	Dir string `yaml:"-"`
	// vars is the set of variable names the lab's steps save.
	vars map[string]bool
}

// Step is one command of a lab: exactly one of Run, Apply, Create, Delete and
// Wait is set.
type Step struct {
	Name       string    `yaml:"name"`
	Run        string    `yaml:"run"`
	Apply      *Manifest `yaml:"apply"`
	Create     *Manifest `yaml:"create"`
	Delete     *Manifest `yaml:"delete"`
	Wait       string    `yaml:"wait"`
	On         string    `yaml:"on"`
	Container  string    `yaml:"container"`
	Expect     []string  `yaml:"expect"`
	ExpectNot  []string  `yaml:"expectNot"`
	ExpectExit *int      `yaml:"expectExit"`
	Retry      Duration  `yaml:"retry"`
	Timeout    Duration  `yaml:"timeout"`
	Save       string    `yaml:"save"`

	// Line is the line of the lab file the step starts on.
	Line int `yaml:"-"`
}

// Manifest is the object text a step applies, creates or deletes: inline
// text, or a file relative to the lab file.
type Manifest struct {
	Text string
	File string
}

// UnmarshalYAML reads a manifest from a string (inline text) or a mapping
// with the single key "file".
func (m *Manifest) UnmarshalYAML(n *yaml.Node) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		m.Text = n.Value
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value != "file" {
				return typeErr(k.Line, "field %s not found in manifest (want inline text or file: PATH)", k.Value)
			}
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return typeErr(v.Line, "file: want a path")
			}
			m.File = v.Value
		}
		if m.File == "" {
			return typeErr(n.Line, "manifest: want inline text or file: PATH")
		}
		return nil
	}
	return typeErr(n.Line, "manifest: want inline text or file: PATH")
}

// Duration is a time.Duration written as Go writes durations ("30s", "2m").
type Duration time.Duration

// UnmarshalYAML parses a duration such as "30s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeErr(n.Line, "want a duration such as 30s")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return typeErr(n.Line, "invalid duration %q: want a duration such as 30s or 2m", n.Value)
	}
	*d = Duration(v)
	return nil
}

func typeErr(line int, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...))}}
}

// Load reads and validates the lab file at path.
func Load(path string) (*Lab, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l.Path = path
	l.Dir = filepath.Dir(abs)
	for _, s := range l.allSteps() {
		for _, m := range []*Manifest{s.Apply, s.Create, s.Delete} {
			if m == nil || m.File == "" {
				continue
			}
			if _, err := os.Stat(l.resolve(m.File)); err != nil {
				return nil, fmt.Errorf("%s:%d: manifest file %s: %w", path, s.Line, m.File, errors.Unwrap(err))
			}
		}
	}
	return l, nil
}

// LoadAll loads the lab files named by paths; a directory stands for the
// .yaml and .yml files in it (not its subdirectories), in name order.
func LoadAll(paths []string) ([]*Lab, error) {
	var labs []*Lab
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			l, err := Load(f)
			if err != nil {
				return nil, err
			}
			labs = append(labs, l)
		}
	}
	return labs, nil
}

func expand(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			files = append(files, filepath.Join(p, n))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("lab: no .yaml lab files in %s", p)
	}
	sort.Strings(files)
	return files, nil
}

// Parse decodes and validates a lab file's contents; file names the source in
// error messages ("FILE:LINE: problem").
func Parse(file string, data []byte) (*Lab, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty lab file", file)
		}
		return nil, yamlErr(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlErr(file, err)
		}
		return nil, fmt.Errorf("%s:%d: a lab file holds one YAML document", file, extra.Line)
	}
	var l Lab
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&l); err != nil {
		return nil, yamlErr(file, err)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: a lab file is a mapping with name and steps", file, doc.Line)
	}
	setLines(doc, "steps", l.Steps)
	setLines(doc, "cleanup", l.Cleanup)
	if err := l.validate(file, doc); err != nil {
		return nil, err
	}
	return &l, nil
}

// setLines records the line each step of the sequence under key starts on.
func setLines(doc *yaml.Node, key string, steps []Step) {
	seq := child(doc, key)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	for i := range steps {
		if i < len(seq.Content) {
			steps[i].Line = seq.Content[i].Line
		}
	}
}

// child returns the value of key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// keyLine returns the line of key in mapping n, or def.
func keyLine(n *yaml.Node, key string, def int) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return def
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return def
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
var unknownField = regexp.MustCompile(`^field (\S+) not found in type lab\.(\w+)$`)

// yamlErr rewrites a YAML decoding error as "FILE:LINE: problem" lines.
func yamlErr(file string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		sm := yamlLine.FindStringSubmatch(m)
		if sm == nil {
			out = append(out, fmt.Sprintf("%s: %s", file, strings.TrimPrefix(m, "yaml: ")))
			continue
		}
		msg := sm[2]
		if f := unknownField.FindStringSubmatch(msg); f != nil {
			msg = fmt.Sprintf("unknown field %q in %s", f[1], strings.ToLower(f[2]))
		}
		out = append(out, fmt.Sprintf("%s:%s: %s", file, sm[1], msg))
	}
	return errors.New(strings.Join(out, "\n"))
}

var (
	varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	varRef  = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	objName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

// validate checks what the YAML types cannot: one action per step, targets,
// patterns, capabilities and variables.
func (l *Lab) validate(file string, doc *yaml.Node) error {
	var errs []string
	add := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(l.Name) == "" {
		add(doc.Line, "name is required")
	}
	for _, c := range l.Requires {
		if !known(c) {
			add(keyLine(doc, "requires", doc.Line), "unknown capability %q in requires (known: %s)", c, strings.Join(KnownCapabilities, ", "))
		}
	}
	for _, t := range l.Tools {
		if t == "" || strings.ContainsAny(t, "/ \t") {
			add(keyLine(doc, "tools", doc.Line), "tools: %q is not a command name", t)
		}
	}
	if len(l.Steps) == 0 {
		add(keyLine(doc, "steps", doc.Line), "a lab needs at least one step")
	}
	l.vars = map[string]bool{}
	for _, s := range l.allSteps() {
		if s.Save == "" {
			continue
		}
		if !varName.MatchString(s.Save) {
			add(s.Line, "save: %q is not a variable name (letters, digits and _)", s.Save)
			continue
		}
		l.vars[s.Save] = true
	}
	check := func(section string, steps []Step) {
		for i := range steps {
			s := &steps[i]
			for _, msg := range l.checkStep(s) {
				add(s.Line, "%s %d: %s", section, i+1, msg)
			}
		}
	}
	check("step", l.Steps)
	check("cleanup step", l.Cleanup)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

func known(c string) bool {
	for _, k := range KnownCapabilities {
		if c == k {
			return true
		}
	}
	return false
}

// checkStep returns what is wrong with one step.
func (l *Lab) checkStep(s *Step) []string {
	var msgs []string
	actions := 0
	for _, set := range []bool{s.Run != "", s.Apply != nil, s.Create != nil, s.Delete != nil, s.Wait != ""} {
		if set {
			actions++
		}
	}
	if actions != 1 {
		msgs = append(msgs, "a step needs exactly one of run, apply, create, delete, wait")
	}
	if !varRef.MatchString(s.On) {
		t, err := ParseTarget(s.On)
		if err != nil {
			msgs = append(msgs, err.Error())
		} else {
			if s.Run == "" && t.Kind != Local {
				msgs = append(msgs, fmt.Sprintf("on: %s: apply, create, delete and wait run kubectl locally", s.On))
			}
			if s.Container != "" && t.Kind != Pod {
				msgs = append(msgs, "container: only a step on a pod has containers")
			}
		}
	}
	for _, group := range [][]string{s.Expect, s.ExpectNot} {
		for _, p := range group {
			// Saved variables are matched literally; any value checks the syntax.
			probe := varRef.ReplaceAllStringFunc(p, func(ref string) string {
				if l.vars[varRef.FindStringSubmatch(ref)[1]] {
					return "x"
				}
				return ref
			})
			if _, err := regexp.Compile(probe); err != nil {
				msgs = append(msgs, fmt.Sprintf("invalid pattern %q: %v", p, err))
			}
		}
	}
	return msgs
}

func (l *Lab) allSteps() []*Step {
	var out []*Step
	for i := range l.Steps {
		out = append(out, &l.Steps[i])
	}
	for i := range l.Cleanup {
		out = append(out, &l.Cleanup[i])
	}
	return out
}

// resolve makes a path in the lab relative to the lab's directory.
func (l *Lab) resolve(p string) string {
	if filepath.IsAbs(p) || l.Dir == "" {
		return p
	}
	return filepath.Join(l.Dir, p)
}

// Where names the lab for messages: its file when it has one.
func (l *Lab) Where() string {
	if l.Path != "" {
		return l.Path
	}
	return l.Name
}

// Title is how transcripts and messages name the step.
func (s *Step) Title() string {
	if s.Name != "" {
		return s.Name
	}
	c, _ := s.display(false)
	first, _, more := strings.Cut(c, "\n")
	if more || len(first) > 72 {
		if len(first) > 72 {
			first = first[:72]
		}
		first += " ..."
	}
	return first
}

// display returns the command line the transcript shows and the command the
// executor runs, for every action but run (whose two are the same).
func (s *Step) display(cleanup bool) (shown string, verb string) {
	switch {
	case s.Run != "":
		return s.Run, ""
	case s.Wait != "":
		return "kubectl wait " + s.Wait, ""
	}
	verb, m := "apply", s.Apply
	if s.Create != nil {
		verb, m = "create", s.Create
	} else if s.Delete != nil {
		verb, m = "delete", s.Delete
	}
	cmd := "kubectl " + verb
	if verb == "delete" && cleanup {
		cmd += " --ignore-not-found"
	}
	if m.File != "" {
		return cmd + " -f " + m.File, verb
	}
	text := m.Text
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return cmd + " -f - <<'EOF'\n" + text + "EOF", verb
}

// expectedExit is the exit code the step must end with.
func (s *Step) expectedExit() int {
	if s.ExpectExit != nil {
		return *s.ExpectExit
	}
	return 0
}

// quoteArg quotes a word for bash.
func quoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '=' || r == ',' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
