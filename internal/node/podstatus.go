package node

import (
	"fmt"
	"k8s.io/kubectl/pkg/util/qos"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
)

// kubeletConditions are the pod conditions the agent owns, in the order the
// kubelet writes them; others (DisruptionTarget, readiness gates) are kept.
var kubeletConditions = []corev1.PodConditionType{
	corev1.PodReadyToStartContainers,
	corev1.PodInitialized,
	corev1.PodReady,
	corev1.ContainersReady,
	corev1.PodScheduled,
}

// ownedByKubelet reports whether the agent writes a condition type.
func ownedByKubelet(t corev1.PodConditionType) bool {
	for _, k := range kubeletConditions {
		if k == t {
			return true
		}
	}
	return false
}

// buildStatus computes the pod status from what runs; w.mu is held.
func (w *podWorker) buildStatus(pod *corev1.Pod, now time.Time) corev1.PodStatus {
	a := w.a
	s := corev1.PodStatus{
		HostIP:    a.cfg.NodeIP.String(),
		HostIPs:   []corev1.HostIP{{IP: a.cfg.NodeIP.String()}},
		StartTime: w.startTime,
		QOSClass:  qos.ComputePodQOS(pod),
	}
	s.Reason, s.Message = w.reason, w.message
	s.ObservedGeneration = pod.Generation
	if w.podIP != "" {
		s.PodIP = w.podIP
		s.PodIPs = []corev1.PodIP{{IP: w.podIP}}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		s.InitContainerStatuses = append(s.InitContainerStatuses, w.containerStatus(w.record(c, kindOf(c, true))))
	}
	for i := range pod.Spec.Containers {
		s.ContainerStatuses = append(s.ContainerStatuses, w.containerStatus(w.record(&pod.Spec.Containers[i], regularContainer)))
	}
	switch {
	case w.terminal && w.phase != "":
		s.Phase = w.phase
	default:
		s.Phase = podPhase(pod, s.InitContainerStatuses, s.ContainerStatuses, w.terminal)
	}
	conds := podConditions(pod, &s, w.netReady, w.initDone)
	for i := range conds {
		c := &conds[i]
		c.ObservedGeneration = pod.Generation
		c.LastTransitionTime = apiTime(now)
		if old, ok := w.conds[c.Type]; ok && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		if c.Type == corev1.PodScheduled {
			for _, old := range pod.Status.Conditions {
				if old.Type == corev1.PodScheduled && old.Status == c.Status {
					c.LastTransitionTime = old.LastTransitionTime
				}
			}
		}
		w.conds[c.Type] = *c
	}
	s.Conditions = mergeConditions(pod.Status.Conditions, conds)
	return s
}

// containerStatus reports one container; w.mu is held.
func (w *podWorker) containerStatus(rec *containerRecord) corev1.ContainerStatus {
	c := &rec.spec
	started := false
	st := corev1.ContainerStatus{
		Name:         c.Name,
		Image:        c.Image,
		RestartCount: rec.restartCount(),
		Started:      &started,
	}
	if rec.prev != nil {
		st.LastTerminationState.Terminated = rec.prev.terminated()
	}
	inst := rec.cur
	switch {
	case inst == nil:
		st.State.Waiting = rec.waiting
		if st.State.Waiting == nil {
			reason := "ContainerCreating"
			if rec.kind != regularContainer || !w.initDone {
				reason = "PodInitializing"
			}
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason}
		}
	case !inst.exited():
		st.ContainerID, st.ImageID = inst.id, inst.imageID
		st.State.Running = &corev1.ContainerStateRunning{StartedAt: apiTime(inst.startedAt)}
		started = inst.started
		st.Ready = inst.started && inst.ready
	default:
		st.ContainerID, st.ImageID = inst.id, inst.imageID
		if rec.waiting != nil {
			st.State.Waiting = rec.waiting
			st.LastTerminationState.Terminated = inst.terminated()
		} else {
			st.State.Terminated = inst.terminated()
			st.Ready = rec.kind == initContainer && inst.exit.ExitCode == 0
		}
	}
	return st
}

// podPhase is the kubelet's getPhase: the pod phase from the container
// statuses. podIsTerminal is set for pods being stopped for good.
func podPhase(pod *corev1.Pod, initStatuses, statuses []corev1.ContainerStatus, podIsTerminal bool) corev1.PodPhase {
	spec := &pod.Spec
	pendingInit, failedInit := 0, 0
	for _, c := range spec.InitContainers {
		if kindOf(&c, true) == sidecarContainer {
			continue
		}
		cs, ok := findStatus(initStatuses, c.Name)
		switch {
		case !ok, cs.State.Running != nil:
			pendingInit++
		case cs.State.Terminated != nil:
			if cs.State.Terminated.ExitCode != 0 {
				failedInit++
			}
		case cs.State.Waiting != nil:
			if t := cs.LastTerminationState.Terminated; t != nil {
				if t.ExitCode != 0 {
					failedInit++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}
	unknown, running, waiting, stopped, succeeded := 0, 0, 0, 0, 0
	for _, c := range spec.Containers {
		cs, ok := findStatus(statuses, c.Name)
		switch {
		case !ok:
			unknown++
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}
	if failedInit > 0 && spec.RestartPolicy == corev1.RestartPolicyNever {
		return corev1.PodFailed
	}
	phase := corev1.PodPending
	switch {
	case pendingInit > 0 && running+stopped == 0, waiting > 0:
		phase = corev1.PodPending
	case running > 0 && unknown == 0:
		phase = corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		switch {
		case podIsTerminal && stopped == succeeded:
			phase = corev1.PodSucceeded
		case podIsTerminal:
			phase = corev1.PodFailed
		case spec.RestartPolicy == corev1.RestartPolicyAlways || spec.RestartPolicy == "":
			phase = corev1.PodRunning
		case stopped == succeeded:
			phase = corev1.PodSucceeded
		case spec.RestartPolicy == corev1.RestartPolicyNever:
			phase = corev1.PodFailed
		default:
			phase = corev1.PodRunning
		}
	}
	if podIsTerminal && !isTerminalPhase(phase) {
		// A pod stopped for good before its containers finished failed.
		phase = corev1.PodFailed
	}
	return phase
}

// findStatus finds a container status by name.
func findStatus(statuses []corev1.ContainerStatus, name string) (corev1.ContainerStatus, bool) {
	for _, s := range statuses {
		if s.Name == name {
			return s, true
		}
	}
	return corev1.ContainerStatus{}, false
}

// podConditions computes the kubelet-owned conditions, without times.
func podConditions(pod *corev1.Pod, s *corev1.PodStatus, sandboxReady, initDone bool) []corev1.PodCondition {
	cond := func(t corev1.PodConditionType, ok bool, reason, message string) corev1.PodCondition {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: message}
		if ok {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, "", ""
		}
		return c
	}
	var out []corev1.PodCondition
	out = append(out, cond(corev1.PodReadyToStartContainers, sandboxReady, "", ""))

	// Initialized.
	var incomplete []string
	for _, c := range pod.Spec.InitContainers {
		cs, ok := findStatus(s.InitContainerStatuses, c.Name)
		if !ok || !cs.Ready {
			incomplete = append(incomplete, c.Name)
		}
	}
	switch {
	case len(pod.Spec.InitContainers) == 0:
		out = append(out, cond(corev1.PodInitialized, true, "", ""))
	case s.Phase == corev1.PodSucceeded && len(incomplete) == 0:
		c := cond(corev1.PodInitialized, true, "", "")
		c.Reason = "PodCompleted"
		out = append(out, c)
	case initDone || len(incomplete) == 0:
		out = append(out, cond(corev1.PodInitialized, true, "", ""))
	default:
		out = append(out, cond(corev1.PodInitialized, false, "ContainersNotInitialized",
			fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " "))))
	}

	// ContainersReady and Ready.
	var unready []string
	for _, c := range pod.Spec.InitContainers {
		if kindOf(&c, true) != sidecarContainer {
			continue
		}
		if cs, ok := findStatus(s.InitContainerStatuses, c.Name); !ok || !cs.Ready {
			unready = append(unready, c.Name)
		}
	}
	for _, c := range pod.Spec.Containers {
		if cs, ok := findStatus(s.ContainerStatuses, c.Name); !ok || !cs.Ready {
			unready = append(unready, c.Name)
		}
	}
	var ready, containersReady corev1.PodCondition
	switch {
	case s.Phase == corev1.PodSucceeded:
		ready = cond(corev1.PodReady, false, "PodCompleted", "")
		containersReady = cond(corev1.ContainersReady, false, "PodCompleted", "")
	case s.Phase == corev1.PodFailed:
		ready = cond(corev1.PodReady, false, "PodFailed", "")
		containersReady = cond(corev1.ContainersReady, false, "PodFailed", "")
	case len(unready) > 0:
		msg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
		ready = cond(corev1.PodReady, false, "ContainersNotReady", msg)
		containersReady = cond(corev1.ContainersReady, false, "ContainersNotReady", msg)
	default:
		ready = cond(corev1.PodReady, true, "", "")
		containersReady = cond(corev1.ContainersReady, true, "", "")
		if missing := unmetReadinessGates(pod); len(missing) > 0 {
			ready = cond(corev1.PodReady, false, "ReadinessGatesNotReady",
				fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", missing[0]))
		}
	}
	out = append(out, ready, containersReady, cond(corev1.PodScheduled, true, "", ""))
	return out
}

// unmetReadinessGates lists the readiness gates whose condition is not
// True.
func unmetReadinessGates(pod *corev1.Pod) []string {
	var missing []string
	for _, g := range pod.Spec.ReadinessGates {
		ok := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			missing = append(missing, string(g.ConditionType))
		}
	}
	return missing
}

// mergeConditions puts the agent's conditions after the ones other
// components own.
func mergeConditions(existing, ours []corev1.PodCondition) []corev1.PodCondition {
	var out []corev1.PodCondition
	for _, c := range existing {
		if !ownedByKubelet(c.Type) {
			out = append(out, c)
		}
	}
	return append(out, ours...)
}

// podStatusEqual compares pod statuses semantically.
func podStatusEqual(a, b corev1.PodStatus) bool {
	return apiequality.Semantic.DeepEqual(a, b)
}

// add sums a quantity into a resource list.
func add(list corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
	if cur, ok := list[name]; ok {
		cur.Add(q)
		list[name] = cur
		return
	}
	list[name] = q.DeepCopy()
}
