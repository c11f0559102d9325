package directmem

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/offheap-go/offheap/directmem/internal/heap"
	"github.com/offheap-go/offheap/internal/lease"
	"github.com/offheap-go/offheap/limits"
	"github.com/offheap-go/offheap/pagealign"
)

// DefaultAlignment is the alignment of buffers when Options.Alignment is 0:
// 16 bytes, enough for any Go value and for SSE loads, and what malloc
// gives in C, so small size classes waste little.
const DefaultAlignment = 16

// Options configures an Allocator or an Arena. The zero value is ready to
// use: buffers reserved from limits.Default(), 16-byte aligned, zeroed,
// and released by the garbage collector when dropped.
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
// heap; what differs between them is the budget and the options.
type Allocator struct {
	mem       *memory
	budget    *limits.Budget
	align     int
	noZero    bool
	noCleaner bool
	err       error // invalid options: every allocation returns it
	// leases[i] is the allocator's lease on its budget for heap shard i,
	// guarded by that shard's lock, made on first use (leaseFor).
	leases []atomic.Pointer[lease.Lease]
}

// NewAllocator returns an allocator with the given options. Invalid options
// (an alignment that is not a power of two or exceeds the page size) do not
// panic: every Allocate on the result returns an error wrapping
// ErrInvalidOptions that names the bad value.
func NewAllocator(opts Options) *Allocator {
	a := &Allocator{mem: procMemory, budget: opts.Budget, align: opts.Alignment, noZero: opts.NoZero, noCleaner: opts.NoCleaner}
	a.leases = make([]atomic.Pointer[lease.Lease], a.mem.heap.NumShards())
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
// When the budget is exhausted, Allocate waits as the JVM does (see
// limits.Budget.Reserve) before failing with an error that matches
// limits.ErrOutOfDirectMemory. A negative capacity fails at once with
// ErrInvalidCapacity; capacity 0 always succeeds unless the budget itself
// is invalid (see limits.Budget.Err).
func (a *Allocator) Allocate(capacity int) (*Buffer, error) {
	return a.AllocateContext(context.Background(), capacity)
}

// AllocateContext is Allocate with a context that bounds the wait for
// memory when the budget is exhausted: when ctx ends, it returns an error
// that wraps ctx.Err(), having reserved nothing.
func (a *Allocator) AllocateContext(ctx context.Context, capacity int) (*Buffer, error) {
	if a.err != nil {
		return nil, a.err
	}
	if capacity < 0 {
		return nil, fmt.Errorf("%w: capacity < 0: (%d < 0)", ErrInvalidCapacity, capacity)
	}
	class, size, ok := heap.SizeClass(capacity, a.align)
	if !ok {
		return nil, fmt.Errorf("%w: capacity %d is too large", ErrInvalidCapacity, capacity)
	}
	x := new(allocation)
	r := &x.rel
	// The JVM reserves at least one byte, so that a zero-capacity buffer is
	// still counted in MemoryUsed.
	r.alloc, r.size, r.capacity = a, int64(max(size, 1)), int64(capacity)
	an, err := a.obtain(ctx, r, class, size)
	if err != nil {
		return nil, err
	}
	if !r.zeroed && !a.noZero {
		a.mem.heap.Zero(r.mem[:capacity], r.blk)
	}
	x.own.rel = x
	initBuffer(&x.buf, r.mem[:capacity:capacity], &x.own)
	r.track = trackAllocation(&x.own, r.capacity, a.noCleaner)
	if !a.noCleaner {
		if an == nil {
			an = newAnchor()
		}
		an.Arm(*r) // a copy: the anchor's argument must not lead back to it
		x.an = an
	}
	return &x.buf, nil
}

// allocation is everything an Allocator's buffer needs in the Go heap, in
// one object: one allocation instead of four. Views point at own, inside
// it, which keeps the whole object (and so the anchor) alive.
type allocation struct {
	buf Buffer
	own owner
	rel heapRelease
	// an is the armed anchor of a buffer with a cleaner (anchor.go); nil
	// for explicit-only buffers, and once freed.
	an *anchor
}

// heapRelease is what giving an Allocator's buffer back takes. The anchor
// of a buffer with a cleaner is armed with a copy of it, so it must never
// refer to the anchor or the allocation.
type heapRelease struct {
	alloc    *Allocator
	mem      []byte     // the memory as the heap handed it out: the class's size
	blk      heap.Block // where it came from
	size     int64      // bytes reserved from the budget: the size, at least 1
	capacity int64      // bytes asked for
	viaLease bool       // reserved through the lease of blk's shard, not the budget
	zeroed   bool       // mem is known to be zero (only until the buffer is made)
	epoch    uint32     // the budget's pacing epoch at allocation, for a managed buffer
	track    *allocRecord
}

// release is Free's release of the buffer: the anchor, disarmed, goes back
// to its shard's cache for the next buffer.
func (x *allocation) release(byHand bool) {
	x.rel.giveBack(byHand, disarm(&x.an))
}

func (x *allocation) record() *allocRecord { return x.rel.track }

// giveBack returns the memory to the heap and the reservation to the
// budget, uncounts the buffer, and keeps an idle anchor (or nil) for
// reuse: by Free, or by the garbage collector (releaseCollected).
func (r *heapRelease) giveBack(byHand bool, an *anchor) {
	if r.track != nil {
		r.track.released(byHand)
	}
	a := r.alloc
	m := a.mem
	s := m.shardOf(r.blk)
	var l *lease.Lease
	if r.viaLease || !a.noCleaner {
		l = a.leaseFor(s)
	}
	s.Lock()
	kept := s.Put(r.blk)
	side := m.side(s)
	side.pool.sub(r.capacity, r.size)
	if l != nil {
		if r.viaLease {
			l.Unreserve(r.size, r.capacity)
		}
		if !a.noCleaner {
			l.Unmanaged(r.size, r.epoch, !byHand)
		}
	}
	an = side.anchors.keep(an)
	s.Unlock()
	if !kept {
		m.heap.Unmap(r.blk)
	}
	if !r.viaLease {
		a.budget.Unreserve(r.size, r.capacity)
	}
	if an != nil {
		an.Close() // the shard has enough idle anchors
	}
	// The Allocator's cleanup closes its leases: it must not run before
	// the Unreserve above, whatever the caller still holds.
	runtime.KeepAlive(a)
}

// obtain reserves r.size bytes for r.capacity and takes memory of class
// and size for them, filling in r, and counts the buffer in the "direct"
// pool and, if it is managed, for the budget's pacing (which may make it
// wait, the lock let go, for a collection that is not keeping up). It
// returns an idle anchor of the shard, if the allocator needs one and the
// shard has one. A small buffer is reserved through the
// allocator's lease of the shard, taken and counted under one acquisition
// of the shard's lock; when the lease cannot cover it, it is reserved on
// the budget (the JVM's path, which may wait).
func (a *Allocator) obtain(ctx context.Context, r *heapRelease, class heap.Class, size int) (*anchor, error) {
	m := a.mem
	s := m.shardFor(class)
	var l *lease.Lease
	var err error
	if class.IsSmall() {
		l = a.leaseFor(s)
		s.Lock()
		r.viaLease = l != nil && l.TryReserve(r.size, r.capacity)
		if !r.viaLease {
			s.Unlock()
			if err := a.budget.Reserve(ctx, r.size, r.capacity); err != nil {
				return nil, err
			}
			s.Lock()
		}
		if r.mem, r.blk, r.zeroed, err = s.TakeSmall(class); err != nil {
			if r.viaLease {
				l.Unreserve(r.size, r.capacity)
			}
			s.Unlock()
			if !r.viaLease {
				a.budget.Unreserve(r.size, r.capacity)
			}
			return nil, err
		}
	} else {
		if err := a.budget.Reserve(ctx, r.size, r.capacity); err != nil {
			return nil, err
		}
		if class == heap.None {
			r.mem, r.zeroed = []byte{}, true
		} else if r.mem, r.blk, r.zeroed, err = m.heap.TakeLarge(s, class, size); err != nil {
			a.budget.Unreserve(r.size, r.capacity)
			return nil, err
		}
		if !a.noCleaner {
			l = a.leaseFor(s)
		}
		s.Lock()
	}
	side := m.side(s)
	side.pool.add(r.capacity, r.size)
	var an *anchor
	wait := false
	if !a.noCleaner {
		if l != nil {
			r.epoch, wait = l.Managed(r.size)
		}
		an = side.anchors.take()
	}
	s.Unlock()
	if wait {
		l.WaitCollection(ctx)
	}
	return an, nil
}

// leaseFor returns the allocator's lease for shard s, making it on first
// use, or nil if the budget cannot lease (it is invalid: every reservation
// then goes to the budget, which fails it). A lease is closed, its credit
// and counts folded into the budget, when the allocator is collected; its
// buffers keep it reachable until they are all released.
func (a *Allocator) leaseFor(s *heap.Shard) *lease.Lease {
	slot := &a.leases[s.Index()]
	if l := slot.Load(); l != nil {
		return l
	}
	l, err := lease.Open(a.budget, s)
	if err != nil {
		return nil
	}
	if !slot.CompareAndSwap(nil, l) {
		l.Close()
		return slot.Load()
	}
	runtime.AddCleanup(a, (*lease.Lease).Close, l)
	return l
}

// initBuffer makes *b, which is zero, what newBuffer(mem, o) returns,
// field by field: copying a whole Buffer built elsewhere costs a
// temporary and a write barrier per pointer. TestInitBufferIsNewBuffer
// keeps the two in step.
func initBuffer(b *Buffer, mem []byte, o *owner) {
	b.ptr, b.n = unsafe.Pointer(unsafe.SliceData(mem)), len(mem)
	b.owner = o
	b.lim = len(mem)
	b.mark = noMark
	b.swap = hostLittleEndian
}

var defaultAllocator = sync.OnceValue(func() *Allocator { return NewAllocator(Options{}) })

// Default returns the allocator behind Allocate: zero Options, that is,
// limits.Default() as its budget.
func Default() *Allocator { return defaultAllocator() }

// Allocate returns a zeroed direct buffer of capacity bytes from the default
// allocator (java.nio.ByteBuffer.allocateDirect). See Allocator.Allocate.
func Allocate(capacity int) (*Buffer, error) {
	return defaultAllocator().AllocateContext(context.Background(), capacity)
}

// AllocateContext is Allocate with a context that bounds the wait for
// memory when the budget is exhausted.
func AllocateContext(ctx context.Context, capacity int) (*Buffer, error) {
	return defaultAllocator().AllocateContext(ctx, capacity)
}
