package controllers

import (
	"context"
	"errors"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// replicaSetKind is the owner reference kind of pods a ReplicaSet creates.
var replicaSetKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// burstReplicas caps how many pods one sync creates or deletes, as in
// kube-controller-manager.
const burstReplicas = 500

// ReplicaSetController keeps spec.replicas pods matching each ReplicaSet's
// selector: it creates pods from the template, deletes surplus ones in
// Kubernetes' order, adopts matching orphans, releases pods whose labels no
// longer match, and reports status.
type ReplicaSetController struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	recorder record.EventRecorder
	rsLister appslisters.ReplicaSetLister
	pods     corelisters.PodLister
	synced   []cache.InformerSynced
	expect   *expectations
	runner   *runner[string]
	now      func() time.Time
}

// NewReplicaSetController returns a ReplicaSet controller using factory's
// ReplicaSet and Pod informers.
func NewReplicaSetController(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder) *ReplicaSetController {
	c := &ReplicaSetController{
		client:   client,
		factory:  factory,
		recorder: recorder,
		rsLister: factory.Apps().V1().ReplicaSets().Lister(),
		pods:     factory.Core().V1().Pods().Lister(),
		expect:   newExpectations(),
		now:      time.Now,
	}
	c.runner = newRunner("replicaset", c.sync)
	c.synced = append(c.synced,
		addHandler(factory.Apps().V1().ReplicaSets().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, obj any) { c.enqueue(obj) },
			DeleteFunc: c.enqueue,
		}),
		addHandler(factory.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.podChanged(nil, obj, false) },
			UpdateFunc: func(oldObj, newObj any) { c.podChanged(oldObj, newObj, false) },
			DeleteFunc: func(obj any) { c.podChanged(nil, unwrapTombstone(obj), true) },
		}),
	)
	return c
}

// Run syncs ReplicaSets with the given number of workers until ctx ends.
func (c *ReplicaSetController) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "replicaset", c.synced...) {
		return nil
	}
	c.runner.run(ctx, workers)
	return nil
}

// enqueue queues a ReplicaSet.
func (c *ReplicaSetController) enqueue(obj any) {
	if key, ok := keyOf(obj); ok {
		c.runner.add(key)
	}
}

// podChanged queues the ReplicaSets a pod change matters to: its old and new
// controllers, or, for an orphan, every ReplicaSet whose selector matches.
// It also tells expectations what the cache has seen.
func (c *ReplicaSetController) podChanged(oldObj, newObj any, deleted bool) {
	for _, obj := range []any{oldObj, newObj} {
		pod, ok := obj.(*v1.Pod)
		if !ok {
			continue
		}
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
			if ref.Kind == replicaSetKind.Kind && ref.APIVersion == replicaSetKind.GroupVersion().String() {
				key := pod.Namespace + "/" + ref.Name
				c.expect.observe(key, pod.Name, deleted || pod.DeletionTimestamp != nil)
				c.runner.add(key)
			}
			continue
		}
		for _, rs := range c.matchingReplicaSets(pod) {
			c.runner.add(pod.Namespace + "/" + rs.Name)
		}
	}
}

// matchingReplicaSets returns the ReplicaSets in the pod's namespace whose
// selector matches its labels.
func (c *ReplicaSetController) matchingReplicaSets(pod *v1.Pod) []*appsv1.ReplicaSet {
	all, err := c.rsLister.ReplicaSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.ReplicaSet
	for _, rs := range all {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			out = append(out, rs)
		}
	}
	return out
}

// replicaSetPlan is what one ReplicaSet sync decided.
type replicaSetPlan struct {
	// create is how many pods to create.
	create int
	// delete are the pods to delete.
	delete []*v1.Pod
	// status is the status to report.
	status appsv1.ReplicaSetStatus
	// requeueAfter is when a ready pod becomes available under minReadySeconds.
	requeueAfter time.Duration
}

// planReplicaSet decides, from the active pods the ReplicaSet controls, how
// many pods to create or which to delete (only when manage is true: the
// cache reflects earlier writes and the ReplicaSet is not being deleted),
// and computes its status.
func planReplicaSet(rs *appsv1.ReplicaSet, pods []*v1.Pod, manage bool, now time.Time) replicaSetPlan {
	var p replicaSetPlan
	want := 1
	if rs.Spec.Replicas != nil {
		want = int(*rs.Spec.Replicas)
	}
	if manage {
		switch diff := len(pods) - want; {
		case diff < 0:
			p.create = min(-diff, burstReplicas)
		case diff > 0:
			p.delete = podsToDelete(pods, min(diff, burstReplicas))
		}
	}
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	p.status = appsv1.ReplicaSetStatus{
		Replicas:           int32(len(pods)),
		ObservedGeneration: rs.Generation,
		Conditions:         rs.Status.Conditions,
	}
	for _, pod := range pods {
		if templateLabels.Matches(labels.Set(pod.Labels)) {
			p.status.FullyLabeledReplicas++
		}
		if isPodReady(pod) {
			p.status.ReadyReplicas++
			if isPodAvailable(pod, rs.Spec.MinReadySeconds, now) {
				p.status.AvailableReplicas++
			}
		}
	}
	p.requeueAfter = untilAvailable(pods, rs.Spec.MinReadySeconds, now)
	return p
}

// sync reconciles one ReplicaSet.
func (c *ReplicaSetController) sync(ctx context.Context, key string) outcome {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return noRetry(err)
	}
	rs, err := c.rsLister.ReplicaSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.forget(key)
		return done()
	}
	if err != nil {
		return retry(err)
	}
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return noRetry(errorf("replicaset %s: invalid selector: %w", key, err))
	}
	all, err := c.pods.Pods(ns).List(labels.Everything())
	if err != nil {
		return retry(err)
	}
	pods, err := claim(ctx, rs, replicaSetKind, selector, filterActivePods(all), c.patchPod,
		recheckOwner(rs, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		}))
	if err != nil {
		return retry(err)
	}
	manage := rs.DeletionTimestamp == nil && c.expect.satisfied(key, c.podLookup(ns))
	plan := planReplicaSet(rs, pods, manage, c.now())

	var errs []error
	if plan.create > 0 {
		errs = append(errs, c.createPods(ctx, key, rs, plan.create))
	}
	for _, pod := range plan.delete {
		errs = append(errs, c.deletePod(ctx, key, rs, pod))
	}
	if !equality.Semantic.DeepEqual(rs.Status, plan.status) {
		updated := rs.DeepCopy()
		updated.Status = plan.status
		if _, err := c.client.AppsV1().ReplicaSets(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, errorf("replicaset %s: update status: %w", key, err))
		}
	}
	return retryAfter(plan.requeueAfter).withError(errors.Join(errs...))
}

// podLookup tells expectations whether a pod is cached and being deleted.
func (c *ReplicaSetController) podLookup(ns string) func(string) (bool, bool) {
	return func(name string) (bool, bool) {
		pod, err := c.pods.Pods(ns).Get(name)
		if err != nil {
			return false, false
		}
		return true, pod.DeletionTimestamp != nil
	}
}

// patchPod applies a strategic merge patch to a pod.
func (c *ReplicaSetController) patchPod(ctx context.Context, ns, name string, data []byte) (*v1.Pod, error) {
	return c.client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
}

// createPods creates n pods for rs in slow-start batches (1, 2, 4, ...),
// stopping at the first batch with a failure, as Kubernetes does.
func (c *ReplicaSetController) createPods(ctx context.Context, key string, rs *appsv1.ReplicaSet, n int) error {
	return slowStart(n, func() error {
		return createOwnedPod(ctx, c.client, c.recorder, c.expect, key, rs, replicaSetKind, &rs.Spec.Template, rs.Name+"-", nil)
	})
}

// deletePod deletes one surplus pod of rs.
func (c *ReplicaSetController) deletePod(ctx context.Context, key string, rs *appsv1.ReplicaSet, pod *v1.Pod) error {
	return deleteOwnedPod(ctx, c.client, c.recorder, c.expect, key, rs, pod)
}

// slowStart calls create n times in batches of growing size and returns the
// errors of the first batch that had any; later batches are skipped.
func slowStart(n int, create func() error) error {
	remaining := n
	for batch := 1; remaining > 0; batch *= 2 {
		size := min(batch, remaining)
		errc := make(chan error, size)
		for i := 0; i < size; i++ {
			go func() { errc <- create() }()
		}
		var errs []error
		for i := 0; i < size; i++ {
			if err := <-errc; err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		remaining -= size
	}
	return nil
}

// createOwnedPod creates one pod from template, controlled by owner, named
// prefix plus five random characters (retrying on a name clash), records
// the expectation and a SuccessfulCreate or FailedCreate event. mutate, if
// set, adjusts the pod before it is sent (DaemonSets pin it to a node).
func createOwnedPod(ctx context.Context, client kubernetes.Interface, recorder record.EventRecorder, expect *expectations,
	key string, owner object, ownerKind schema.GroupVersionKind, template *v1.PodTemplateSpec, prefix string, mutate func(*v1.Pod)) error {
	for attempt := 0; ; attempt++ {
		pod := newPodFromTemplate(template, owner, ownerKind, generateName(prefix))
		if mutate != nil {
			mutate(pod)
		}
		expect.expectCreate(key, pod.Name)
		_, err := client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err == nil {
			recorder.Eventf(owner, v1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", pod.Name)
			return nil
		}
		expect.cancel(key, pod.Name)
		if apierrors.IsAlreadyExists(err) && attempt < 3 {
			continue
		}
		if apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause) {
			// Pods cannot be created in a terminating namespace; the
			// namespace controller is about to delete the owner anyway.
			return nil
		}
		recorder.Eventf(owner, v1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return errorf("%s: create pod: %w", key, err)
	}
}

// deleteOwnedPod deletes a pod owned by owner, with expectation and a
// SuccessfulDelete or FailedDelete event.
func deleteOwnedPod(ctx context.Context, client kubernetes.Interface, recorder record.EventRecorder, expect *expectations,
	key string, owner object, pod *v1.Pod) error {
	expect.expectDelete(key, pod.Name)
	err := client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	switch {
	case err == nil:
		recorder.Eventf(owner, v1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", pod.Name)
		return nil
	case apierrors.IsNotFound(err):
		return nil
	default:
		expect.cancel(key, pod.Name)
		recorder.Eventf(owner, v1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
		return errorf("%s: delete pod %s: %w", key, pod.Name, err)
	}
}
