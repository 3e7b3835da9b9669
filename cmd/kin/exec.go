package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"kin/internal/cluster"
	"kin/internal/daemon"
	"kin/internal/netns"
)

// execCommand runs a host program inside a pod, a node or an external host.
func execCommand() *cobra.Command {
	var namespace, container string
	cmd := &cobra.Command{
		Use:   "exec [-n NS] (POD | node/NAME | host/NAME) [-c CONTAINER] -- CMD [ARGS...]",
		Short: "Run a host program inside a pod's, a node's or an external host's namespaces",
		Long: "Runs CMD with stdin, the terminal and the exit code passed through, inside the network, UTS and\n" +
			"mount namespaces of a pod (all its containers share them), a node (node/cp-k8s) or an external host (host/client).",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash != 1 {
				return errors.New("usage: kin exec [-n NS] TARGET -- CMD [ARGS...]")
			}
			sb, err := resolveTarget(cmd.Context(), args[0], namespace)
			if err != nil {
				return err
			}
			c := sb.Command(context.Background(), args[1], args[2:]...)
			// Replace this process, so the terminal, signals and the exit code are the command's.
			return syscall.Exec(c.Path, c.Args, os.Environ())
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "the pod's namespace")
	cmd.Flags().StringVarP(&container, "container", "c", "", "container name (containers of a pod share its namespaces)")
	return cmd
}

// resolveTarget finds the sandbox of node/NAME, host/NAME or a pod.
func resolveTarget(ctx context.Context, target, namespace string) (*netns.Sandbox, error) {
	if _, running, err := daemon.Running(globalName); err != nil {
		return nil, err
	} else if !running {
		return nil, fmt.Errorf("cluster %q is not running: run `kin up --name %s` first", globalName, globalName)
	}
	kind, name, found := strings.Cut(target, "/")
	if !found {
		kind, name = "pod", target
	}
	switch kind {
	case "node", "no", "nodes":
		return openSandbox(cluster.NodeSandbox(name), "node "+name)
	case "host":
		return openSandbox(cluster.HostSandbox(name), "host "+name)
	case "pod", "po", "pods":
	default:
		return nil, fmt.Errorf("unknown target %q: use POD, node/NAME or host/NAME", target)
	}
	paths, err := daemon.PathsFor(globalName)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", paths.Kubeconfig())
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	pod, err := client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if pod.Spec.HostNetwork {
		return openSandbox(cluster.NodeSandbox(pod.Spec.NodeName), "node "+pod.Spec.NodeName)
	}
	if pod.Spec.NodeName == "" {
		return nil, fmt.Errorf("pod %s is not scheduled yet", name)
	}
	return openSandbox(daemon.PodSandboxName(pod.Spec.NodeName, string(pod.UID)), "pod "+name)
}

func openSandbox(name, what string) (*netns.Sandbox, error) {
	sb, err := netns.Open(globalName, name)
	if err != nil {
		return nil, fmt.Errorf("%s has no sandbox in cluster %q (is it running?): %w", what, globalName, err)
	}
	return sb, nil
}
