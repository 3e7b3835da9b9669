package controllers

import (
	"sort"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
)

// podDeletionCostAnnotation lets users rank pods for scale-down, as in
// Kubernetes (controller.kubernetes.io/pod-deletion-cost).
const podDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// maxGeneratedNameBase is how much of a name prefix survives before the five
// random characters, matching the API server's name generator (63 - 5).
const maxGeneratedNameBase = 58

// generateName returns base followed by five random characters, the name
// the API server would have produced for generateName base.
func generateName(base string) string {
	if len(base) > maxGeneratedNameBase {
		base = base[:maxGeneratedNameBase]
	}
	return base + rand.String(5)
}

// podReadyCondition returns the pod's Ready condition, or nil.
func podReadyCondition(pod *v1.Pod) *v1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == v1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// isPodReady reports whether the pod's Ready condition is True.
func isPodReady(pod *v1.Pod) bool {
	c := podReadyCondition(pod)
	return c != nil && c.Status == v1.ConditionTrue
}

// availableAt returns when a ready pod counts as available under
// minReadySeconds; ok is false for a pod that is not ready.
func availableAt(pod *v1.Pod, minReadySeconds int32) (at time.Time, ok bool) {
	c := podReadyCondition(pod)
	if c == nil || c.Status != v1.ConditionTrue {
		return time.Time{}, false
	}
	if minReadySeconds == 0 {
		return time.Time{}, true
	}
	return c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second), true
}

// isPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now, as Kubernetes' podutil.IsPodAvailable does.
func isPodAvailable(pod *v1.Pod, minReadySeconds int32, now time.Time) bool {
	at, ok := availableAt(pod, minReadySeconds)
	if !ok {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	c := podReadyCondition(pod)
	return !c.LastTransitionTime.IsZero() && at.Before(now)
}

// untilAvailable returns how long until the next ready-but-not-yet-available
// pod becomes available, or 0 when there is none.
func untilAvailable(pods []*v1.Pod, minReadySeconds int32, now time.Time) time.Duration {
	if minReadySeconds == 0 {
		return 0
	}
	var next time.Duration
	for _, p := range pods {
		at, ok := availableAt(p, minReadySeconds)
		if !ok || isPodAvailable(p, minReadySeconds, now) {
			continue
		}
		d := at.Sub(now) + time.Second
		if d <= 0 {
			d = time.Second
		}
		if next == 0 || d < next {
			next = d
		}
	}
	return next
}

// isPodTerminal reports whether the pod has finished for good.
func isPodTerminal(pod *v1.Pod) bool {
	return pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed
}

// isPodActive reports whether the pod counts towards a controller's
// replicas: not finished and not being deleted.
func isPodActive(pod *v1.Pod) bool {
	return !isPodTerminal(pod) && pod.DeletionTimestamp == nil
}

// filterActivePods returns the active pods.
func filterActivePods(pods []*v1.Pod) []*v1.Pod {
	var out []*v1.Pod
	for _, p := range pods {
		if isPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// maxContainerRestarts returns the highest restart count of the pod's containers.
func maxContainerRestarts(pod *v1.Pod) int32 {
	var m int32
	for _, c := range pod.Status.ContainerStatuses {
		m = max(m, c.RestartCount)
	}
	return m
}

// deletionCost returns the pod's pod-deletion-cost annotation, 0 if absent
// or malformed.
func deletionCost(pod *v1.Pod) int32 {
	v, ok := pod.Annotations[podDeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// podPhaseOrdinal orders phases for scale-down: pending pods go first.
var podPhaseOrdinal = map[v1.PodPhase]int{v1.PodPending: 0, v1.PodUnknown: 1, v1.PodRunning: 2}

// afterOrZero reports whether t1 is after t2, a zero time counting as the latest.
func afterOrZero(t1, t2 time.Time) bool {
	if t1.IsZero() || t2.IsZero() {
		return t1.IsZero()
	}
	return t1.After(t2)
}

// podsToDelete picks the n pods a controller should delete first, with
// Kubernetes' ActivePodsWithRanks order: unscheduled before scheduled,
// pending before unknown before running, not ready before ready, lower
// deletion cost first, pods doubled up on a node with more siblings first,
// more recently ready first, more restarts first, newer first.
func podsToDelete(pods []*v1.Pod, n int) []*v1.Pod {
	if n <= 0 {
		return nil
	}
	perNode := map[string]int{}
	for _, p := range pods {
		if isPodActive(p) {
			perNode[p.Spec.NodeName]++
		}
	}
	sorted := append([]*v1.Pod(nil), pods...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return deleteBefore(sorted[i], sorted[j], perNode)
	})
	if n > len(sorted) {
		n = len(sorted)
	}
	return sorted[:n]
}

// deleteBefore is the comparison behind podsToDelete.
func deleteBefore(a, b *v1.Pod, perNode map[string]int) bool {
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if pa, pb := podPhaseOrdinal[a.Status.Phase], podPhaseOrdinal[b.Status.Phase]; pa != pb {
		return pa < pb
	}
	ra, rb := isPodReady(a), isPodReady(b)
	if ra != rb {
		return !ra
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if na, nb := perNode[a.Spec.NodeName], perNode[b.Spec.NodeName]; na != nb {
		return na > nb
	}
	if ra && rb {
		ta := podReadyCondition(a).LastTransitionTime.Time
		tb := podReadyCondition(b).LastTransitionTime.Time
		if !ta.Equal(tb) {
			return afterOrZero(ta, tb)
		}
	}
	if ma, mb := maxContainerRestarts(a), maxContainerRestarts(b); ma != mb {
		return ma > mb
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return afterOrZero(a.CreationTimestamp.Time, b.CreationTimestamp.Time)
	}
	return a.Name > b.Name
}

// newPodFromTemplate builds the pod a controller creates from its template:
// the template's labels, annotations, finalizers and spec, a controller
// owner reference to owner, and the explicit name.
func newPodFromTemplate(template *v1.PodTemplateSpec, owner metav1.Object, ownerKind schema.GroupVersionKind, name string) *v1.Pod {
	t := template.DeepCopy()
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       owner.GetNamespace(),
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(owner, ownerKind)},
		},
		Spec: t.Spec,
	}
	return pod
}

// podCondition returns the pod's condition of type t, or nil.
func podCondition(pod *v1.Pod, t v1.PodConditionType) *v1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
