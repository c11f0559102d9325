package directmem

import (
	"context"
	"fmt"
	"sync"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem/internal/heap"
	"github.com/offheap-go/offheap/internal/lease"
	"github.com/offheap-go/offheap/pagealign"
)

// Arena is a group of buffers with one lifetime: the JDK 22
// java.lang.foreign.Arena. Its buffers are allocated one by one and freed
// all at once, by Free, or by the garbage collector once the arena and
// every buffer of it are unreachable (unless Options.NoCleaner). That
// makes small buffers cheap: no size-class rounding, no cleanup per buffer,
// and a Free that releases everything in one pass.
//
// Each buffer is reserved from the arena's budget and counted in the
// "direct" pool as a buffer of its own. Free on a buffer of an arena
// returns ErrNotOwner; after the arena's Free, every buffer of it returns
// ErrFreed, and so does Allocate. An Arena is safe for concurrent use.
type Arena struct {
	// own is the owner shared by every buffer of the arena; they keep the
	// Arena alive, and the cleanup hangs on it.
	own   owner
	alloc *Allocator
	mem   *arenaMem
	// bufs is a batch of Buffers not yet handed out, made together to save
	// an allocation per buffer: they share the arena's lifetime anyway.
	// Guarded by mem.mu. The batch refers to own, so it must stay out of
	// mem, which the cleanup holds.
	bufs []Buffer
}

// arenaBatch is the number of Buffers made at once for an arena: 512
// bytes, the largest object the runtime allocates without a type header
// (docs/allocator.md has the measurements).
const arenaBatch = 8

// arenaMem is what an arena has taken: memory, reservations and counts.
// It is the arena's releaser, and never refers to the Arena or its owner,
// since the arena's cleanup holds it.
type arenaMem struct {
	mu sync.Mutex
	// released is set, under mu, by the release: Allocate fails after it.
	released bool
	// trackDecided is set by the first Allocate, which decides whether leak
	// detection tracks the arena; track is the record if it does.
	trackDecided bool
	track        *allocRecord
	alloc        *Allocator
	// blocks is the memory taken from the heap: blocks that small buffers
	// are cut from, and buffers too big for that.
	blocks []heap.Block
	// cur[off:] is what is left of the block small buffers come from;
	// fresh says it is zero.
	cur   []byte
	off   int
	fresh bool
	// lease is the arena's share of its budget, guarded by mu: buffers
	// are reserved through it, and the release returns them all at once.
	// leased counts what went through it; the rest (buffers the lease
	// could not cover: large ones, or when the budget is nearly full) was
	// reserved on the budget, each listed in onBudget.
	lease    *lease.Lease
	leased   counts
	onBudget []reservation
	// count, capacity and used are the arena's part of the "direct"
	// pool's counts, kept here under mu rather than in shared atomics;
	// Stats finds them through the registry of its shard.
	counts
	// shard is where the arena is registered, in a list guarded by the
	// shard's lock (memory.go); nil when not registered.
	shard      *heap.Shard
	prev, next *arenaMem
}

// reservation is one buffer's reservation: bytes taken and capacity.
type reservation struct{ size, capacity int64 }

// counts is a number of buffers, their capacity and the bytes they take.
type counts struct{ count, capacity, used int64 }

func (c *counts) add(capacity, used int64) {
	c.count++
	c.capacity += capacity
	c.used += used
}

// Buffers of at most arenaBumpMax bytes (after alignment) are cut one
// after the other from blocks of the largest small class; bigger ones are
// taken from the heap as an Allocator's are. A buffer that does not fit in
// what is left of a block leaves the rest unused: at most an eighth of a
// block.
const (
	arenaBlockSize = heap.MaxSmallSize
	arenaBumpMax   = arenaBlockSize / 8
)

// NewArena returns an empty arena whose buffers are reserved from
// opts.Budget and aligned as opts asks. With opts.NoCleaner the arena must
// be freed: dropping it keeps its memory and reservations for good.
// Invalid options make every Allocate fail, as with NewAllocator.
func NewArena(opts Options) *Arena {
	a := NewAllocator(opts)
	ar := &Arena{alloc: a, mem: &arenaMem{alloc: a}}
	ar.own.rel = ar.mem
	ar.own.arena = true
	if a.err == nil {
		ar.mem.lease, _ = lease.Open(a.budget, &ar.mem.mu) // nil: every buffer goes to the budget
		a.mem.register(ar.mem)
		if !a.noCleaner {
			// One registration per arena, amortised over its buffers.
			ar.own.cl = cleaner.Register(&ar.own, ar.mem.releaseCollected)
		}
	}
	return ar
}

// Allocate returns a zeroed buffer of capacity bytes from the arena. It
// waits for the budget as Allocator.Allocate does, without a deadline.
func (ar *Arena) Allocate(capacity int) (*Buffer, error) {
	return ar.AllocateContext(context.Background(), capacity)
}

// AllocateContext is Allocate with a context that bounds the wait for the
// budget.
func (ar *Arena) AllocateContext(ctx context.Context, capacity int) (*Buffer, error) {
	a := ar.alloc
	if a.err != nil {
		return nil, a.err
	}
	if capacity < 0 {
		return nil, fmt.Errorf("%w: capacity < 0: (%d < 0)", ErrInvalidCapacity, capacity)
	}
	if ar.own.claimed.Load() {
		return nil, errArenaFreed
	}
	class, size, ok := arenaSize(capacity, a.align)
	if !ok {
		return nil, fmt.Errorf("%w: capacity %d is too large", ErrInvalidCapacity, capacity)
	}
	reserved, c := int64(max(size, 1)), int64(capacity)
	m := ar.mem
	m.mu.Lock()
	if m.released {
		m.mu.Unlock()
		return nil, errArenaFreed
	}
	viaLease := m.lease != nil && m.lease.TryReserve(reserved, c)
	if !viaLease {
		// The lease cannot cover it: the JVM's path, which may wait, and
		// must not hold the lock the budget takes to reclaim credit.
		m.mu.Unlock()
		if err := a.budget.Reserve(ctx, reserved, c); err != nil {
			return nil, err
		}
		m.mu.Lock()
		if m.released {
			m.mu.Unlock()
			a.budget.Unreserve(reserved, c)
			return nil, errArenaFreed
		}
	}
	// Everything up to the hand-out happens under the lock: a Free racing
	// with us must not give back memory that we are still clearing.
	mem, err := m.take(capacity, size, class)
	if err != nil {
		if viaLease {
			m.lease.Unreserve(reserved, c)
		}
		m.mu.Unlock()
		if !viaLease {
			a.budget.Unreserve(reserved, c)
		}
		return nil, err
	}
	if viaLease {
		m.leased.add(c, reserved)
	} else {
		m.onBudget = append(m.onBudget, reservation{reserved, c})
	}
	m.add(c, reserved)
	b := ar.newBuffer()
	initBuffer(b, mem, &ar.own)
	// Whether an arena is tracked is decided once, on its first Allocate,
	// and its leak record made then, with the capacity the arena has then:
	// an arena first used while leak detection was off stays untracked, as
	// every allocation made then does (SetLeakDetection).
	if !m.trackDecided {
		m.trackDecided = true
		m.track = trackAllocation(&ar.own, m.capacity, a.noCleaner)
	}
	m.mu.Unlock()
	return b, nil
}

var errArenaFreed = fmt.Errorf("%w: the arena is freed", ErrFreed)

// arenaSize is SizeClass for arena buffers: small ones take their
// capacity rounded up to the alignment (class arenaBump), others a class.
func arenaSize(capacity, align int) (class heap.Class, size int, ok bool) {
	if n, ok := pagealign.AlignUpChecked(capacity, align); ok && n <= arenaBumpMax {
		if n == 0 {
			return heap.None, 0, true
		}
		return arenaBump, n, true
	}
	return heap.SizeClass(capacity, align)
}

// arenaBump is the pseudo-class of buffers cut from an arena's blocks.
const arenaBump heap.Class = -3

// newBuffer returns an unused Buffer of the current batch. m.mu must be held.
func (ar *Arena) newBuffer() *Buffer {
	if len(ar.bufs) == 0 {
		ar.bufs = make([]Buffer, arenaBatch)
	}
	b := &ar.bufs[0]
	ar.bufs = ar.bufs[1:]
	return b
}

// take returns capacity zeroed bytes (unless NoZero) for a buffer of size
// and class (from arenaSize). m.mu must be held.
func (m *arenaMem) take(capacity, size int, class heap.Class) ([]byte, error) {
	switch class {
	case heap.None:
		return []byte{}, nil
	case arenaBump:
		if m.off+size > len(m.cur) {
			fresh, _, z, err := m.obtain(heap.LargestSmall, arenaBlockSize)
			if err != nil {
				return nil, err
			}
			m.cur, m.off, m.fresh = fresh, 0, z
		}
		mem := m.cur[m.off : m.off+capacity : m.off+capacity]
		m.off += size
		if !m.fresh && !m.alloc.noZero {
			clear(mem)
		}
		return mem, nil
	default:
		big, blk, zeroed, err := m.obtain(class, size)
		if err != nil {
			return nil, err
		}
		if !zeroed && !m.alloc.noZero {
			m.alloc.mem.heap.Zero(big[:capacity], blk) // before the cut: Zero needs the mapping's capacity
		}
		return big[:capacity:capacity], nil
	}
}

// obtain takes memory of class from the heap for the arena.
func (m *arenaMem) obtain(class heap.Class, size int) ([]byte, heap.Block, bool, error) {
	mm := m.alloc.mem
	mem, blk, zeroed, err := mm.take(mm.heap.ShardFor(heap.Hint()), class, size)
	if err != nil {
		return nil, heap.Block{}, false, err
	}
	m.blocks = append(m.blocks, blk)
	return mem, blk, zeroed, nil
}

// releaseCollected is the arena's release by the garbage collector.
func (m *arenaMem) releaseCollected() { m.release(false) }

// release gives back everything the arena took, once: by Free, or by the
// garbage collector (byHand tells which, for the leak record).
//
// The record is read under m.mu because AllocateContext makes it under
// m.mu, on the arena's first tracked buffer, after checking m.released:
// so a Free racing with that Allocate either finds the record or makes the
// Allocate fail with ErrFreed, and never leaves a freed arena tracked as
// live (or reported lost, once dropped).
func (m *arenaMem) release(byHand bool) {
	m.mu.Lock()
	if m.released {
		m.mu.Unlock()
		return
	}
	m.released = true
	rec := m.track
	blocks := m.blocks
	m.blocks, m.cur, m.off = nil, nil, 0
	l, leased, onBudget := m.lease, m.leased, m.onBudget
	if l != nil {
		l.UnreserveN(leased.count, leased.used, leased.capacity)
	}
	m.counts, m.leased, m.onBudget = counts{}, counts{}, nil
	m.mu.Unlock()
	if rec != nil {
		rec.released(byHand)
	}
	if l != nil {
		l.Close()
	}
	for _, r := range onBudget {
		m.alloc.budget.Unreserve(r.size, r.capacity)
	}
	m.alloc.mem.unregister(m)
	for _, b := range blocks {
		m.alloc.mem.put(b)
	}
}

func (m *arenaMem) record() *allocRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.track
}

// Free releases every buffer of the arena: their memory returns to the
// heap and their reservations to the budget, and every method of them
// that touches memory returns ErrFreed from then on, as does Allocate.
// Free is idempotent and returns nil; the error is for symmetry with
// Buffer.Free.
func (ar *Arena) Free() error {
	ar.own.free()
	return nil
}

// IsFreed reports whether the arena has been freed.
func (ar *Arena) IsFreed() bool { return ar.own.claimed.Load() }
