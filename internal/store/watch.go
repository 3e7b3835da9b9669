package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// watcher is one registered watch. The writer sends it live events without
// ever blocking: in is buffered (Options.WatchBuffer), and when it is full
// the watcher is dropped and in is closed. A forwarding goroutine moves
// events from in to the caller's channel.
type watcher struct {
	prefix string
	in     chan Event
}

// send delivers ev to w without blocking, or drops w if its buffer is full.
// It requires s.mu held for writing.
func (w *watcher) send(s *Store, ev Event) {
	select {
	case w.in <- ev:
	default:
		s.dropLocked(w)
	}
}

// dropLocked unregisters w and closes its input, once. It requires s.mu held
// for writing; holding it is what makes closing safe against send.
func (s *Store) dropLocked(w *watcher) {
	if _, ok := s.watchers[w]; ok {
		delete(s.watchers, w)
		close(w.in)
	}
}

// Watch returns a channel carrying, in revision order, every event with
// Rev > fromRev on keys starting with prefix: first those still in the
// history, then live ones. fromRev 0 means only events after now. If events
// after fromRev have been compacted out of the history, Watch returns an
// error wrapping ErrCompacted.
//
// The channel is closed when ctx is cancelled, when the store is closed, or
// when the watcher falls more than Options.WatchBuffer events behind: slow
// watchers never block writers. After the events already buffered have been
// delivered the channel closes, so the consumer has seen every event up to
// the last revision it received and resumes by watching again from it, as
// Kubernetes clients do after a watch ends.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var replay []Event
	if fromRev == 0 {
		fromRev = s.rev
	} else {
		if fromRev < s.compactRev {
			return nil, fmt.Errorf("store: watch from revision %d, oldest available is %d: %w",
				fromRev, s.compactRev, ErrCompacted)
		}
		replay = s.historyLocked(prefix, fromRev)
	}
	return s.startLocked(ctx, prefix, fromRev, replay), nil
}

// ListAndWatch atomically lists the objects under prefix, sorted by key, at
// revision rev and starts a watch whose channel carries exactly the events
// after rev: nothing missed, nothing repeated. The channel behaves as
// Watch's.
func (s *Store) ListAndWatch(ctx context.Context, prefix string) (items []Object, rev int64, ch <-chan Event, err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, 0, nil, ErrClosed
	}
	items, rev = s.listLocked(prefix), s.rev
	ch = s.startLocked(ctx, prefix, rev, nil)
	s.mu.Unlock()
	sortObjects(items)
	return items, rev, ch, nil
}

// historyLocked copies the events in the history with Rev > fromRev on keys
// under prefix. It requires s.mu.
func (s *Store) historyLocked(prefix string, fromRev int64) []Event {
	h := s.history
	i := sort.Search(len(h), func(i int) bool { return h[i].Object.Rev > fromRev })
	var out []Event
	for _, ev := range h[i:] {
		if strings.HasPrefix(ev.Object.Key, prefix) {
			out = append(out, ev)
		}
	}
	return out
}

// startLocked registers a watcher for live events and starts its forwarding
// goroutine, which sends replay first. It requires s.mu held for writing, so
// that no event is published between the snapshot the caller took (replay
// or list) and the registration.
func (s *Store) startLocked(ctx context.Context, prefix string, fromRev int64, replay []Event) <-chan Event {
	w := &watcher{prefix: prefix, in: make(chan Event, s.opts.WatchBuffer)}
	s.watchers[w] = struct{}{}
	out := make(chan Event)
	go s.forward(ctx, w, fromRev, replay, out)
	return out
}

// forward sends replay, then the live events of w after fromRev, to out. It
// closes out when w's input closes (overflow) or ctx is cancelled or the
// store is closing, and then unregisters w.
func (s *Store) forward(ctx context.Context, w *watcher, fromRev int64, replay []Event, out chan<- Event) {
	defer close(out)
	defer func() {
		s.mu.Lock()
		s.dropLocked(w)
		s.mu.Unlock()
	}()
	send := func(ev Event) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
		case <-s.closing:
		}
		return false
	}
	for _, ev := range replay {
		if !send(ev) {
			return
		}
	}
	for {
		select {
		case ev, ok := <-w.in:
			if !ok {
				return
			}
			// A watch may start from a revision in the future.
			if ev.Object.Rev > fromRev && !send(ev) {
				return
			}
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		}
	}
}
