package directmem

import (
	"runtime"

	"github.com/offheap-go/offheap/directmem/internal/heap"
)

// memory is the process's heap (package heap) with what directmem keeps
// beside each of its shards. One exists: procMemory.
//
// What rides on a shard's lock, besides the heap's own slabs and caches,
// is kept here in the shard's shardSide, so that an allocation or a free
// takes one lock in all:
//
//   - the shard's part of the "direct" pool's counts (pool);
//   - idle anchors, reused from buffer to buffer (anchor.go);
//   - the registry of the live arenas that Stats adds up (arena.go);
//   - each Allocator's lease of its budget for the shard (the leases live
//     in the Allocator, guarded by this lock; internal/lease), with the
//     managed bytes it counts for the budget's pacing.
//
// Lock order. This is the one place the whole chain is written down; the
// package documentation of internal/lease states the budget's part of it.
//
//  0. a budget's pacer (internal/pacing: a cycle's end takes it, then sums
//     the leases' managed bytes through the lease set);
//  1. a budget's lease set (lease.Set: Lease.Close, Set.Reclaim, and the
//     budget's Stats take it, then each lease's lock);
//  2. an arena's lock (arenaMem.mu, which guards the arena's lease);
//  3. a heap shard's lock (which guards the shard's shardSide, the
//     Allocators' leases for the shard, and the heap's own state).
//
// Nothing calls into a budget (Reserve, Unreserve, Stats) while holding an
// arena's or a shard's lock, except a lease guarded by that lock taking or
// returning credit or adding to its pacer's count, which takes no lock but
// the budget's collection lock (gcMu, a leaf) to start a collection. addPoolStats takes an arena's lock
// only after letting go of the shard's.
type memory struct {
	heap  *heap.Heap
	sides []shardSide
}

// procMemory is the memory every Allocator and Arena takes from.
var procMemory = newMemory(runtime.GOMAXPROCS(0))

func newMemory(procs int) *memory {
	h := heap.New(procs)
	return &memory{heap: h, sides: make([]shardSide, h.NumShards())}
}

// shardSide is directmem's state of one heap shard, guarded by its lock.
type shardSide struct {
	pool    poolCounts
	anchors idleAnchors[heapRelease]
	arenas  *arenaMem
	// Pad so that neighbouring sides, written under different locks, do
	// not share a cache line.
	_ [64]byte
}

func (m *memory) side(s *heap.Shard) *shardSide { return &m.sides[s.Index()] }

// shardFor returns the shard the calling goroutine allocates a buffer of
// class from. Buffers of capacity 0 have no memory to say where they came
// from, so they are all counted in shard 0.
func (m *memory) shardFor(class heap.Class) *heap.Shard {
	if class == heap.None {
		return m.heap.Shard(0)
	}
	return m.heap.ShardFor(heap.Hint())
}

// shardOf returns the shard a block goes back to: the one it came from.
func (m *memory) shardOf(b heap.Block) *heap.Shard {
	if s := b.Shard(); s != nil {
		return s
	}
	return m.heap.Shard(0)
}

// poolCounts is a shard's part of the "direct" pool's counts: a buffer is
// counted and uncounted in the shard it came from, so each shard's counts
// are exact under its lock, and Stats adds them up.
type poolCounts struct{ count, capacity, used int64 }

func (p *poolCounts) add(capacity, used int64) {
	p.count++
	p.capacity += capacity
	p.used += used
}

func (p *poolCounts) sub(capacity, used int64) {
	p.count--
	p.capacity -= capacity
	p.used -= used
}

// take returns memory of class and size from shard s for an arena, which
// counts it itself: no pool count, no lease, no anchor.
func (m *memory) take(s *heap.Shard, class heap.Class, size int) (mem []byte, b heap.Block, zeroed bool, err error) {
	if !class.IsSmall() {
		return m.heap.TakeLarge(s, class, size)
	}
	s.Lock()
	mem, b, zeroed, err = s.TakeSmall(class)
	s.Unlock()
	return mem, b, zeroed, err
}

// put gives back memory from take.
func (m *memory) put(b heap.Block) {
	s := b.Shard()
	s.Lock()
	kept := s.Put(b)
	s.Unlock()
	if !kept {
		m.heap.Unmap(b)
	}
}

// addPoolStats adds the shards' and the live arenas' counts to ps. An
// arena's lock is taken after its shard's is let go (the lock order).
func (m *memory) addPoolStats(ps *PoolStats) {
	var arenas []*arenaMem
	for i := range m.sides {
		s, sd := m.heap.Shard(i), &m.sides[i]
		s.Lock()
		ps.Count += sd.pool.count
		ps.TotalCapacity += sd.pool.capacity
		ps.MemoryUsed += sd.pool.used
		for a := sd.arenas; a != nil; a = a.next {
			arenas = append(arenas, a)
		}
		s.Unlock()
	}
	for _, a := range arenas {
		a.mu.Lock()
		ps.Count += a.count
		ps.TotalCapacity += a.capacity
		ps.MemoryUsed += a.used
		a.mu.Unlock()
	}
}

// register adds an arena to the registry that Stats reads, in the shard
// of the calling goroutine.
func (m *memory) register(a *arenaMem) {
	s := m.heap.ShardFor(heap.Hint())
	sd := m.side(s)
	s.Lock()
	a.shard = s
	a.prev, a.next = nil, sd.arenas
	if sd.arenas != nil {
		sd.arenas.prev = a
	}
	sd.arenas = a
	s.Unlock()
}

// unregister removes a released arena from the registry.
func (m *memory) unregister(a *arenaMem) {
	s := a.shard
	if s == nil {
		return
	}
	sd := m.side(s)
	s.Lock()
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		sd.arenas = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	}
	a.prev, a.next, a.shard = nil, nil, nil
	s.Unlock()
}
