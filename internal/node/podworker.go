package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// podWorker runs one pod (one UID): a goroutine that syncs it whenever it
// is nudged (pod changed, a container exited, a probe result changed) or a
// timer it set fires. The sync is level-triggered: it compares the pod from
// the informer cache with what runs and acts on the difference.
type podWorker struct {
	a               *Agent
	rs              *runState
	uid             types.UID
	namespace, name string
	nudgeCh         chan struct{}
	done            chan struct{}

	mu sync.Mutex
	// pod is the latest pod seen in the cache.
	pod          *corev1.Pod
	sandbox      Sandbox
	podIP        string
	netReady     bool
	volumesReady bool
	volumes      map[string]string // volume name -> path on the machine
	mounted      map[string]bool   // mount paths bind-mounted in the sandbox
	startTime    *metav1.Time
	// started is when the agent first saw the pod, unrounded, for
	// activeDeadlineSeconds.
	started    time.Time
	initDone   bool
	failedInit bool
	records    map[string]*containerRecord
	conds      map[corev1.PodConditionType]corev1.PodCondition
	// terminal is set once the pod reached Succeeded or Failed: nothing is
	// started again and the sandbox is removed.
	terminal bool
	phase    corev1.PodPhase
	// reason and message explain a pod the agent failed itself
	// (activeDeadlineSeconds).
	reason, message string
	torndown        bool
	deleted         bool
	// lastStatus is the status last written and lastServer the status the
	// server stored for it (equal unless the server normalized it).
	lastStatus, lastServer *corev1.PodStatus
	lastWrite              time.Time
	// wake is the earliest time the next sync is due; zero means the
	// periodic resync.
	wake time.Time
}

// newPodWorker makes the worker of pod, seeded from its status so that a
// restarted agent continues restart counts, keeps finished init containers
// and keeps condition transition times.
func newPodWorker(a *Agent, rs *runState, pod *corev1.Pod) *podWorker {
	w := &podWorker{
		a: a, rs: rs, uid: pod.UID, namespace: pod.Namespace, name: pod.Name,
		nudgeCh: make(chan struct{}, 1),
		done:    make(chan struct{}),
		pod:     pod,
		records: map[string]*containerRecord{},
		conds:   map[corev1.PodConditionType]corev1.PodCondition{},
		mounted: map[string]bool{},
	}
	st := &pod.Status
	if st.StartTime != nil {
		t := *st.StartTime
		w.startTime, w.started = &t, t.Time
	}
	w.podIP = st.PodIP
	if isTerminalPhase(st.Phase) {
		w.terminal, w.phase = true, st.Phase
	}
	for _, c := range st.Conditions {
		w.conds[c.Type] = c
	}
	seed := func(specs []corev1.Container, statuses []corev1.ContainerStatus, init bool) {
		for i := range specs {
			rec := w.record(&specs[i], kindOf(&specs[i], init))
			for _, cs := range statuses {
				if cs.Name == specs[i].Name {
					w.seedRecord(rec, cs)
				}
			}
		}
	}
	seed(pod.Spec.InitContainers, st.InitContainerStatuses, true)
	seed(pod.Spec.Containers, st.ContainerStatuses, false)
	w.initDone = len(pod.Spec.InitContainers) == 0
	for _, c := range pod.Spec.Containers {
		if rec := w.records[c.Name]; rec != nil && rec.cur != nil {
			w.initDone = true
		}
	}
	if !w.initDone {
		done := true
		for _, c := range pod.Spec.InitContainers {
			rec := w.records[c.Name]
			if rec.kind == sidecarContainer {
				continue
			}
			if rec.cur == nil || rec.cur.exit.ExitCode != 0 {
				done = false
			}
		}
		w.initDone = done
	}
	return w
}

// kindOf classifies a container of the pod spec.
func kindOf(c *corev1.Container, init bool) containerKind {
	switch {
	case !init:
		return regularContainer
	case c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways:
		return sidecarContainer
	default:
		return initContainer
	}
}

// seedRecord restores a record from a container status written before the
// agent restarted. A container that was running was lost with the agent:
// it is recorded as exited with the runtime's "Unknown" reason and is
// restarted as its restart policy says.
func (w *podWorker) seedRecord(rec *containerRecord, cs corev1.ContainerStatus) {
	now := w.a.now()
	var last *corev1.ContainerStateTerminated
	switch {
	case cs.State.Running != nil:
		last = &corev1.ContainerStateTerminated{
			ExitCode: 255, Reason: "Unknown", StartedAt: cs.State.Running.StartedAt,
			FinishedAt: apiTime(now), ContainerID: cs.ContainerID,
		}
	case cs.State.Terminated != nil:
		last = cs.State.Terminated
	case cs.LastTerminationState.Terminated != nil:
		last = cs.LastTerminationState.Terminated
	}
	if last == nil {
		return
	}
	rec.attempts = cs.RestartCount + 1
	rec.cur = exitedInstance(cs.ContainerID, cs.RestartCount, w.logPath(rec.spec.Name, cs.RestartCount), *last)
	rec.cur.imageID = cs.ImageID
	if cs.State.Waiting == nil && cs.LastTerminationState.Terminated != nil && cs.RestartCount > 0 {
		t := *cs.LastTerminationState.Terminated
		rec.prev = exitedInstance(t.ContainerID, cs.RestartCount-1, w.logPath(rec.spec.Name, cs.RestartCount-1), t)
	}
}

// record returns the record of a container, making it on first use.
func (w *podWorker) record(c *corev1.Container, kind containerKind) *containerRecord {
	rec := w.records[c.Name]
	if rec == nil {
		// The spec is copied once: containers are immutable, and probe
		// and hook goroutines read it without locks.
		rec = &containerRecord{kind: kind, spec: *c.DeepCopy()}
		w.records[c.Name] = rec
	}
	return rec
}

// nudge asks for a sync soon; nudges coalesce.
func (w *podWorker) nudge() {
	select {
	case w.nudgeCh <- struct{}{}:
	default:
	}
}

// wakeAt asks for a sync at t at the latest; w.mu is held.
func (w *podWorker) wakeAt(t time.Time) {
	if w.wake.IsZero() || t.Before(w.wake) {
		w.wake = t
	}
}

// run is the worker's goroutine.
func (w *podWorker) run(ctx context.Context) {
	defer close(w.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.nudgeCh:
		case <-timer.C:
		}
		next, finished := w.sync(ctx)
		if finished {
			w.a.removeWorker(w)
			return
		}
		timer.Reset(next)
	}
}

// sync brings the pod one step closer to what its spec asks for. It
// returns when to sync again, or finished once the pod is gone and cleaned
// up.
func (w *podWorker) sync(ctx context.Context) (time.Duration, bool) {
	pod := w.rs.pod(w.namespace, w.name, w.a.cfg.NodeName)
	if pod == nil || pod.UID != w.uid {
		// The pod is gone from the API (force-deleted, or deleted while
		// the agent was away): stop everything and forget it.
		w.mu.Lock()
		last := w.pod
		w.mu.Unlock()
		w.killAll(ctx, last, w.deletionGrace(last), true)
		if err := w.teardown(ctx, last); err != nil {
			w.a.log.Error(err, "Tearing down pod", "pod", w.namespace+"/"+w.name)
			return w.a.cfg.ContainerBackoff, false
		}
		os.RemoveAll(w.dir())
		return 0, true
	}
	w.mu.Lock()
	w.pod = pod
	w.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		return w.syncDeleting(ctx, pod), false
	}
	return w.syncPod(ctx, pod), false
}

// resync is how often a pod is looked at without a reason.
func (w *podWorker) resync() time.Duration { return w.a.cfg.StatusInterval }

// syncPod is the sync of a pod that is not being deleted.
func (w *podWorker) syncPod(ctx context.Context, pod *corev1.Pod) time.Duration {
	now := w.a.now()
	w.mu.Lock()
	w.wake = time.Time{}
	if w.startTime == nil {
		t := apiTime(now)
		w.startTime, w.started = &t, now
	}
	w.mu.Unlock()
	w.checkDeadline(ctx, pod, now)
	w.mu.Lock()
	if !w.terminal {
		if !w.netReady {
			if err := w.setupSandbox(ctx, pod); err != nil {
				w.a.log.Error(err, "Creating pod sandbox", "pod", pod.Namespace+"/"+pod.Name)
				w.podEvent(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: "+err.Error())
				w.wakeAt(now.Add(w.a.cfg.ContainerBackoff))
			}
		}
		if w.netReady && !w.volumesReady {
			if err := w.setupVolumes(ctx, pod); err != nil {
				w.a.log.Error(err, "Setting up volumes", "pod", pod.Namespace+"/"+pod.Name)
				w.wakeAt(now.Add(w.a.cfg.ContainerBackoff))
			}
		}
		if w.netReady && w.volumesReady {
			w.syncContainers(ctx, pod, now)
		}
	}
	status := w.buildStatus(pod, now)
	if isTerminalPhase(status.Phase) {
		w.terminal, w.phase = true, status.Phase
	}
	terminal := w.terminal
	w.mu.Unlock()

	if err := w.writeStatus(ctx, pod, status); err != nil {
		w.a.log.Error(err, "Updating pod status", "pod", pod.Namespace+"/"+pod.Name)
		w.mu.Lock()
		w.wakeAt(now.Add(time.Second))
		w.mu.Unlock()
	}
	if terminal {
		// A finished pod keeps its status and logs; its sidecars stop and
		// its sandbox and address go.
		w.killAll(ctx, pod, w.terminationGrace(pod), true)
		if err := w.teardown(ctx, pod); err != nil {
			w.a.log.Error(err, "Tearing down finished pod", "pod", pod.Namespace+"/"+pod.Name)
			return w.a.cfg.ContainerBackoff
		}
	}
	return w.nextSync(now)
}

// checkDeadline fails a pod that ran longer than its
// activeDeadlineSeconds, as the kubelet does, and schedules a sync for the
// deadline otherwise.
func (w *podWorker) checkDeadline(ctx context.Context, pod *corev1.Pod, now time.Time) {
	if pod.Spec.ActiveDeadlineSeconds == nil {
		return
	}
	w.mu.Lock()
	if w.terminal {
		w.mu.Unlock()
		return
	}
	deadline := w.started.Add(w.a.seconds(*pod.Spec.ActiveDeadlineSeconds))
	if now.Before(deadline) {
		w.wakeAt(deadline)
		w.mu.Unlock()
		return
	}
	const message = "Pod was active on the node longer than the specified deadline"
	w.terminal, w.phase, w.reason, w.message = true, corev1.PodFailed, "DeadlineExceeded", message
	w.mu.Unlock()
	w.podEvent(pod, corev1.EventTypeNormal, "DeadlineExceeded", message)
	w.killAll(ctx, pod, w.terminationGrace(pod), true)
}

// nextSync is the time until the next sync: the earliest wake-up asked for,
// or the periodic resync.
func (w *podWorker) nextSync(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	next := w.resync()
	if !w.wake.IsZero() {
		next = min(next, max(w.wake.Sub(now), time.Millisecond))
	}
	return next
}

// syncContainers starts, restarts and kills containers; w.mu is held.
func (w *podWorker) syncContainers(ctx context.Context, pod *corev1.Pod, now time.Time) {
	policy := pod.Spec.RestartPolicy
	if policy == "" {
		policy = corev1.RestartPolicyAlways
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		rec := w.record(c, kindOf(c, true))
		if rec.kind == sidecarContainer {
			w.syncLongRunning(ctx, pod, rec, corev1.RestartPolicyAlways, now)
			if !w.initDone && !(rec.running() && rec.cur.started) {
				return
			}
			continue
		}
		if w.initDone {
			continue
		}
		switch {
		case rec.cur == nil:
			w.startContainer(ctx, pod, rec, now)
			return
		case !rec.cur.exited():
			return
		case rec.cur.exit.ExitCode == 0:
			rec.waiting = nil
			continue
		case policy == corev1.RestartPolicyNever:
			rec.waiting = nil
			w.failedInit = true
			return
		default:
			w.restartWithBackoff(ctx, pod, rec, now)
			return
		}
	}
	w.initDone = true
	for i := range pod.Spec.Containers {
		rec := w.record(&pod.Spec.Containers[i], regularContainer)
		w.syncLongRunning(ctx, pod, rec, policy, now)
	}
}

// syncLongRunning keeps a regular or sidecar container as its restart
// policy wants: started, restarted after exits (with back-off) and killed
// when a liveness or startup probe failed.
func (w *podWorker) syncLongRunning(ctx context.Context, pod *corev1.Pod, rec *containerRecord, policy corev1.RestartPolicy, now time.Time) {
	switch {
	case rec.cur == nil:
		w.startContainer(ctx, pod, rec, now)
	case !rec.cur.exited():
		if rec.cur.unhealthy != "" && !rec.cur.killing {
			inst, msg := rec.cur, rec.cur.unhealthy
			grace := w.terminationGrace(pod)
			if p := probeFor(&rec.spec, msg); p != nil && p.TerminationGracePeriodSeconds != nil {
				grace = w.a.seconds(*p.TerminationGracePeriodSeconds)
			}
			podCopy := pod.DeepCopy()
			go func() {
				w.killInstance(ctx, podCopy, rec, inst, grace, msg, true)
				w.nudge()
			}()
		}
	case shouldRestart(policy, rec.cur.exit.ExitCode):
		w.restartWithBackoff(ctx, pod, rec, now)
	default:
		rec.waiting = nil
	}
}

// shouldRestart applies a restart policy to an exit code.
func shouldRestart(policy corev1.RestartPolicy, code int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	default:
		return true
	}
}

// restartWithBackoff restarts an exited container unless its back-off
// still runs, in which case it waits in CrashLoopBackOff; w.mu is held.
func (w *podWorker) restartWithBackoff(ctx context.Context, pod *corev1.Pod, rec *containerRecord, now time.Time) {
	cfg := &w.a.cfg
	finished := rec.cur.finishedAt
	if rec.backoff.inBackoffSince(finished, now, cfg.MaxContainerBackoff) {
		rec.waiting = &corev1.ContainerStateWaiting{
			Reason: "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s",
				rec.backoff.delay, rec.spec.Name, podDescription(pod)),
		}
		if rec.backoffEventFor != rec.cur.id {
			rec.backoffEventFor = rec.cur.id
			w.event(pod, &rec.spec, corev1.EventTypeWarning, "BackOff",
				fmt.Sprintf("Back-off restarting failed container %s in pod %s", rec.spec.Name, podDescription(pod)))
		}
		w.wakeAt(finished.Add(rec.backoff.delay))
		return
	}
	rec.backoff.next(finished, now, cfg.ContainerBackoff, cfg.MaxContainerBackoff)
	w.startContainer(ctx, pod, rec, now)
}

// podDescription formats a pod as the kubelet does in messages.
func podDescription(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// syncDeleting stops a pod whose deletion was asked for and then deletes
// its API object, which is what finally removes it.
func (w *podWorker) syncDeleting(ctx context.Context, pod *corev1.Pod) time.Duration {
	w.mu.Lock()
	deleted := w.deleted
	w.mu.Unlock()
	if deleted {
		return w.resync()
	}
	w.killAll(ctx, pod, w.deletionGrace(pod), true)
	now := w.a.now()
	w.mu.Lock()
	w.terminal = true
	status := w.buildStatus(pod, now)
	w.mu.Unlock()
	if err := w.writeStatus(ctx, pod, status); err != nil {
		w.a.log.V(2).Info("Final pod status not written", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
	if err := w.teardown(ctx, pod); err != nil {
		w.a.log.Error(err, "Tearing down deleted pod", "pod", pod.Namespace+"/"+pod.Name)
		return time.Second
	}
	zero := int64(0)
	uid := pod.UID
	err := w.a.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		w.a.log.Error(err, "Deleting pod", "pod", pod.Namespace+"/"+pod.Name)
		return time.Second
	}
	w.mu.Lock()
	w.deleted = true
	w.mu.Unlock()
	return w.resync()
}

// terminationGrace is the pod's termination grace period on the agent's
// clock.
func (w *podWorker) terminationGrace(pod *corev1.Pod) time.Duration {
	if pod != nil && pod.Spec.TerminationGracePeriodSeconds != nil {
		return w.a.seconds(*pod.Spec.TerminationGracePeriodSeconds)
	}
	return w.a.seconds(corev1.DefaultTerminationGracePeriodSeconds)
}

// deletionGrace is the grace period of a deletion: the one the delete
// asked for, else the pod's.
func (w *podWorker) deletionGrace(pod *corev1.Pod) time.Duration {
	if pod != nil && pod.DeletionGracePeriodSeconds != nil {
		return w.a.seconds(*pod.DeletionGracePeriodSeconds)
	}
	return w.terminationGrace(pod)
}

// killAll stops every running container of the pod in parallel and waits
// for them.
func (w *podWorker) killAll(ctx context.Context, pod *corev1.Pod, grace time.Duration, events bool) {
	type victim struct {
		rec  *containerRecord
		inst *instance
	}
	var victims []victim
	w.mu.Lock()
	for _, rec := range w.records {
		rec.waiting = nil
		if rec.running() {
			victims = append(victims, victim{rec, rec.cur})
		}
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, v := range victims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.killInstance(ctx, pod, v.rec, v.inst, grace, "", events && pod != nil)
		}()
	}
	wg.Wait()
}

// shutdown stops the containers when the agent stops, without hooks,
// events or API calls.
func (w *podWorker) shutdown() {
	w.killAll(context.Background(), nil, 0, false)
}

// writeStatus writes the pod status when it differs from the stored one,
// keeping the conditions other components own.
func (w *podWorker) writeStatus(ctx context.Context, cached *corev1.Pod, want corev1.PodStatus) error {
	w.mu.Lock()
	lastStatus, lastServer := w.lastStatus, w.lastServer
	w.mu.Unlock()
	if podStatusEqual(cached.Status, want) {
		return nil
	}
	if lastStatus != nil && podStatusEqual(*lastStatus, want) && lastServer != nil && podStatusEqual(cached.Status, *lastServer) {
		return nil
	}
	pods := w.a.cfg.Client.CoreV1().Pods(w.namespace)
	var stored *corev1.PodStatus
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		live, err := pods.Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if live.UID != w.uid {
			return nil
		}
		next := want.DeepCopy()
		next.Conditions = mergeConditions(live.Status.Conditions, want.Conditions)
		if podStatusEqual(live.Status, *next) {
			stored = &live.Status
			return nil
		}
		live.Status = *next
		updated, err := pods.UpdateStatus(ctx, live, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		stored = &updated.Status
		return nil
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.lastStatus, w.lastServer, w.lastWrite = &want, stored, w.a.now()
	w.mu.Unlock()
	return nil
}

// dir is the pod's directory on the machine.
func (w *podWorker) dir() string { return filepath.Join(w.a.podsDir(), string(w.uid)) }

// hostname is the pod's hostname.
func (w *podWorker) hostname(pod *corev1.Pod) string {
	h, _ := podHostname(pod, w.a.cfg.ClusterDomain)
	return h
}
