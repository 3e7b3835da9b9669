package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// KinExecutor runs steps on a kin cluster: local commands with bash on this
// machine, where kubectl (and its alias k) is kin's built-in kubectl pointed
// at the cluster and kin is this cluster's kin; node, host and pod commands
// through `kin exec --name N TARGET -- bash -c COMMAND`.
type KinExecutor struct {
	// Kin is the kin binary.
	Kin string
	// Cluster is the cluster name (kin --name).
	Cluster string
	// Kubeconfig is the cluster's kubeconfig file.
	Kubeconfig string

	binDir string
	env    []string
}

// NewKinExecutor prepares an executor for cluster: it writes kubectl, k and
// kin commands into a temporary directory that leads PATH. Close removes it.
func NewKinExecutor(kin, cluster, kubeconfig string) (*KinExecutor, error) {
	dir, err := os.MkdirTemp("", "kin-lab-")
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	e := &KinExecutor{Kin: kin, Cluster: cluster, Kubeconfig: kubeconfig, binDir: dir}
	// The cluster name travels in KIN_NAME: a --name before the kubectl
	// subcommand would reach kubectl's own flags.
	kinCmd := "KIN_NAME=" + quoteArg(cluster) + " exec " + quoteArg(kin)
	scripts := map[string]string{
		"kubectl": kinCmd + ` kubectl "$@"`,
		"k":       kinCmd + ` kubectl "$@"`,
		"kin":     kinCmd + ` "$@"`,
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	// curl shows a progress meter when its output is not a terminal; the
	// transcript shows what a terminal would.
	if err := os.WriteFile(filepath.Join(dir, ".curlrc"), []byte("--silent\n--show-error\n"), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lab: %w", err)
	}
	e.env = append(os.Environ(),
		"PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+kubeconfig,
		"KIN_NAME="+cluster,
		"CURL_HOME="+dir,
	)
	return e, nil
}

// Close removes the executor's temporary commands.
func (e *KinExecutor) Close() error {
	if e.binDir == "" {
		return nil
	}
	return os.RemoveAll(e.binDir)
}

// Argv returns the program and arguments that run command at where.
func (e *KinExecutor) Argv(where Target, command string) []string {
	shell := []string{"bash", "-c", command}
	kin := []string{e.Kin, "exec", "--name", e.Cluster}
	switch where.Kind {
	case Node, Host:
		return append(append(kin, string(where.Kind)+"/"+where.Name, "--"), shell...)
	case Pod:
		if where.Namespace != "" {
			kin = append(kin, "-n", where.Namespace)
		}
		kin = append(kin, where.Name)
		if where.Container != "" {
			kin = append(kin, "-c", where.Container)
		}
		return append(append(kin, "--"), shell...)
	}
	return shell
}

// Run runs command at where and returns its combined output and exit code.
func (e *KinExecutor) Run(ctx context.Context, where Target, command string, stdin []byte) ([]byte, int, error) {
	argv := e.Argv(where, command)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = e.env
	if where.Kind == Local {
		cmd.Dir = where.Dir
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	// The command and everything it starts form one process group, killed
	// together when the step times out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.Bytes(), 0, nil
	case errors.As(err, &exit):
		return out.Bytes(), exit.ExitCode(), nil
	case ctx.Err() != nil:
		return out.Bytes(), -1, nil
	}
	return out.Bytes(), -1, fmt.Errorf("lab: %s: %w", argv[0], err)
}
