package node

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// startInformers starts the informers the agent reads: this node's pods
// (field selector spec.nodeName, as the kubelet watches) and all services
// (for the services' environment variables).
func (a *Agent) startInformers(ctx context.Context, rs *runState) (pods, services cache.SharedIndexInformer, stop func()) {
	podFactory := informers.NewSharedInformerFactoryWithOptions(a.cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.cfg.NodeName).String()
		}))
	svcFactory, ownFactory := a.cfg.Informers, false
	if svcFactory == nil {
		svcFactory, ownFactory = informers.NewSharedInformerFactory(a.cfg.Client, 0), true
	}
	podInformer := podFactory.Core().V1().Pods()
	svcInformer := svcFactory.Core().V1().Services()
	rs.pods = podInformer.Lister()
	rs.services = svcInformer.Lister()
	pods, services = podInformer.Informer(), svcInformer.Informer()
	podFactory.Start(ctx.Done())
	svcFactory.Start(ctx.Done())
	return pods, services, func() {
		podFactory.Shutdown()
		if ownFactory {
			svcFactory.Shutdown()
		}
	}
}

// waitForCaches waits for the informers' first lists.
func waitForCaches(ctx context.Context, synced ...cache.InformerSynced) bool {
	return cache.WaitForCacheSync(ctx.Done(), synced...)
}

// pod returns the cached pod of this node with the given name, or nil.
func (rs *runState) pod(namespace, name, node string) *corev1.Pod {
	pod, err := rs.pods.Pods(namespace).Get(name)
	if err != nil || pod.Spec.NodeName != node {
		return nil
	}
	return pod
}

// podHandler nudges the worker of every pod that changes, making workers
// for new pods; a deleted pod's worker finds it gone and cleans up.
func (a *Agent) podHandler(rs *runState) cache.ResourceEventHandler {
	nudge := func(obj any, create bool) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Spec.NodeName != a.cfg.NodeName {
			return
		}
		if w := a.worker(rs, pod, create); w != nil {
			w.nudge()
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { nudge(obj, true) },
		UpdateFunc: func(_, obj any) { nudge(obj, true) },
		DeleteFunc: func(obj any) { nudge(obj, false) },
	}
}

// worker returns the worker of a pod, starting one when create is set and
// the agent is still running.
func (a *Agent) worker(rs *runState, pod *corev1.Pod, create bool) *podWorker {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w := a.workers[pod.UID]; w != nil || !create {
		return w
	}
	if rs.ctx.Err() != nil {
		return nil
	}
	w := newPodWorker(a, rs, pod.DeepCopy())
	a.workers[pod.UID] = w
	a.names[pod.Namespace+"/"+pod.Name] = w
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		w.run(rs.ctx)
	}()
	return w
}

// removeWorker forgets a worker whose pod is gone.
func (a *Agent) removeWorker(w *podWorker) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.workers[w.uid] == w {
		delete(a.workers, w.uid)
	}
	if key := w.namespace + "/" + w.name; a.names[key] == w {
		delete(a.names, key)
	}
}

// workerByName finds the worker of a pod by namespace and name.
func (a *Agent) workerByName(namespace, name string) *podWorker {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.names[namespace+"/"+name]
}

// shutdownWorkers waits for the workers' goroutines, which end with the
// run's context, and then stops every container. The workers are forgotten:
// the next Run starts afresh from the API.
func (a *Agent) shutdownWorkers() {
	a.mu.Lock()
	workers := make([]*podWorker, 0, len(a.workers))
	for _, w := range a.workers {
		workers = append(workers, w)
	}
	a.workers = map[types.UID]*podWorker{}
	a.names = map[string]*podWorker{}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-w.done
			w.shutdown()
		}()
	}
	wg.Wait()
}

// recover cleans up after a previous run before any pod starts: it kills
// the processes that run left behind, removes the sandboxes, networks and
// directories of pods deleted meanwhile, and tells the network which pods
// still hold which addresses.
func (a *Agent) recover(ctx context.Context, rs *runState) {
	all, _ := rs.pods.List(labels.Everything())
	byUID := map[string]*corev1.Pod{}
	var live []*corev1.Pod
	for _, p := range all {
		if p.Spec.NodeName != a.cfg.NodeName {
			continue
		}
		byUID[string(p.UID)] = p
		if p.Status.PodIP != "" && !p.Spec.HostNetwork && !isTerminalPhase(p.Status.Phase) {
			live = append(live, p)
		}
	}
	dirs, _ := os.ReadDir(a.podsDir())
	for _, d := range dirs {
		killRecordedProcesses(filepath.Join(a.podsDir(), d.Name(), "pids"))
	}
	ids, err := a.cfg.Sandboxes.List(ctx)
	if err != nil {
		a.log.Error(err, "Listing sandboxes")
	}
	for _, id := range ids {
		if byUID[id] != nil {
			continue
		}
		pod := loadSavedPod(filepath.Join(a.podsDir(), id), id)
		if !pod.Spec.HostNetwork {
			if err := a.cfg.Network.DelPod(ctx, pod); err != nil {
				a.log.Error(err, "Removing network of deleted pod", "uid", id)
			}
		}
		if err := a.cfg.Sandboxes.Delete(ctx, id); err != nil {
			a.log.Error(err, "Removing sandbox of deleted pod", "uid", id)
		}
	}
	for _, d := range dirs {
		if byUID[d.Name()] == nil {
			os.RemoveAll(filepath.Join(a.podsDir(), d.Name()))
		}
	}
	if err := a.cfg.Network.Restore(ctx, live); err != nil {
		a.log.Error(err, "Restoring pod network state")
	}
}

// isTerminalPhase reports whether a pod phase is final.
func isTerminalPhase(p corev1.PodPhase) bool {
	return p == corev1.PodSucceeded || p == corev1.PodFailed
}
