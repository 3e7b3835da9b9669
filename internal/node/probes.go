package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeKind is one of the three container probes.
type probeKind string

const (
	livenessProbe  probeKind = "Liveness"
	readinessProbe probeKind = "Readiness"
	startupProbe   probeKind = "Startup"
)

// maxProbeOutput caps what a probe reads of a response or command output.
const maxProbeOutput = 10 << 10

// startProbes starts a worker per probe of the instance; they end with ctx
// (cancelled when the instance exits).
func (w *podWorker) startProbes(ctx context.Context, pod *corev1.Pod, rec *containerRecord, inst *instance) {
	c := &rec.spec
	podCopy := pod.DeepCopy()
	for kind, p := range map[probeKind]*corev1.Probe{
		livenessProbe:  c.LivenessProbe,
		readinessProbe: c.ReadinessProbe,
		startupProbe:   c.StartupProbe,
	} {
		if p != nil {
			go w.probeLoop(ctx, podCopy, c, inst, kind, p)
		}
	}
}

// probeFor returns the probe a Killing message is about.
func probeFor(c *corev1.Container, killMessage string) *corev1.Probe {
	switch {
	case strings.Contains(killMessage, "failed liveness probe"):
		return c.LivenessProbe
	case strings.Contains(killMessage, "failed startup probe"):
		return c.StartupProbe
	}
	return nil
}

// probeLoop is the kubelet's probe worker: the first probe after
// initialDelaySeconds, then one every periodSeconds; a result counts once it
// repeated successThreshold or failureThreshold times. Liveness and
// readiness wait for the startup probe; a failed liveness or startup probe
// marks the instance for a restart and stops.
func (w *podWorker) probeLoop(ctx context.Context, pod *corev1.Pod, c *corev1.Container, inst *instance, kind probeKind, p *corev1.Probe) {
	a := w.a
	period := a.seconds(int64(defaulted(p.PeriodSeconds, 10)))
	timeout := a.seconds(int64(defaulted(p.TimeoutSeconds, 1)))
	successes := int(defaulted(p.SuccessThreshold, 1))
	failures := int(defaulted(p.FailureThreshold, 3))
	first := inst.startedAt.Add(a.seconds(int64(p.InitialDelaySeconds)))
	if !sleepUntil(ctx, first) {
		return
	}
	var last bool
	run := 0
	for {
		w.mu.Lock()
		started, done := inst.started, inst.unhealthy != "" || inst.killing
		w.mu.Unlock()
		if done || inst.exited() {
			return
		}
		if kind == startupProbe || started {
			ok, out := w.probe(ctx, pod, c, inst, &p.ProbeHandler, timeout)
			if ctx.Err() != nil {
				return
			}
			if !ok {
				w.event(pod, c, corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %s", kind, out))
			}
			if run > 0 && ok == last {
				run++
			} else {
				last, run = ok, 1
			}
			if (ok && run >= successes) || (!ok && run >= failures) {
				if w.probeResult(inst, c, kind, ok) {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(period):
		}
	}
}

// probeResult records a settled probe result and nudges the worker when it
// changes something; it reports whether the probe worker is done.
func (w *podWorker) probeResult(inst *instance, c *corev1.Container, kind probeKind, ok bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	changed, finished := false, false
	switch kind {
	case readinessProbe:
		changed = inst.ready != ok
		inst.ready = ok
	case startupProbe:
		if ok {
			changed, finished = !inst.started, true
			inst.started = true
		} else {
			inst.unhealthy = fmt.Sprintf("Container %s failed startup probe, will be restarted", c.Name)
			changed, finished = true, true
		}
	case livenessProbe:
		if !ok {
			inst.unhealthy = fmt.Sprintf("Container %s failed liveness probe, will be restarted", c.Name)
			changed, finished = true, true
		}
	}
	if changed {
		w.nudge()
	}
	return finished
}

// defaulted returns v, or def when v is not positive.
func defaulted(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

// sleepUntil waits until t; it returns false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// probe runs one probe and returns its result and, on failure, the
// kubelet's message.
func (w *podWorker) probe(ctx context.Context, pod *corev1.Pod, c *corev1.Container, inst *instance, h *corev1.ProbeHandler, timeout time.Duration) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case h.Exec != nil:
		return w.execAction(ctx, inst, h.Exec.Command)
	case h.HTTPGet != nil:
		return w.httpGetAction(ctx, c, h.HTTPGet, timeout)
	case h.TCPSocket != nil:
		return w.tcpAction(ctx, c, h.TCPSocket)
	case h.GRPC != nil:
		return false, "gRPC probes are not supported by kin"
	}
	return false, "probe has no handler"
}

// runHandler runs a lifecycle hook (postStart, preStop).
func (w *podWorker) runHandler(ctx context.Context, pod *corev1.Pod, c *corev1.Container, inst *instance, h *corev1.LifecycleHandler) error {
	var ok bool
	var out string
	switch {
	case h.Exec != nil:
		ok, out = w.execAction(ctx, inst, h.Exec.Command)
	case h.HTTPGet != nil:
		ok, out = w.httpGetAction(ctx, c, h.HTTPGet, 0)
	case h.Sleep != nil:
		select {
		case <-ctx.Done():
		case <-time.After(w.a.seconds(h.Sleep.Seconds)):
		}
		return nil
	case h.TCPSocket != nil:
		// The kubelet accepts and ignores tcpSocket hooks.
		return nil
	default:
		return errors.New("lifecycle handler has no action")
	}
	if !ok {
		return errors.New(out)
	}
	return nil
}

// execAction runs a command in the container's namespaces with its
// environment; exit status 0 is success.
func (w *podWorker) execAction(ctx context.Context, inst *instance, argv []string) (bool, string) {
	if len(argv) == 0 {
		return false, "exec: no command"
	}
	w.mu.Lock()
	sb := w.sandbox
	w.mu.Unlock()
	if sb == nil {
		return false, "the pod sandbox is gone"
	}
	w.mu.Lock()
	cmd := w.command(ctx, inst.workDir, argv)
	w.mu.Unlock()
	cmd.Env = inst.env
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return false, fmt.Sprintf("command %q timed out", strings.Join(argv, " "))
	}
	if err != nil {
		var exitErr interface{ ExitCode() int }
		if errors.As(err, &exitErr) {
			return false, out.String()
		}
		return false, err.Error()
	}
	return true, ""
}

// limitedBuffer keeps the first maxProbeOutput bytes written to it.
type limitedBuffer struct{ b bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxProbeOutput - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return l.b.String() }

// httpGetAction sends the probe's GET from the node to the pod; 200-399 is
// success.
func (w *podWorker) httpGetAction(ctx context.Context, c *corev1.Container, h *corev1.HTTPGetAction, timeout time.Duration) (bool, string) {
	host := h.Host
	if host == "" {
		host = w.currentPodIP()
	}
	port, err := resolvePort(h.Port, c)
	if err != nil {
		return false, err.Error()
	}
	scheme := strings.ToLower(string(h.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(path)
	if err != nil {
		return false, err.Error()
	}
	u.Scheme, u.Host = scheme, net.JoinHostPort(host, strconv.Itoa(port))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "kube-probe/"+strings.Join(strings.SplitN(strings.TrimPrefix(KubeletVersion, "v"), ".", 3)[:2], "."))
	req.Header.Set("Accept", "*/*")
	for _, hd := range h.HTTPHeaders {
		if strings.EqualFold(hd.Name, "Host") {
			req.Host = hd.Value
			continue
		}
		req.Header.Add(hd.Name, hd.Value)
	}
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       w.a.cfg.NodeDialer,
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // The kubelet does not verify probe certificates.
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.CopyN(io.Discard, resp.Body, maxProbeOutput)
	if resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusBadRequest {
		return true, ""
	}
	return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
}

// tcpAction connects from the node to the pod's port.
func (w *podWorker) tcpAction(ctx context.Context, c *corev1.Container, h *corev1.TCPSocketAction) (bool, string) {
	host := h.Host
	if host == "" {
		host = w.currentPodIP()
	}
	port, err := resolvePort(h.Port, c)
	if err != nil {
		return false, err.Error()
	}
	conn, err := w.a.cfg.NodeDialer(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false, err.Error()
	}
	conn.Close()
	return true, ""
}

// currentPodIP is the pod's IP.
func (w *podWorker) currentPodIP() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.podIP
}

// resolvePort turns a probe port (number or container port name) into a
// number.
func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		if p.IntVal <= 0 || p.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port number: %d", p.IntVal)
		}
		return int(p.IntVal), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil && n > 0 && n <= 65535 {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port: %s in %s", p.StrVal, c.Name)
}
