// Package ipam hands out Service cluster IPs and node ports the way
// kube-apiserver's allocators do: requested values are honoured when free and
// in range, others are picked at random, and every value is owned by one
// Service so it is released when that Service goes away or stops using it.
package ipam

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"sync"
)

// Errors explain why a requested value cannot be had; the messages are
// Kubernetes' own.
var (
	ErrAllocated = errors.New("provided IP is already allocated")
	ErrFull      = errors.New("range is full")
)

// IPRange allocates addresses of one CIDR, never the network address (and
// never the broadcast address of IPv4 ranges).
type IPRange struct {
	mu     sync.Mutex
	prefix netip.Prefix
	first  netip.Addr // first allocatable
	size   uint64     // number of allocatable addresses
	owner  map[netip.Addr]string
}

// NewIPRange returns an allocator for cidr (e.g. "10.96.0.0/12").
func NewIPRange(cidr string) (*IPRange, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("ipam: %w", err)
	}
	p = p.Masked()
	bits := p.Addr().BitLen() - p.Bits()
	if bits > 62 {
		bits = 62
	}
	size := uint64(1) << bits
	if p.Addr().Is4() && size >= 4 {
		size -= 2
	} else if size >= 2 {
		size--
	}
	return &IPRange{prefix: p, first: p.Addr().Next(), size: size, owner: map[netip.Addr]string{}}, nil
}

// String returns the range's CIDR.
func (r *IPRange) String() string { return r.prefix.String() }

// Contains reports whether ip is allocatable in this range.
func (r *IPRange) Contains(ip netip.Addr) bool {
	if !r.prefix.Contains(ip) {
		return false
	}
	off := offset(r.first, ip)
	return off >= 0 && uint64(off) < r.size
}

// Allocate reserves ip for owner. Reserving an address the owner already
// holds is not an error.
func (r *IPRange) Allocate(owner string, ip netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.Contains(ip) {
		return fmt.Errorf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, r.prefix)
	}
	if cur, ok := r.owner[ip]; ok && cur != owner {
		return ErrAllocated
	}
	r.owner[ip] = owner
	return nil
}

// AllocateNext reserves a free address for owner, chosen at random from the
// upper part of the range first as Kubernetes does, so the lower part stays
// free for addresses users ask for (like 10.96.0.10 for DNS).
func (r *IPRange) AllocateNext(owner string) (netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if uint64(len(r.owner)) >= r.size {
		return netip.Addr{}, ErrFull
	}
	// Kubernetes keeps min(max(16, size/16), 256) addresses at the bottom for static use.
	reserved := min(max(16, r.size/16), 256)
	if reserved >= r.size {
		reserved = 0
	}
	for _, lo := range []uint64{reserved, 0} {
		span := r.size - lo
		start := rand.Uint64N(span)
		for i := uint64(0); i < span && i < 1<<20; i++ {
			ip := add(r.first, lo+(start+i)%span)
			if _, taken := r.owner[ip]; !taken {
				r.owner[ip] = owner
				return ip, nil
			}
		}
	}
	return netip.Addr{}, ErrFull
}

// Release frees every address owner holds except those in keep.
func (r *IPRange) Release(owner string, keep ...netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ip, o := range r.owner {
		if o == owner && !containsAddr(keep, ip) {
			delete(r.owner, ip)
		}
	}
}

// Owner returns who holds ip.
func (r *IPRange) Owner(ip netip.Addr) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.owner[ip]
	return o, ok
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func offset(base, ip netip.Addr) int64 {
	b := new(big.Int).SetBytes(base.AsSlice())
	i := new(big.Int).SetBytes(ip.AsSlice())
	d := new(big.Int).Sub(i, b)
	if !d.IsInt64() {
		return -1
	}
	return d.Int64()
}

func add(base netip.Addr, n uint64) netip.Addr {
	b := new(big.Int).SetBytes(base.AsSlice())
	b.Add(b, new(big.Int).SetUint64(n))
	buf := b.FillBytes(make([]byte, len(base.AsSlice())))
	a, _ := netip.AddrFromSlice(buf)
	return a
}

// PortRange allocates ports of one inclusive range (node ports).
type PortRange struct {
	mu        sync.Mutex
	base, max int
	owner     map[int]string
}

// NewPortRange parses "30000-32767".
func NewPortRange(spec string) (*PortRange, error) {
	var lo, hi int
	if _, err := fmt.Sscanf(spec, "%d-%d", &lo, &hi); err != nil || lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("ipam: invalid port range %q", spec)
	}
	return &PortRange{base: lo, max: hi, owner: map[int]string{}}, nil
}

// String returns the range as "30000-32767".
func (r *PortRange) String() string { return fmt.Sprintf("%d-%d", r.base, r.max) }

// Allocate reserves port for owner.
func (r *PortRange) Allocate(owner string, port int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if port < r.base || port > r.max {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %d-%d", r.base, r.max)
	}
	if cur, ok := r.owner[port]; ok && cur != owner {
		return errors.New("provided port is already allocated")
	}
	r.owner[port] = owner
	return nil
}

// AllocateNext reserves a free port for owner at random.
func (r *PortRange) AllocateNext(owner string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	span := r.max - r.base + 1
	start := rand.IntN(span)
	for i := 0; i < span; i++ {
		p := r.base + (start+i)%span
		if _, taken := r.owner[p]; !taken {
			r.owner[p] = owner
			return p, nil
		}
	}
	return 0, errors.New("range is full")
}

// Release frees every port owner holds except those in keep.
func (r *PortRange) Release(owner string, keep ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, o := range r.owner {
		if o == owner && !containsInt(keep, p) {
			delete(r.owner, p)
		}
	}
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}
