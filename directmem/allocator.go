package directmem

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/limits"
	"github.com/offheap-go/offheap/pagealign"
)

// DefaultAlignment is the alignment of buffers when Options.Alignment is 0:
// 16 bytes, enough for any Go value and for SSE loads, and what malloc
// gives in C, so small size classes waste little.
const DefaultAlignment = 16

// Options configures an Allocator. The zero value is ready to use: buffers
// reserved from limits.Default(), 16-byte aligned, zeroed, and released by
// the garbage collector when dropped.
type Options struct {
	// Budget is what allocations reserve from; nil means limits.Default(),
	// the process-wide MaxDirectMemorySize.
	Budget *limits.Budget
	// Alignment of each buffer's first byte: a power of two no larger than
	// the page size (use pagealign.PageSize() for O_DIRECT I/O). 0 means
	// DefaultAlignment.
	Alignment int
	// NoZero skips zeroing reused memory. Buffers may then hold bytes of
	// earlier buffers; use it only when every byte is written before it is read.
	NoZero bool
	// NoCleaner skips registering a garbage-collector cleanup (Netty's
	// "noCleaner" buffers). Allocation is cheaper, but the buffer must be
	// freed: a dropped one keeps its memory and its reservation forever.
	NoCleaner bool
}

// Allocator hands out direct buffers under a budget (the JVM's
// ByteBuffer.allocateDirect with its Bits.reserveMemory). It is safe for
// concurrent use. Every Allocator takes its memory from one process-wide
// heap (heap.go); what differs between them is the budget and the options.
type Allocator struct {
	budget    *limits.Budget
	align     int
	noZero    bool
	noCleaner bool
	err       error // invalid options: every Allocate returns it
	// leases[i] is the allocator's lease on its budget for heap shard i,
	// guarded by that shard's lock, made on first use (lease.go).
	leases []atomic.Pointer[limits.Lease]
}

// NewAllocator returns an allocator with the given options. Invalid options
// (an alignment that is not a power of two or exceeds the page size) do not
// panic: every Allocate on the result returns an error wrapping
// ErrInvalidOptions that names the bad value.
func NewAllocator(opts Options) *Allocator {
	a := &Allocator{budget: opts.Budget, align: opts.Alignment, noZero: opts.NoZero, noCleaner: opts.NoCleaner,
		leases: make([]atomic.Pointer[limits.Lease], len(theHeap.shards))}
	if a.budget == nil {
		a.budget = limits.Default()
	}
	if a.align == 0 {
		a.align = DefaultAlignment
	}
	if !pagealign.IsPowerOfTwo(a.align) || a.align > pagealign.PageSize() {
		a.err = fmt.Errorf("%w: Alignment %d is not a power of two between 1 and the page size %d", ErrInvalidOptions, opts.Alignment, pagealign.PageSize())
	}
	return a
}

// Budget returns the budget the allocator reserves from.
func (a *Allocator) Budget() *limits.Budget { return a.budget }

// allocation is everything a buffer needs in the Go heap, in one object:
// one allocation instead of three. Views point at own, inside it, which
// keeps the whole object (and so the anchor in rel.blk) alive.
type allocation struct {
	buf Buffer
	own owner
	rel release
}

// Allocate returns a zeroed buffer of capacity bytes, position 0, limit at
// capacity, big-endian. The memory is outside the Go heap and counted
// against the budget until the buffer is freed, by Free or by the garbage
// collector once the buffer and all its views are unreachable (unless the
// allocator has Options.NoCleaner).
//
// The memory is capacity rounded up to a size class (see docs/allocator.md:
// at most a fifth more for buffers over 64 bytes); MemoryUsed in Stats and
// the budget's reserved bytes count the rounded size.
//
// When the budget is exhausted, Allocate waits as the JVM does: while
// cleanups of dropped buffers are pending, then after one forced GC, then
// with back-off for about half a second, before failing with an error that
// matches limits.ErrOutOfDirectMemory. It stops waiting when ctx ends,
// returning an error that wraps ctx.Err(). A negative capacity fails at
// once with ErrInvalidCapacity; capacity 0 always succeeds unless the
// budget itself is invalid (see limits.Budget.Err).
func (a *Allocator) Allocate(ctx context.Context, capacity int) (*Buffer, error) {
	if a.err != nil {
		return nil, a.err
	}
	if capacity < 0 {
		return nil, fmt.Errorf("%w: capacity < 0: (%d < 0)", ErrInvalidCapacity, capacity)
	}
	class, size, ok := sizeClass(capacity, a.align)
	if !ok {
		return nil, fmt.Errorf("%w: capacity %d is too large", ErrInvalidCapacity, capacity)
	}
	// The JVM reserves at least one byte, so that a zero-capacity buffer is
	// still counted in MemoryUsed.
	reserved := int64(max(size, 1))
	what := obtainCount
	if !a.noCleaner {
		what |= obtainAnchor
	}
	s := theHeap.shardFor(shardHint())
	var got obtained
	err := errNoCredit
	if class >= 0 && class < numSmallClasses {
		got, err = theHeap.obtain(s, capacity, class, size, reserved, what, a.leaseFor(s))
	}
	if err == errNoCredit {
		// The lease could not cover it: the JVM's path, which may wait.
		if err := a.budget.Reserve(ctx, reserved, int64(capacity)); err != nil {
			return nil, err
		}
		got, err = theHeap.obtain(s, capacity, class, size, reserved, what, nil)
		if err != nil {
			a.budget.Unreserve(reserved, int64(capacity))
		}
	}
	if err != nil {
		return nil, err
	}
	mem, blk := got.mem, got.blk
	if !got.zeroed && !a.noZero {
		zero(mem[:capacity], blk)
	}
	x := new(allocation)
	r := &x.rel
	r.mem, r.size, r.capacity, r.alloc, r.blk = mem, reserved, int64(capacity), a, blk
	x.own.rel = r
	initBuffer(&x.buf, mem[:capacity:capacity], &x.own)
	trackAllocation(&x.own, a.noCleaner)
	if !a.noCleaner {
		an := got.an
		if an == nil {
			an = newAnchor()
		}
		an.Arm(gcRelease{alloc: a, mem: mem, size: reserved, capacity: int64(capacity), blk: blk, track: r.track.Load()})
		r.blk.anchor = an
	}
	return &x.buf, nil
}

// initBuffer makes *b, which is zero, what newBuffer(mem, o) returns,
// field by field: copying a whole Buffer built elsewhere costs a
// temporary and a write barrier per pointer. TestInitBufferIsNewBuffer
// keeps the two in step.
func initBuffer(b *Buffer, mem []byte, o *owner) {
	b.mem = mem
	b.owner = o
	b.lim = len(mem)
	b.mark = noMark
	b.swap = hostLittleEndian
}

// giveBack is the release of an allocation (release.release), by Free or by
// the garbage collector: the anchor is disarmed, and the memory goes back
// to the heap, which also keeps the pool's counts and returns the
// reservation.
func (a *Allocator) giveBack(r *release) {
	an := r.blk.anchor
	r.blk.anchor = nil // a freed buffer that is still referenced must not keep the anchor
	if an != nil && !an.Disarm() {
		an = nil // not armed: never hand it out again
	}
	theHeap.giveBack(r.mem, r.blk, a, r.capacity, r.size, an)
}

// leaseFor returns the allocator's lease for shard s, making it on first
// use. A lease is closed, its credit and counts folded into the budget,
// when the allocator is collected; its buffers keep it reachable until
// they are all released.
func (a *Allocator) leaseFor(s *shard) *limits.Lease {
	if l := a.leases[s.idx].Load(); l != nil {
		return l
	}
	l := a.budget.NewLease(&s.mu)
	if !a.leases[s.idx].CompareAndSwap(nil, l) {
		l.Close()
		return a.leases[s.idx].Load()
	}
	runtime.AddCleanup(a, (*limits.Lease).Close, l)
	return l
}

var defaultAllocator = sync.OnceValue(func() *Allocator { return NewAllocator(Options{}) })

// Default returns the allocator behind Allocate: zero Options, that is,
// limits.Default() as its budget.
func Default() *Allocator { return defaultAllocator() }

// Allocate returns a zeroed direct buffer of capacity bytes from the default
// allocator (java.nio.ByteBuffer.allocateDirect). See Allocator.Allocate.
func Allocate(capacity int) (*Buffer, error) {
	return defaultAllocator().Allocate(context.Background(), capacity)
}

// AllocateContext is Allocate with a context that bounds the wait for
// memory when the budget is exhausted.
func AllocateContext(ctx context.Context, capacity int) (*Buffer, error) {
	return defaultAllocator().Allocate(ctx, capacity)
}

// Wrap returns a Buffer over memory this package did not allocate: memory
// from C, from a device, or from another allocator. release, if not nil,
// runs exactly once, when the buffer is freed or, failing that, after it
// and all its views become unreachable; it must not refer to the buffer.
// A wrapped buffer is not counted in the pool statistics or any budget.
func Wrap(mem []byte, release func()) *Buffer {
	return wrap(mem, release)
}

func wrap(mem []byte, fn func()) *Buffer {
	o := &owner{}
	if fn != nil {
		o.rel = &release{fn: fn}
		o.cl = cleaner.Register(o, fn)
	}
	return newBuffer(mem[:len(mem):len(mem)], o)
}
