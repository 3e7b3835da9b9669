package controllers

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clientretry "k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// podNodeIndex indexes cached pods by spec.nodeName.
const podNodeIndex = "kin-pod-node-name"

// NodeLifecycleConfig tunes the node lifecycle controller.
type NodeLifecycleConfig struct {
	// GracePeriod is how long a node may go without a heartbeat (its Ready
	// condition's lastHeartbeatTime or its Lease in kube-node-lease) before
	// its conditions become Unknown. Zero means 40s, as in Kubernetes.
	GracePeriod time.Duration
	// MonitorPeriod is how often every node is checked. Zero means 5s.
	MonitorPeriod time.Duration
	// DefaultTolerationSeconds is the tolerationSeconds assumed for the
	// not-ready and unreachable NoExecute taints when a pod has no
	// toleration for them, which is what kube-apiserver's
	// DefaultTolerationSeconds admission plugin adds to every pod. Zero
	// means 300; a negative value evicts such pods at once.
	DefaultTolerationSeconds int64
	// UseLeases makes node Leases in kube-node-lease count as heartbeats.
	UseLeases bool
	// Clock is the time source; nil means the real clock.
	Clock clock.PassiveClock
}

// withDefaults fills in zero fields.
func (c NodeLifecycleConfig) withDefaults() NodeLifecycleConfig {
	if c.GracePeriod <= 0 {
		c.GracePeriod = 40 * time.Second
	}
	if c.MonitorPeriod <= 0 {
		c.MonitorPeriod = 5 * time.Second
	}
	if c.DefaultTolerationSeconds == 0 {
		c.DefaultTolerationSeconds = 300
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	return c
}

// NodeLifecycleController watches node heartbeats: a node silent for the
// grace period gets Unknown conditions; nodes that are not Ready get the
// not-ready or unreachable NoSchedule and NoExecute taints (removed when
// they are Ready again), cordoned nodes the unschedulable taint; and pods on
// a node with NoExecute taints are deleted once their tolerations run out
// (at once when they do not tolerate a taint at all).
type NodeLifecycleController struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	recorder record.EventRecorder
	cfg      NodeLifecycleConfig
	nodes    corelisters.NodeLister
	pods     cache.Indexer
	leases   coordinationlisters.LeaseLister
	synced   []cache.InformerSynced
	runner   *runner[string]

	mu sync.Mutex
	// health remembers, per node, the last heartbeat seen and when it was
	// seen on this controller's clock (node clocks are not trusted).
	health map[string]*nodeHealth
	// taintSeen remembers when NoExecute taints without timeAdded were
	// first seen, keyed by node and taint.
	taintSeen map[string]time.Time
}

// nodeHealth is the last heartbeat observed for a node.
type nodeHealth struct {
	heartbeat metav1.Time
	renew     metav1.MicroTime
	probe     time.Time
}

// NewNodeLifecycleController returns a node lifecycle controller using
// factory's Node, Pod and (with cfg.UseLeases) Lease informers.
func NewNodeLifecycleController(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, cfg NodeLifecycleConfig) *NodeLifecycleController {
	c := &NodeLifecycleController{
		client:    client,
		factory:   factory,
		recorder:  recorder,
		cfg:       cfg.withDefaults(),
		nodes:     factory.Core().V1().Nodes().Lister(),
		health:    map[string]*nodeHealth{},
		taintSeen: map[string]time.Time{},
	}
	c.runner = newRunner("nodelifecycle", c.sync)
	podInformer := factory.Core().V1().Pods().Informer()
	_ = podInformer.AddIndexers(cache.Indexers{podNodeIndex: func(obj any) ([]string, error) {
		if pod, ok := obj.(*v1.Pod); ok && pod.Spec.NodeName != "" {
			return []string{pod.Spec.NodeName}, nil
		}
		return nil, nil
	}})
	c.pods = podInformer.GetIndexer()
	c.synced = append(c.synced,
		addHandler(factory.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueNode,
			UpdateFunc: func(_, obj any) { c.enqueueNode(obj) },
			DeleteFunc: c.enqueueNode,
		}),
		addHandler(podInformer, cache.ResourceEventHandlerFuncs{
			AddFunc:    c.podChanged,
			UpdateFunc: func(_, obj any) { c.podChanged(obj) },
		}),
	)
	if c.cfg.UseLeases {
		leases := factory.Coordination().V1().Leases()
		c.leases = leases.Lister()
		c.synced = append(c.synced, addHandler(leases.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.leaseChanged,
			UpdateFunc: func(_, obj any) { c.leaseChanged(obj) },
		}))
	}
	return c
}

// Run checks nodes with the given number of workers until ctx ends.
func (c *NodeLifecycleController) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "nodelifecycle", c.synced...) {
		return nil
	}
	go func() {
		t := time.NewTicker(c.cfg.MonitorPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.enqueueAll()
			}
		}
	}()
	c.runner.run(ctx, workers)
	return nil
}

// enqueueNode queues a node by name.
func (c *NodeLifecycleController) enqueueNode(obj any) {
	if key, ok := keyOf(obj); ok {
		c.runner.add(key)
	}
}

// enqueueAll queues every node.
func (c *NodeLifecycleController) enqueueAll() {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return
	}
	for _, n := range nodes {
		c.runner.add(n.Name)
	}
}

// leaseChanged queues the node a kube-node-lease Lease belongs to.
func (c *NodeLifecycleController) leaseChanged(obj any) {
	if l, ok := obj.(*coordinationv1.Lease); ok && l.Namespace == v1.NamespaceNodeLease {
		c.runner.add(l.Name)
	}
}

// podChanged queues the node of a pod that landed on a NoExecute-tainted node.
func (c *NodeLifecycleController) podChanged(obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if err != nil {
		return
	}
	for _, t := range node.Spec.Taints {
		if t.Effect == v1.TaintEffectNoExecute {
			c.runner.add(node.Name)
			return
		}
	}
}

// observe records the node's current heartbeat and returns when this
// controller last saw it change.
func (c *NodeLifecycleController) observe(node *v1.Node, now time.Time) time.Time {
	var hb metav1.Time
	if r := nodeReadyCondition(node); r != nil {
		hb = r.LastHeartbeatTime
	}
	var renew metav1.MicroTime
	if c.leases != nil {
		if l, err := c.leases.Leases(v1.NamespaceNodeLease).Get(node.Name); err == nil && l.Spec.RenewTime != nil {
			renew = *l.Spec.RenewTime
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.health[node.Name]
	if h == nil {
		h = &nodeHealth{heartbeat: hb, renew: renew, probe: now}
		c.health[node.Name] = h
	}
	if !h.heartbeat.Equal(&hb) || !h.renew.Equal(&renew) {
		h.heartbeat, h.renew, h.probe = hb, renew, now
	}
	return h.probe
}

// monitoredConditions are the conditions set to Unknown when a node goes silent.
var monitoredConditions = []v1.NodeConditionType{v1.NodeReady, v1.NodeMemoryPressure, v1.NodeDiskPressure, v1.NodePIDPressure}

// planNodeConditions returns the node's conditions after the health check:
// unchanged while heartbeats arrive, Unknown once none arrived for grace.
// recheck is when the node would go silent without a new heartbeat.
func planNodeConditions(node *v1.Node, probe, now time.Time, grace time.Duration) (conds []v1.NodeCondition, changed bool, recheck time.Duration) {
	conds = append([]v1.NodeCondition(nil), node.Status.Conditions...)
	deadline := probe.Add(grace)
	if now.Before(deadline) {
		return conds, false, deadline.Sub(now)
	}
	ts := metav1.NewTime(now)
	for _, t := range monitoredConditions {
		i := -1
		for j := range conds {
			if conds[j].Type == t {
				i = j
			}
		}
		switch {
		case i < 0:
			conds = append(conds, v1.NodeCondition{
				Type: t, Status: v1.ConditionUnknown, Reason: "NodeStatusNeverUpdated",
				Message: "Kubelet never posted node status.", LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: ts,
			})
			changed = true
		case conds[i].Status != v1.ConditionUnknown:
			conds[i].Status = v1.ConditionUnknown
			conds[i].Reason = "NodeStatusUnknown"
			conds[i].Message = "Kubelet stopped posting node status."
			conds[i].LastTransitionTime = ts
			changed = true
		}
	}
	return conds, changed, 0
}

// managedTaint reports whether the node lifecycle controller owns a taint.
func managedTaint(t v1.Taint) bool {
	switch t.Key {
	case taintNotReady, taintUnreachable:
		return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
	case taintUnschedulable:
		return t.Effect == v1.TaintEffectNoSchedule
	}
	return false
}

// planNodeTaints returns the node's taints with the lifecycle taints
// matching its Ready condition and spec.unschedulable; taints that stay keep
// their timeAdded.
func planNodeTaints(taints []v1.Taint, ready v1.ConditionStatus, unschedulable bool, now time.Time) ([]v1.Taint, bool) {
	var want []v1.Taint
	ts := metav1.NewTime(now)
	switch ready {
	case v1.ConditionTrue:
	case v1.ConditionUnknown:
		want = append(want, v1.Taint{Key: taintUnreachable, Effect: v1.TaintEffectNoSchedule},
			v1.Taint{Key: taintUnreachable, Effect: v1.TaintEffectNoExecute, TimeAdded: &ts})
	default: // False or no Ready condition yet.
		want = append(want, v1.Taint{Key: taintNotReady, Effect: v1.TaintEffectNoSchedule},
			v1.Taint{Key: taintNotReady, Effect: v1.TaintEffectNoExecute, TimeAdded: &ts})
	}
	if unschedulable {
		want = append(want, v1.Taint{Key: taintUnschedulable, Effect: v1.TaintEffectNoSchedule})
	}
	var out []v1.Taint
	changed := false
	for _, t := range taints {
		if !managedTaint(t) {
			out = append(out, t)
			continue
		}
		keep := false
		for i, w := range want {
			if w.Key == t.Key && w.Effect == t.Effect {
				keep = true
				want = append(want[:i], want[i+1:]...)
				break
			}
		}
		if keep {
			out = append(out, t)
		} else {
			changed = true
		}
	}
	if len(want) > 0 {
		out = append(out, want...)
		changed = true
	}
	return out, changed
}

// eviction is a pod the taint manager deletes, or will at deadline.
type eviction struct {
	pod      *v1.Pod
	deadline time.Time
}

// planEvictions applies NoExecute taints to the pods on a node: a pod that
// does not tolerate every such taint is evicted now; otherwise at the
// taint time plus the smallest tolerationSeconds among the tolerations used
// (never, when none has a limit). taintSince gives when each taint was
// added. It returns the pods due now and how long until the next is due.
func planEvictions(logger klog.Logger, pods []*v1.Pod, taints []v1.Taint, taintSince func(v1.Taint) time.Time,
	defaultSeconds int64, now time.Time) ([]*v1.Pod, time.Duration) {
	var noExecute []v1.Taint
	var since time.Time
	for _, t := range taints {
		if t.Effect == v1.TaintEffectNoExecute {
			noExecute = append(noExecute, t)
			if s := taintSince(t); s.After(since) {
				since = s
			}
		}
	}
	if len(noExecute) == 0 {
		return nil, 0
	}
	var due []*v1.Pod
	var next time.Duration
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || isPodTerminal(pod) {
			continue
		}
		tolerations := withDefaultTolerations(pod.Spec.Tolerations, defaultSeconds)
		minSeconds := int64(-1) // -1: tolerated forever.
		tolerated := true
		for i := range noExecute {
			var used *v1.Toleration
			for j := range tolerations {
				if tolerations[j].ToleratesTaint(logger, &noExecute[i], false) {
					used = &tolerations[j]
					break
				}
			}
			if used == nil {
				tolerated = false
				break
			}
			if used.TolerationSeconds != nil {
				s := max(*used.TolerationSeconds, 0)
				if minSeconds < 0 || s < minSeconds {
					minSeconds = s
				}
			}
		}
		switch {
		case !tolerated:
			due = append(due, pod)
		case minSeconds < 0:
		default:
			deadline := since.Add(time.Duration(minSeconds) * time.Second)
			if !now.Before(deadline) {
				due = append(due, pod)
			} else if d := deadline.Sub(now); next == 0 || d < next {
				next = d
			}
		}
	}
	return due, next
}

// withDefaultTolerations adds the not-ready and unreachable NoExecute
// tolerations kube-apiserver's DefaultTolerationSeconds admission plugin
// would have added to a pod lacking them.
func withDefaultTolerations(tolerations []v1.Toleration, seconds int64) []v1.Toleration {
	if seconds < 0 {
		return tolerations
	}
	out := tolerations
	for _, key := range []string{taintNotReady, taintUnreachable} {
		taint := v1.Taint{Key: key, Effect: v1.TaintEffectNoExecute}
		has := false
		for i := range tolerations {
			if tolerations[i].ToleratesTaint(klog.Background(), &taint, false) {
				has = true
				break
			}
		}
		if !has {
			out = append(append([]v1.Toleration(nil), out...), v1.Toleration{
				Key: key, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptrTo(seconds),
			})
		}
	}
	return out
}

// sync checks one node's health, taints and NoExecute evictions.
func (c *NodeLifecycleController) sync(ctx context.Context, name string) outcome {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(name)
		return done()
	}
	if err != nil {
		return retry(err)
	}
	now := c.cfg.Clock.Now()
	probe := c.observe(node, now)
	conds, condsChanged, recheck := planNodeConditions(node, probe, now, c.cfg.GracePeriod)
	if condsChanged {
		updated := node.DeepCopy()
		updated.Status.Conditions = conds
		if node, err = c.client.CoreV1().Nodes().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return retry(errorf("nodelifecycle: mark node %s unknown: %w", name, err))
		}
		c.recorder.Eventf(node, v1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", name)
	}
	ready := v1.ConditionStatus("")
	if r := nodeReadyCondition(node); r != nil {
		ready = r.Status
	}
	if _, changed := planNodeTaints(node.Spec.Taints, ready, node.Spec.Unschedulable, now); changed {
		if node, err = c.setTaints(ctx, name, ready); err != nil {
			return retry(errorf("nodelifecycle: taint node %s: %w", name, err))
		}
	}
	var errs []error
	if ready == v1.ConditionUnknown {
		errs = append(errs, c.markPodsNotReady(ctx, node, now))
	}
	evictAfter, err := c.evict(ctx, node, now)
	out := retryAfter(minPositive(recheck, evictAfter))
	return out.withError(errors.Join(append(errs, err)...))
}

// podsOn returns the cached pods bound to node, sorted by namespace/name.
func (c *NodeLifecycleController) podsOn(node string) ([]*v1.Pod, error) {
	objs, err := c.pods.ByIndex(podNodeIndex, node)
	if err != nil {
		return nil, err
	}
	pods := make([]*v1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*v1.Pod); ok && p.Spec.NodeName == node {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Namespace+"/"+pods[i].Name < pods[j].Namespace+"/"+pods[j].Name })
	return pods, nil
}

// markPodsNotReady sets Ready=False on the pods of an unreachable node, as
// Kubernetes does, so that Services stop sending them traffic while their
// kubelet cannot report.
func (c *NodeLifecycleController) markPodsNotReady(ctx context.Context, node *v1.Node, now time.Time) error {
	pods, err := c.podsOn(node.Name)
	if err != nil {
		return err
	}
	var errs []error
	for _, pod := range pods {
		if !isPodReady(pod) || isPodTerminal(pod) {
			continue
		}
		updated := pod.DeepCopy()
		cond := podReadyCondition(updated)
		cond.Status = v1.ConditionFalse
		cond.LastTransitionTime = metav1.NewTime(now)
		if _, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, errorf("nodelifecycle: mark pod %s/%s not ready: %w", pod.Namespace, pod.Name, err))
			}
			continue
		}
		c.recorder.Event(pod, v1.EventTypeWarning, "NodeNotReady", "Node is not ready")
	}
	return errors.Join(errs...)
}

// setTaints writes the lifecycle taints onto a fresh copy of the node,
// retrying on conflicts with the kubelet's own writes.
func (c *NodeLifecycleController) setTaints(ctx context.Context, name string, ready v1.ConditionStatus) (*v1.Node, error) {
	var result *v1.Node
	err := clientretry.RetryOnConflict(clientretry.DefaultBackoff, func() error {
		fresh, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		taints, changed := planNodeTaints(fresh.Spec.Taints, ready, fresh.Spec.Unschedulable, c.cfg.Clock.Now())
		if !changed {
			result = fresh
			return nil
		}
		fresh.Spec.Taints = taints
		result, err = c.client.CoreV1().Nodes().Update(ctx, fresh, metav1.UpdateOptions{})
		return err
	})
	return result, err
}

// evict deletes the pods on node whose NoExecute tolerations ran out and
// returns how long until the next one is due.
func (c *NodeLifecycleController) evict(ctx context.Context, node *v1.Node, now time.Time) (time.Duration, error) {
	pods, err := c.podsOn(node.Name)
	if err != nil {
		return 0, err
	}
	due, next := planEvictions(klog.FromContext(ctx), pods, node.Spec.Taints, c.taintSince(node.Name, now), c.cfg.DefaultTolerationSeconds, now)
	var errs []error
	for _, pod := range due {
		c.recorder.Eventf(pod, v1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", pod.Namespace, pod.Name)
		uid := pod.UID
		err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, errorf("nodelifecycle: evict %s/%s: %w", pod.Namespace, pod.Name, err))
		}
	}
	return next, errors.Join(errs...)
}

// taintSince returns when a taint was added: its timeAdded, else when this
// controller first saw it.
func (c *NodeLifecycleController) taintSince(node string, now time.Time) func(v1.Taint) time.Time {
	return func(t v1.Taint) time.Time {
		if t.TimeAdded != nil {
			return t.TimeAdded.Time
		}
		key := node + "\x00" + t.Key + "\x00" + string(t.Effect)
		c.mu.Lock()
		defer c.mu.Unlock()
		s, ok := c.taintSeen[key]
		if !ok {
			s = now
			c.taintSeen[key] = s
		}
		return s
	}
}

// forget drops what is remembered about a deleted node.
func (c *NodeLifecycleController) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.health, name)
	for k := range c.taintSeen {
		if len(k) > len(name) && k[:len(name)+1] == name+"\x00" {
			delete(c.taintSeen, k)
		}
	}
}

// minPositive returns the smaller positive duration, 0 if neither is.
func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}
