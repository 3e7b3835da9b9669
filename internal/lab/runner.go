package lab

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Executor runs one step's command line with bash where the step says.
type Executor interface {
	// Run runs command with bash -c at where, feeding it stdin, and returns
	// its combined stdout and stderr and its exit code. err reports only a
	// command that could not be started.
	Run(ctx context.Context, where Target, command string, stdin []byte) (output []byte, exitCode int, err error)
}

// Capabilities reports what the cluster under test can do ("nodes", "dns",
// "loadbalancer", "ingress").
type Capabilities interface {
	Has(ctx context.Context, capability string) (bool, error)
}

// CapabilitySet is a fixed set of capabilities.
type CapabilitySet map[string]bool

// NewCapabilitySet returns the set of the named capabilities.
func NewCapabilitySet(names ...string) CapabilitySet {
	s := CapabilitySet{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

// Has reports whether the set holds capability.
func (s CapabilitySet) Has(_ context.Context, capability string) (bool, error) {
	return s[capability], nil
}

// Status is how a lab ended.
type Status int

// The ways a lab can end.
const (
	Passed Status = iota
	Failed
	Skipped
)

// String returns PASS, FAIL or SKIP.
func (s Status) String() string {
	switch s {
	case Passed:
		return "PASS"
	case Failed:
		return "FAIL"
	}
	return "SKIP"
}

// Result is the outcome of running one lab.
type Result struct {
	Lab    *Lab
	Status Status
	// Reason says why a lab was skipped.
	Reason string
	// Err says why a lab failed; a failed step is a *StepError.
	Err      error
	Duration time.Duration
}

// StepError is a step whose output or exit code did not meet its
// expectations.
type StepError struct {
	Lab string
	// File and Line locate the step in its lab file.
	File string
	Line int
	// Section is "step" or "cleanup step"; Index counts from 1.
	Section string
	Index   int
	Title   string
	// Reason says which expectation failed.
	Reason string
	// Output is what the command printed in its last attempt.
	Output string
}

// Error names the lab, the step and the failed expectation on one line.
func (e *StepError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("lab %s: %s %d %q (%s): %s", e.Lab, e.Section, e.Index, e.Title, where, e.Reason)
}

// Runner runs labs through an Executor and prints their transcripts.
type Runner struct {
	Exec Executor
	// Capabilities says what the cluster can do; nil runs every lab.
	Capabilities Capabilities
	// Out receives the transcript.
	Out io.Writer
	// LocalHost is the host name prompts show for local commands
	// (default "cp-k8s", where the notes run kubectl).
	LocalHost string
	// RetryInterval is the pause between attempts of a retried step
	// (default 1s).
	RetryInterval time.Duration
	// Timeout bounds one attempt of a step without its own timeout
	// (default 2m).
	Timeout time.Duration
	// LookPath finds the tools a lab needs (default exec.LookPath).
	LookPath func(string) (string, error)
}

// DefaultTimeout bounds one attempt of a step that sets no timeout.
const DefaultTimeout = 2 * time.Minute

func (r *Runner) localHost() string {
	if r.LocalHost != "" {
		return r.LocalHost
	}
	return "cp-k8s"
}

// RunAll runs labs one after another and returns their results.
func (r *Runner) RunAll(ctx context.Context, labs []*Lab) []Result {
	results := make([]Result, 0, len(labs))
	for _, l := range labs {
		if ctx.Err() != nil {
			break
		}
		results = append(results, r.Run(ctx, l))
	}
	return results
}

// Summary counts results as "N passed, N failed, N skipped".
func Summary(results []Result) string {
	var n [3]int
	for _, res := range results {
		n[res.Status]++
	}
	return fmt.Sprintf("%d passed, %d failed, %d skipped", n[Passed], n[Failed], n[Skipped])
}

// Run runs one lab: its steps until one fails, then its cleanup steps.
func (r *Runner) Run(ctx context.Context, l *Lab) Result {
	start := time.Now()
	res := Result{Lab: l}
	head := l.Where()
	if l.Seed != "" {
		head += "; seed " + l.Seed
	}
	fmt.Fprintf(r.Out, "=== RUN   %s (%s)\n", l.Name, head)
	if reason, err := r.skipReason(ctx, l); err != nil {
		res.Status, res.Err = Failed, err
		fmt.Fprintf(r.Out, "--- FAIL  %s: %v\n", l.Name, err)
		return res
	} else if reason != "" {
		res.Status, res.Reason = Skipped, reason
		fmt.Fprintf(r.Out, "--- SKIP  %s: %s\n", l.Name, reason)
		return res
	}
	for _, line := range strings.Split(strings.TrimSpace(l.Description), "\n") {
		if line != "" {
			fmt.Fprintf(r.Out, "# %s\n", strings.TrimSpace(line))
		}
	}
	vars := map[string]string{}
	var err error
	for i := range l.Steps {
		if err = r.runStep(ctx, l, &l.Steps[i], "step", i+1, vars); err != nil {
			break
		}
	}
	if len(l.Cleanup) > 0 {
		fmt.Fprintf(r.Out, "# cleanup\n")
		// Cleanup runs even when the lab was interrupted.
		cctx := context.WithoutCancel(ctx)
		for i := range l.Cleanup {
			if cerr := r.runStep(cctx, l, &l.Cleanup[i], "cleanup step", i+1, vars); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	res.Duration = time.Since(start)
	if err != nil {
		res.Status, res.Err = Failed, err
		fmt.Fprintf(r.Out, "--- FAIL  %s (%s)\n    %v\n", l.Name, res.Duration.Round(100*time.Millisecond), err)
		return res
	}
	fmt.Fprintf(r.Out, "--- PASS  %s (%s)\n", l.Name, res.Duration.Round(100*time.Millisecond))
	return res
}

// skipReason says why the lab cannot run here, or "" when it can.
func (r *Runner) skipReason(ctx context.Context, l *Lab) (string, error) {
	if r.Capabilities != nil {
		for _, c := range l.Requires {
			ok, err := r.Capabilities.Has(ctx, c)
			if err != nil {
				return "", fmt.Errorf("lab %s: detecting capability %q: %w", l.Name, c, err)
			}
			if !ok {
				return fmt.Sprintf("the cluster lacks the %q capability this lab requires", c), nil
			}
		}
	}
	look := r.LookPath
	if look == nil {
		look = exec.LookPath
	}
	for _, t := range l.Tools {
		if _, err := look(t); err != nil {
			return fmt.Sprintf("this lab needs %q, which is not installed on this machine", t), nil
		}
	}
	return "", nil
}

// runStep runs one step, retrying it as the step allows, and prints it.
func (r *Runner) runStep(ctx context.Context, l *Lab, s *Step, section string, index int, vars map[string]string) error {
	fail := func(reason, output string) error {
		return &StepError{Lab: l.Name, File: l.Where(), Line: s.Line, Section: section, Index: index,
			Title: s.Title(), Reason: reason, Output: output}
	}
	sub := func(text string, quote bool) (string, error) { return substitute(text, l.vars, vars, quote) }

	cleanup := section != "step"
	shown, verb := s.display(cleanup)
	command, stdin := shown, []byte(nil)
	if verb != "" {
		m := s.Apply
		if s.Create != nil {
			m = s.Create
		} else if s.Delete != nil {
			m = s.Delete
		}
		command = "kubectl " + verb
		if verb == "delete" && cleanup {
			command += " --ignore-not-found"
		}
		if m.File != "" {
			command += " -f " + quoteArg(l.resolve(m.File))
		} else {
			command += " -f -"
			stdin = []byte(m.Text)
		}
	}
	var err error
	if shown, err = sub(shown, false); err != nil {
		return fail(err.Error(), "")
	}
	if command, err = sub(command, false); err != nil {
		return fail(err.Error(), "")
	}
	if stdin != nil {
		text, err := sub(string(stdin), false)
		if err != nil {
			return fail(err.Error(), "")
		}
		stdin = []byte(text)
	}
	on, err := sub(s.On, false)
	if err != nil {
		return fail(err.Error(), "")
	}
	where, err := ParseTarget(on)
	if err != nil {
		return fail(err.Error(), "")
	}
	if where.Container, err = sub(s.Container, false); err != nil {
		return fail(err.Error(), "")
	}
	if where.Kind == Local {
		where.Dir = l.Dir
	}
	expect, err := compileAll(s.Expect, sub)
	if err != nil {
		return fail(err.Error(), "")
	}
	expectNot, err := compileAll(s.ExpectNot, sub)
	if err != nil {
		return fail(err.Error(), "")
	}

	if s.Name != "" {
		fmt.Fprintf(r.Out, "# %s\n", s.Name)
	}
	r.printPrompt(where, shown)

	timeout := time.Duration(s.Timeout)
	if timeout == 0 {
		timeout = r.Timeout
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	interval := r.RetryInterval
	if interval <= 0 {
		interval = time.Second
	}
	start := time.Now()
	var out []byte
	var reason string
	attempts := 0
	for {
		attempts++
		actx, cancel := context.WithTimeout(ctx, timeout)
		var code int
		out, code, err = r.Exec.Run(actx, where, command, stdin)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err != nil {
			r.printOutput(out)
			return fail(fmt.Sprintf("running the command: %v", err), string(out))
		}
		switch {
		case ctx.Err() != nil:
			r.printOutput(out)
			return fail(fmt.Sprintf("interrupted: %v", ctx.Err()), string(out))
		case timedOut:
			reason = fmt.Sprintf("timed out after %s", timeout)
		default:
			reason = check(out, code, s.expectedExit(), expect, expectNot)
		}
		if reason == "" || time.Since(start) >= time.Duration(s.Retry) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
	r.printOutput(out)
	if attempts > 1 {
		verdict := "passed"
		if reason != "" {
			verdict = "still failing"
		}
		fmt.Fprintf(r.Out, "# (%s after %d attempts in %s)\n", verdict, attempts, time.Since(start).Round(100*time.Millisecond))
	}
	if reason != "" {
		if attempts > 1 {
			reason = fmt.Sprintf("after retrying for %s: %s", time.Duration(s.Retry), reason)
		}
		return fail(reason, string(out))
	}
	if s.Save != "" {
		vars[s.Save] = strings.TrimSpace(StripANSI(string(out)))
	}
	return nil
}

// printPrompt prints a command the way a terminal shows it: a prompt, then
// continuation lines after "> ".
func (r *Runner) printPrompt(where Target, command string) {
	lines := strings.Split(strings.TrimRight(command, "\n"), "\n")
	fmt.Fprintf(r.Out, "root@%s:~# %s\n", where.PromptHost(r.localHost()), lines[0])
	for _, line := range lines[1:] {
		fmt.Fprintf(r.Out, "> %s\n", line)
	}
}

func (r *Runner) printOutput(out []byte) {
	if len(out) == 0 {
		return
	}
	r.Out.Write(out)
	if out[len(out)-1] != '\n' {
		io.WriteString(r.Out, "\n")
	}
}

// check returns which expectation the output or exit code misses, or "".
func check(out []byte, code, wantCode int, expect, expectNot []*regexp.Regexp) string {
	if code != wantCode {
		return fmt.Sprintf("exit code %d, expected %d", code, wantCode)
	}
	text := StripANSI(string(out))
	for _, re := range expect {
		if !re.MatchString(text) {
			return fmt.Sprintf("expected pattern `%s` not found in the output", pattern(re))
		}
	}
	for _, re := range expectNot {
		if loc := re.FindStringIndex(text); loc != nil {
			return fmt.Sprintf("unexpected pattern `%s` found in the output: %q", pattern(re), text[loc[0]:loc[1]])
		}
	}
	return ""
}

// pattern returns the pattern as the lab wrote it.
func pattern(re *regexp.Regexp) string {
	return strings.TrimPrefix(re.String(), "(?m)")
}

// compileAll substitutes saved variables into patterns and compiles them in
// multi-line mode (^ and $ match at line boundaries).
func compileAll(patterns []string, sub func(string, bool) (string, error)) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, p := range patterns {
		text, err := sub(p, true)
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile("(?m)" + text)
		if err != nil {
			return nil, fmt.Errorf("invalid pattern %q: %w", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// substitute replaces ${NAME} references to variables the lab saves with
// their values (quoted for regular expressions when quote is set); other
// ${...} text is left for bash.
func substitute(text string, declared map[string]bool, vars map[string]string, quote bool) (string, error) {
	var missing string
	out := varRef.ReplaceAllStringFunc(text, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		if !declared[name] {
			return ref
		}
		v, ok := vars[name]
		if !ok {
			if missing == "" {
				missing = name
			}
			return ref
		}
		if quote {
			return regexp.QuoteMeta(v)
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("variable %s is not set: the step that saves it has not run or failed", missing)
	}
	return out, nil
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07`)

// StripANSI removes terminal colour and control sequences (ip -c, grep
// --color) so patterns see plain text.
func StripANSI(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	return ansi.ReplaceAllString(s, "")
}
