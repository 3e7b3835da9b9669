package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// DefaultSchedulerName is the schedulerName of pods this scheduler binds.
const DefaultSchedulerName = v1.DefaultSchedulerName

// Node taint keys the scheduler and node lifecycle controller share.
const (
	taintNotReady      = v1.TaintNodeNotReady
	taintUnreachable   = v1.TaintNodeUnreachable
	taintUnschedulable = v1.TaintNodeUnschedulable
)

// Filter failure reasons, worded as kube-scheduler's plugins word them.
const (
	reasonNodeUnschedulable = "node(s) were unschedulable"
	reasonNodeAffinity      = "node(s) didn't match Pod's node affinity/selector"
	reasonNodePorts         = "node(s) didn't have free ports for the requested pod ports"
	reasonNoPreemption      = "Preemption is not helpful for scheduling"
)

// assumedTTL is how long a binding this scheduler made counts towards
// spreading before the pod cache shows it.
const assumedTTL = 30 * time.Second

// Scheduler binds pending pods to nodes like kube-scheduler's default
// profile restricted to what kin needs: it filters nodes by readiness,
// spec.unschedulable, taints and tolerations, node selector and required
// node affinity and host ports, and picks the feasible node with the fewest
// pods of the same owner, then the fewest pods, then the first name.
type Scheduler struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	recorder record.EventRecorder
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	runner   *runner[string]

	// UnschedulableRetry is how often a pod that fits nowhere is retried
	// when no node event brings it back earlier.
	UnschedulableRetry time.Duration

	mu sync.Mutex
	// assumed are pods bound by this scheduler that the cache may not show
	// on their node yet.
	assumed map[types.UID]assumedPod
}

// assumedPod is a binding not yet confirmed by the pod cache.
type assumedPod struct {
	pod  *v1.Pod
	node string
	at   time.Time
}

// NewScheduler returns a scheduler using factory's Pod and Node informers.
func NewScheduler(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder) *Scheduler {
	s := &Scheduler{
		client:             client,
		factory:            factory,
		recorder:           recorder,
		pods:               factory.Core().V1().Pods().Lister(),
		nodes:              factory.Core().V1().Nodes().Lister(),
		UnschedulableRetry: 30 * time.Second,
		assumed:            map[types.UID]assumedPod{},
	}
	s.runner = newRunner("scheduler", s.sync)
	s.synced = append(s.synced,
		addHandler(factory.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: s.podChanged,
			UpdateFunc: func(oldObj, newObj any) {
				// Status-only updates (including the scheduler's own
				// condition) cannot make a pod fit; the retry timer covers them.
				o, n := oldObj.(*v1.Pod), newObj.(*v1.Pod)
				if n.Spec.NodeName != "" || n.DeletionTimestamp != nil ||
					!equality.Semantic.DeepEqual(o.Spec, n.Spec) || !equality.Semantic.DeepEqual(o.Labels, n.Labels) {
					s.podChanged(newObj)
				}
			},
			DeleteFunc: func(obj any) { s.podChanged(unwrapTombstone(obj)) },
		}),
		addHandler(factory.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { s.requeuePending() },
			UpdateFunc: func(oldObj, newObj any) {
				if nodeSchedulingChanged(oldObj.(*v1.Node), newObj.(*v1.Node)) {
					s.requeuePending()
				}
			},
		}),
	)
	return s
}

// Run schedules pods with the given number of workers until ctx ends.
// Workers beyond one gain little: every decision reads the same cache.
func (s *Scheduler) Run(ctx context.Context, workers int) error {
	s.factory.Start(ctx.Done())
	if !waitForSync(ctx, "scheduler", s.synced...) {
		return nil
	}
	s.runner.run(ctx, 1)
	return nil
}

// responsible reports whether this scheduler should place the pod.
func responsible(pod *v1.Pod) bool {
	return pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil && !isPodTerminal(pod) &&
		(pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == DefaultSchedulerName)
}

// podChanged queues a pending pod and forgets assumptions the cache confirmed.
func (s *Scheduler) podChanged(obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
		s.mu.Lock()
		delete(s.assumed, pod.UID)
		s.mu.Unlock()
	}
	if responsible(pod) {
		if key, ok := keyOf(pod); ok {
			s.runner.add(key)
		}
	}
}

// nodeSchedulingChanged reports whether a node update can change where
// pods fit (heartbeats alone cannot).
func nodeSchedulingChanged(o, n *v1.Node) bool {
	readyStatus := func(node *v1.Node) v1.ConditionStatus {
		if c := nodeReadyCondition(node); c != nil {
			return c.Status
		}
		return ""
	}
	return o.Spec.Unschedulable != n.Spec.Unschedulable || readyStatus(o) != readyStatus(n) ||
		!equality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) || !equality.Semantic.DeepEqual(o.Labels, n.Labels)
}

// requeuePending queues every pending pod: a node change may make room.
func (s *Scheduler) requeuePending() {
	pods, err := s.pods.List(labels.Everything())
	if err != nil {
		return
	}
	for _, pod := range pods {
		if responsible(pod) {
			s.runner.add(pod.Namespace + "/" + pod.Name)
		}
	}
}

// sync tries to place one pod.
func (s *Scheduler) sync(ctx context.Context, key string) outcome {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return noRetry(err)
	}
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return done()
	}
	if err != nil {
		return retry(err)
	}
	if !responsible(pod) || s.isAssumed(pod.UID) {
		return done()
	}
	nodes, err := s.nodes.List(labels.Everything())
	if err != nil {
		return retry(err)
	}
	all, err := s.pods.List(labels.Everything())
	if err != nil {
		return retry(err)
	}
	node, fitErr := schedulePod(klog.FromContext(ctx), pod, nodes, s.withAssumed(all))
	if fitErr != nil {
		return s.unschedulable(ctx, pod, fitErr)
	}
	return s.bind(ctx, pod, node)
}

// isAssumed reports whether the pod was bound recently by this scheduler.
func (s *Scheduler) isAssumed(uid types.UID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assumed[uid]
	return ok && time.Since(a.at) < assumedTTL
}

// withAssumed returns the cached pods with recent bindings applied.
func (s *Scheduler) withAssumed(pods []*v1.Pod) []*v1.Pod {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*v1.Pod, 0, len(pods))
	for _, p := range pods {
		if a, ok := s.assumed[p.UID]; ok && p.Spec.NodeName == "" {
			out = append(out, a.pod)
			continue
		}
		out = append(out, p)
	}
	for uid, a := range s.assumed {
		if time.Since(a.at) >= assumedTTL {
			delete(s.assumed, uid)
		}
	}
	return out
}

// bind posts the pods/binding subresource and records the Scheduled event.
func (s *Scheduler) bind(ctx context.Context, pod *v1.Pod, node string) outcome {
	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := s.client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return done() // Deleted or bound by someone else meanwhile.
		}
		return retry(errorf("scheduler: bind %s/%s to %s: %w", pod.Namespace, pod.Name, node, err))
	}
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = node
	s.mu.Lock()
	s.assumed[pod.UID] = assumedPod{pod: assumed, node: node, at: time.Now()}
	s.mu.Unlock()
	s.recorder.Eventf(pod, v1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, node)
	return done()
}

// unschedulable records why a pod fits nowhere: a FailedScheduling event
// and the PodScheduled=False condition with reason Unschedulable.
func (s *Scheduler) unschedulable(ctx context.Context, pod *v1.Pod, fitErr error) outcome {
	msg := fitErr.Error()
	s.recorder.Event(pod, v1.EventTypeWarning, "FailedScheduling", msg)
	cur := podCondition(pod, v1.PodScheduled)
	if cur == nil || cur.Status != v1.ConditionFalse || cur.Reason != v1.PodReasonUnschedulable || cur.Message != msg {
		updated := pod.DeepCopy()
		cond := v1.PodCondition{
			Type:               v1.PodScheduled,
			Status:             v1.ConditionFalse,
			Reason:             v1.PodReasonUnschedulable,
			Message:            msg,
			LastTransitionTime: metav1.Now(),
		}
		if c := podCondition(updated, v1.PodScheduled); c != nil {
			if c.Status == cond.Status {
				cond.LastTransitionTime = c.LastTransitionTime
			}
			*c = cond
		} else {
			updated.Status.Conditions = append(updated.Status.Conditions, cond)
		}
		if _, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return retry(errorf("scheduler: update status of %s/%s: %w", pod.Namespace, pod.Name, err))
		}
	}
	return retryAfter(s.UnschedulableRetry)
}

// fitError explains why a pod fits no node, in kube-scheduler's words.
type fitError struct {
	numNodes int
	// reasons counts nodes per filter failure.
	reasons map[string]int
}

// Error renders "0/N nodes are available: <histogram>. preemption: ...".
func (e *fitError) Error() string {
	if e.numNodes == 0 {
		return "no nodes available to schedule pods"
	}
	hist := make([]string, 0, len(e.reasons))
	for r, n := range e.reasons {
		hist = append(hist, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(hist)
	return fmt.Sprintf("0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d %s.",
		e.numNodes, strings.Join(hist, ", "), e.numNodes, e.numNodes, reasonNoPreemption)
}

// schedulePod picks a node for pod among nodes, given every pod in the
// cluster (bound ones count for spreading and host ports). It is pure.
func schedulePod(logger klog.Logger, pod *v1.Pod, nodes []*v1.Node, pods []*v1.Pod) (string, error) {
	fe := &fitError{numNodes: len(nodes), reasons: map[string]int{}}
	if len(nodes) == 0 {
		return "", fe
	}
	type load struct{ sameOwner, total int }
	loads := map[string]*load{}
	usedPorts := map[string][]v1.ContainerPort{}
	owner := metav1.GetControllerOfNoCopy(pod)
	for _, p := range pods {
		if p.Spec.NodeName == "" || isPodTerminal(p) || p.UID == pod.UID && p.UID != "" {
			continue
		}
		l := loads[p.Spec.NodeName]
		if l == nil {
			l = &load{}
			loads[p.Spec.NodeName] = l
		}
		l.total++
		if owner != nil {
			if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.UID == owner.UID {
				l.sameOwner++
			}
		}
		usedPorts[p.Spec.NodeName] = append(usedPorts[p.Spec.NodeName], hostPorts(p)...)
	}
	var best string
	var bestLoad load
	for _, node := range nodes {
		if reason := filterNode(logger, pod, node, usedPorts[node.Name]); reason != "" {
			fe.reasons[reason]++
			continue
		}
		l := load{}
		if p := loads[node.Name]; p != nil {
			l = *p
		}
		if best == "" || l.sameOwner < bestLoad.sameOwner ||
			l.sameOwner == bestLoad.sameOwner && (l.total < bestLoad.total || l.total == bestLoad.total && node.Name < best) {
			best, bestLoad = node.Name, l
		}
	}
	if best == "" {
		return "", fe
	}
	return best, nil
}

// filterNode runs kube-scheduler's filters in its order and returns the
// first failure reason, or "" when the pod fits the node.
func filterNode(logger klog.Logger, pod *v1.Pod, node *v1.Node, usedPorts []v1.ContainerPort) string {
	// NodeUnschedulable.
	if node.Spec.Unschedulable && !toleratesAny(logger, pod.Spec.Tolerations, &v1.Taint{Key: taintUnschedulable, Effect: v1.TaintEffectNoSchedule}) {
		return reasonNodeUnschedulable
	}
	// TaintToleration, including the taint the node lifecycle controller
	// puts on a node that is not Ready.
	for _, taint := range effectiveTaints(node) {
		if taint.Effect != v1.TaintEffectNoSchedule && taint.Effect != v1.TaintEffectNoExecute {
			continue
		}
		if !toleratesAny(logger, pod.Spec.Tolerations, &taint) {
			return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value)
		}
	}
	// NodeAffinity: nodeSelector and required node affinity terms.
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !ok {
		return reasonNodeAffinity
	}
	// NodePorts.
	for _, want := range hostPorts(pod) {
		for _, used := range usedPorts {
			if portsConflict(want, used) {
				return reasonNodePorts
			}
		}
	}
	return ""
}

// effectiveTaints returns the node's taints plus the not-ready or
// unreachable NoSchedule taint a node that is not Ready carries in
// Kubernetes, when the node lifecycle controller has not added it yet.
func effectiveTaints(node *v1.Node) []v1.Taint {
	taints := node.Spec.Taints
	key := ""
	switch c := nodeReadyCondition(node); {
	case c == nil || c.Status == v1.ConditionFalse:
		key = taintNotReady
	case c.Status == v1.ConditionUnknown:
		key = taintUnreachable
	default:
		return taints
	}
	for _, t := range taints {
		if t.Key == key && t.Effect == v1.TaintEffectNoSchedule {
			return taints
		}
	}
	return append(append([]v1.Taint(nil), taints...), v1.Taint{Key: key, Effect: v1.TaintEffectNoSchedule})
}

// nodeReadyCondition returns the node's Ready condition, or nil.
func nodeReadyCondition(node *v1.Node) *v1.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == v1.NodeReady {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}

// toleratesAny reports whether one of the tolerations tolerates taint.
func toleratesAny(logger klog.Logger, tolerations []v1.Toleration, taint *v1.Taint) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(logger, taint, false) {
			return true
		}
	}
	return false
}

// hostPorts returns the pod's container ports that claim a host port.
func hostPorts(pod *v1.Pod) []v1.ContainerPort {
	var out []v1.ContainerPort
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				out = append(out, p)
			}
		}
	}
	return out
}

// portsConflict reports whether two host ports collide: same port and
// protocol on overlapping host IPs.
func portsConflict(a, b v1.ContainerPort) bool {
	if a.HostPort != b.HostPort || protocolOf(a) != protocolOf(b) {
		return false
	}
	wild := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return wild(a.HostIP) || wild(b.HostIP) || a.HostIP == b.HostIP
}

// protocolOf returns the port's protocol, TCP by default.
func protocolOf(p v1.ContainerPort) v1.Protocol {
	if p.Protocol == "" {
		return v1.ProtocolTCP
	}
	return p.Protocol
}
