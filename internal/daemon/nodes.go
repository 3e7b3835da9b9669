package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"kin/internal/apiserver"
	"kin/internal/cluster"
	"kin/internal/cni"
	"kin/internal/images"
	"kin/internal/netns"
	"kin/internal/node"
	"kin/internal/pty"
)

// PodSandboxName names a pod's sandbox after its node and UID, so a node
// agent can list its own pods' sandboxes after a restart.
func PodSandboxName(nodeName, uid string) string { return "pod-" + nodeName + "-" + uid }

// sandboxes is node.SandboxManager over internal/netns for one node.
type sandboxes struct {
	cluster string
	node    *cluster.Node
}

func (m *sandboxes) Create(ctx context.Context, spec node.SandboxSpec) (node.Sandbox, error) {
	if spec.HostNetwork {
		return netnsSandbox{m.node.Sandbox}, nil
	}
	s, err := netns.Create(netns.SandboxSpec{
		Cluster: m.cluster, Name: PodSandboxName(m.node.Name, spec.ID), Hostname: spec.Hostname, Files: spec.Files,
	})
	if err != nil {
		return nil, err
	}
	return netnsSandbox{s}, nil
}

func (m *sandboxes) Delete(ctx context.Context, id string) error {
	s, err := netns.Open(m.cluster, PodSandboxName(m.node.Name, id))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.Delete()
}

func (m *sandboxes) List(ctx context.Context) ([]string, error) {
	names, err := netns.List(m.cluster)
	if err != nil {
		return nil, err
	}
	prefix := PodSandboxName(m.node.Name, "")
	var ids []string
	for _, n := range names {
		if id, ok := strings.CutPrefix(n, prefix); ok && len(id) == 36 {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// netnsSandbox adapts a netns sandbox to node.Sandbox.
type netnsSandbox struct{ s *netns.Sandbox }

func (s netnsSandbox) NetNSPath() string { return s.s.NetPath }
func (s netnsSandbox) Listen(network, addr string) (net.Listener, error) {
	return s.s.Listen(network, addr)
}
func (s netnsSandbox) ListenPacket(network, addr string) (net.PacketConn, error) {
	return s.s.ListenPacket(network, addr)
}
func (s netnsSandbox) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return s.s.Command(ctx, name, args...)
}

// podNetwork is node.PodNetwork for one node: addresses from the node's
// block (spec.podCIDR, assigned by the node IPAM controller), interfaces by
// internal/cni.
type podNetwork struct {
	net    *cni.Network
	client kubernetes.Interface
	base   cni.NodeConfig // without blocks until the node has one

	mu   sync.Mutex
	ipam *cni.BlockIPAM
	cfg  cni.NodeConfig
}

// ready waits for the node's block and returns the node's network config.
func (p *podNetwork) ready(ctx context.Context) (cni.NodeConfig, *cni.BlockIPAM, error) {
	p.mu.Lock()
	if p.ipam != nil {
		defer p.mu.Unlock()
		return p.cfg, p.ipam, nil
	}
	p.mu.Unlock()
	for {
		n, err := p.client.CoreV1().Nodes().Get(ctx, p.base.NodeName, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			_, block, err := net.ParseCIDR(n.Spec.PodCIDR)
			if err != nil {
				return cni.NodeConfig{}, nil, err
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.ipam == nil {
				ipam, err := cni.NewBlockIPAM([]*net.IPNet{block})
				if err != nil {
					return cni.NodeConfig{}, nil, err
				}
				cfg := p.base
				cfg.Blocks = []*net.IPNet{block}
				if err := p.net.SetupNode(cfg); err != nil {
					return cni.NodeConfig{}, nil, err
				}
				p.ipam, p.cfg = ipam, cfg
			}
			return p.cfg, p.ipam, nil
		}
		select {
		case <-ctx.Done():
			return cni.NodeConfig{}, nil, fmt.Errorf("waiting for node %s to get a pod block: %w", p.base.NodeName, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *podNetwork) AddPod(ctx context.Context, pod *corev1.Pod, netnsPath string) (net.IP, error) {
	cfg, ipam, err := p.ready(ctx)
	if err != nil {
		return nil, err
	}
	ip, err := ipam.Allocate(string(pod.UID))
	if err != nil {
		return nil, err
	}
	if _, err := p.net.AddPod(cfg, cni.PodConfig{ID: cni.CalicoWorkloadID(pod.Namespace, pod.Name), NetNSPath: netnsPath, IP: ip}); err != nil {
		return nil, err
	}
	return ip, nil
}

func (p *podNetwork) DelPod(ctx context.Context, pod *corev1.Pod) error {
	cfg, ipam, err := p.ready(ctx)
	if err != nil {
		return err
	}
	ip := net.ParseIP(pod.Status.PodIP)
	if ip == nil {
		ip = ipam.Release(string(pod.UID))
	} else {
		ipam.Release(string(pod.UID))
	}
	if ip == nil {
		return nil
	}
	return p.net.DelPod(cfg, cni.CalicoWorkloadID(pod.Namespace, pod.Name), ip)
}

func (p *podNetwork) Restore(ctx context.Context, pods []*corev1.Pod) error {
	_, ipam, err := p.ready(ctx)
	if err != nil {
		return err
	}
	for _, pod := range pods {
		if ip := net.ParseIP(pod.Status.PodIP); ip != nil {
			if err := ipam.Restore(string(pod.UID), ip); err != nil {
				return err
			}
		}
	}
	return nil
}

// builtinImages is node.ImageRegistry over internal/images.
type builtinImages struct{}

func (builtinImages) Lookup(ref string) (node.Image, bool) {
	img, ok := images.Lookup(ref)
	if !ok {
		return nil, false
	}
	return img, true
}

func (builtinImages) Names() []string { return images.Names() }

// podRuntime serves pods/log and pods/exec for the API server by handing
// each request to the agent of the pod's node.
type podRuntime struct {
	client kubernetes.Interface
	mu     sync.RWMutex
	agents map[string]*node.Agent
}

func (r *podRuntime) agentFor(ctx context.Context, namespace, pod string) (*node.Agent, error) {
	p, err := r.client.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.agents[p.Spec.NodeName]
	if !ok {
		return nil, fmt.Errorf("pod %s is not running on a kin node", pod)
	}
	return a, nil
}

// PodLogs implements apiserver.LogSource.
func (r *podRuntime) PodLogs(ctx context.Context, namespace, pod, container string, opts apiserver.LogOptions, w apiserver.LogWriter) error {
	a, err := r.agentFor(ctx, namespace, pod)
	if err != nil {
		return err
	}
	return a.Logs(ctx, namespace, pod, container, node.LogOptions(opts), w, w.Flush)
}

// Exec implements apiserver.Executor.
func (r *podRuntime) Exec(ctx context.Context, namespace, pod, container string, argv []string, s apiserver.ExecStreams) (int, error) {
	a, err := r.agentFor(ctx, namespace, pod)
	if err != nil {
		return 0, err
	}
	cmd, err := a.ExecCommand(ctx, namespace, pod, container, argv)
	if err != nil {
		return 0, err
	}
	return runStreams(cmd, s)
}

// runStreams runs cmd with the exec streams, on a terminal when asked.
func runStreams(cmd *exec.Cmd, s apiserver.ExecStreams) (int, error) {
	if !s.TTY {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Stdin, s.Stdout, s.Stderr
		return exitCode(cmd.Run())
	}
	control, term, err := pty.Open()
	if err != nil {
		return 0, err
	}
	defer control.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		term.Close()
		return 0, err
	}
	term.Close()
	go func() {
		for sz := range s.Resize {
			pty.Resize(control, sz.Width, sz.Height)
		}
	}()
	if s.Stdin != nil {
		go io.Copy(control, s.Stdin)
	}
	if s.Stdout != nil {
		io.Copy(s.Stdout, control)
	}
	return exitCode(cmd.Wait())
}

// exitCode turns a command's outcome into its exit code; other errors mean
// it did not run.
func exitCode(err error) (int, error) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}
