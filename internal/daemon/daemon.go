// Package daemon is the per-cluster process: it opens the store, serves the
// API, starts every component and reports readiness; and it is the client
// side of that process for the CLI (start in the background, stop, status).
package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"kin/internal/apiserver"
	"kin/internal/cluster"
	"kin/internal/cni"
	"kin/internal/controllers"
	"kin/internal/kubeconfig"
	"kin/internal/node"
	"kin/internal/pki"
	"kin/internal/store"
)

// Options configure one daemon run.
type Options struct {
	Name string
	// ConfigPath is a cluster config file (YAML); empty means the config the
	// cluster was created with, or DESIGN.md's default topology for a new one.
	ConfigPath string
	// Progress receives one line per finished start-up step; nil discards.
	Progress func(step string, took time.Duration)
	// Logger receives the daemon's log; nil logs to stderr.
	Logger *slog.Logger
}

// Run runs the cluster in this process until ctx is cancelled. ready is
// called once everything has started.
func Run(ctx context.Context, opts Options, ready func(kubeconfig.Cluster)) error {
	paths, err := PathsFor(opts.Name)
	if err != nil {
		return err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, time.Duration) {}
	}
	step := time.Now()
	done := func(what string) {
		progress(what, time.Since(step))
		step = time.Now()
	}

	if err := os.MkdirAll(paths.Dir, 0o700); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	if err := writePID(paths); err != nil {
		return err
	}
	defer os.Remove(paths.PIDFile())

	cfg, err := loadConfig(paths, opts)
	if err != nil {
		return err
	}
	topo, err := cluster.Up(ctx, cfg)
	if err != nil {
		return fmt.Errorf("daemon: building the network: %w", err)
	}
	done(fmt.Sprintf("Built the network: %d nodes, %d hosts on %s", len(topo.Nodes), len(topo.Hosts), cfg.Networking.LAN))

	st, err := store.Open(paths.Store(), store.Options{})
	if err != nil {
		return fmt.Errorf("daemon: opening store: %w", err)
	}
	defer st.Close()

	ln, err := listen(paths)
	if err != nil {
		return err
	}
	certIPs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")}
	for _, n := range topo.Nodes {
		if n.Role == "control-plane" {
			certIPs = append(certIPs, n.Address)
		}
	}
	bundle, err := pki.LoadOrCreate(paths.PKI(), certIPs,
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
	if err != nil {
		ln.Close()
		return err
	}
	cert, err := bundle.TLSCertificate()
	if err != nil {
		ln.Close()
		return fmt.Errorf("daemon: %w", err)
	}
	kc := kubeconfig.Cluster{
		Name: opts.Name, Server: "https://" + ln.Addr().String(), CAPEM: bundle.CACertPEM, Token: bundle.Token,
	}
	client, err := kubernetes.NewForConfig(kc.RESTConfig())
	if err != nil {
		ln.Close()
		return fmt.Errorf("daemon: %w", err)
	}
	runtime := &podRuntime{client: client, agents: map[string]*node.Agent{}}
	srv, err := apiserver.New(apiserver.Config{
		Store: st, Listener: ln, Certificate: &cert, Token: bundle.Token, Logger: logger,
		ServiceCIDR: cfg.Networking.ServiceSubnet, NodePortRange: cfg.Networking.NodePortRange,
		Logs: runtime, Exec: runtime,
	})
	if err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Run(ctx) }()
	endpoint, err := serveInControlPlane(ctx, topo, srv, logger)
	if err != nil {
		return err
	}

	if err := kc.WriteFile(paths.Kubeconfig()); err != nil {
		return err
	}
	if err := bootstrap(ctx, client, endpoint); err != nil {
		return err
	}
	done(fmt.Sprintf("Started the API server on %s (store revision %d)", kc.Server, st.Rev()))

	// One informer factory for every in-process client, so each resource is
	// watched and decoded once.
	factory := informers.NewSharedInformerFactory(client, 10*time.Minute)
	ctrlErr := make(chan error, 1)
	go func() {
		ctrlErr <- controllers.Run(ctx, controllers.Options{
			Client:        client,
			Informers:     factory,
			NodeIPAM:      controllers.NodeIPAMConfig{PodCIDR: cfg.Networking.PodSubnet, BlockSize: cfg.Networking.PodBlockSize},
			NodeLifecycle: controllers.NodeLifecycleConfig{DefaultTolerationSeconds: int64(cfg.EvictionTimeout().Seconds())},
		})
	}()
	if err := startNodes(ctx, paths, cfg, topo, client, factory, runtime, logger); err != nil {
		return err
	}
	proxies, err := newServiceProxies(cfg, topo, factory, logger)
	if err != nil {
		return err
	}
	go proxies.run(ctx)
	if err := waitNodesReady(ctx, client, len(topo.Nodes)); err != nil {
		return err
	}
	select {
	case <-proxies.synced:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("daemon: the service proxies did not program the nodes within 10s")
	case <-ctx.Done():
		return ctx.Err()
	}
	done(fmt.Sprintf("Started controllers, %d node agents and service proxies; all nodes Ready", len(topo.Nodes)))

	if err := writeCapabilities(paths, capabilities()); err != nil {
		return err
	}
	ready(kc)
	select {
	case <-ctx.Done():
		return nil
	case err := <-srvErr:
		return err
	case err := <-ctrlErr:
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("daemon: controllers: %w", err)
		}
		<-ctx.Done()
		return nil
	}
}

// listen binds the API server's port: the one this cluster used before, so
// kubeconfigs stay valid across restarts, or a free one the first time.
func listen(paths Paths) (net.Listener, error) {
	addr := "127.0.0.1:0"
	if data, err := os.ReadFile(paths.PortFile()); err == nil {
		addr = "127.0.0.1:" + strings.TrimSpace(string(data))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("daemon: listening on %s: %w (is another process using it?)", addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := os.WriteFile(paths.PortFile(), []byte(strconv.Itoa(port)+"\n"), 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("daemon: %w", err)
	}
	return ln, nil
}

// bootstrap creates the system namespaces and the kubernetes Service, as
// kube-apiserver does before it reports ready, waiting for the API to answer
// first.
func bootstrap(ctx context.Context, client kubernetes.Interface, endpoint *net.TCPAddr) error {
	deadline := time.Now().Add(10 * time.Second)
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		for {
			_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			if err == nil || apierrors.IsAlreadyExists(err) {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("daemon: creating namespace %s: %w", ns, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: "10.96.0.1",
			Ports:     []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(6443), Protocol: corev1.ProtocolTCP}},
		},
	}
	if _, err := client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("daemon: creating the kubernetes service: %w", err)
	}
	return writeAPIEndpoints(ctx, client, endpoint)
}

// writeAPIEndpoints points the kubernetes Service at the API server's
// address inside the control-plane node, as kube-apiserver's endpoint
// reconciler does (Endpoints and an EndpointSlice, both named kubernetes).
func writeAPIEndpoints(ctx context.Context, client kubernetes.Interface, ep *net.TCPAddr) error {
	if ep == nil {
		return nil
	}
	port := int32(ep.Port)
	eps := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: ep.IP.String()}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}},
		}},
	}
	if _, err := client.CoreV1().Endpoints("default").Update(ctx, eps, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("daemon: kubernetes endpoints: %w", err)
	}
	ready := true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "kube-apiserver"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ep.IP.String()}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("https"), Port: &port, Protocol: ptrTo(corev1.ProtocolTCP)}},
	}
	_, err := client.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = client.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("daemon: kubernetes endpointslice: %w", err)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// serveInControlPlane serves the API inside the first control-plane node on
// port 6443, so pods reach it through the kubernetes Service (10.96.0.1:443).
func serveInControlPlane(ctx context.Context, topo *cluster.Topology, srv *apiserver.Server, logger *slog.Logger) (*net.TCPAddr, error) {
	for _, n := range topo.Nodes {
		if n.Role != "control-plane" {
			continue
		}
		addr := &net.TCPAddr{IP: n.Address, Port: 6443}
		ln, err := n.Sandbox.Listen("tcp", addr.String())
		if err != nil {
			return nil, fmt.Errorf("daemon: serving the API in node %s: %w", n.Name, err)
		}
		go func() {
			if err := srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
				logger.Error("API server in the control-plane node stopped", "err", err)
			}
		}()
		return addr, nil
	}
	return nil, nil
}

func writePID(paths Paths) error {
	if pid, alive := runningPID(paths); alive && pid != os.Getpid() {
		return fmt.Errorf("cluster %q is already running (pid %d)", paths.Name, pid)
	}
	return os.WriteFile(paths.PIDFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
}

// runningPID returns the daemon's pid and whether that process is alive.
func runningPID(paths Paths) (int, bool) {
	data, err := os.ReadFile(paths.PIDFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return pid, false
	}
	if err := p.Signal(syscallZero); err != nil {
		return pid, false
	}
	// A recycled pid is not our daemon: check its command line.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "up") {
		return pid, false
	}
	return pid, true
}

// capabilities lists what this daemon runs, for `kin lab run` to decide which
// labs it can run: "nodes", "dns", "loadbalancer", "ingress".
func capabilities() []string {
	return []string{"nodes", "services"}
}

func writeCapabilities(paths Paths, caps []string) error {
	data := strings.Join(caps, "\n")
	if data != "" {
		data += "\n"
	}
	return os.WriteFile(paths.CapabilitiesFile(), []byte(data), 0o600)
}

// Capabilities returns what the running daemon of cluster name said it runs.
func Capabilities(name string) ([]string, error) {
	paths, err := PathsFor(name)
	if err != nil {
		return nil, err
	}
	if _, alive := runningPID(paths); !alive {
		return nil, fmt.Errorf("cluster %q is not running: run `kin up --name %s` first", name, name)
	}
	data, err := os.ReadFile(paths.CapabilitiesFile())
	if err != nil {
		return nil, fmt.Errorf("reading capabilities of cluster %q: %w", name, err)
	}
	return strings.Fields(string(data)), nil
}

// loadConfig returns the cluster's config: the file given, else the one the
// cluster was created with, else the default topology. It is saved in the
// state directory so a resumed cluster keeps its shape.
func loadConfig(paths Paths, opts Options) (*cluster.Config, error) {
	var cfg *cluster.Config
	var err error
	switch {
	case opts.ConfigPath != "":
		cfg, err = cluster.LoadConfig(opts.ConfigPath)
	default:
		if _, statErr := os.Stat(paths.ConfigFile()); statErr == nil {
			cfg, err = cluster.LoadConfig(paths.ConfigFile())
		} else {
			cfg = cluster.DefaultConfig(opts.Name)
		}
	}
	if err != nil {
		return nil, err
	}
	cfg.Name = opts.Name
	cfg.Default()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if err := os.WriteFile(paths.ConfigFile(), data, 0o600); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	return cfg, nil
}

// startNodes starts one node agent per node of the topology, and the
// component that keeps the nodes' routes to each other's pod blocks.
func startNodes(ctx context.Context, paths Paths, cfg *cluster.Config, topo *cluster.Topology, client kubernetes.Interface, factory informers.SharedInformerFactory, rt *podRuntime, logger *slog.Logger) error {
	network := cni.New()
	go func() { <-ctx.Done(); network.Close() }()
	_, pool, err := net.ParseCIDR(cfg.Networking.PodSubnet)
	if err != nil {
		return fmt.Errorf("daemon: pod subnet: %w", err)
	}
	natErr := make(chan error, len(topo.Nodes))
	for _, n := range topo.Nodes {
		go func() { natErr <- cni.EnsureNATOutgoing(n.Sandbox.NetPath, pool) }()
	}
	for range topo.Nodes {
		if err := <-natErr; err != nil {
			return fmt.Errorf("daemon: %w (is the nftables package installed?)", err)
		}
	}
	bases := map[string]cni.NodeConfig{}
	for _, n := range topo.Nodes {
		base := cni.NodeConfig{
			NetNSPath: n.Sandbox.NetPath, NodeName: n.Name, NodeIP: n.Address, LANInterface: n.Interface,
			Overlay: cfg.Networking.Overlay, MTU: cfg.Networking.MTU,
		}
		bases[n.Name] = base
		sb := n.Sandbox
		agent, err := node.New(node.Config{
			NodeName: n.Name, NodeIP: n.Address, Role: n.Role, Labels: n.Labels,
			Client:     client,
			Informers:  factory,
			Sandboxes:  &sandboxes{cluster: cfg.Name, node: n},
			Network:    &podNetwork{net: network, client: client, base: base},
			Images:     builtinImages{},
			NodeDialer: sb.Dial,
			StateDir:   filepath.Join(paths.Dir, "nodes", n.Name),
			ClusterDNS: "10.96.0.10", ClusterDomain: "cluster.local",
		})
		if err != nil {
			return fmt.Errorf("daemon: node %s: %w", n.Name, err)
		}
		rt.mu.Lock()
		rt.agents[n.Name] = agent
		rt.mu.Unlock()
		go func() {
			if err := agent.Run(ctx); err != nil && ctx.Err() == nil {
				logger.Error("node agent stopped", "node", n.Name, "err", err)
			}
		}()
	}
	peers := &peerSync{net: network, nodes: bases, factory: factory, log: logger}
	go peers.run(ctx)
	return nil
}

// waitNodesReady waits until n nodes are registered and Ready.
func waitNodesReady(ctx context.Context, client kubernetes.Interface, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			ready := 0
			for _, nd := range nodes.Items {
				for _, c := range nd.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && nd.Spec.PodCIDR != "" {
						ready++
					}
				}
			}
			if ready >= n {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon: nodes not Ready after 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
