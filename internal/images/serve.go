package images

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// connSet runs accept loops on a set of listeners and tracks the connections
// they hand out, so that everything can be closed when the container stops.
type connSet struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newConnSet() *connSet {
	return &connSet{conns: make(map[net.Conn]struct{})}
}

// add tracks c; it reports false (and closes c) when the set is shut down.
func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *connSet) remove(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// closeAll closes every tracked connection and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

// serveListeners accepts connections on every listener and hands each to
// handle in its own goroutine until ctx is cancelled. Then it closes the
// listeners and all connections, waits for the handlers to return and returns
// nil. If a listener fails for another reason, it stops everything the same
// way and returns that error.
func serveListeners(ctx context.Context, lns []net.Listener, handle func(ctx context.Context, c net.Conn)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	set := newConnSet()
	errc := make(chan error, len(lns))
	var loops sync.WaitGroup
	for _, ln := range lns {
		loops.Add(1)
		go func() {
			defer loops.Done()
			errc <- acceptLoop(ctx, ln, set, handle)
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	for _, ln := range lns {
		ln.Close()
	}
	loops.Wait()
	set.closeAll()
	set.wg.Wait()
	return err
}

func acceptLoop(ctx context.Context, ln net.Listener, set *connSet, handle func(ctx context.Context, c net.Conn)) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Back off like net/http does on EMFILE and friends.
				delay = min(max(delay*2, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return err
		}
		delay = 0
		if !set.add(c) {
			return nil
		}
		set.wg.Add(1)
		go func() {
			defer set.wg.Done()
			defer set.remove(c)
			defer c.Close()
			handle(ctx, c)
		}()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// closeListeners closes listeners opened before a later one failed.
func closeListeners(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}
