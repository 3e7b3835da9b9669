package node

import (
	"context"
	"errors"
	"fmt"
	"kin/internal/images"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// Node roles, for Config.Role.
const (
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
)

// Version strings the agent reports in the Node's nodeInfo.
const (
	// KubeletVersion is the Kubernetes version kin's API and agent follow.
	KubeletVersion = "v1.37.2"
	// DefaultRuntimeVersion is the containerRuntimeVersion reported when
	// Config.RuntimeVersion is empty.
	DefaultRuntimeVersion = "kin://0.1.0"
)

// Config configures one node agent.
type Config struct {
	// NodeName is the Node object's name and the pods' spec.nodeName.
	NodeName string
	// NodeIP is the node's InternalIP and the pods' hostIP.
	NodeIP net.IP
	// Role is RoleControlPlane or RoleWorker; the control plane gets the
	// node-role.kubernetes.io/control-plane label and NoSchedule taint.
	Role string
	// Labels are extra labels set when the Node is registered.
	Labels map[string]string

	// Client talks to the API server.
	Client kubernetes.Interface
	// Sandboxes makes the pods' namespaces.
	Sandboxes SandboxManager
	// Network gives pods their addresses and interfaces.
	Network PodNetwork
	// Images are the built-in container images.
	Images ImageRegistry
	// Informers, when set, is a shared informer factory the agent takes its
	// Services informer from, so agents in one process share one watch; nil
	// means the agent makes its own.
	Informers informers.SharedInformerFactory
	// NodeDialer dials from the node's network namespace; probes and
	// lifecycle hooks reach pod IPs through it, as the kubelet does from
	// the host.
	NodeDialer func(ctx context.Context, network, addr string) (net.Conn, error)

	// StateDir is this node's directory for pod logs and volumes.
	StateDir string
	// ClusterDNS is the cluster DNS service address (10.96.0.10); empty
	// makes dnsPolicy ClusterFirst fall back to Default, as the kubelet does.
	ClusterDNS string
	// ClusterDomain is the cluster's DNS domain; empty means cluster.local.
	ClusterDomain string
	// ResolvConf is the node's resolv.conf, the base of dnsPolicy Default;
	// empty means /etc/resolv.conf.
	ResolvConf string

	// HeartbeatInterval is how often the node's Lease is renewed; zero
	// means 10s.
	HeartbeatInterval time.Duration
	// StatusInterval is how often the node status is computed and posted
	// when it changed; zero means 10s.
	StatusInterval time.Duration
	// StatusReportInterval is how often an unchanged node status is posted
	// anyway; zero means 5m, the kubelet's nodeStatusReportFrequency.
	StatusReportInterval time.Duration
	// ContainerBackoff is the first restart back-off of a crashing
	// container and of a failing image pull; zero means 10s. It doubles
	// up to MaxContainerBackoff (zero means 5m).
	ContainerBackoff    time.Duration
	MaxContainerBackoff time.Duration
	// RuntimeVersion is the nodeInfo.containerRuntimeVersion; empty means
	// DefaultRuntimeVersion.
	RuntimeVersion string
	// Logger receives the agent's logs; the zero value means klog's global
	// logger.
	Logger klog.Logger
}

// SandboxSpec describes a pod sandbox.
type SandboxSpec struct {
	// ID is the pod's UID.
	ID string
	// Hostname is set in the sandbox's UTS namespace.
	Hostname string
	// HostNetwork asks for the node's network namespace instead of a new
	// one (pods with spec.hostNetwork).
	HostNetwork bool
	// Files are bind-mounted over these paths inside the sandbox's mount
	// namespace: /etc/resolv.conf, /etc/hosts and /etc/hostname.
	Files map[string][]byte
}

// SandboxManager makes the namespaces pods live in.
type SandboxManager interface {
	// Create makes the sandbox or returns the existing one with the same ID
	// (an agent restarted finds its pods' sandboxes). Called again for an
	// existing sandbox, it rewrites Files in place: the agent calls it once
	// more when the pod IP is known, for /etc/hosts.
	Create(ctx context.Context, spec SandboxSpec) (Sandbox, error)
	// Delete removes a sandbox; deleting a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// List returns the IDs of this node's existing pod sandboxes, so that
	// the agent can remove those whose pods are gone.
	List(ctx context.Context) ([]string, error)
}

// Sandbox is one pod's set of namespaces.
type Sandbox interface {
	// NetNSPath is the network namespace file, for the pod network.
	NetNSPath() string
	// Listen opens a listener inside the sandbox's network namespace.
	Listen(network, addr string) (net.Listener, error)
	// ListenPacket opens a packet socket inside the network namespace.
	ListenPacket(network, addr string) (net.PacketConn, error)
	// Command runs a host program inside the sandbox's network, UTS and
	// mount namespaces. cmd.Dir is not honoured: programs start in "/".
	Command(ctx context.Context, name string, args ...string) *exec.Cmd
}

// PodNetwork gives pods their addresses and interfaces.
type PodNetwork interface {
	// AddPod connects the pod's network namespace and returns its IP; it
	// is idempotent per pod UID.
	AddPod(ctx context.Context, pod *corev1.Pod, netnsPath string) (net.IP, error)
	// DelPod disconnects the pod and releases its IP; it is idempotent and
	// accepts pods that never got an address. The pod carries the
	// status.podIP the agent knew; after a restart, a pod deleted meanwhile
	// comes with only its UID, namespace, name and that IP.
	DelPod(ctx context.Context, pod *corev1.Pod) error
	// Restore tells the network, after a restart, which pods of this node
	// exist with which status.podIP, so that their addresses stay.
	Restore(ctx context.Context, pods []*corev1.Pod) error
}

// ImageRegistry holds the built-in images.
type ImageRegistry interface {
	// Lookup finds the image for a reference as written in a pod spec.
	Lookup(ref string) (Image, bool)
	// Names lists the built-in images for error messages.
	Names() []string
}

// Image is a built-in container image.
type Image interface {
	// Run serves until ctx is cancelled and then returns nil; an error
	// means the container crashed.
	Run(ctx context.Context, env ImageEnv) error
}

// ImageEnv is what a built-in image gets from the agent: the images
// package's Env, so built-in images plug in without conversion.
type ImageEnv = images.Env

// LogOptions select what Logs serves, as the pods/log query does.
type LogOptions struct {
	Follow     bool
	Previous   bool
	TailLines  *int64
	Timestamps bool
}

// Agent is the node agent of one kin node: it registers the Node, renews
// its Lease, and runs the pods bound to the node.
type Agent struct {
	cfg Config
	log klog.Logger

	// unit is what one second of a pod spec (probe periods, grace periods)
	// lasts; tests shorten it.
	unit time.Duration
	// minGrace is the shortest time a container gets between SIGTERM and
	// SIGKILL (the kubelet's minimumGracePeriodInSeconds).
	minGrace time.Duration
	// logPoll is how often a followed log is checked for new lines.
	logPoll time.Duration
	// now is the clock.
	now func() time.Time

	runMu   sync.Mutex
	running *runState

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	names   map[string]*podWorker // "namespace/name" -> worker
}

// runState is what lives for one call of Run.
type runState struct {
	cancel   context.CancelFunc
	done     chan struct{}
	ctx      context.Context
	recorder *eventRecorder
	pods     corelisters.PodLister
	services corelisters.ServiceLister
	wg       sync.WaitGroup
}

// New validates cfg and returns an agent; Run starts it.
func New(cfg Config) (*Agent, error) {
	switch {
	case cfg.NodeName == "":
		return nil, errorf("config: NodeName is required")
	case cfg.NodeIP == nil:
		return nil, errorf("config: NodeIP is required")
	case cfg.Client == nil:
		return nil, errorf("config: Client is required")
	case cfg.Sandboxes == nil:
		return nil, errorf("config: Sandboxes is required")
	case cfg.Network == nil:
		return nil, errorf("config: Network is required")
	case cfg.Images == nil:
		return nil, errorf("config: Images is required")
	case cfg.NodeDialer == nil:
		return nil, errorf("config: NodeDialer is required")
	case cfg.StateDir == "":
		return nil, errorf("config: StateDir is required")
	}
	switch cfg.Role {
	case "":
		cfg.Role = RoleWorker
	case RoleControlPlane, RoleWorker:
	default:
		return nil, errorf("config: Role %q is neither %q nor %q", cfg.Role, RoleControlPlane, RoleWorker)
	}
	if cfg.ClusterDNS != "" && net.ParseIP(cfg.ClusterDNS) == nil {
		return nil, errorf("config: ClusterDNS %q is not an IP address", cfg.ClusterDNS)
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 10 * time.Second
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = 10 * time.Second
	}
	if cfg.StatusReportInterval <= 0 {
		cfg.StatusReportInterval = 5 * time.Minute
	}
	if cfg.ContainerBackoff <= 0 {
		cfg.ContainerBackoff = 10 * time.Second
	}
	if cfg.MaxContainerBackoff <= 0 {
		cfg.MaxContainerBackoff = 5 * time.Minute
	}
	if cfg.MaxContainerBackoff < cfg.ContainerBackoff {
		cfg.MaxContainerBackoff = cfg.ContainerBackoff
	}
	if cfg.RuntimeVersion == "" {
		cfg.RuntimeVersion = DefaultRuntimeVersion
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, errorf("config: StateDir: %w", err)
	}
	cfg.StateDir = dir
	log := cfg.Logger
	if log.GetSink() == nil {
		log = klog.Background()
	}
	return &Agent{
		cfg:      cfg,
		log:      log.WithValues("node", cfg.NodeName),
		unit:     time.Second,
		minGrace: 2 * time.Second,
		logPoll:  100 * time.Millisecond,
		now:      time.Now,
		workers:  map[types.UID]*podWorker{},
		names:    map[string]*podWorker{},
	}, nil
}

// Run registers the node, keeps its Lease and status fresh and runs its
// pods until ctx is cancelled or Stop is called. On return the pods'
// containers are stopped; pods, sandboxes and pod networks are left for the
// next Run.
func (a *Agent) Run(ctx context.Context) error {
	a.runMu.Lock()
	if a.running != nil {
		a.runMu.Unlock()
		return errorf("agent for node %s is already running", a.cfg.NodeName)
	}
	ctx, cancel := context.WithCancel(klog.NewContext(ctx, a.log))
	rs := &runState{cancel: cancel, done: make(chan struct{}), ctx: ctx}
	a.running = rs
	a.runMu.Unlock()
	defer func() {
		cancel()
		a.runMu.Lock()
		a.running = nil
		a.runMu.Unlock()
		close(rs.done)
	}()
	err := a.run(ctx, rs)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// Stop makes Run return as a failed node would: heartbeats stop and
// containers are stopped, but no pod is deleted. It waits for Run to return
// or for ctx to end.
func (a *Agent) Stop(ctx context.Context) {
	a.runMu.Lock()
	rs := a.running
	a.runMu.Unlock()
	if rs == nil {
		return
	}
	rs.cancel()
	select {
	case <-rs.done:
	case <-ctx.Done():
	}
}

// run is Run once the run state exists.
func (a *Agent) run(ctx context.Context, rs *runState) error {
	if err := os.MkdirAll(a.podsDir(), 0o755); err != nil {
		return errorf("state dir: %w", err)
	}
	broadcaster := record.NewBroadcaster()
	defer broadcaster.Shutdown()
	startEventSink(broadcaster, a.cfg.Client)
	rs.recorder = &eventRecorder{r: broadcaster.NewRecorder(eventScheme, corev1.EventSource{Component: "kubelet", Host: a.cfg.NodeName})}
	defer rs.recorder.stop()

	if err := a.registerNode(ctx); err != nil {
		return err
	}
	rs.recorder.Event(a.nodeRef(), corev1.EventTypeNormal, "Starting", "Starting kubelet.")

	podInformer, svcInformer, stopInformers := a.startInformers(ctx, rs)
	defer stopInformers()

	rs.wg.Add(2)
	go func() { defer rs.wg.Done(); a.leaseLoop(ctx) }()
	go func() { defer rs.wg.Done(); a.nodeStatusLoop(ctx, rs) }()

	if !waitForCaches(ctx, podInformer.HasSynced, svcInformer.HasSynced) {
		rs.wg.Wait()
		return ctx.Err()
	}
	a.recover(ctx, rs)
	if _, err := podInformer.AddEventHandler(a.podHandler(rs)); err != nil {
		rs.wg.Wait()
		return errorf("watching pods: %w", err)
	}
	<-ctx.Done()
	a.shutdownWorkers()
	rs.wg.Wait()
	return nil
}

// seconds converts a duration in pod spec seconds to the agent's clock.
func (a *Agent) seconds(n int64) time.Duration { return time.Duration(n) * a.unit }

// podsDir is where each pod's directory lives.
func (a *Agent) podsDir() string { return filepath.Join(a.cfg.StateDir, "pods") }

// errorf builds an error with the package's prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("node: "+format, args...)
}
