package node

import (
	"context"
	"fmt"
	"os/exec"
)

// ExecCommand returns a command that runs argv inside a running container
// of a pod on this node, with the container's environment and working
// directory, as kubectl exec does. The caller attaches the streams (and a
// terminal) and runs it.
func (a *Agent) ExecCommand(ctx context.Context, namespace, pod, container string, argv []string) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("you must specify at least 1 command")
	}
	w := a.workerByName(namespace, pod)
	if w == nil {
		return nil, fmt.Errorf("pod %q not found on node %q", namespace+"/"+pod, a.cfg.NodeName)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	rec := w.records[container]
	if rec == nil || !rec.running() || w.sandbox == nil {
		return nil, fmt.Errorf("container not found (%q)", container)
	}
	cmd := w.command(ctx, rec.cur.workDir, argv)
	cmd.Env = append([]string(nil), rec.cur.env...)
	return cmd, nil
}
