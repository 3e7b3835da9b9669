package controllers

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// daemonSetKind is the owner reference kind of DaemonSet pods.
var daemonSetKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// templateGenerationLabel is the deprecated label Kubernetes still puts on
// DaemonSet pods next to controller-revision-hash.
const templateGenerationLabel = appsv1.DeprecatedTemplateGeneration

// DaemonSetController runs one pod of each DaemonSet on every eligible node
// (node selector, node affinity, taints the pod does not tolerate), pinning
// each pod to its node with required node affinity on metadata.name so the
// scheduler binds it there, replaces pods with an outdated
// controller-revision-hash within maxUnavailable (RollingUpdate), and
// reports status.
type DaemonSetController struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	recorder record.EventRecorder
	dsLister appslisters.DaemonSetLister
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	expect   *expectations
	runner   *runner[string]
	now      func() time.Time
}

// NewDaemonSetController returns a DaemonSet controller using factory's
// DaemonSet, Pod and Node informers.
func NewDaemonSetController(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder) *DaemonSetController {
	c := &DaemonSetController{
		client:   client,
		factory:  factory,
		recorder: recorder,
		dsLister: factory.Apps().V1().DaemonSets().Lister(),
		pods:     factory.Core().V1().Pods().Lister(),
		nodes:    factory.Core().V1().Nodes().Lister(),
		expect:   newExpectations(),
		now:      time.Now,
	}
	c.runner = newRunner("daemonset", c.sync)
	c.synced = append(c.synced,
		addHandler(factory.Apps().V1().DaemonSets().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, obj any) { c.enqueue(obj) },
			DeleteFunc: c.enqueue,
		}),
		addHandler(factory.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.podChanged(obj, false) },
			UpdateFunc: func(oldObj, newObj any) { c.podChanged(oldObj, false); c.podChanged(newObj, false) },
			DeleteFunc: func(obj any) { c.podChanged(unwrapTombstone(obj), true) },
		}),
		addHandler(factory.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { c.enqueueAll() },
			UpdateFunc: func(oldObj, newObj any) {
				if nodeSchedulingChanged(oldObj.(*v1.Node), newObj.(*v1.Node)) {
					c.enqueueAll()
				}
			},
			DeleteFunc: func(any) { c.enqueueAll() },
		}),
	)
	return c
}

// Run syncs DaemonSets with the given number of workers until ctx ends.
func (c *DaemonSetController) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "daemonset", c.synced...) {
		return nil
	}
	c.runner.run(ctx, workers)
	return nil
}

// enqueue queues a DaemonSet.
func (c *DaemonSetController) enqueue(obj any) {
	if key, ok := keyOf(obj); ok {
		c.runner.add(key)
	}
}

// enqueueAll queues every DaemonSet; node changes concern all of them.
func (c *DaemonSetController) enqueueAll() {
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		c.runner.add(ds.Namespace + "/" + ds.Name)
	}
}

// podChanged queues the DaemonSet controlling a pod, or the ones that could
// adopt an orphan, and tells expectations what the cache has seen.
func (c *DaemonSetController) podChanged(obj any, deleted bool) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if ref.Kind == daemonSetKind.Kind && ref.APIVersion == daemonSetKind.GroupVersion().String() {
			key := pod.Namespace + "/" + ref.Name
			c.expect.observe(key, pod.Name, deleted || pod.DeletionTimestamp != nil)
			c.runner.add(key)
		}
		return
	}
	all, err := c.dsLister.DaemonSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			c.runner.add(ds.Namespace + "/" + ds.Name)
		}
	}
}

// daemonTolerations are the tolerations Kubernetes adds to every DaemonSet
// pod so that it keeps running on (and is placed on) nodes that are not
// ready, unreachable, under pressure or cordoned.
var daemonTolerations = []v1.Toleration{
	{Key: v1.TaintNodeNotReady, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute},
	{Key: v1.TaintNodeUnreachable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute},
	{Key: v1.TaintNodeDiskPressure, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
	{Key: v1.TaintNodeMemoryPressure, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
	{Key: v1.TaintNodePIDPressure, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
	{Key: v1.TaintNodeUnschedulable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
}

// daemonPodTemplate returns the template DaemonSet pods are created from:
// the DaemonSet's, with the daemon tolerations and the
// controller-revision-hash and pod-template-generation labels.
func daemonPodTemplate(ds *appsv1.DaemonSet, hash string) *v1.PodTemplateSpec {
	t := ds.Spec.Template.DeepCopy()
	extra := daemonTolerations
	if t.Spec.HostNetwork {
		extra = append(append([]v1.Toleration{}, extra...),
			v1.Toleration{Key: v1.TaintNodeNetworkUnavailable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule})
	}
	for _, tol := range extra {
		found := false
		for i := range t.Spec.Tolerations {
			if t.Spec.Tolerations[i].MatchToleration(&tol) {
				found = true
				break
			}
		}
		if !found {
			t.Spec.Tolerations = append(t.Spec.Tolerations, tol)
		}
	}
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	t.Labels[templateGenerationLabel] = strconv.FormatInt(ds.Generation, 10)
	t.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
	return t
}

// pinToNode makes the pod schedulable only on node, the way Kubernetes
// does: its required node affinity becomes one term matching metadata.name.
func pinToNode(pod *v1.Pod, node string) {
	term := v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{{
		Key: metav1.ObjectNameField, Operator: v1.NodeSelectorOpIn, Values: []string{node},
	}}}
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &v1.Affinity{}
	}
	if pod.Spec.Affinity.NodeAffinity == nil {
		pod.Spec.Affinity.NodeAffinity = &v1.NodeAffinity{}
	}
	na := pod.Spec.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &v1.NodeSelector{}
	}
	na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = []v1.NodeSelectorTerm{term}
}

// targetNode returns the node a DaemonSet pod belongs to: its nodeName, or
// the node its affinity pins it to.
func targetNode(pod *v1.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, req := range term.MatchFields {
			if req.Key == metav1.ObjectNameField && req.Operator == v1.NodeSelectorOpIn && len(req.Values) == 1 {
				return req.Values[0]
			}
		}
	}
	return ""
}

// shouldRunOn reports whether a DaemonSet pod should be placed on node
// (shouldRun) and whether an existing one may stay (shouldContinue: a
// NoSchedule taint added later does not evict it, a NoExecute one does).
func shouldRunOn(logger klog.Logger, template *v1.PodTemplateSpec, node *v1.Node) (shouldRun, shouldContinue bool) {
	if template.Spec.NodeName != "" && template.Spec.NodeName != node.Name {
		return false, false
	}
	pod := &v1.Pod{Spec: template.Spec}
	pod.Spec.NodeName = node.Name
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !ok {
		return false, false
	}
	fits, fitsNoExecute := true, true
	for _, taint := range node.Spec.Taints {
		if taint.Effect != v1.TaintEffectNoSchedule && taint.Effect != v1.TaintEffectNoExecute {
			continue
		}
		if toleratesAny(logger, pod.Spec.Tolerations, &taint) {
			continue
		}
		fits = false
		if taint.Effect == v1.TaintEffectNoExecute {
			fitsNoExecute = false
		}
	}
	if !fits {
		return false, fitsNoExecute
	}
	return true, true
}

// isDaemonPodUpdated reports whether a pod was created from the current template.
func isDaemonPodUpdated(pod *v1.Pod, hash string) bool {
	return pod.Labels[appsv1.ControllerRevisionHashLabelKey] == hash
}

// olderPodFirst orders a node's daemon pods: running before pending,
// then oldest first.
func olderPodFirst(pods []*v1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		ri, rj := pods[i].Status.Phase == v1.PodRunning, pods[j].Status.Phase == v1.PodRunning
		if ri != rj {
			return ri
		}
		if !pods[i].CreationTimestamp.Equal(&pods[j].CreationTimestamp) {
			return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp)
		}
		return pods[i].Name < pods[j].Name
	})
}

// daemonSetPlan is what one DaemonSet sync decided.
type daemonSetPlan struct {
	// createOn are the nodes that need a pod.
	createOn []string
	// delete are the pods to delete.
	delete []*v1.Pod
	// status is the status to report.
	status appsv1.DaemonSetStatus
	// requeueAfter is when a ready pod becomes available.
	requeueAfter time.Duration
}

// planDaemonSet decides, from the nodes and the pods the DaemonSet controls,
// which nodes get a pod and which pods go (manage is false while earlier
// writes have not reached the cache or the DaemonSet is being deleted), runs
// the rolling update when nothing else is pending, and computes status.
func planDaemonSet(logger klog.Logger, ds *appsv1.DaemonSet, template *v1.PodTemplateSpec, hash string,
	nodes []*v1.Node, pods []*v1.Pod, manage bool, now time.Time) daemonSetPlan {
	var p daemonSetPlan
	byNode := map[string][]*v1.Pod{}
	for _, pod := range pods {
		if isPodTerminal(pod) && pod.DeletionTimestamp != nil {
			continue
		}
		byNode[targetNode(pod)] = append(byNode[targetNode(pod)], pod)
	}
	nodeNames := map[string]bool{}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, node := range nodes {
		nodeNames[node.Name] = true
		shouldRun, shouldContinue := shouldRunOn(logger, template, node)
		onNode := byNode[node.Name]
		switch {
		case shouldRun && len(onNode) == 0:
			p.createOn = append(p.createOn, node.Name)
		case shouldContinue:
			var running []*v1.Pod
			for _, pod := range onNode {
				switch {
				case pod.DeletionTimestamp != nil:
				case isPodTerminal(pod):
					p.delete = append(p.delete, pod) // Replaced on a later sync.
				default:
					running = append(running, pod)
				}
			}
			olderPodFirst(running)
			if len(running) > 1 {
				p.delete = append(p.delete, running[1:]...)
			}
		default:
			for _, pod := range onNode {
				if pod.DeletionTimestamp == nil {
					p.delete = append(p.delete, pod)
				}
			}
		}
	}
	// Pods for nodes that no longer exist.
	for name, onNode := range byNode {
		if nodeNames[name] {
			continue
		}
		for _, pod := range onNode {
			if pod.DeletionTimestamp == nil {
				p.delete = append(p.delete, pod)
			}
		}
	}
	if !manage {
		p.createOn, p.delete = nil, nil
	}
	if manage && len(p.createOn) == 0 && len(p.delete) == 0 && isDaemonRollingUpdate(ds) {
		p.delete = rollingUpdateDeletes(ds, template, hash, nodes, byNode, now, logger)
	}
	p.status, p.requeueAfter = daemonSetStatus(logger, ds, template, hash, nodes, byNode, now)
	return p
}

// isDaemonRollingUpdate reports whether ds updates its pods by itself.
func isDaemonRollingUpdate(ds *appsv1.DaemonSet) bool {
	return ds.Spec.UpdateStrategy.Type == "" || ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType
}

// rollingUpdateDeletes picks outdated pods to delete (the next syncs
// recreate them from the new template): unavailable outdated pods always,
// available ones only while fewer than maxUnavailable pods are unavailable.
func rollingUpdateDeletes(ds *appsv1.DaemonSet, template *v1.PodTemplateSpec, hash string, nodes []*v1.Node,
	byNode map[string][]*v1.Pod, now time.Time, logger klog.Logger) []*v1.Pod {
	desired := 0
	for _, node := range nodes {
		if run, _ := shouldRunOn(logger, template, node); run {
			desired++
		}
	}
	maxUnavail := 1
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
		if err == nil {
			maxUnavail = n
		}
	}
	if maxUnavail == 0 {
		maxUnavail = 1
	}
	numUnavailable := 0
	var replace, candidates []*v1.Pod
	for _, node := range nodes {
		onNode, ok := byNode[node.Name]
		if !ok {
			continue // Nothing there yet; the create path handles it.
		}
		var newPod, oldPod *v1.Pod
		excess := false
		for _, pod := range onNode {
			if pod.DeletionTimestamp != nil {
				continue
			}
			if isDaemonPodUpdated(pod, hash) {
				excess = excess || newPod != nil
				newPod = pod
			} else {
				excess = excess || oldPod != nil
				oldPod = pod
			}
		}
		switch {
		case excess, oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
			// Being created, deleted or cleaned up: count as unavailable.
			numUnavailable++
		case newPod != nil:
			if !isPodAvailable(newPod, ds.Spec.MinReadySeconds, now) {
				numUnavailable++
			}
		case !isPodAvailable(oldPod, ds.Spec.MinReadySeconds, now):
			replace = append(replace, oldPod)
		case numUnavailable < maxUnavail:
			candidates = append(candidates, oldPod)
		}
	}
	room := max(maxUnavail-numUnavailable, 0)
	room = min(room, len(candidates))
	return append(replace, candidates[:room]...)
}

// daemonSetStatus computes the DaemonSet status and when a ready pod
// becomes available.
func daemonSetStatus(logger klog.Logger, ds *appsv1.DaemonSet, template *v1.PodTemplateSpec, hash string,
	nodes []*v1.Node, byNode map[string][]*v1.Pod, now time.Time) (appsv1.DaemonSetStatus, time.Duration) {
	s := appsv1.DaemonSetStatus{
		ObservedGeneration: ds.Generation,
		CollisionCount:     ds.Status.CollisionCount,
		Conditions:         ds.Status.Conditions,
	}
	var ready []*v1.Pod
	for _, node := range nodes {
		shouldRun, _ := shouldRunOn(logger, template, node)
		onNode := append([]*v1.Pod(nil), byNode[node.Name]...)
		scheduled := len(onNode) > 0
		if !shouldRun {
			if scheduled {
				s.NumberMisscheduled++
			}
			continue
		}
		s.DesiredNumberScheduled++
		if !scheduled {
			continue
		}
		s.CurrentNumberScheduled++
		olderPodFirst(onNode)
		pod := onNode[0]
		if isPodReady(pod) {
			s.NumberReady++
			ready = append(ready, pod)
			if isPodAvailable(pod, ds.Spec.MinReadySeconds, now) {
				s.NumberAvailable++
			}
		}
		if isDaemonPodUpdated(pod, hash) {
			s.UpdatedNumberScheduled++
		}
	}
	s.NumberUnavailable = s.DesiredNumberScheduled - s.NumberAvailable
	return s, untilAvailable(ready, ds.Spec.MinReadySeconds, now)
}

// sync reconciles one DaemonSet.
func (c *DaemonSetController) sync(ctx context.Context, key string) outcome {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return noRetry(err)
	}
	ds, err := c.dsLister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.forget(key)
		return done()
	}
	if err != nil {
		return retry(err)
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || selector.Empty() {
		return noRetry(errorf("daemonset %s: invalid or empty selector", key))
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return retry(err)
	}
	all, err := c.pods.Pods(ns).List(labels.Everything())
	if err != nil {
		return retry(err)
	}
	pods, err := claim(ctx, ds, daemonSetKind, selector, all, c.patchPod,
		recheckOwner(ds, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		}))
	if err != nil {
		return retry(err)
	}
	hash := computeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	template := daemonPodTemplate(ds, hash)
	manage := ds.DeletionTimestamp == nil && c.expect.satisfied(key, c.podLookup(ns))
	logger := klog.FromContext(ctx)
	plan := planDaemonSet(logger, ds, template, hash, nodes, pods, manage, c.now())

	var errs []error
	if n := len(plan.createOn); n > 0 {
		queue := make(chan string, n)
		for _, node := range plan.createOn {
			queue <- node
		}
		close(queue)
		errs = append(errs, slowStart(n, func() error {
			node := <-queue
			return createOwnedPod(ctx, c.client, c.recorder, c.expect, key, ds, daemonSetKind, template, ds.Name+"-",
				func(pod *v1.Pod) { pinToNode(pod, node) })
		}))
	}
	for _, pod := range plan.delete {
		errs = append(errs, deleteOwnedPod(ctx, c.client, c.recorder, c.expect, key, ds, pod))
	}
	if !equality.Semantic.DeepEqual(ds.Status, plan.status) {
		updated := ds.DeepCopy()
		updated.Status = plan.status
		if _, err := c.client.AppsV1().DaemonSets(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, errorf("daemonset %s: update status: %w", key, err))
		}
	}
	return retryAfter(plan.requeueAfter).withError(errors.Join(errs...))
}

// podLookup tells expectations whether a pod is cached and being deleted.
func (c *DaemonSetController) podLookup(ns string) func(string) (bool, bool) {
	return func(name string) (bool, bool) {
		pod, err := c.pods.Pods(ns).Get(name)
		if err != nil {
			return false, false
		}
		return true, pod.DeletionTimestamp != nil
	}
}

// patchPod applies a strategic merge patch to a pod.
func (c *DaemonSetController) patchPod(ctx context.Context, ns, name string, data []byte) (*v1.Pod, error) {
	return c.client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
}
