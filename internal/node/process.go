package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// runProcess starts a command container as a host process in the sandbox,
// in its own process group, its output going to the container log.
func (w *podWorker) runProcess(c *corev1.Container, inst *instance, argv []string, logf *logFile) error {
	if len(argv) == 0 {
		return errors.New("no command")
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(w.rs.ctx))
	cmd := w.command(ctx, inst.workDir, argv)
	cmd.Env = inst.env
	outR, outW, err := os.Pipe()
	if err != nil {
		cancel()
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		cancel()
		outR.Close()
		outW.Close()
		return err
	}
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		cancel()
		outR.Close()
		errR.Close()
		return err
	}
	pid := cmd.Process.Pid
	pidFile := w.pidPath(c.Name, inst.attempt)
	writePIDFile(pidFile, pid)
	signalGroup := func(sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
	inst.stop = func() { signalGroup(syscall.SIGTERM) }
	inst.kill = func() { signalGroup(syscall.SIGKILL) }

	var copies sync.WaitGroup
	for _, p := range []struct {
		r      *os.File
		stream string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		copies.Add(1)
		go func() {
			defer copies.Done()
			s := logf.stream(p.stream)
			_, _ = io.Copy(s, p.r)
			s.flush()
		}()
	}
	go func() {
		_ = cmd.Wait()
		finished := w.a.now()
		// As when a container's init process exits, whatever it left in
		// its process group goes too.
		signalGroup(syscall.SIGKILL)
		copied := make(chan struct{})
		go func() { copies.Wait(); close(copied) }()
		select {
		case <-copied:
		case <-time.After(2 * time.Second):
			// A process that left the group still holds the pipes.
			outR.Close()
			errR.Close()
			<-copied
		}
		outR.Close()
		errR.Close()
		logf.Close()
		cancel()
		os.Remove(pidFile)
		code := processExitCode(cmd.ProcessState)
		inst.finish(code, exitReason(code), fallbackMessage(c, inst.logPath, code), finished)
		w.nudge()
	}()
	return nil
}

// command builds a host command inside the sandbox in its own process
// group, changing to dir first when one is given (the sandbox starts
// programs in "/").
func (w *podWorker) command(ctx context.Context, dir string, argv []string) *exec.Cmd {
	name, args := argv[0], argv[1:]
	if dir != "" {
		args = append([]string{"-c", `cd "$0" && exec "$@"`, dir, name}, args...)
		name = "/bin/sh"
	}
	cmd := w.sandbox.Command(ctx, name, args...)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return cmd
}

// processExitCode is the exit code a runtime reports: the status, or 128
// plus the signal that killed the process.
func processExitCode(ps *os.ProcessState) int32 {
	if ps == nil {
		return 128
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ps.ExitCode())
}

// processEnv is the environment of a command container: a container's
// default PATH, HOSTNAME and HOME, then the resolved variables.
func processEnv(hostname string, vars []corev1.EnvVar) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOSTNAME=" + hostname,
		"HOME=/root",
	}
	for _, v := range vars {
		env = append(env, v.Name+"="+v.Value)
	}
	return env
}

// writePIDFile records pid and its start time, which tells it from a
// later process that reuses the number.
func writePIDFile(path string, pid int) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	_ = os.WriteFile(path, []byte(fmt.Sprintf("%d %s\n", pid, procStartTime(pid))), 0o644)
}

// killRecordedProcesses kills the process groups a previous run of the
// agent recorded under dir and removes the records.
func killRecordedProcesses(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err == nil {
			fields := strings.Fields(string(b))
			if len(fields) == 2 {
				pid, err := strconv.Atoi(fields[0])
				if err == nil && pid > 1 && procStartTime(pid) == fields[1] {
					_ = syscall.Kill(-pid, syscall.SIGKILL)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		os.Remove(path)
	}
}

// procStartTime is field 22 of /proc/<pid>/stat, or "" when the process
// does not exist.
func procStartTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); the start time is field 22.
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}
