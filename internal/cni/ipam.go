package cni

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"sync"
)

var (
	// ErrPoolExhausted is returned by NextBlock when every block of the pod
	// CIDR is taken.
	ErrPoolExhausted = errors.New("cni: ipam: the pod CIDR has no free block")
	// ErrBlockFull is returned by BlockIPAM.Allocate when every address of
	// the node's blocks is in use: the node needs another block (NextBlock,
	// then BlockIPAM.AddBlock).
	ErrBlockFull = errors.New("cni: ipam: every address of the node's blocks is in use")
)

// NextBlock returns the lowest block of podCIDR with prefix length blockSize
// that overlaps none of taken. Taken networks may have any size and may lie
// outside podCIDR; those of the other address family are ignored.
func NextBlock(podCIDR *net.IPNet, blockSize int, taken []*net.IPNet) (*net.IPNet, error) {
	pool, err := toPrefix(podCIDR)
	if err != nil {
		return nil, fmt.Errorf("cni: ipam: pod CIDR: %w", err)
	}
	bits := pool.Addr().BitLen()
	if blockSize < pool.Bits() || blockSize > bits-1 {
		return nil, fmt.Errorf("cni: ipam: block size /%d does not fit pod CIDR %s (want /%d to /%d)", blockSize, pool, pool.Bits(), bits-1)
	}

	type interval struct{ start, end *big.Int } // [start, end)
	var used []interval
	for _, t := range taken {
		p, err := toPrefix(t)
		if err != nil || p.Addr().Is4() != pool.Addr().Is4() {
			continue
		}
		start := addrToInt(p.Addr())
		used = append(used, interval{start, new(big.Int).Add(start, pow2(bits-p.Bits()))})
	}
	slices.SortFunc(used, func(a, b interval) int { return a.start.Cmp(b.start) })

	base := addrToInt(pool.Addr())
	limit := new(big.Int).Add(base, pow2(bits-pool.Bits()))
	step := pow2(bits - blockSize)
	cand := new(big.Int).Set(base)
	candEnd := new(big.Int).Add(cand, step)
	for _, iv := range used {
		if candEnd.Cmp(limit) > 0 {
			break
		}
		if iv.end.Cmp(cand) <= 0 {
			continue // entirely below the candidate
		}
		if iv.start.Cmp(candEnd) >= 0 {
			break // a gap: the candidate is free
		}
		// The interval overlaps the candidate: move to the first aligned
		// block at or after its end.
		off := new(big.Int).Sub(iv.end, base)
		if rem := new(big.Int).Mod(off, step); rem.Sign() != 0 {
			off.Add(off, new(big.Int).Sub(step, rem))
		}
		cand.Add(base, off)
		candEnd.Add(cand, step)
	}
	if candEnd.Cmp(limit) > 0 {
		return nil, fmt.Errorf("%w (%s in /%d blocks)", ErrPoolExhausted, pool, blockSize)
	}
	return &net.IPNet{IP: intToIP(cand, bits), Mask: net.CIDRMask(blockSize, bits)}, nil
}

// BlockIPAM hands out pod addresses from one node's blocks. It never hands
// out the first address of a block (the node's tunnel address in the first
// block; reserved in every block, as Calico reserves its tunnel and block
// addresses) nor an address still in use. Allocation is next-fit: it goes
// on after the address handed out last and wraps around, so a released
// address is reused as late as possible, as Calico does. After a restart,
// Restore each running pod's address; allocation then continues after the
// highest of them. BlockIPAM is safe for concurrent use.
type BlockIPAM struct {
	mu     sync.Mutex
	blocks []netip.Prefix
	byKey  map[string]netip.Addr
	byAddr map[netip.Addr]string
	// cursor is the scan position after the last allocated address:
	// block index and offset inside the block.
	cursorBlock int
	cursorOff   uint64
}

// NewBlockIPAM returns an allocator over blocks, all free.
func NewBlockIPAM(blocks []*net.IPNet) (*BlockIPAM, error) {
	a := &BlockIPAM{byKey: map[string]netip.Addr{}, byAddr: map[netip.Addr]string{}, cursorOff: 1}
	for _, b := range blocks {
		if err := a.AddBlock(b); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// AddBlock adds a block to the allocator (the node was given another block).
// Adding a block that is already there does nothing.
func (a *BlockIPAM) AddBlock(block *net.IPNet) error {
	p, err := toPrefix(block)
	if err != nil {
		return fmt.Errorf("cni: ipam: block: %w", err)
	}
	if p.Bits() > p.Addr().BitLen()-1 {
		return fmt.Errorf("cni: ipam: block %s: too small, a block needs at least 2 addresses", p)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.blocks {
		if b == p {
			return nil
		}
		if b.Overlaps(p) {
			return fmt.Errorf("cni: ipam: block %s overlaps block %s", p, b)
		}
	}
	a.blocks = append(a.blocks, p)
	return nil
}

// Blocks returns the allocator's blocks in order.
func (a *BlockIPAM) Blocks() []*net.IPNet {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*net.IPNet, len(a.blocks))
	for i, b := range a.blocks {
		out[i] = prefixToIPNet(b)
	}
	return out
}

// Restore records that podKey uses ip (rebuilding the allocator from the
// pods' status.podIP after a restart). It is idempotent and fails when ip
// lies outside the blocks, is a reserved first address or belongs to another
// pod, or when podKey already has another address.
func (a *BlockIPAM) Restore(podKey string, ip net.IP) error {
	addr, ok := netip.AddrFromSlice(normalizeIP(ip))
	if !ok {
		return fmt.Errorf("cni: ipam: pod %q: invalid address %v", podKey, ip)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	bi, off, ok := a.locate(addr)
	switch {
	case !ok:
		return fmt.Errorf("cni: ipam: pod %q: address %s is outside the node's blocks", podKey, addr)
	case off == 0:
		return fmt.Errorf("cni: ipam: pod %q: address %s is the reserved first address of its block", podKey, addr)
	}
	if owner, used := a.byAddr[addr]; used && owner != podKey {
		return fmt.Errorf("cni: ipam: pod %q: address %s is in use by pod %q", podKey, addr, owner)
	}
	if cur, has := a.byKey[podKey]; has && cur != addr {
		return fmt.Errorf("cni: ipam: pod %q: already has address %s, not %s", podKey, cur, addr)
	}
	a.byKey[podKey] = addr
	a.byAddr[addr] = podKey
	// Continue after the highest restored address.
	if bi > a.cursorBlock || (bi == a.cursorBlock && off >= a.cursorOff) {
		a.cursorBlock, a.cursorOff = bi, off+1
	}
	return nil
}

// Allocate returns podKey's address, allocating one if it has none: the same
// podKey always gets the same address until it is released. It returns
// ErrBlockFull when no address is free.
func (a *BlockIPAM) Allocate(podKey string) (net.IP, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if addr, ok := a.byKey[podKey]; ok {
		return net.IP(addr.AsSlice()), nil
	}
	free := uint64(0)
	for _, b := range a.blocks {
		free += blockLen(b) - 1
	}
	bi, off := a.cursorBlock, a.cursorOff
	for range free {
		// Move to the next valid position, wrapping around after the
		// last block; offset 0 (the reserved address) is skipped.
		for bi >= len(a.blocks) || off >= blockLen(a.blocks[bi]) {
			if bi >= len(a.blocks) {
				bi, off = 0, 1
			} else {
				bi, off = bi+1, 1
			}
		}
		addr := addrAt(a.blocks[bi], off)
		if _, used := a.byAddr[addr]; !used {
			a.byKey[podKey] = addr
			a.byAddr[addr] = podKey
			a.cursorBlock, a.cursorOff = bi, off+1
			return net.IP(addr.AsSlice()), nil
		}
		off++
	}
	return nil, ErrBlockFull
}

// Release frees podKey's address and returns it (nil when podKey has none).
// Releasing twice is harmless.
func (a *BlockIPAM) Release(podKey string) net.IP {
	a.mu.Lock()
	defer a.mu.Unlock()
	addr, ok := a.byKey[podKey]
	if !ok {
		return nil
	}
	delete(a.byKey, podKey)
	delete(a.byAddr, addr)
	return net.IP(addr.AsSlice())
}

// Lookup returns podKey's address.
func (a *BlockIPAM) Lookup(podKey string) (net.IP, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	addr, ok := a.byKey[podKey]
	if !ok {
		return nil, false
	}
	return net.IP(addr.AsSlice()), true
}

// Stats returns how many addresses are in use and how many the blocks offer
// in all (excluding the reserved first addresses).
func (a *BlockIPAM) Stats() (inUse, capacity int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.blocks {
		capacity += int(blockLen(b) - 1)
	}
	return len(a.byKey), capacity
}

// locate returns the block index of addr and its offset in the block.
func (a *BlockIPAM) locate(addr netip.Addr) (int, uint64, bool) {
	for i, b := range a.blocks {
		if b.Contains(addr) {
			off := new(big.Int).Sub(addrToInt(addr), addrToInt(b.Addr()))
			return i, off.Uint64(), true
		}
	}
	return 0, 0, false
}

// blockLen returns the number of addresses in b, capped far above any
// usable block size.
func blockLen(b netip.Prefix) uint64 {
	host := b.Addr().BitLen() - b.Bits()
	if host > 32 {
		host = 32
	}
	return 1 << host
}

// addrAt returns the address at offset off in b.
func addrAt(b netip.Prefix, off uint64) netip.Addr {
	n := new(big.Int).Add(addrToInt(b.Addr()), new(big.Int).SetUint64(off))
	addr, _ := netip.AddrFromSlice(intToIP(n, b.Addr().BitLen()))
	return addr
}

// toPrefix converts n to a masked netip.Prefix, IPv4 in its 4-byte form.
func toPrefix(n *net.IPNet) (netip.Prefix, error) {
	if n == nil {
		return netip.Prefix{}, errors.New("missing network")
	}
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("invalid address %v", n.IP)
	}
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, fmt.Errorf("invalid mask %v", n.Mask)
	}
	if addr.Is4In6() {
		addr = addr.Unmap()
		if bits == 128 {
			if ones < 96 {
				return netip.Prefix{}, fmt.Errorf("invalid IPv4 mask /%d", ones)
			}
			ones -= 96
		}
	} else if addr.Is4() != (bits == 32) {
		return netip.Prefix{}, fmt.Errorf("address %v does not match mask %v", n.IP, n.Mask)
	}
	return netip.PrefixFrom(addr, ones).Masked(), nil
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	bits := p.Addr().BitLen()
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

func addrToInt(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }

func intToIP(n *big.Int, bits int) net.IP {
	ip := make(net.IP, bits/8)
	return n.FillBytes(ip)
}

func pow2(n int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(n)) }
