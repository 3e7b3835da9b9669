package node

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// eventRecorder records events until it is stopped; goroutines that
// outlive a run (probes, kills) then record nothing.
type eventRecorder struct {
	mu      sync.RWMutex
	r       record.EventRecorder
	stopped bool
}

// Event records an event.
func (e *eventRecorder) Event(obj runtime.Object, eventType, reason, message string) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if !e.stopped {
		e.r.Event(obj, eventType, reason, message)
	}
}

// Eventf records an event with a formatted message.
func (e *eventRecorder) Eventf(obj runtime.Object, eventType, reason, format string, args ...any) {
	e.Event(obj, eventType, reason, fmt.Sprintf(format, args...))
}

// stop makes later events no-ops.
func (e *eventRecorder) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
}

// event records an event about a container of the pod.
func (w *podWorker) event(pod *corev1.Pod, c *corev1.Container, eventType, reason, message string) {
	ref := podRef(pod)
	if ref == nil {
		return
	}
	ref.FieldPath = containerFieldPath(pod, c.Name)
	w.rs.recorder.Event(ref, eventType, reason, message)
}

// podEvent records an event about the pod.
func (w *podWorker) podEvent(pod *corev1.Pod, eventType, reason, message string) {
	if ref := podRef(pod); ref != nil {
		w.rs.recorder.Event(ref, eventType, reason, message)
	}
}

// podRef is the reference events about the pod carry.
func podRef(pod *corev1.Pod) *corev1.ObjectReference {
	if pod == nil {
		return nil
	}
	return &corev1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
		UID: pod.UID, ResourceVersion: pod.ResourceVersion,
	}
}

// containerFieldPath is the fieldPath of a container in events.
func containerFieldPath(pod *corev1.Pod, name string) string {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return "spec.initContainers{" + name + "}"
		}
	}
	return "spec.containers{" + name + "}"
}
