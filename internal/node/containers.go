package node

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerKind tells regular containers from init containers.
type containerKind int

const (
	regularContainer containerKind = iota
	initContainer
	// sidecarContainer is an init container with restartPolicy Always: it
	// keeps running next to the regular containers.
	sidecarContainer
)

// containerRecord is what the agent knows of one container of a pod across
// its restarts (and across agent restarts, seeded from the pod status).
type containerRecord struct {
	spec corev1.Container
	kind containerKind
	// attempts counts the instances started so far; the restart count is
	// one less.
	attempts int32
	// cur is the latest instance, running or exited; prev the one before.
	cur, prev *instance
	// waiting, when set, is why the container is not running now
	// (CrashLoopBackOff, ErrImagePull, CreateContainerConfigError, ...).
	waiting *corev1.ContainerStateWaiting
	// backoff delays restarts of a crashing container.
	backoff backoff
	// pullBackoff delays retries of an image that is not built in.
	pullBackoff  backoff
	pullFailedAt time.Time
	pullEvented  bool
	// backoffEventFor is the instance a BackOff event was recorded for.
	backoffEventFor string
}

// restartCount is the container status's restartCount.
func (r *containerRecord) restartCount() int32 { return max(r.attempts-1, 0) }

// running reports whether the latest instance is running.
func (r *containerRecord) running() bool { return r.cur != nil && !r.cur.exited() }

// instance is one run of a container: a host process or a built-in image.
type instance struct {
	id        string
	attempt   int32
	imageID   string
	startedAt time.Time
	logPath   string
	// env and workDir are the resolved environment and working directory,
	// for exec probes, hooks and kubectl exec.
	env     []string
	workDir string

	done chan struct{}
	once sync.Once
	// exit and finishedAt are set before done is closed.
	exit       corev1.ContainerStateTerminated
	finishedAt time.Time

	// stop asks the container to exit (SIGTERM, or cancelling an image);
	// kill forces it (SIGKILL, or abandoning an image).
	stop, kill   func()
	cancelProbes context.CancelFunc

	// These are guarded by the pod worker's mutex.
	started   bool   // no startup probe, or it succeeded
	ready     bool   // no readiness probe, or it succeeds
	unhealthy string // set when a liveness or startup probe failed: the Killing message
	killing   bool
}

// exited reports whether the instance has finished.
func (i *instance) exited() bool {
	select {
	case <-i.done:
		return true
	default:
		return false
	}
}

// finish records how the instance ended; only the first call counts.
func (i *instance) finish(code int32, reason, message string, at time.Time) {
	i.once.Do(func() {
		i.finishedAt = at
		i.exit = corev1.ContainerStateTerminated{
			ExitCode:    code,
			Reason:      reason,
			Message:     message,
			StartedAt:   apiTime(i.startedAt),
			FinishedAt:  apiTime(at),
			ContainerID: i.id,
		}
		if i.cancelProbes != nil {
			i.cancelProbes()
		}
		close(i.done)
	})
}

// terminated is the instance's terminated state; the instance must have
// exited.
func (i *instance) terminated() *corev1.ContainerStateTerminated {
	t := i.exit
	return &t
}

// exitedInstance is an instance that ended before this agent saw it: one
// restored from a pod status after a restart.
func exitedInstance(id string, attempt int32, logPath string, t corev1.ContainerStateTerminated) *instance {
	i := &instance{id: id, attempt: attempt, logPath: logPath, done: make(chan struct{}), startedAt: t.StartedAt.Time}
	i.once.Do(func() {})
	i.exit = t
	i.finishedAt = t.FinishedAt.Time
	close(i.done)
	return i
}

// exitReason is the terminated reason the runtime reports for an exit code.
func exitReason(code int32) string {
	if code == 0 {
		return "Completed"
	}
	return "Error"
}

// apiTime is t as the API stores it (whole seconds), so that computed and
// stored statuses compare equal.
func apiTime(t time.Time) metav1.Time {
	if t.IsZero() {
		return metav1.Time{}
	}
	return metav1.NewTime(t).Rfc3339Copy()
}

// newContainerID returns a random container ID in the runtime's format.
func newContainerID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "kin://" + hex.EncodeToString(b)
}

// imageID is the ID reported for an image: its reference and a digest of
// it, as built-in images have no registry digest.
func imageID(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	repo := ref
	if i := strings.LastIndexByte(repo, '@'); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndexByte(repo, ':'); i >= 0 && !strings.Contains(repo[i:], "/") {
		repo = repo[:i]
	}
	return repo + "@sha256:" + hex.EncodeToString(sum[:])
}

// backoff is the kubelet's per-container back-off: it starts at the base,
// doubles up to the maximum, and is forgotten once nothing happened for
// twice the maximum (a container that ran for ten minutes starts afresh).
type backoff struct {
	delay      time.Duration
	lastUpdate time.Time
}

// expired reports whether the back-off is unset or forgotten at event.
func (b *backoff) expired(event time.Time, max time.Duration) bool {
	return b.delay == 0 || event.Sub(b.lastUpdate) > 2*max
}

// inBackoffSince reports whether a restart for an event at eventTime must
// still wait at now.
func (b *backoff) inBackoffSince(eventTime, now time.Time, max time.Duration) bool {
	if b.expired(eventTime, max) {
		return false
	}
	return now.Sub(eventTime) < b.delay
}

// next records a restart for an event at eventTime.
func (b *backoff) next(eventTime, now time.Time, base, max time.Duration) {
	if b.expired(eventTime, max) {
		b.delay = base
	} else {
		b.delay = min(2*b.delay, max)
	}
	b.lastUpdate = now
}

// logPath is where attempt n of a container logs.
func (w *podWorker) logPath(container string, attempt int32) string {
	return filepath.Join(w.dir(), "logs", container, strconv.Itoa(int(attempt))+".log")
}

// pidPath records a running process so that a restarted agent can kill it.
func (w *podWorker) pidPath(container string, attempt int32) string {
	return filepath.Join(w.dir(), "pids", container+"-"+strconv.Itoa(int(attempt)))
}

// startContainer starts the next instance of rec; w.mu is held. Failures
// leave rec waiting with the kubelet's reason and schedule a retry.
func (w *podWorker) startContainer(ctx context.Context, pod *corev1.Pod, rec *containerRecord, now time.Time) {
	c := &rec.spec
	a := w.a
	var img Image
	if len(c.Command) == 0 {
		found, ok := a.cfg.Images.Lookup(c.Image)
		if !ok {
			w.imageNotBuiltIn(pod, rec, now)
			return
		}
		img = found
	}
	rec.pullBackoff = backoff{}
	w.event(pod, c, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.Image))
	envVars, err := w.containerEnv(ctx, pod, c)
	if err != nil {
		rec.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		w.event(pod, c, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		w.wakeAt(now.Add(a.cfg.ContainerBackoff))
		return
	}
	envMap := make(map[string]string, len(envVars))
	for _, e := range envVars {
		envMap[e.Name] = e.Value
	}
	attempt := rec.attempts
	inst := &instance{
		id:        newContainerID(),
		attempt:   attempt,
		imageID:   imageID(c.Image),
		logPath:   w.logPath(c.Name, attempt),
		workDir:   c.WorkingDir,
		env:       processEnv(w.hostname(pod), envVars),
		done:      make(chan struct{}),
		startedAt: a.now(),
	}
	logf, err := createLog(inst.logPath, a.now)
	if err != nil {
		rec.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerError", Message: err.Error()}
		w.event(pod, c, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		w.wakeAt(now.Add(a.cfg.ContainerBackoff))
		return
	}
	w.event(pod, c, corev1.EventTypeNormal, "Created", "Created container: "+c.Name)
	inst.started = c.StartupProbe == nil
	inst.ready = c.ReadinessProbe == nil
	probeCtx, cancel := context.WithCancel(w.rs.ctx)
	inst.cancelProbes = cancel
	if img != nil {
		w.runImage(pod, c, inst, img, envMap, logf)
	} else {
		argv := expandCommand(c.Command, c.Args, envMap)
		if err := w.runProcess(c, inst, argv, logf); err != nil {
			msg := fmt.Sprintf("failed to start container %q: %v", c.Name, err)
			logf.Close()
			inst.finish(128, "StartError", msg, a.now())
			w.event(pod, c, corev1.EventTypeWarning, "Failed", "Error: "+msg)
		}
	}
	if !inst.exited() {
		w.event(pod, c, corev1.EventTypeNormal, "Started", "Started container "+c.Name)
	}
	if rec.cur != nil {
		rec.prev = rec.cur
	}
	rec.cur = inst
	rec.attempts++
	rec.waiting = nil
	w.pruneLogs(c.Name, attempt)
	if inst.exited() {
		return
	}
	w.startProbes(probeCtx, pod, rec, inst)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		go w.postStart(probeCtx, pod.DeepCopy(), rec, inst)
	}
}

// imageNotBuiltIn reports an image kin cannot run the way the kubelet
// reports an image it cannot pull: ErrImagePull, then ImagePullBackOff
// while the pull back-off lasts.
func (w *podWorker) imageNotBuiltIn(pod *corev1.Pod, rec *containerRecord, now time.Time) {
	c := &rec.spec
	cfg := &w.a.cfg
	msg := fmt.Sprintf("image %q is not built into kin and the container has no command; built-in images: %s",
		c.Image, strings.Join(cfg.Images.Names(), ", "))
	if rec.pullBackoff.inBackoffSince(rec.pullFailedAt, now, cfg.MaxContainerBackoff) {
		rec.waiting = &corev1.ContainerStateWaiting{
			Reason:  "ImagePullBackOff",
			Message: fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", c.Image, msg),
		}
		if !rec.pullEvented {
			w.event(pod, c, corev1.EventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", c.Image))
			w.event(pod, c, corev1.EventTypeWarning, "Failed", "Error: ImagePullBackOff")
			rec.pullEvented = true
		}
		w.wakeAt(rec.pullFailedAt.Add(rec.pullBackoff.delay))
		return
	}
	w.event(pod, c, corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
	w.event(pod, c, corev1.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %s", c.Image, msg))
	w.event(pod, c, corev1.EventTypeWarning, "Failed", "Error: ErrImagePull")
	rec.pullBackoff.next(now, now, cfg.ContainerBackoff, cfg.MaxContainerBackoff)
	rec.pullFailedAt = now
	rec.pullEvented = false
	rec.waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: msg}
	// The next sync shows ImagePullBackOff, as the kubelet's does.
	w.wakeAt(now.Add(min(w.a.unit, rec.pullBackoff.delay)))
}

// runImage starts a built-in image in a goroutine.
func (w *podWorker) runImage(pod *corev1.Pod, c *corev1.Container, inst *instance, img Image, env map[string]string, logf *logFile) {
	a := w.a
	ctx, cancel := context.WithCancel(context.WithoutCancel(w.rs.ctx))
	files := filepath.Join(w.dir(), "files", c.Name)
	_ = os.MkdirAll(files, 0o755)
	stdout := logf.stream("stdout")
	ienv := ImageEnv{
		PodName: pod.Name, PodNamespace: pod.Namespace, PodIP: w.podIP, NodeName: a.cfg.NodeName, ContainerName: c.Name,
		Env:          env,
		Args:         expandArgs(c.Args, env),
		Ports:        append([]corev1.ContainerPort(nil), c.Ports...),
		Listen:       w.sandbox.Listen,
		ListenPacket: w.sandbox.ListenPacket,
		Stdout:       stdout,
		Files:        files,
	}
	inst.stop = cancel
	inst.kill = func() {
		cancel()
		logf.Close()
		inst.finish(137, "Error", "", a.now())
	}
	go func() {
		err := img.Run(ctx, ienv)
		stdout.flush()
		code, msg := int32(0), ""
		if err != nil && !(ctx.Err() != nil && errors.Is(err, context.Canceled)) {
			code, msg = 1, err.Error()
			errs := logf.stream("stderr")
			_, _ = io.WriteString(errs, msg+"\n")
			errs.flush()
		}
		logf.Close()
		cancel()
		if m := fallbackMessage(c, inst.logPath, code); m != "" {
			msg = m
		}
		inst.finish(code, exitReason(code), msg, a.now())
		w.nudge()
	}()
}

// fallbackMessage is the termination message of a container that failed
// with terminationMessagePolicy FallbackToLogsOnError: the end of its log
// (80 lines, 2048 bytes at most), as the kubelet reports it.
func fallbackMessage(c *corev1.Container, logPath string, code int32) string {
	if code == 0 || c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError {
		return ""
	}
	f, err := os.Open(logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	off, err := tailOffset(f, 80)
	if err != nil {
		return ""
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return ""
	}
	var b strings.Builder
	lw := &logWriter{w: &b}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if e, ok := parseLogEntry(sc.Bytes()); ok {
			_ = lw.write(e)
		}
	}
	msg := b.String()
	if len(msg) > 2048 {
		msg = msg[len(msg)-2048:]
	}
	return msg
}

// pruneLogs keeps the logs (and rotated logs) of the current and the
// previous attempt.
func (w *podWorker) pruneLogs(container string, attempt int32) {
	dir := filepath.Dir(w.logPath(container, attempt))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		// "3.log", and rotated "3.log.20261124-053918.123456789".
		num, _, _ := strings.Cut(e.Name(), ".")
		n, err := strconv.Atoi(num)
		if err == nil && int32(n) < attempt-1 {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// killInstance stops one instance as the kubelet kills a container: a
// Killing event, the preStop hook within the grace period, SIGTERM, and
// SIGKILL once the grace period is over. It blocks until the instance has
// exited.
func (w *podWorker) killInstance(ctx context.Context, pod *corev1.Pod, rec *containerRecord, inst *instance, grace time.Duration, message string, events bool) {
	w.mu.Lock()
	already := inst.killing
	inst.killing = true
	w.mu.Unlock()
	if inst.exited() {
		return
	}
	if already {
		select {
		case <-inst.done:
		case <-time.After(grace + w.a.minGrace):
			inst.kill()
			<-inst.done
		}
		return
	}
	c := &rec.spec
	if message == "" {
		message = "Stopping container " + c.Name
	}
	if events {
		w.event(pod, c, corev1.EventTypeNormal, "Killing", message)
	}
	if events && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		start := w.a.now()
		hookCtx, cancel := context.WithTimeout(ctx, grace)
		if err := w.runHandler(hookCtx, pod, c, inst, c.Lifecycle.PreStop); err != nil {
			w.a.log.V(2).Info("PreStop hook failed", "pod", pod.Namespace+"/"+pod.Name, "container", c.Name, "err", err)
			w.event(pod, c, corev1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed")
		}
		cancel()
		grace -= w.a.now().Sub(start)
	}
	grace = max(grace, w.a.minGrace)
	inst.stop()
	select {
	case <-inst.done:
	case <-time.After(grace):
		inst.kill()
		select {
		case <-inst.done:
		case <-time.After(5 * time.Second):
			// The process outlived SIGKILL by far (uninterruptible
			// sleep); record it as killed and move on.
			inst.finish(137, "Error", "", w.a.now())
		}
	}
}

// postStart runs the PostStart hook; a failure kills the container, as the
// kubelet does.
func (w *podWorker) postStart(ctx context.Context, pod *corev1.Pod, rec *containerRecord, inst *instance) {
	c := &rec.spec
	if err := w.runHandler(ctx, pod, c, inst, c.Lifecycle.PostStart); err != nil {
		if inst.exited() || ctx.Err() != nil {
			return
		}
		w.a.log.V(2).Info("PostStart hook failed", "pod", pod.Namespace+"/"+pod.Name, "container", c.Name, "err", err)
		w.event(pod, c, corev1.EventTypeWarning, "FailedPostStartHook", "PostStartHook failed")
		w.killInstance(ctx, pod, rec, inst, w.terminationGrace(pod), "FailedPostStartHook", true)
		w.nudge()
	}
}
