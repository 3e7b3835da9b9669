package controllers

import (
	"context"
	"encoding/json"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// DeploymentController rolls Deployments out through ReplicaSets named
// `<deployment>-<pod-template-hash>`: RollingUpdate within maxSurge and
// maxUnavailable, Recreate, proportional scaling, revision annotations for
// kubectl rollout history/undo, revisionHistoryLimit cleanup and the
// Available/Progressing conditions kubectl rollout status reads.
type DeploymentController struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	recorder record.EventRecorder
	dLister  appslisters.DeploymentLister
	rsLister appslisters.ReplicaSetLister
	pods     corelisters.PodLister
	synced   []cache.InformerSynced
	runner   *runner[string]
	now      func() time.Time
}

// NewDeploymentController returns a Deployment controller using factory's
// Deployment, ReplicaSet and Pod informers.
func NewDeploymentController(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder) *DeploymentController {
	c := &DeploymentController{
		client:   client,
		factory:  factory,
		recorder: recorder,
		dLister:  factory.Apps().V1().Deployments().Lister(),
		rsLister: factory.Apps().V1().ReplicaSets().Lister(),
		pods:     factory.Core().V1().Pods().Lister(),
		now:      time.Now,
	}
	c.runner = newRunner("deployment", c.sync)
	c.synced = append(c.synced,
		addHandler(factory.Apps().V1().Deployments().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, obj any) { c.enqueue(obj) },
			DeleteFunc: c.enqueue,
		}),
		addHandler(factory.Apps().V1().ReplicaSets().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.rsChanged,
			UpdateFunc: func(oldObj, newObj any) { c.rsChanged(oldObj); c.rsChanged(newObj) },
			DeleteFunc: func(obj any) { c.rsChanged(unwrapTombstone(obj)) },
		}),
		addHandler(factory.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			DeleteFunc: func(obj any) { c.podDeleted(unwrapTombstone(obj)) },
		}),
	)
	return c
}

// Run syncs Deployments with the given number of workers until ctx ends.
func (c *DeploymentController) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "deployment", c.synced...) {
		return nil
	}
	c.runner.run(ctx, workers)
	return nil
}

// enqueue queues a Deployment.
func (c *DeploymentController) enqueue(obj any) {
	if key, ok := keyOf(obj); ok {
		c.runner.add(key)
	}
}

// rsChanged queues the Deployment controlling a ReplicaSet or, for an
// orphan, the Deployments that could adopt it.
func (c *DeploymentController) rsChanged(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if ref.Kind == deploymentKind.Kind && ref.APIVersion == deploymentKind.GroupVersion().String() {
			c.runner.add(rs.Namespace + "/" + ref.Name)
		}
		return
	}
	ds, err := c.dLister.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			c.runner.add(d.Namespace + "/" + d.Name)
		}
	}
}

// podDeleted queues the Deployment behind a deleted pod; a Recreate rollout
// waits for old pods to be gone.
func (c *DeploymentController) podDeleted(obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != replicaSetKind.Kind {
		return
	}
	rs, err := c.rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	c.rsChanged(rs)
}

// sync reconciles one Deployment.
func (c *DeploymentController) sync(ctx context.Context, key string) outcome {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return noRetry(err)
	}
	d, err := c.dLister.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return done()
	}
	if err != nil {
		return retry(err)
	}
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels)+len(d.Spec.Selector.MatchExpressions) == 0 {
		c.recorder.Event(d, v1.EventTypeWarning, "SelectorNone", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			updated := d.DeepCopy()
			updated.Status.ObservedGeneration = d.Generation
			if _, err := c.client.AppsV1().Deployments(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
				return retry(errorf("deployment %s: update status: %w", key, err))
			}
		}
		return done()
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return noRetry(errorf("deployment %s: invalid selector: %w", key, err))
	}
	nsRS, err := c.rsLister.ReplicaSets(ns).List(labels.Everything())
	if err != nil {
		return retry(err)
	}
	owned, err := claim(ctx, d, deploymentKind, selector, nsRS, c.patchRS,
		recheckOwner(d, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		}))
	if err != nil {
		return retry(err)
	}
	podMap, err := c.podMap(d, selector, owned)
	if err != nil {
		return retry(err)
	}

	plan := planDeployment(d, owned, nsRS, podMap, c.now())

	for _, w := range plan.writes {
		if err := c.apply(ctx, d, w); err != nil {
			return retry(errorf("deployment %s: %w", key, err))
		}
	}
	if err := c.writeStatus(ctx, d, plan.d); err != nil {
		return retry(errorf("deployment %s: update status: %w", key, err))
	}
	if plan.collision {
		return retry(errorf("deployment %s: pod-template-hash collision, collision count raised: %w", key, errStaleCache))
	}
	return retryAfter(plan.requeueAfter)
}

// podMap groups the pods of the owned ReplicaSets by ReplicaSet UID.
func (c *DeploymentController) podMap(d *appsv1.Deployment, selector labels.Selector, owned []*appsv1.ReplicaSet) (map[types.UID][]*v1.Pod, error) {
	pods, err := c.pods.Pods(d.Namespace).List(selector)
	if err != nil {
		return nil, err
	}
	m := make(map[types.UID][]*v1.Pod, len(owned))
	for _, rs := range owned {
		m[rs.UID] = nil
	}
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			continue
		}
		if _, ok := m[ref.UID]; ok {
			m[ref.UID] = append(m[ref.UID], pod)
		}
	}
	return m, nil
}

// apply performs one planned ReplicaSet write and records its events.
func (c *DeploymentController) apply(ctx context.Context, d *appsv1.Deployment, w *rsWrite) error {
	rss := c.client.AppsV1().ReplicaSets(w.rs.Namespace)
	var err error
	switch w.op {
	case rsCreate:
		_, err = rss.Create(ctx, w.rs, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// The cache has not caught up with a ReplicaSet created by an
			// earlier sync; the retry will find it.
			return errStaleCache
		}
	case rsUpdate:
		_, err = rss.Update(ctx, w.rs, metav1.UpdateOptions{})
	case rsDelete:
		uid := w.rs.UID
		err = rss.Delete(ctx, w.rs.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if apierrors.IsNotFound(err) {
			err = nil
		}
	}
	if err != nil {
		return errorf("write replicaset %s: %w", w.rs.Name, err)
	}
	for _, e := range w.events {
		c.recorder.Event(d, v1.EventTypeNormal, "ScalingReplicaSet", e)
	}
	return nil
}

// writeStatus writes the planned status and revision annotation when they
// changed. Like kube-controller-manager it sends the annotation with the
// status update (kube-apiserver keeps annotations on deployments/status);
// if the server dropped it, a metadata patch follows.
func (c *DeploymentController) writeStatus(ctx context.Context, d, planned *appsv1.Deployment) error {
	want := planned.Annotations[revisionAnnotation]
	revisionChanged := want != "" && d.Annotations[revisionAnnotation] != want
	if equality.Semantic.DeepEqual(d.Status, planned.Status) && !revisionChanged {
		return nil
	}
	updated := d.DeepCopy()
	updated.Status = planned.Status
	if revisionChanged {
		if updated.Annotations == nil {
			updated.Annotations = map[string]string{}
		}
		updated.Annotations[revisionAnnotation] = want
	}
	got, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	if revisionChanged && got.Annotations[revisionAnnotation] != want {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{revisionAnnotation: want}}})
		_, err = c.client.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	return err
}

// patchRS applies a strategic merge patch to a ReplicaSet.
func (c *DeploymentController) patchRS(ctx context.Context, ns, name string, data []byte) (*appsv1.ReplicaSet, error) {
	return c.client.AppsV1().ReplicaSets(ns).Patch(ctx, name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
}
