package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// fakeSandboxes keeps sandboxes as temporary directories; their commands
// run on the machine (only "mount" is recorded instead of run) and their
// listeners bind 127.0.0.1 on ephemeral ports.
type fakeSandboxes struct {
	mu      sync.Mutex
	root    string
	boxes   map[string]*fakeSandbox
	creates map[string]int
	deleted []string
}

func newFakeSandboxes(root string) *fakeSandboxes {
	return &fakeSandboxes{root: root, boxes: map[string]*fakeSandbox{}, creates: map[string]int{}}
}

func (f *fakeSandboxes) Create(_ context.Context, spec SandboxSpec) (Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates[spec.ID]++
	sb := f.boxes[spec.ID]
	if sb == nil {
		sb = &fakeSandbox{id: spec.ID, dir: filepath.Join(f.root, spec.ID), ports: map[string]string{}}
		if err := os.MkdirAll(sb.dir, 0o755); err != nil {
			return nil, err
		}
		f.boxes[spec.ID] = sb
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.hostname = spec.Hostname
	sb.files = map[string][]byte{}
	for k, v := range spec.Files {
		sb.files[k] = append([]byte(nil), v...)
	}
	return sb, nil
}

func (f *fakeSandboxes) Delete(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sb := f.boxes[id]; sb != nil {
		sb.closeListeners()
	}
	delete(f.boxes, id)
	f.deleted = append(f.deleted, id)
	return nil
}

func (f *fakeSandboxes) List(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.boxes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

func (f *fakeSandboxes) get(id string) *fakeSandbox {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.boxes[id]
}

func (f *fakeSandboxes) wasDeleted(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.deleted {
		if d == id {
			return true
		}
	}
	return false
}

type fakeSandbox struct {
	mu        sync.Mutex
	id, dir   string
	hostname  string
	files     map[string][]byte
	ports     map[string]string // "tcp/8080" -> "127.0.0.1:NNNNN"
	mounts    [][]string
	listeners []io.Closer
}

func (s *fakeSandbox) NetNSPath() string { return filepath.Join(s.dir, "net") }

func (s *fakeSandbox) Listen(network, addr string) (net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ports["tcp/"+port] = l.Addr().String()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	return l, nil
}

func (s *fakeSandbox) ListenPacket(network, addr string) (net.PacketConn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ports["udp/"+port] = c.LocalAddr().String()
	s.listeners = append(s.listeners, c)
	s.mu.Unlock()
	return c, nil
}

func (s *fakeSandbox) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if name == "mount" {
		s.mu.Lock()
		s.mounts = append(s.mounts, append([]string{name}, args...))
		s.mu.Unlock()
		return exec.CommandContext(ctx, "true")
	}
	return exec.CommandContext(ctx, name, args...)
}

func (s *fakeSandbox) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		l.Close()
	}
	s.listeners = nil
	s.ports = map[string]string{}
}

func (s *fakeSandbox) file(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.files[path])
}

// fakeNetwork hands out 10.244.1.x addresses by pod UID.
type fakeNetwork struct {
	mu       sync.Mutex
	next     int
	ips      map[types.UID]string
	netns    map[string]string // pod IP -> netns path
	dels     []types.UID
	restored []string
}

func newFakeNetwork() *fakeNetwork {
	return &fakeNetwork{next: 2, ips: map[types.UID]string{}, netns: map[string]string{}}
}

func (n *fakeNetwork) AddPod(_ context.Context, pod *corev1.Pod, netns string) (net.IP, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ip, ok := n.ips[pod.UID]
	if !ok {
		ip = fmt.Sprintf("10.244.1.%d", n.next)
		n.next++
		n.ips[pod.UID] = ip
	}
	n.netns[ip] = netns
	return net.ParseIP(ip), nil
}

func (n *fakeNetwork) DelPod(_ context.Context, pod *corev1.Pod) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.ips, pod.UID)
	n.dels = append(n.dels, pod.UID)
	return nil
}

func (n *fakeNetwork) Restore(_ context.Context, pods []*corev1.Pod) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range pods {
		n.ips[p.UID] = p.Status.PodIP
		n.restored = append(n.restored, p.Name+"="+p.Status.PodIP)
	}
	return nil
}

func (n *fakeNetwork) deletedPod(uid types.UID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, d := range n.dels {
		if d == uid {
			return true
		}
	}
	return false
}

// dialer reaches a pod's fake listeners: pod IP and port map to the
// 127.0.0.1 address the sandbox listened on.
func (h *harness) dialer(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	h.network.mu.Lock()
	netns := h.network.netns[host]
	h.network.mu.Unlock()
	var target string
	if netns != "" {
		if sb := h.sandboxes.get(filepath.Base(filepath.Dir(netns))); sb != nil {
			sb.mu.Lock()
			target = sb.ports["tcp/"+port]
			sb.mu.Unlock()
		}
	}
	if target == "" {
		return nil, fmt.Errorf("dial tcp %s: connect: connection refused", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", target)
}

// webImage serves HTTP on its first container port (8080 by default) and
// answers with the status code it is told.
type webImage struct{ status atomic.Int32 }

func newWebImage(code int) *webImage {
	w := &webImage{}
	w.status.Store(int32(code))
	return w
}

func (w *webImage) Run(ctx context.Context, env ImageEnv) error {
	port := "8080"
	if len(env.Ports) > 0 {
		port = fmt.Sprint(env.Ports[0].ContainerPort)
	}
	l, err := env.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "listening on :%s as %s\n", port, env.PodName)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(int(w.status.Load()))
		fmt.Fprintf(env.Stdout, "%s %s\n", r.Method, r.URL.Path)
	})}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// crashImage prints a line and fails.
type crashImage struct{}

func (crashImage) Run(_ context.Context, env ImageEnv) error {
	fmt.Fprintln(env.Stdout, "starting")
	return errors.New("bind: address already in use")
}

// fakeRegistry maps references to images.
type fakeRegistry map[string]Image

func (r fakeRegistry) Lookup(ref string) (Image, bool) {
	img, ok := r[ref]
	return img, ok
}

func (r fakeRegistry) Names() []string {
	var names []string
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// harness runs an agent against a fake clientset.
type harness struct {
	t         *testing.T
	client    kubernetes.Interface
	agent     *Agent
	sandboxes *fakeSandboxes
	network   *fakeNetwork
	images    fakeRegistry
	cfg       Config
	cancel    context.CancelFunc
	done      chan error
}

const testNode = "w1-k8s"

func newHarness(t *testing.T, opts ...func(*Config)) *harness {
	t.Helper()
	h := &harness{
		t:         t,
		client:    fake.NewClientset(),
		sandboxes: newFakeSandboxes(t.TempDir()),
		network:   newFakeNetwork(),
		images: fakeRegistry{
			"web":   newWebImage(200),
			"crash": crashImage{},
		},
	}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("# node\nnameserver 192.168.1.1\nsearch lan\noptions edns0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.cfg = Config{
		NodeName:            testNode,
		NodeIP:              net.ParseIP("192.168.1.101"),
		Role:                RoleWorker,
		Client:              h.client,
		Sandboxes:           h.sandboxes,
		Network:             h.network,
		Images:              h.images,
		NodeDialer:          h.dialer,
		StateDir:            t.TempDir(),
		ClusterDNS:          "10.96.0.10",
		ClusterDomain:       "cluster.local",
		ResolvConf:          resolv,
		HeartbeatInterval:   100 * time.Millisecond,
		StatusInterval:      200 * time.Millisecond,
		ContainerBackoff:    200 * time.Millisecond,
		MaxContainerBackoff: 800 * time.Millisecond,
	}
	for _, o := range opts {
		o(&h.cfg)
	}
	h.client = h.cfg.Client
	h.start()
	return h
}

// start makes a new agent on the harness's config and runs it.
func (h *harness) start() {
	h.t.Helper()
	a, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	a.unit = 100 * time.Millisecond
	a.minGrace = 300 * time.Millisecond
	a.logPoll = 20 * time.Millisecond
	h.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	done := make(chan error, 1)
	h.done = done
	go func() { done <- a.Run(ctx) }()
	h.t.Cleanup(func() { h.stop() })
}

// stop stops the agent and waits for Run to return.
func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
		h.done = make(chan error, 1)
		close(h.done)
	case <-time.After(15 * time.Second):
		h.t.Errorf("Run did not return")
	}
}

// createPod creates a pod bound to the test node with a fresh UID.
func (h *harness) createPod(pod *corev1.Pod) *corev1.Pod {
	h.t.Helper()
	if pod.Namespace == "" {
		pod.Namespace = "default"
	}
	if pod.UID == "" {
		pod.UID = types.UID("uid-" + pod.Name)
	}
	if pod.Spec.NodeName == "" {
		pod.Spec.NodeName = testNode
	}
	created, err := h.client.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return created
}

// getPod returns the stored pod, or nil.
func (h *harness) getPod(ns, name string) *corev1.Pod {
	p, err := h.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return p
}

// waitPod waits until cond holds for the stored pod.
func (h *harness) waitPod(ns, name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	h.t.Helper()
	var last *corev1.Pod
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if last = h.getPod(ns, name); last != nil && cond(last) {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	if last != nil {
		h.t.Fatalf("pod %s/%s: timed out waiting for %s; status: %s", ns, name, what, describeStatus(last))
	}
	h.t.Fatalf("pod %s/%s: timed out waiting for %s; pod not found", ns, name, what)
	return nil
}

// waitFor waits until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// describeStatus summarizes a pod status for failure messages.
func describeStatus(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s ip=%s", p.Status.Phase, p.Status.PodIP)
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s", c.Type, c.Status)
	}
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		fmt.Fprintf(&b, " [%s ready=%v restarts=%d", cs.Name, cs.Ready, cs.RestartCount)
		switch {
		case cs.State.Running != nil:
			b.WriteString(" running")
		case cs.State.Waiting != nil:
			fmt.Fprintf(&b, " waiting %s: %s", cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			fmt.Fprintf(&b, " terminated %d %s", cs.State.Terminated.ExitCode, cs.State.Terminated.Reason)
		}
		b.WriteString("]")
	}
	return b.String()
}

// events lists the recorded events as "Reason: message" lines.
func (h *harness) events() []string {
	list, err := h.client.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}

// waitEvent waits for an event whose "Reason: message" line contains s.
func (h *harness) waitEvent(s string) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range h.events() {
			if strings.Contains(e, s) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("no event %q among %q", s, h.events())
}

// logs reads a container's log through Agent.Logs.
func (h *harness) logs(ns, pod, container string, opts LogOptions) (string, error) {
	var b strings.Builder
	err := h.agent.Logs(context.Background(), ns, pod, container, opts, &b, nil)
	return b.String(), err
}

// condition returns a pod condition's status.
func condition(p *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

// containerStatus returns a container's status.
func containerStatus(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if cs.Name == name {
			return cs
		}
	}
	return corev1.ContainerStatus{}
}

func ptr[T any](v T) *T { return &v }

func intOrString(port int32) intstr.IntOrString { return intstr.FromInt32(port) }
