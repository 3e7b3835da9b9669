package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// outcome is what a sync asks the queue runner to do with the key it synced.
type outcome struct {
	// err, when set, makes the runner retry the key with rate-limited backoff.
	err error
	// permanent marks err as one that retrying cannot fix: the key is dropped
	// until an informer event brings it back.
	permanent bool
	// requeueAfter, when positive and err is nil, makes the runner look at
	// the key again after that long (minReadySeconds, toleration deadlines).
	requeueAfter time.Duration
}

// done is the outcome of a sync that reached the desired state.
func done() outcome { return outcome{} }

// retry is the outcome of a sync that failed and should be retried with
// backoff; with a nil err it is done.
func retry(err error) outcome { return outcome{err: err} }

// noRetry is the outcome of a sync that failed in a way retrying cannot fix.
func noRetry(err error) outcome { return outcome{err: err, permanent: true} }

// retryAfter is the outcome of a sync that succeeded but must look again later.
func retryAfter(d time.Duration) outcome { return outcome{requeueAfter: d} }

// withError combines the outcome of the write phase with a planned requeue.
func (o outcome) withError(err error) outcome {
	if err != nil {
		o.err = err
	}
	return o
}

// runner drives a sync function over a rate-limited work queue of keys. It
// is the one place where a failed sync is logged and its retry decided.
type runner[K comparable] struct {
	name  string
	queue workqueue.TypedRateLimitingInterface[K]
	sync  func(ctx context.Context, key K) outcome
}

// newRunner returns a runner named after its controller.
func newRunner[K comparable](name string, sync func(ctx context.Context, key K) outcome) *runner[K] {
	limiter := workqueue.NewTypedMaxOfRateLimiter[K](
		workqueue.NewTypedItemExponentialFailureRateLimiter[K](5*time.Millisecond, 30*time.Second),
		&workqueue.TypedBucketRateLimiter[K]{Limiter: rate.NewLimiter(rate.Limit(50), 300)},
	)
	return &runner[K]{
		name: name,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(limiter,
			workqueue.TypedRateLimitingQueueConfig[K]{Name: name}),
		sync: sync,
	}
}

// add queues key for an immediate sync.
func (r *runner[K]) add(key K) { r.queue.Add(key) }

// run processes keys with the given number of workers until ctx is
// cancelled, then shuts the queue down and waits for the workers.
func (r *runner[K]) run(ctx context.Context, workers int) {
	if workers < 1 {
		workers = 1
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r.processNext(ctx) {
			}
		}()
	}
	<-ctx.Done()
	r.queue.ShutDown()
	wg.Wait()
}

// processNext syncs one key and acts on the outcome; it returns false once
// the queue has been shut down.
func (r *runner[K]) processNext(ctx context.Context) bool {
	key, quit := r.queue.Get()
	if quit {
		return false
	}
	defer r.queue.Done(key)
	out := r.sync(ctx, key)
	logger := klog.FromContext(ctx)
	switch {
	case out.err != nil && out.permanent:
		logger.Error(out.err, "Sync failed, not retrying", "controller", r.name, "key", key)
		r.queue.Forget(key)
	case out.err != nil:
		if apierrors.IsConflict(out.err) || apierrors.IsAlreadyExists(out.err) || errors.Is(out.err, errStaleCache) {
			logger.V(4).Info("Sync raced with another writer, retrying", "controller", r.name, "key", key, "err", out.err)
		} else if ctx.Err() == nil {
			logger.Error(out.err, "Sync failed, retrying", "controller", r.name, "key", key)
		}
		r.queue.AddRateLimited(key)
	default:
		r.queue.Forget(key)
		if out.requeueAfter > 0 {
			r.queue.AddAfter(key, out.requeueAfter)
		}
	}
	return true
}

// errStaleCache reports that a sync saw a cache that does not yet reflect
// its own earlier writes; it is retried quietly.
var errStaleCache = errors.New("informer cache not yet up to date")

// waitForSync waits until every handler registration has seen its
// informer's initial list. It returns false when ctx ends first.
func waitForSync(ctx context.Context, name string, synced ...cache.InformerSynced) bool {
	return cache.WaitForNamedCacheSync(name, ctx.Done(), synced...)
}

// addHandler registers h on informer and returns the registration's
// HasSynced, so a controller waits for its own handler rather than only the
// informer.
func addHandler(informer cache.SharedIndexInformer, h cache.ResourceEventHandler) cache.InformerSynced {
	reg, err := informer.AddEventHandler(h)
	if err != nil {
		// AddEventHandler only fails once the informer has been stopped;
		// the controller then never syncs and its Run returns with ctx.
		return func() bool { return false }
	}
	return reg.HasSynced
}

// keyOf returns the namespace/name key of an object, unwrapping the
// tombstones informers hand to delete handlers.
func keyOf(obj any) (string, bool) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return "", false
	}
	return key, true
}

// unwrapTombstone returns the last known object behind a delete
// notification.
func unwrapTombstone(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

// errorf builds a controller error with the package's prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("controllers: "+format, args...)
}
