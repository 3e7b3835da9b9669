package controllers

import (
	"context"
	"errors"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// SystemNamespaces are the namespaces every cluster has; the namespace
// controller creates them at start and again whenever one goes away.
var SystemNamespaces = []string{
	metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, v1.NamespaceNodeLease,
}

// NamespaceController bootstraps the system namespaces and carries out
// namespace deletion: while a Namespace has a deletion timestamp it marks it
// Terminating, deletes everything in it, and once nothing is left removes
// the "kubernetes" finalizer through the namespaces/finalize subresource so
// the API server can remove the Namespace.
type NamespaceController struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	recorder record.EventRecorder
	lister   corelisters.NamespaceLister
	synced   []cache.InformerSynced
	runner   *runner[string]

	// RecheckInterval is how soon a namespace whose content is still
	// going away (pods terminating gracefully) is looked at again.
	RecheckInterval time.Duration
}

// NewNamespaceController returns a namespace controller using factory's
// Namespace informer.
func NewNamespaceController(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder) *NamespaceController {
	c := &NamespaceController{
		client:          client,
		factory:         factory,
		recorder:        recorder,
		lister:          factory.Core().V1().Namespaces().Lister(),
		RecheckInterval: 2 * time.Second,
	}
	c.runner = newRunner("namespace", c.sync)
	c.synced = append(c.synced, addHandler(factory.Core().V1().Namespaces().Informer(), cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	}))
	return c
}

// Run creates the system namespaces and then processes namespaces with
// the given number of workers until ctx ends. System namespaces that could
// not be created at once are retried by the queue.
func (c *NamespaceController) Run(ctx context.Context, workers int) error {
	if err := EnsureSystemNamespaces(ctx, c.client); err != nil && ctx.Err() == nil {
		klog.FromContext(ctx).Info("Creating system namespaces failed, will retry", "err", err)
	}
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "namespace", c.synced...) {
		return nil
	}
	for _, name := range SystemNamespaces {
		c.runner.add(name)
	}
	c.runner.run(ctx, workers)
	return nil
}

// EnsureSystemNamespaces creates default, kube-system, kube-public and
// kube-node-lease when they are missing.
func EnsureSystemNamespaces(ctx context.Context, client kubernetes.Interface) error {
	var errs []error
	for _, name := range SystemNamespaces {
		if err := ensureNamespace(ctx, client, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ensureNamespace creates one namespace unless it exists.
func ensureNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	_, err := client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return errorf("namespace: create %s: %w", name, err)
	}
	return nil
}

// enqueue queues a namespace.
func (c *NamespaceController) enqueue(obj any) {
	if key, ok := keyOf(obj); ok {
		c.runner.add(key)
	}
}

// isSystemNamespace reports whether name is one of SystemNamespaces.
func isSystemNamespace(name string) bool {
	for _, n := range SystemNamespaces {
		if n == name {
			return true
		}
	}
	return false
}

// sync reconciles one namespace.
func (c *NamespaceController) sync(ctx context.Context, name string) outcome {
	ns, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		if isSystemNamespace(name) {
			return retry(ensureNamespace(ctx, c.client, name))
		}
		return c.sweepDeleted(ctx, name)
	}
	if err != nil {
		return retry(err)
	}
	if ns.DeletionTimestamp == nil {
		return done()
	}
	if ns.Status.Phase != v1.NamespaceTerminating {
		updated := ns.DeepCopy()
		updated.Status.Phase = v1.NamespaceTerminating
		if ns, err = c.client.CoreV1().Namespaces().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return done()
			}
			return retry(errorf("namespace %s: mark terminating: %w", name, err))
		}
	}
	remaining, err := deleteNamespaceContent(ctx, c.client, name)
	if err == nil && remaining > 0 {
		// Most objects go at once; a second pass sees what is really left.
		remaining, err = deleteNamespaceContent(ctx, c.client, name)
	}
	if err != nil {
		return retry(errorf("namespace %s: delete content: %w", name, err))
	}
	if remaining > 0 {
		return retryAfter(c.RecheckInterval)
	}
	if !hasFinalizer(ns.Spec.Finalizers, v1.FinalizerKubernetes) {
		return done()
	}
	updated := ns.DeepCopy()
	updated.Spec.Finalizers = withoutFinalizer(ns.Spec.Finalizers, v1.FinalizerKubernetes)
	if _, err := c.client.CoreV1().Namespaces().Finalize(ctx, updated, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return retry(errorf("namespace %s: finalize: %w", name, err))
	}
	return done()
}

// sweepDeleted deletes what is left in a namespace that is gone for good
// (a live read confirms it), in case the server removed the namespace
// without waiting for its "kubernetes" finalizer.
func (c *NamespaceController) sweepDeleted(ctx context.Context, name string) outcome {
	_, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		return done() // Recreated meanwhile; the cache will catch up.
	case !apierrors.IsNotFound(err):
		return retry(errorf("namespace %s: get: %w", name, err))
	}
	if _, err := deleteNamespaceContent(ctx, c.client, name); err != nil {
		return retry(errorf("namespace %s: delete content of removed namespace: %w", name, err))
	}
	return done()
}

// hasFinalizer reports whether f is in list.
func hasFinalizer[F ~string](list []F, f F) bool {
	for _, x := range list {
		if x == f {
			return true
		}
	}
	return false
}

// withoutFinalizer returns list without f.
func withoutFinalizer[F ~string](list []F, f F) []F {
	var out []F
	for _, x := range list {
		if x != f {
			out = append(out, x)
		}
	}
	return out
}

// namespacedClient is the part of a typed namespaced client the namespace
// controller uses; every generated client satisfies it.
type namespacedClient[L runtime.Object] interface {
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// namespacedResource lists and deletes one kind of object in a namespace.
type namespacedResource struct {
	name   string
	list   func(ctx context.Context, ns string) ([]metav1.Object, error)
	delete func(ctx context.Context, ns, name string) error
}

// resource adapts a typed client to namespacedResource.
func resource[L runtime.Object](name string, get func(ns string) namespacedClient[L]) namespacedResource {
	return namespacedResource{
		name: name,
		list: func(ctx context.Context, ns string) ([]metav1.Object, error) {
			l, err := get(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			items, err := meta.ExtractList(l)
			if err != nil {
				return nil, err
			}
			out := make([]metav1.Object, 0, len(items))
			for _, it := range items {
				if m, err := meta.Accessor(it); err == nil {
					out = append(out, m)
				}
			}
			return out, nil
		},
		delete: func(ctx context.Context, ns, name string) error {
			return get(ns).Delete(ctx, name, metav1.DeleteOptions{})
		},
	}
}

// namespacedResources lists what namespace deletion removes, workloads first.
func namespacedResources(c kubernetes.Interface) []namespacedResource {
	return []namespacedResource{
		resource("deployments", func(ns string) namespacedClient[*appsv1.DeploymentList] { return c.AppsV1().Deployments(ns) }),
		resource("daemonsets", func(ns string) namespacedClient[*appsv1.DaemonSetList] { return c.AppsV1().DaemonSets(ns) }),
		resource("statefulsets", func(ns string) namespacedClient[*appsv1.StatefulSetList] { return c.AppsV1().StatefulSets(ns) }),
		resource("replicasets", func(ns string) namespacedClient[*appsv1.ReplicaSetList] { return c.AppsV1().ReplicaSets(ns) }),
		resource("controllerrevisions", func(ns string) namespacedClient[*appsv1.ControllerRevisionList] {
			return c.AppsV1().ControllerRevisions(ns)
		}),
		resource("jobs", func(ns string) namespacedClient[*batchv1.JobList] { return c.BatchV1().Jobs(ns) }),
		resource("cronjobs", func(ns string) namespacedClient[*batchv1.CronJobList] { return c.BatchV1().CronJobs(ns) }),
		resource("pods", func(ns string) namespacedClient[*v1.PodList] { return c.CoreV1().Pods(ns) }),
		resource("services", func(ns string) namespacedClient[*v1.ServiceList] { return c.CoreV1().Services(ns) }),
		resource("endpoints", func(ns string) namespacedClient[*v1.EndpointsList] { return c.CoreV1().Endpoints(ns) }),
		resource("endpointslices", func(ns string) namespacedClient[*discoveryv1.EndpointSliceList] {
			return c.DiscoveryV1().EndpointSlices(ns)
		}),
		resource("ingresses", func(ns string) namespacedClient[*networkingv1.IngressList] { return c.NetworkingV1().Ingresses(ns) }),
		resource("networkpolicies", func(ns string) namespacedClient[*networkingv1.NetworkPolicyList] {
			return c.NetworkingV1().NetworkPolicies(ns)
		}),
		resource("configmaps", func(ns string) namespacedClient[*v1.ConfigMapList] { return c.CoreV1().ConfigMaps(ns) }),
		resource("secrets", func(ns string) namespacedClient[*v1.SecretList] { return c.CoreV1().Secrets(ns) }),
		resource("serviceaccounts", func(ns string) namespacedClient[*v1.ServiceAccountList] { return c.CoreV1().ServiceAccounts(ns) }),
		resource("persistentvolumeclaims", func(ns string) namespacedClient[*v1.PersistentVolumeClaimList] {
			return c.CoreV1().PersistentVolumeClaims(ns)
		}),
		resource("resourcequotas", func(ns string) namespacedClient[*v1.ResourceQuotaList] { return c.CoreV1().ResourceQuotas(ns) }),
		resource("limitranges", func(ns string) namespacedClient[*v1.LimitRangeList] { return c.CoreV1().LimitRanges(ns) }),
		resource("leases", func(ns string) namespacedClient[*coordinationv1.LeaseList] { return c.CoordinationV1().Leases(ns) }),
		resource("roles", func(ns string) namespacedClient[*rbacv1.RoleList] { return c.RbacV1().Roles(ns) }),
		resource("rolebindings", func(ns string) namespacedClient[*rbacv1.RoleBindingList] { return c.RbacV1().RoleBindings(ns) }),
		resource("poddisruptionbudgets", func(ns string) namespacedClient[*policyv1.PodDisruptionBudgetList] {
			return c.PolicyV1().PodDisruptionBudgets(ns)
		}),
		resource("events", func(ns string) namespacedClient[*v1.EventList] { return c.CoreV1().Events(ns) }),
	}
}

// deleteNamespaceContent deletes every object of namespacedResources in ns
// and returns how many are still there (already being deleted or just
// deleted). Resources the server does not serve are skipped.
func deleteNamespaceContent(ctx context.Context, client kubernetes.Interface, ns string) (int, error) {
	remaining := 0
	var errs []error
	for _, r := range namespacedResources(client) {
		objs, err := r.list(ctx, ns)
		if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) || meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			errs = append(errs, errorf("list %s: %w", r.name, err))
			continue
		}
		for _, o := range objs {
			remaining++
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			if err := r.delete(ctx, ns, o.GetName()); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, errorf("delete %s %s: %w", r.name, o.GetName(), err))
			}
		}
	}
	return remaining, errors.Join(errs...)
}
