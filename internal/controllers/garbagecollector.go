package controllers

import (
	"context"
	"errors"
	"sort"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ownerUIDIndex indexes cached objects by the UIDs of their owners.
const ownerUIDIndex = "kin-gc-owner-uid"

// GarbageCollector deletes objects whose owners are gone, following
// metadata.ownerReferences as Kubernetes' garbage collector does:
// background deletion of dependents of a deleted owner; foreground deletion
// (an owner with the foregroundDeletion finalizer waits until its blocking
// dependents are gone, then the finalizer is removed); and orphaning (an
// owner with the orphan finalizer has the references to it removed from its
// dependents, then the finalizer removed). It watches a fixed set of typed
// resources; owners of other kinds are treated as present.
type GarbageCollector struct {
	client    kubernetes.Interface
	factory   informers.SharedInformerFactory
	resources map[string]*gcResource
	byKind    map[schema.GroupKind]*gcResource
	synced    []cache.InformerSynced
	runner    *runner[gcItem]

	mu     sync.Mutex
	absent map[types.UID]bool
}

// gcItem identifies one object the collector looks at.
type gcItem struct {
	resource  string
	namespace string
	name      string
}

// gcResource is one watched resource with typed access to its objects.
type gcResource struct {
	name       string
	gk         schema.GroupKind
	namespaced bool
	informer   cache.SharedIndexInformer
	indexed    bool
	get        func(ctx context.Context, ns, name string) (metav1.Object, error)
	delete     func(ctx context.Context, ns, name string, opts metav1.DeleteOptions) error
	patch      func(ctx context.Context, ns, name string, data []byte) error
	update     func(ctx context.Context, obj metav1.Object) error
}

// gcClient is the part of a generated typed client the collector uses.
type gcClient[T object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// newGCResource adapts a typed client and informer to gcResource.
func newGCResource[T object](name string, gk schema.GroupKind, namespaced bool, informer cache.SharedIndexInformer, client func(ns string) gcClient[T]) *gcResource {
	return &gcResource{
		name:       name,
		gk:         gk,
		namespaced: namespaced,
		informer:   informer,
		get: func(ctx context.Context, ns, name string) (metav1.Object, error) {
			return client(ns).Get(ctx, name, metav1.GetOptions{})
		},
		delete: func(ctx context.Context, ns, name string, opts metav1.DeleteOptions) error {
			return client(ns).Delete(ctx, name, opts)
		},
		patch: func(ctx context.Context, ns, name string, data []byte) error {
			_, err := client(ns).Patch(ctx, name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
			return err
		},
		update: func(ctx context.Context, obj metav1.Object) error {
			t, ok := obj.(T)
			if !ok {
				return errorf("garbagecollector: %s: unexpected type %T", name, obj)
			}
			_, err := client(obj.GetNamespace()).Update(ctx, t, metav1.UpdateOptions{})
			return err
		},
	}
}

// gcResourceBuilders builds each resource the collector can watch.
var gcResourceBuilders = map[string]func(kubernetes.Interface, informers.SharedInformerFactory) *gcResource{
	"pods": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("pods", schema.GroupKind{Kind: "Pod"}, true, f.Core().V1().Pods().Informer(),
			func(ns string) gcClient[*v1.Pod] { return c.CoreV1().Pods(ns) })
	},
	"services": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("services", schema.GroupKind{Kind: "Service"}, true, f.Core().V1().Services().Informer(),
			func(ns string) gcClient[*v1.Service] { return c.CoreV1().Services(ns) })
	},
	"endpoints": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("endpoints", schema.GroupKind{Kind: "Endpoints"}, true, f.Core().V1().Endpoints().Informer(),
			func(ns string) gcClient[*v1.Endpoints] { return c.CoreV1().Endpoints(ns) })
	},
	"configmaps": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("configmaps", schema.GroupKind{Kind: "ConfigMap"}, true, f.Core().V1().ConfigMaps().Informer(),
			func(ns string) gcClient[*v1.ConfigMap] { return c.CoreV1().ConfigMaps(ns) })
	},
	"secrets": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("secrets", schema.GroupKind{Kind: "Secret"}, true, f.Core().V1().Secrets().Informer(),
			func(ns string) gcClient[*v1.Secret] { return c.CoreV1().Secrets(ns) })
	},
	"serviceaccounts": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("serviceaccounts", schema.GroupKind{Kind: "ServiceAccount"}, true, f.Core().V1().ServiceAccounts().Informer(),
			func(ns string) gcClient[*v1.ServiceAccount] { return c.CoreV1().ServiceAccounts(ns) })
	},
	"persistentvolumeclaims": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("persistentvolumeclaims", schema.GroupKind{Kind: "PersistentVolumeClaim"}, true,
			f.Core().V1().PersistentVolumeClaims().Informer(),
			func(ns string) gcClient[*v1.PersistentVolumeClaim] { return c.CoreV1().PersistentVolumeClaims(ns) })
	},
	"nodes": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("nodes", schema.GroupKind{Kind: "Node"}, false, f.Core().V1().Nodes().Informer(),
			func(string) gcClient[*v1.Node] { return c.CoreV1().Nodes() })
	},
	"deployments": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("deployments", schema.GroupKind{Group: "apps", Kind: "Deployment"}, true, f.Apps().V1().Deployments().Informer(),
			func(ns string) gcClient[*appsv1.Deployment] { return c.AppsV1().Deployments(ns) })
	},
	"replicasets": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("replicasets", schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}, true, f.Apps().V1().ReplicaSets().Informer(),
			func(ns string) gcClient[*appsv1.ReplicaSet] { return c.AppsV1().ReplicaSets(ns) })
	},
	"daemonsets": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("daemonsets", schema.GroupKind{Group: "apps", Kind: "DaemonSet"}, true, f.Apps().V1().DaemonSets().Informer(),
			func(ns string) gcClient[*appsv1.DaemonSet] { return c.AppsV1().DaemonSets(ns) })
	},
	"statefulsets": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("statefulsets", schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, true, f.Apps().V1().StatefulSets().Informer(),
			func(ns string) gcClient[*appsv1.StatefulSet] { return c.AppsV1().StatefulSets(ns) })
	},
	"controllerrevisions": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("controllerrevisions", schema.GroupKind{Group: "apps", Kind: "ControllerRevision"}, true,
			f.Apps().V1().ControllerRevisions().Informer(),
			func(ns string) gcClient[*appsv1.ControllerRevision] { return c.AppsV1().ControllerRevisions(ns) })
	},
	"jobs": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("jobs", schema.GroupKind{Group: "batch", Kind: "Job"}, true, f.Batch().V1().Jobs().Informer(),
			func(ns string) gcClient[*batchv1.Job] { return c.BatchV1().Jobs(ns) })
	},
	"endpointslices": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("endpointslices", schema.GroupKind{Group: "discovery.k8s.io", Kind: "EndpointSlice"}, true,
			f.Discovery().V1().EndpointSlices().Informer(),
			func(ns string) gcClient[*discoveryv1.EndpointSlice] { return c.DiscoveryV1().EndpointSlices(ns) })
	},
	"ingresses": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("ingresses", schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, true,
			f.Networking().V1().Ingresses().Informer(),
			func(ns string) gcClient[*networkingv1.Ingress] { return c.NetworkingV1().Ingresses(ns) })
	},
	"leases": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("leases", schema.GroupKind{Group: "coordination.k8s.io", Kind: "Lease"}, true,
			f.Coordination().V1().Leases().Informer(),
			func(ns string) gcClient[*coordinationv1.Lease] { return c.CoordinationV1().Leases(ns) })
	},
	"roles": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("roles", schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "Role"}, true,
			f.Rbac().V1().Roles().Informer(),
			func(ns string) gcClient[*rbacv1.Role] { return c.RbacV1().Roles(ns) })
	},
	"rolebindings": func(c kubernetes.Interface, f informers.SharedInformerFactory) *gcResource {
		return newGCResource("rolebindings", schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}, true,
			f.Rbac().V1().RoleBindings().Informer(),
			func(ns string) gcClient[*rbacv1.RoleBinding] { return c.RbacV1().RoleBindings(ns) })
	},
}

// GCResources returns the names of every resource the garbage collector
// can watch, sorted.
func GCResources() []string {
	names := make([]string, 0, len(gcResourceBuilders))
	for n := range gcResourceBuilders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewGarbageCollector returns a garbage collector watching the named
// resources (see GCResources; none means all of them) through factory.
func NewGarbageCollector(client kubernetes.Interface, factory informers.SharedInformerFactory, resources ...string) (*GarbageCollector, error) {
	if len(resources) == 0 {
		resources = GCResources()
	}
	gc := &GarbageCollector{
		client:    client,
		factory:   factory,
		resources: map[string]*gcResource{},
		byKind:    map[schema.GroupKind]*gcResource{},
		absent:    map[types.UID]bool{},
	}
	gc.runner = newRunner("garbagecollector", gc.sync)
	for _, name := range resources {
		build, ok := gcResourceBuilders[name]
		if !ok {
			return nil, errorf("garbagecollector: unknown resource %q", name)
		}
		r := build(client, factory)
		r.indexed = r.informer.AddIndexers(cache.Indexers{ownerUIDIndex: indexByOwnerUID}) == nil
		gc.resources[name] = r
		gc.byKind[r.gk] = r
		gc.synced = append(gc.synced, addHandler(r.informer, cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { gc.changed(r, obj) },
			UpdateFunc: func(oldObj, obj any) {
				gc.changed(r, obj)
				// A dropped reference may be what a deleting owner waits for.
				if m, err := meta.Accessor(oldObj); err == nil {
					gc.addDeletingOwners(m)
				}
			},
			DeleteFunc: func(obj any) { gc.deleted(unwrapTombstone(obj)) },
		}))
	}
	return gc, nil
}

// indexByOwnerUID is the informer index function behind ownerUIDIndex.
func indexByOwnerUID(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil
	}
	refs := m.GetOwnerReferences()
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, string(r.UID))
	}
	return out, nil
}

// Run collects garbage with the given number of workers until ctx ends.
func (gc *GarbageCollector) Run(ctx context.Context, workers int) error {
	gc.factory.Start(ctx.Done())
	if !waitForSync(ctx, "garbagecollector", gc.synced...) {
		return nil
	}
	gc.runner.run(ctx, workers)
	return nil
}

// itemOf returns the queue item of an object of resource r.
func itemOf(r *gcResource, m metav1.Object) gcItem {
	return gcItem{resource: r.name, namespace: m.GetNamespace(), name: m.GetName()}
}

// changed queues an object that has owners or is being deleted with a
// garbage collector finalizer; the sync decides what, if anything, to do.
func (gc *GarbageCollector) changed(r *gcResource, obj any) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	if len(m.GetOwnerReferences()) > 0 || m.GetDeletionTimestamp() != nil && hasGCFinalizer(m) {
		gc.runner.add(itemOf(r, m))
	}
	// An owner waiting in foreground deletion may be waiting on this object.
	gc.addDeletingOwners(m)
}

// deleted queues the dependents of a deleted object and its owners (one of
// them may be waiting for it in foreground deletion).
func (gc *GarbageCollector) deleted(obj any) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	for _, d := range gc.dependents(m.GetUID()) {
		gc.runner.add(d)
	}
	for _, ref := range m.GetOwnerReferences() {
		if r, ns := gc.ownerResource(m.GetNamespace(), ref); r != nil {
			gc.runner.add(gcItem{resource: r.name, namespace: ns, name: ref.Name})
		}
	}
}

// addDeletingOwners queues the owners of m that are being deleted.
func (gc *GarbageCollector) addDeletingOwners(m metav1.Object) {
	for _, ref := range m.GetOwnerReferences() {
		r, ns := gc.ownerResource(m.GetNamespace(), ref)
		if r == nil {
			continue
		}
		key := ref.Name
		if ns != "" {
			key = ns + "/" + ref.Name
		}
		obj, ok, _ := r.informer.GetIndexer().GetByKey(key)
		if !ok {
			continue
		}
		if om, err := meta.Accessor(obj); err == nil && om.GetDeletionTimestamp() != nil {
			gc.runner.add(gcItem{resource: r.name, namespace: ns, name: ref.Name})
		}
	}
}

// hasGCFinalizer reports whether m carries the orphan or foregroundDeletion finalizer.
func hasGCFinalizer(m metav1.Object) bool {
	f := m.GetFinalizers()
	return hasFinalizer(f, metav1.FinalizerOrphanDependents) || hasFinalizer(f, metav1.FinalizerDeleteDependents)
}

// ownerResource returns the watched resource an owner reference points to
// and the namespace the owner lives in.
func (gc *GarbageCollector) ownerResource(depNamespace string, ref metav1.OwnerReference) (*gcResource, string) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, ""
	}
	r := gc.byKind[schema.GroupKind{Group: gv.Group, Kind: ref.Kind}]
	if r == nil {
		return nil, ""
	}
	if r.namespaced {
		return r, depNamespace
	}
	return r, ""
}

// dependent is a cached object with owner references.
type dependent struct {
	res *gcResource
	obj metav1.Object
}

// dependentsOf returns the cached objects that list uid as an owner.
func (gc *GarbageCollector) dependentsOf(uid types.UID) []dependent {
	var out []dependent
	for _, r := range gc.resources {
		var objs []any
		if r.indexed {
			objs, _ = r.informer.GetIndexer().ByIndex(ownerUIDIndex, string(uid))
		} else {
			for _, o := range r.informer.GetIndexer().List() {
				if keys, _ := indexByOwnerUID(o); hasFinalizer(keys, string(uid)) {
					objs = append(objs, o)
				}
			}
		}
		for _, o := range objs {
			if m, err := meta.Accessor(o); err == nil {
				out = append(out, dependent{res: r, obj: m})
			}
		}
	}
	return out
}

// dependents returns the queue items of the dependents of uid.
func (gc *GarbageCollector) dependents(uid types.UID) []gcItem {
	deps := gc.dependentsOf(uid)
	out := make([]gcItem, 0, len(deps))
	for _, d := range deps {
		out = append(out, itemOf(d.res, d.obj))
	}
	return out
}

// ownerState classifies an owner for the decision.
type ownerState int

const (
	ownerSolid ownerState = iota
	ownerDangling
	ownerWaiting
)

// gcDecision is what the collector does with an object that has owners.
type gcDecision struct {
	// remove are owner UIDs to drop from the object's references.
	remove []types.UID
	// delete says to delete the object with policy.
	delete bool
	policy metav1.DeletionPropagation
}

// decideGC is Kubernetes' attemptToDeleteItem decision: an object with a
// live owner stays (references to gone or foreground-deleting owners are
// removed); an object whose owners are all gone or deleting is deleted, in
// the foreground when an owner waits for it and it has dependents itself,
// else honouring its own orphan/foreground finalizer, else in the
// background.
func decideGC(refs []metav1.OwnerReference, states []ownerState, hasDependents bool, finalizers []string) gcDecision {
	var solid, dangling, waiting []types.UID
	for i, ref := range refs {
		switch states[i] {
		case ownerSolid:
			solid = append(solid, ref.UID)
		case ownerDangling:
			dangling = append(dangling, ref.UID)
		case ownerWaiting:
			waiting = append(waiting, ref.UID)
		}
	}
	switch {
	case len(solid) > 0:
		return gcDecision{remove: append(dangling, waiting...)}
	case len(waiting) > 0 && hasDependents:
		return gcDecision{delete: true, policy: metav1.DeletePropagationForeground}
	case hasFinalizer(finalizers, metav1.FinalizerOrphanDependents):
		return gcDecision{delete: true, policy: metav1.DeletePropagationOrphan}
	case hasFinalizer(finalizers, metav1.FinalizerDeleteDependents):
		return gcDecision{delete: true, policy: metav1.DeletePropagationForeground}
	}
	return gcDecision{delete: true, policy: metav1.DeletePropagationBackground}
}

// sync looks at one object: as an owner being deleted with a finalizer, or
// as a dependent whose owners may be gone.
func (gc *GarbageCollector) sync(ctx context.Context, item gcItem) outcome {
	r := gc.resources[item.resource]
	if r == nil {
		return done()
	}
	key := item.name
	if item.namespace != "" {
		key = item.namespace + "/" + item.name
	}
	obj, exists, err := r.informer.GetIndexer().GetByKey(key)
	if err != nil {
		return retry(err)
	}
	if !exists {
		return done()
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return noRetry(err)
	}
	if m.GetDeletionTimestamp() != nil {
		switch {
		case hasFinalizer(m.GetFinalizers(), metav1.FinalizerOrphanDependents):
			return gc.orphanDependents(ctx, r, m)
		case hasFinalizer(m.GetFinalizers(), metav1.FinalizerDeleteDependents):
			return gc.processDeletingDependents(ctx, r, m)
		}
		return done()
	}
	if len(m.GetOwnerReferences()) == 0 {
		return done()
	}
	decision, err := gc.decide(ctx, m)
	if err != nil {
		return retry(err)
	}
	if len(decision.remove) > 0 || decision.delete {
		// Act only on what the server says now: the cache may still show
		// a reference that was just removed (orphaning) or changed.
		live, err := r.get(ctx, m.GetNamespace(), m.GetName())
		if apierrors.IsNotFound(err) {
			return done()
		}
		if err != nil {
			return retry(errorf("garbagecollector: get %s %s: %w", r.name, key, err))
		}
		if live.GetUID() != m.GetUID() || live.GetDeletionTimestamp() != nil || len(live.GetOwnerReferences()) == 0 {
			return done()
		}
		if decision, err = gc.decide(ctx, live); err != nil {
			return retry(err)
		}
	}
	switch {
	case len(decision.remove) > 0:
		err = r.patch(ctx, m.GetNamespace(), m.GetName(), removeOwnerRefPatch(m.GetUID(), decision.remove...))
	case decision.delete:
		uid := m.GetUID()
		policy := decision.policy
		err = r.delete(ctx, m.GetNamespace(), m.GetName(), metav1.DeleteOptions{
			Preconditions:     &metav1.Preconditions{UID: &uid},
			PropagationPolicy: &policy,
		})
	}
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return retry(errorf("garbagecollector: %s %s: %w", r.name, key, err))
	}
	return done()
}

// decide classifies the owners of m and returns what to do with it.
func (gc *GarbageCollector) decide(ctx context.Context, m metav1.Object) (gcDecision, error) {
	refs := m.GetOwnerReferences()
	states := make([]ownerState, len(refs))
	for i, ref := range refs {
		s, err := gc.ownerStateOf(ctx, m.GetNamespace(), ref)
		if err != nil {
			return gcDecision{}, err
		}
		states[i] = s
	}
	return decideGC(refs, states, len(gc.dependentsOf(m.GetUID())) > 0, m.GetFinalizers()), nil
}

// ownerStateOf classifies one owner reference, from the cache when it
// shows the owner and otherwise from a live read (the cache may lag behind
// a just-created owner).
func (gc *GarbageCollector) ownerStateOf(ctx context.Context, depNamespace string, ref metav1.OwnerReference) (ownerState, error) {
	r, ns := gc.ownerResource(depNamespace, ref)
	if r == nil {
		return ownerSolid, nil // Not a watched kind: never collect because of it.
	}
	gc.mu.Lock()
	known := gc.absent[ref.UID]
	gc.mu.Unlock()
	if known {
		return ownerDangling, nil
	}
	key := ref.Name
	if ns != "" {
		key = ns + "/" + ref.Name
	}
	var owner metav1.Object
	if obj, ok, _ := r.informer.GetIndexer().GetByKey(key); ok {
		if m, err := meta.Accessor(obj); err == nil && m.GetUID() == ref.UID {
			owner = m
		}
	}
	if owner == nil {
		live, err := r.get(ctx, ns, ref.Name)
		switch {
		case apierrors.IsNotFound(err):
			gc.markAbsent(ref.UID)
			return ownerDangling, nil
		case err != nil:
			return ownerSolid, errorf("garbagecollector: get owner %s %s: %w", r.name, key, err)
		case live.GetUID() != ref.UID:
			gc.markAbsent(ref.UID)
			return ownerDangling, nil
		}
		owner = live
	}
	if owner.GetDeletionTimestamp() != nil && hasFinalizer(owner.GetFinalizers(), metav1.FinalizerDeleteDependents) {
		return ownerWaiting, nil
	}
	return ownerSolid, nil
}

// markAbsent remembers an owner UID known to be gone (UIDs are never reused).
func (gc *GarbageCollector) markAbsent(uid types.UID) {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if len(gc.absent) > 10000 {
		gc.absent = map[types.UID]bool{}
	}
	gc.absent[uid] = true
}

// processDeletingDependents handles an owner in foreground deletion: once
// no dependent blocks it, its foregroundDeletion finalizer is removed;
// until then its dependents are queued so they get deleted.
func (gc *GarbageCollector) processDeletingDependents(ctx context.Context, r *gcResource, m metav1.Object) outcome {
	blocking := 0
	for _, d := range gc.dependentsOf(m.GetUID()) {
		for _, ref := range d.obj.GetOwnerReferences() {
			if ref.UID == m.GetUID() && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
				blocking++
			}
		}
		gc.runner.add(itemOf(d.res, d.obj))
	}
	if blocking > 0 {
		return done()
	}
	return gc.removeFinalizer(ctx, r, m, metav1.FinalizerDeleteDependents)
}

// orphanDependents handles an owner with the orphan finalizer: references
// to it are removed from its dependents, then the finalizer from it.
func (gc *GarbageCollector) orphanDependents(ctx context.Context, r *gcResource, m metav1.Object) outcome {
	var errs []error
	for _, d := range gc.dependentsOf(m.GetUID()) {
		err := d.res.patch(ctx, d.obj.GetNamespace(), d.obj.GetName(), removeOwnerRefPatch(d.obj.GetUID(), m.GetUID()))
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, errorf("garbagecollector: orphan %s %s/%s: %w", d.res.name, d.obj.GetNamespace(), d.obj.GetName(), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return retry(err)
	}
	return gc.removeFinalizer(ctx, r, m, metav1.FinalizerOrphanDependents)
}

// removeFinalizer removes finalizer from a fresh copy of the object.
func (gc *GarbageCollector) removeFinalizer(ctx context.Context, r *gcResource, m metav1.Object, finalizer string) outcome {
	fresh, err := r.get(ctx, m.GetNamespace(), m.GetName())
	if apierrors.IsNotFound(err) {
		return done()
	}
	if err != nil {
		return retry(errorf("garbagecollector: get %s %s: %w", r.name, m.GetName(), err))
	}
	if fresh.GetUID() != m.GetUID() || !hasFinalizer(fresh.GetFinalizers(), finalizer) {
		return done()
	}
	fresh.SetFinalizers(withoutFinalizer(fresh.GetFinalizers(), finalizer))
	if err := r.update(ctx, fresh); err != nil && !apierrors.IsNotFound(err) {
		return retry(errorf("garbagecollector: remove finalizer %s from %s %s: %w", finalizer, r.name, m.GetName(), err))
	}
	return done()
}
