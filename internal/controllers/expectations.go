package controllers

import (
	"sync"
	"time"
)

// expectationsTTL is how long a controller waits for its own creates and
// deletes to show up in the informer cache before it stops trusting them
// (Kubernetes' ExpectationsTimeout).
const expectationsTTL = 5 * time.Minute

// expectations remembers, per controller key, the pods a controller has just
// created or deleted, so that a sync running before the informer cache has
// caught up does not create or delete them a second time. Unlike
// Kubernetes' counters it records names, so it is satisfied by looking at the
// cache (level-triggered) instead of by counting informer events.
type expectations struct {
	mu sync.Mutex
	m  map[string]*expectation
}

// expectation is what one controller key is waiting to see.
type expectation struct {
	adds    map[string]bool
	deletes map[string]bool
	since   time.Time
}

// newExpectations returns an empty expectations store.
func newExpectations() *expectations {
	return &expectations{m: map[string]*expectation{}}
}

// get returns the entry for key, creating it.
func (e *expectations) get(key string) *expectation {
	x := e.m[key]
	if x == nil {
		x = &expectation{adds: map[string]bool{}, deletes: map[string]bool{}}
		e.m[key] = x
	}
	x.since = time.Now()
	return x
}

// expectCreate records that key's controller is creating pod name.
func (e *expectations) expectCreate(key, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.get(key).adds[name] = true
}

// expectDelete records that key's controller is deleting pod name.
func (e *expectations) expectDelete(key, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.get(key).deletes[name] = true
}

// cancel forgets an expectation whose write failed.
func (e *expectations) cancel(key, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.adds, name)
		delete(x.deletes, name)
	}
}

// observe records an informer event about pod name of key's controller:
// any event shows the pod reached the cache; a delete event or a deletion
// timestamp also shows it is going. This catches pods that were created
// and deleted again before a sync looked at the cache.
func (e *expectations) observe(key, name string, gone bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.adds, name)
		if gone {
			delete(x.deletes, name)
		}
	}
}

// forget drops everything recorded for key.
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// satisfied reports whether the cache reflects every write recorded for key.
// lookup tells whether a pod is in the cache and whether it is being deleted.
func (e *expectations) satisfied(key string, lookup func(name string) (exists, deleting bool)) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	if x == nil {
		return true
	}
	for name := range x.adds {
		if exists, _ := lookup(name); exists {
			delete(x.adds, name)
		}
	}
	for name := range x.deletes {
		if exists, deleting := lookup(name); !exists || deleting {
			delete(x.deletes, name)
		}
	}
	if len(x.adds) == 0 && len(x.deletes) == 0 || time.Since(x.since) > expectationsTTL {
		delete(e.m, key)
		return true
	}
	return false
}
