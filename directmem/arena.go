package directmem

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/limits"
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
// bytes, the largest object the runtime allocates without a type header.
// Batches of 16 measured the same per buffer; batches that grew from 4 to
// 64 measured 15-20 ns slower per buffer at 64 bytes, mostly because a
// big last batch is wasted when the arena is freed (an arena of 64
// buffers made 188 Buffers).
const arenaBatch = 8

// arenaMem is what an arena has taken: memory, reservations and counts.
// It never refers to the Arena or its owner, since the arena's cleanup
// holds it.
type arenaMem struct {
	mu    sync.Mutex
	freed bool
	// trackDecided is set by the first Allocate, which decides whether leak
	// detection tracks the arena.
	trackDecided bool
	alloc        *Allocator
	// blocks is the memory taken from the heap: blocks that small buffers
	// are cut from, and buffers too big for that.
	blocks []arenaBlock
	// cur[off:] is what is left of the block small buffers come from;
	// fresh says it is zero.
	cur   []byte
	off   int
	fresh bool
	// lease is the arena's share of its budget, guarded by mu: each buffer
	// is reserved through it, and Free returns them all at once.
	lease *limits.Lease
	// count, capacity and used are the arena's part of the "direct"
	// pool's counts, kept here under mu rather than in shared atomics;
	// Stats finds them through the registry of its shard.
	count, capacity, used int64
	// shard is where the arena is registered, in a list guarded by the
	// shard's lock; nil when not registered.
	shard      *shard
	prev, next *arenaMem
}

type arenaBlock struct {
	mem []byte
	blk block
}

// Buffers of at most arenaBumpMax bytes (after alignment) are cut one
// after the other from blocks of arenaBlockSize, a slot of the largest
// small class; bigger ones are allocated from the heap as Allocate's are.
// A buffer that does not fit in what is left of a block leaves the rest
// unused: at most an eighth of a block.
const (
	arenaBlockClass = numSmallClasses - 1
	arenaBlockSize  = maxSmallSize
	arenaBumpMax    = arenaBlockSize / 8
)

// NewArena returns an empty arena whose buffers are reserved from
// opts.Budget and aligned as opts asks. With opts.NoCleaner the arena must
// be freed: dropping it keeps its memory and reservations for good.
// Invalid options make every Allocate fail, as with NewAllocator.
func NewArena(opts Options) *Arena {
	a := NewAllocator(opts)
	ar := &Arena{alloc: a, mem: &arenaMem{alloc: a}}
	r := &release{alloc: a, blk: block{arena: ar.mem}}
	ar.own.rel = r
	ar.own.arena = true
	if a.err == nil {
		ar.mem.lease = a.budget.NewLease(&ar.mem.mu)
		theHeap.registerArena(ar.mem)
		if !a.noCleaner {
			// One registration per arena, amortised over its buffers.
			ar.own.cl = cleaner.Register(&ar.own, r.run)
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
	if ar.own.state.Load() != ownerLive {
		return nil, fmt.Errorf("%w: the arena is freed", ErrFreed)
	}
	class, size, ok := arenaSize(capacity, a.align)
	if !ok {
		return nil, fmt.Errorf("%w: capacity %d is too large", ErrInvalidCapacity, capacity)
	}
	reserved := int64(max(size, 1))
	m := ar.mem
	m.mu.Lock()
	if m.freed {
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: the arena is freed", ErrFreed)
	}
	if !m.lease.TryReserve(reserved, int64(capacity)) {
		// The lease cannot cover it: the JVM's path, which may wait, and
		// must not hold the lock the budget takes to reclaim credit.
		m.mu.Unlock()
		if err := a.budget.Reserve(ctx, reserved, int64(capacity)); err != nil {
			return nil, err
		}
		m.mu.Lock()
		if m.freed {
			m.mu.Unlock()
			a.budget.Unreserve(reserved, int64(capacity))
			return nil, fmt.Errorf("%w: the arena is freed", ErrFreed)
		}
	}
	// Everything up to the hand-out happens under the lock: a Free racing
	// with us must not give back memory that we are still clearing.
	mem, err := m.take(capacity, size, class)
	if err != nil {
		m.lease.Unreserve(reserved, int64(capacity))
		m.mu.Unlock()
		return nil, err
	}
	m.record(reserved, int64(capacity))
	b := ar.newBuffer()
	initBuffer(b, mem, &ar.own)
	// Whether an arena is tracked is decided once, on its first Allocate,
	// and its leak record made then, with the capacity the arena has then:
	// an arena first used while leak detection was off stays untracked, as
	// every allocation made then does (SetLeakDetection).
	if !m.trackDecided {
		m.trackDecided = true
		ar.own.rel.capacity = m.capacity
		trackAllocation(&ar.own, a.noCleaner)
	}
	m.mu.Unlock()
	return b, nil
}

// arenaSize is sizeClass for arena buffers: small ones take their
// capacity rounded up to the alignment (class arenaBump), others a class.
func arenaSize(capacity, align int) (class, size int, ok bool) {
	if n, ok := pagealign.AlignUpChecked(capacity, align); ok && n <= arenaBumpMax {
		if n == 0 {
			return classNone, 0, true
		}
		return arenaBump, n, true
	}
	return sizeClass(capacity, align)
}

// arenaBump is the pseudo-class of buffers cut from an arena's blocks.
const arenaBump = -3

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
func (m *arenaMem) take(capacity, size, class int) ([]byte, error) {
	switch class {
	case classNone:
		return []byte{}, nil
	case arenaBump:
		if m.off+size > len(m.cur) {
			fresh, _, z, err := m.obtain(arenaBlockClass, arenaBlockSize)
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
			zero(big[:capacity], blk) // before the cut: zero needs the mapping's capacity
		}
		return big[:capacity:capacity], nil
	}
}

// obtain takes memory of class from the heap for the arena.
func (m *arenaMem) obtain(class, size int) ([]byte, block, bool, error) {
	got, err := theHeap.obtain(theHeap.shardFor(shardHint()), 0, class, size, 0, 0, nil)
	if err != nil {
		return nil, block{}, false, err
	}
	m.blocks = append(m.blocks, arenaBlock{mem: got.mem, blk: got.blk})
	return got.mem, got.blk, got.zeroed, nil
}

// record counts a buffer. m.mu must be held.
func (m *arenaMem) record(size, capacity int64) {
	m.count++
	m.capacity += capacity
	m.used += size
}

// release gives back everything the arena took, once: the arena's
// release, by Free or by the garbage collector (byHand tells which), and
// tells the arena's leak record, if track holds one.
//
// The record is read under m.mu because AllocateContext makes it under
// m.mu, on the arena's first tracked buffer, after checking m.freed: so
// a Free racing with that Allocate either finds the record or makes the
// Allocate fail with ErrFreed, and never leaves a freed arena tracked as
// live (or reported lost, once dropped).
func (m *arenaMem) release(track *atomic.Pointer[allocRecord], byHand bool) {
	m.mu.Lock()
	if m.freed {
		m.mu.Unlock()
		return
	}
	m.freed = true
	rec := track.Load()
	blocks := m.blocks
	m.blocks, m.cur, m.off = nil, nil, 0
	lease := m.lease // nil if the options were invalid: nothing was reserved
	if lease != nil {
		lease.UnreserveN(m.count, m.used, m.capacity)
	}
	m.count, m.capacity, m.used = 0, 0, 0
	m.mu.Unlock()
	if rec != nil {
		rec.released(byHand)
	}
	if lease != nil {
		lease.Close()
	}
	theHeap.unregisterArena(m)

	for _, b := range blocks {
		theHeap.giveBack(b.mem, b.blk, nil, 0, 0, nil)
	}
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
func (ar *Arena) IsFreed() bool { return ar.own.state.Load() != ownerLive }
