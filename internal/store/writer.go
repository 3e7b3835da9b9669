package store

import (
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// opKind is the kind of a write request.
type opKind int

const (
	opCreate opKind = iota
	opUpdate
	opDelete
)

// request is one queued write. build is set for creates, fn for updates and
// deletes. The writer answers exactly once on done.
type request struct {
	op    opKind
	key   string
	build func(newRev int64) ([]byte, error)
	fn    func(cur Object, newRev int64) ([]byte, error)
	done  chan result
}

// result is the writer's answer to a request.
type result struct {
	obj Object
	err error
}

// errNoChanges rolls back a transaction in which every request failed.
var errNoChanges = errors.New("no changes")

// Create stores the value returned by build under key, which must not exist
// (ErrExists). build receives the revision the object will have, runs in the
// writer goroutine and may return an error to abort, which Create returns
// unchanged. The returned object is durable.
func (s *Store) Create(key string, build func(newRev int64) ([]byte, error)) (Object, error) {
	return s.do(&request{op: opCreate, key: key, build: build})
}

// Update replaces the object at key (ErrNotFound if absent) with the value
// returned by fn, which sees the current object, including earlier writes of
// the same group commit, and the revision the new value will have. fn may
// return an error to abort (for example a conflict it detected), which Update
// returns unchanged.
func (s *Store) Update(key string, fn func(cur Object, newRev int64) ([]byte, error)) (Object, error) {
	return s.do(&request{op: opUpdate, key: key, fn: fn})
}

// Delete removes the object at key (ErrNotFound if absent). fn sees the
// current object and the revision of the deletion and returns the bytes for
// the Deleted event (the object's final state), or an error to abort, which
// Delete returns unchanged. The returned object is the one in the event.
func (s *Store) Delete(key string, fn func(cur Object, newRev int64) ([]byte, error)) (Object, error) {
	return s.do(&request{op: opDelete, key: key, fn: fn})
}

// do queues r for the writer and waits for its answer.
func (s *Store) do(r *request) (Object, error) {
	if err := checkKey(r.key); err != nil {
		return Object{}, err
	}
	r.done = make(chan result, 1)
	select {
	case s.reqs <- r:
	case <-s.closing:
		return Object{}, ErrClosed
	}
	select {
	case res := <-r.done:
		return res.obj, res.err
	case <-s.stopped:
		// The writer answers before it stops, so an answer may be waiting.
		select {
		case res := <-r.done:
			return res.obj, res.err
		default:
			return Object{}, ErrClosed
		}
	}
}

// run is the writer goroutine: it takes the queued requests, up to maxBatch
// at a time, and commits each group with commit, until Close.
func (s *Store) run() {
	defer close(s.stopped)
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case <-s.closing:
			return
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit applies batch in order in one bbolt transaction. If the transaction
// commits (one fsync), it applies the changes to memory, publishes their
// events in revision order and only then answers the requests. If it fails,
// every request of the batch fails and memory is untouched.
func (s *Store) commit(batch []*request) {
	results := make([]result, len(batch))
	var events []Event
	var compacted []int64
	// overlay holds the state written by earlier requests of this batch; a
	// nil entry is a key deleted in this batch.
	overlay := make(map[string]*Object)
	rev := s.rev

	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, objects, evb := tx.Bucket(bucketMeta), tx.Bucket(bucketObjects), tx.Bucket(bucketEvents)
		for i, r := range batch {
			cur, exists := s.current(overlay, r.key)
			ev, err := apply(r, cur, exists, rev+1)
			if err != nil {
				results[i].err = err
				continue
			}
			rev++
			if ev.Type == Deleted {
				err = objects.Delete([]byte(r.key))
				overlay[r.key] = nil
			} else {
				err = objects.Put([]byte(r.key), encodeObject(rev, ev.Object.Value))
				obj := ev.Object
				overlay[r.key] = &obj
			}
			if err != nil {
				return fmt.Errorf("write %q: %w", r.key, err)
			}
			if err := evb.Put(encodeRev(rev), encodeEvent(ev)); err != nil {
				return fmt.Errorf("write event %d: %w", rev, err)
			}
			events = append(events, ev)
			results[i].obj = ev.Object
		}
		if len(events) == 0 {
			return errNoChanges
		}
		if err := meta.Put(keyRev, encodeRev(rev)); err != nil {
			return fmt.Errorf("write revision: %w", err)
		}
		// Compact the history to the most recent HistorySize events.
		for i := 0; i < len(s.history)+len(events)-s.opts.HistorySize; i++ {
			if i < len(s.history) {
				compacted = append(compacted, s.history[i].Object.Rev)
			} else {
				compacted = append(compacted, events[i-len(s.history)].Object.Rev)
			}
		}
		if err := compactTx(meta, evb, compacted); err != nil {
			return err
		}
		if s.testHookBeforeCommit != nil {
			return s.testHookBeforeCommit()
		}
		return nil
	})

	switch {
	case errors.Is(err, errNoChanges):
	case err != nil:
		for i := range results {
			if results[i].err == nil {
				results[i] = result{err: fmt.Errorf("store: commit: %w", err)}
			}
		}
	default:
		s.publish(overlay, events, rev, compacted)
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

// current returns the state of key as seen by the next request of a batch.
// Only the writer calls it, so it reads s.objects without the lock.
func (s *Store) current(overlay map[string]*Object, key string) (Object, bool) {
	if o, ok := overlay[key]; ok {
		if o == nil {
			return Object{}, false
		}
		return *o, true
	}
	o, ok := s.objects[key]
	return o, ok
}

// apply runs r's callback against the current state of its key and returns
// the resulting event at revision newRev. A panicking callback becomes an
// error, so that it cannot take the writer down.
func apply(r *request, cur Object, exists bool, newRev int64) (ev Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: callback for %q panicked: %v", r.key, p)
		}
	}()
	var val []byte
	switch r.op {
	case opCreate:
		if exists {
			return Event{}, fmt.Errorf("store: create %q: %w", r.key, ErrExists)
		}
		if val, err = r.build(newRev); err != nil {
			return Event{}, err
		}
		return Event{Type: Added, Object: Object{Key: r.key, Value: val, Rev: newRev}}, nil
	case opUpdate, opDelete:
		if !exists {
			return Event{}, fmt.Errorf("store: %s %q: %w", opName(r.op), r.key, ErrNotFound)
		}
		if val, err = r.fn(cur, newRev); err != nil {
			return Event{}, err
		}
		typ := Modified
		if r.op == opDelete {
			typ = Deleted
		}
		return Event{Type: typ, Object: Object{Key: r.key, Value: val, Rev: newRev}, PrevValue: cur.Value}, nil
	}
	return Event{}, fmt.Errorf("store: unknown operation %d", r.op)
}

// opName names an operation for error messages.
func opName(op opKind) string {
	switch op {
	case opCreate:
		return "create"
	case opUpdate:
		return "update"
	}
	return "delete"
}

// compactTx deletes the events at revs (the oldest ones, in order) from the
// events bucket and records the newest of them as the compaction revision.
func compactTx(meta, events *bolt.Bucket, revs []int64) error {
	if len(revs) == 0 {
		return nil
	}
	for _, rev := range revs {
		if err := events.Delete(encodeRev(rev)); err != nil {
			return fmt.Errorf("compact event %d: %w", rev, err)
		}
	}
	if err := meta.Put(keyCompact, encodeRev(revs[len(revs)-1])); err != nil {
		return fmt.Errorf("write compaction revision: %w", err)
	}
	return nil
}

// publish applies a committed batch to memory and sends its events to the
// matching watchers, all under the write lock so that readers and new
// watchers see either none or all of the batch.
func (s *Store) publish(overlay map[string]*Object, events []Event, rev int64, compacted []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, o := range overlay {
		if o == nil {
			delete(s.objects, k)
		} else {
			s.objects[k] = *o
		}
	}
	s.rev = rev
	s.history = append(s.history, events...)
	if n := len(compacted); n > 0 {
		s.history = s.history[n:]
		s.compactRev = compacted[n-1]
	}
	for _, ev := range events {
		for w := range s.watchers {
			if strings.HasPrefix(ev.Object.Key, w.prefix) {
				w.send(s, ev)
			}
		}
	}
}
