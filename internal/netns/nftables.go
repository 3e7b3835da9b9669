package netns

import (
	"context"
	"fmt"
	"runtime"

	vnetns "github.com/vishvananda/netns"
	"sigs.k8s.io/knftables"
)

// Nftables is a knftables.Interface whose nft commands run inside
// one network namespace. Every call runs on one dedicated OS thread that
// entered the namespace and is never unlocked, so the nft processes it
// starts inherit the namespace.
type Nftables struct {
	inner knftables.Interface
	calls chan func()
	done  chan struct{}
}

var _ knftables.Interface = (*Nftables)(nil)

// NewNftables returns a knftables.Interface for one nftables table inside
// the network namespace at nsPath (e.g. /run/netns/NAME). Close releases
// its thread.
func NewNftables(nsPath string, family knftables.Family, table string) (*Nftables, error) {
	n := &Nftables{calls: make(chan func()), done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: when this goroutine returns, the
		// runtime throws the thread away instead of reusing it elsewhere.
		runtime.LockOSThread()
		h, err := vnetns.GetFromPath(nsPath)
		if err != nil {
			errc <- fmt.Errorf("netns: netns %s: %w", nsPath, err)
			return
		}
		err = vnetns.Set(h)
		h.Close()
		if err != nil {
			errc <- fmt.Errorf("netns: enter netns %s: %w", nsPath, err)
			return
		}
		n.inner, err = knftables.New(family, table)
		if err != nil {
			errc <- fmt.Errorf("netns: nftables in %s: %w", nsPath, err)
			return
		}
		errc <- nil
		for {
			select {
			case f := <-n.calls:
				f()
			case <-n.done:
				return
			}
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return n, nil
}

// Close stops the namespace thread; later calls fail.
func (n *Nftables) Close() {
	select {
	case <-n.done:
	default:
		close(n.done)
	}
}

func (n *Nftables) do(f func()) error {
	ran := make(chan struct{})
	select {
	case n.calls <- func() { f(); close(ran) }:
		<-ran
		return nil
	case <-n.done:
		return fmt.Errorf("netns: nftables interface closed")
	}
}

// NewTransaction is part of knftables.Interface.
func (n *Nftables) NewTransaction() *knftables.Transaction {
	return n.inner.NewTransaction()
}

// Run is part of knftables.Interface.
func (n *Nftables) Run(ctx context.Context, tx *knftables.Transaction) error {
	var err error
	if e := n.do(func() { err = n.inner.Run(ctx, tx) }); e != nil {
		return e
	}
	return err
}

// Check is part of knftables.Interface.
func (n *Nftables) Check(ctx context.Context, tx *knftables.Transaction) error {
	var err error
	if e := n.do(func() { err = n.inner.Check(ctx, tx) }); e != nil {
		return e
	}
	return err
}

// ListAll is part of knftables.Interface.
func (n *Nftables) ListAll(ctx context.Context) (map[string][]string, error) {
	var out map[string][]string
	var err error
	if e := n.do(func() { out, err = n.inner.ListAll(ctx) }); e != nil {
		return nil, e
	}
	return out, err
}

// List is part of knftables.Interface.
func (n *Nftables) List(ctx context.Context, objectType string) ([]string, error) {
	var out []string
	var err error
	if e := n.do(func() { out, err = n.inner.List(ctx, objectType) }); e != nil {
		return nil, e
	}
	return out, err
}

// ListRules is part of knftables.Interface.
func (n *Nftables) ListRules(ctx context.Context, chain string) ([]*knftables.Rule, error) {
	var out []*knftables.Rule
	var err error
	if e := n.do(func() { out, err = n.inner.ListRules(ctx, chain) }); e != nil {
		return nil, e
	}
	return out, err
}

// ListElements is part of knftables.Interface.
func (n *Nftables) ListElements(ctx context.Context, objectType, name string) ([]*knftables.Element, error) {
	var out []*knftables.Element
	var err error
	if e := n.do(func() { out, err = n.inner.ListElements(ctx, objectType, name) }); e != nil {
		return nil, e
	}
	return out, err
}

// ListCounters is part of knftables.Interface.
func (n *Nftables) ListCounters(ctx context.Context) ([]*knftables.Counter, error) {
	var out []*knftables.Counter
	var err error
	if e := n.do(func() { out, err = n.inner.ListCounters(ctx) }); e != nil {
		return nil, e
	}
	return out, err
}
