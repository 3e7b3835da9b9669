package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kin/internal/cluster"
	"kin/internal/kubeconfig"
)

var syscallZero = syscall.Signal(0)

// ReadyFDEnv names the environment variable that tells a daemon started by
// Start which file descriptor to report progress and readiness on.
const ReadyFDEnv = "KIN_READY_FD"

// Reporter writes start-up progress for a parent `kin up`: "step\tnanos"
// lines, then "ready". Without a parent it writes nothing.
type Reporter struct{ w io.WriteCloser }

// ReporterFromEnv returns the reporter a background daemon was given.
func ReporterFromEnv() *Reporter {
	fd, err := strconv.Atoi(os.Getenv(ReadyFDEnv))
	if err != nil || fd < 3 {
		return &Reporter{}
	}
	os.Unsetenv(ReadyFDEnv)
	return &Reporter{w: os.NewFile(uintptr(fd), "ready")}
}

// HasParent reports whether a parent `kin up` is listening.
func (r *Reporter) HasParent() bool { return r.w != nil }

// Step reports one finished step.
func (r *Reporter) Step(what string, took time.Duration) {
	if r.w != nil {
		fmt.Fprintf(r.w, "%s\t%d\n", strings.ReplaceAll(what, "\t", " "), took.Nanoseconds())
	}
}

// Ready reports that the cluster is up and closes the channel.
func (r *Reporter) Ready() {
	if r.w != nil {
		fmt.Fprintln(r.w, "ready")
		r.w.Close()
		r.w = nil
	}
}

// Start launches the daemon of cluster name in the background (a new session,
// logging to its state directory) and returns once it is ready, calling
// progress for every step it reports. args are the extra `kin up` flags.
func Start(ctx context.Context, name string, args []string, progress func(step string, took time.Duration)) error {
	paths, err := PathsFor(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(paths.Dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", paths.Dir, err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(paths.Log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, append([]string{"--name", name, "up", "--foreground"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Env = append(os.Environ(), ReadyFDEnv+"=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return fmt.Errorf("starting daemon: %w", err)
	}
	pw.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			pr.Close()
			return nil
		}
		what, nanos, _ := strings.Cut(line, "\t")
		n, _ := strconv.ParseInt(nanos, 10, 64)
		progress(what, time.Duration(n))
	}
	pr.Close()
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
	}
	return fmt.Errorf("the daemon stopped before it was ready: %s (full log: %s)", lastLine(paths.Log()), paths.Log())
}

// lastLine returns the last non-empty line of a file.
func lastLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "no log"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1]
}

// Running reports whether cluster name has a live daemon.
func Running(name string) (pid int, running bool, err error) {
	paths, err := PathsFor(name)
	if err != nil {
		return 0, false, err
	}
	pid, alive := runningPID(paths)
	return pid, alive, nil
}

// Stop ends the daemon of cluster name (SIGTERM, then SIGKILL after the
// timeout) and waits for it to exit. It is not an error if none runs.
func Stop(name string, timeout time.Duration) error {
	paths, err := PathsFor(name)
	if err != nil {
		return err
	}
	pid, alive := runningPID(paths)
	if !alive {
		return nil
	}
	p, _ := os.FindProcess(pid)
	p.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, alive := runningPID(paths); !alive {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Signal(syscall.SIGKILL)
	for i := 0; i < 100; i++ {
		if err := p.Signal(syscallZero); err != nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("daemon pid %d did not exit", pid)
}

// Remove deletes a stopped cluster's state and its kubeconfig context.
func Remove(name string) error {
	paths, err := PathsFor(name)
	if err != nil {
		return err
	}
	if _, alive := runningPID(paths); alive {
		return errors.New("the daemon is still running")
	}
	if err := cluster.Down(name); err != nil {
		return fmt.Errorf("removing the network of cluster %q: %w", name, err)
	}
	if err := kubeconfig.Unmerge(name); err != nil {
		return err
	}
	return os.RemoveAll(paths.Dir)
}
