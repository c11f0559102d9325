package directmem

import (
	"errors"
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/offheap-go/offheap/limits"
)

// heap is where buffer memory comes from: one for the whole process,
// shared by every Allocator and Arena (the budgets are theirs; the memory
// is everyone's). See docs/allocator.md for the picture.
//
//   - Small buffers (classes up to 32 KiB, sizeclass.go) are slots of slabs
//     (slab.go) cut from 4 MiB chunks (chunk.go).
//   - Large buffers have their own mapping, reused through a bounded cache
//     (large.go).
//   - Both live in shards (shard.go), each with its own lock.
//   - Idle memory goes back to the system in steps (scavenge.go).
type heap struct {
	shards []*shard
	mask   uint32
	// cachedLarge is the bytes of freed large mappings in the shards'
	// caches, emptySlabBytes those of the empty slabs kept in the classes'
	// empty lists.
	cachedLarge    atomic.Int64
	emptySlabBytes atomic.Int64
	// epoch counts the garbage collections seen by the scavenger; idle
	// memory is stamped with it.
	epoch      atomic.Uint32
	scavenging atomic.Bool
}

var theHeap = newHeap(runtime.GOMAXPROCS(0))

// newHeap returns a heap with four shards per processor, rounded up to a
// power of two between 4 and 64: enough that goroutines spread by
// shardHint seldom share one.
func newHeap(procs int) *heap {
	n := 1 << bits.Len(uint(max(4*procs, 4)-1))
	n = min(n, 64)
	h := &heap{shards: make([]*shard, n), mask: uint32(n - 1)}
	for i := range h.shards {
		h.shards[i] = &shard{idx: i}
	}
	return h
}

func (h *heap) shardFor(hint uint32) *shard { return h.shards[hint&h.mask] }

// block says where an allocation's memory came from, for its release.
type block struct {
	// slab and slot locate a small buffer's slot; slab is nil otherwise.
	slab *slab
	slot uint32
	// class is the size class, or classNone, or classUncached.
	class int16
	// anchor is the armed GC registration of a buffer with a cleaner
	// (anchor.go); nil for explicit-only buffers, arenas, and once freed.
	anchor *anchor
	// arena is the memory of an arena; set only in an arena's release.
	arena *arenaMem
}

// What obtain does besides taking memory.
const (
	obtainCount  = 1 << iota // count a buffer of the "direct" pool
	obtainAnchor             // return an idle anchor, if the shard has one
)

// errNoCredit is obtain's answer when the lease it was given cannot
// cover the buffer: the caller reserves from the budget and asks again
// without a lease.
var errNoCredit = errors.New("directmem: no credit in the lease")

// obtained is what obtain returns.
type obtained struct {
	mem    []byte // length size
	blk    block
	zeroed bool    // mem is known to be zero
	an     *anchor // an idle anchor (obtainAnchor), or nil
}

// obtain returns the memory of a buffer of capacity bytes, class and size
// (from sizeClass), from shard s if it is a small one. With obtainCount
// the buffer counts in the pool with reserved bytes used; with
// obtainAnchor an idle anchor is returned too if the shard has one. If lease is not nil (small buffers only; it must
// be s's), the reservation is made through it first, or obtain fails with
// errNoCredit having taken nothing. For a small buffer all of it happens
// under one acquisition of s's lock.
func (h *heap) obtain(s *shard, capacity, class, size int, reserved int64, what int, lease *limits.Lease) (got obtained, err error) {
	got.blk.class = int16(class)
	switch {
	case class >= 0 && class < numSmallClasses:
		s.mu.Lock()
		if lease != nil && !lease.TryReserve(reserved, int64(capacity)) {
			s.mu.Unlock()
			return obtained{}, errNoCredit
		}
		got.blk.slab, got.blk.slot, got.zeroed, err = s.takeSlot(class)
		if err != nil {
			if lease != nil {
				lease.Unreserve(reserved, int64(capacity))
			}
			s.mu.Unlock()
			return obtained{}, err
		}
		got.mem = got.blk.slab.slot(got.blk.slot)
		s.extras(&got, capacity, reserved, what)
		s.mu.Unlock()
		return got, nil
	case class == classNone:
		got.mem, got.zeroed = []byte{}, true
	default:
		if got.mem, got.zeroed, err = h.takeLarge(s, class, size); err != nil {
			return obtained{}, err
		}
	}
	if what != 0 {
		s.mu.Lock()
		s.extras(&got, capacity, reserved, what)
		s.mu.Unlock()
	}
	return got, nil
}

// extras does what obtain does besides taking memory. s.mu must be held.
func (s *shard) extras(got *obtained, capacity int, reserved int64, what int) {
	if what&obtainCount != 0 {
		s.pool.add(int64(capacity), reserved)
	}
	if what&obtainAnchor != 0 {
		got.an = s.popAnchor()
	}
}

// giveBack returns memory from obtain and keeps an idle anchor (or nil)
// for reuse. With a non-nil Allocator the memory was a buffer of it,
// counted in the pool (obtainCount) with capacity and reserved bytes, and
// its reservation goes back too: through the allocator's lease of the
// shard for a small buffer, to the budget otherwise.
func (h *heap) giveBack(mem []byte, blk block, a *Allocator, capacity, reserved int64, an *anchor) {
	if sl := blk.slab; sl != nil {
		s := sl.chunk.shard
		var lease *limits.Lease
		if a != nil {
			lease = a.leaseFor(s)
		}
		s.mu.Lock()
		s.putSlot(sl, blk.slot)
		if lease != nil {
			s.pool.sub(capacity, reserved)
			lease.Unreserve(reserved, capacity)
		}
		an = s.pushAnchor(an)
		s.mu.Unlock()
		// The Allocator's cleanup closes its leases: it must not run
		// before the Unreserve above, whatever the caller still holds.
		runtime.KeepAlive(a)
	} else {
		s := h.shardFor(shardHint())
		cached := blk.class == classNone
		s.mu.Lock()
		if !cached {
			cached = h.cacheLarge(s, mem, int(blk.class))
		}
		if a != nil {
			s.pool.sub(capacity, reserved)
		}
		an = s.pushAnchor(an)
		s.mu.Unlock()
		if !cached {
			unmapLarge(mem[:cap(mem)])
		}
		if a != nil {
			a.budget.Unreserve(reserved, capacity)
		}
	}
	if an != nil {
		an.Close() // the shard has enough idle anchors
	}
}

// shardPool is a shard's part of the "direct" pool's counts, guarded by the
// shard's lock: a buffer is counted in the shard that handed it out and
// uncounted in the one it goes back to, so one shard's counts mean nothing
// alone, but their sum, taken under every lock (poolStats), is exact.
// Counting under a lock the allocator holds anyway saves six atomic
// operations per allocation and free.
type shardPool struct{ count, capacity, used int64 }

func (p *shardPool) add(capacity, used int64) {
	p.count++
	p.capacity += capacity
	p.used += used
}

func (p *shardPool) sub(capacity, used int64) {
	p.count--
	p.capacity -= capacity
	p.used -= used
}

// addPoolStats adds the shards' and the live arenas' counts to ps. An
// arena's lock is taken after its shard's is let go: an arena allocating
// holds its own lock and then takes a shard's.
func (h *heap) addPoolStats(ps *PoolStats) {
	var arenas []*arenaMem
	for _, s := range h.shards {
		s.mu.Lock()
		ps.Count += s.pool.count
		ps.TotalCapacity += s.pool.capacity
		ps.MemoryUsed += s.pool.used
		for m := s.arenas; m != nil; m = m.next {
			arenas = append(arenas, m)
		}
		s.mu.Unlock()
	}
	for _, m := range arenas {
		m.mu.Lock()
		ps.Count += m.count
		ps.TotalCapacity += m.capacity
		ps.MemoryUsed += m.used
		m.mu.Unlock()
	}
}

// registerArena adds an arena to the registry that Stats reads, in the
// shard of the calling goroutine.
func (h *heap) registerArena(m *arenaMem) {
	s := h.shardFor(shardHint())
	s.mu.Lock()
	m.shard = s
	m.prev, m.next = nil, s.arenas
	if s.arenas != nil {
		s.arenas.prev = m
	}
	s.arenas = m
	s.mu.Unlock()
}

// unregisterArena removes a released arena from the registry.
func (h *heap) unregisterArena(m *arenaMem) {
	s := m.shard
	if s == nil {
		return
	}
	s.mu.Lock()
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		s.arenas = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	}
	m.prev, m.next, m.shard = nil, nil, nil
	s.mu.Unlock()
}

// zero clears mem, memory of blk that obtain said is not known to be zero.
// mem must start where obtain's memory does and keep its capacity: a large
// mapping is cleared in whole pages (clearTouched), up to the page
// boundary after len(mem).
func zero(mem []byte, blk block) {
	if blk.slab == nil && blk.class >= numSmallClasses {
		zeroLarge(mem, int(blk.class))
		return
	}
	clear(mem)
}

// denseSkip[c-numSmallClasses] is how many more reused buffers of large
// class c to clear without a residency scan, because the last scan found
// the pages mostly touched: the scan then only adds its system calls.
// Racy updates only change how often a class is scanned.
var denseSkip [numLargeClasses]atomic.Int32

// denseRescan is how many reuses of a class pass without a scan after one
// that found at least 3/4 of the pages touched.
const denseRescan = 15

// zeroLarge clears a reused large mapping of class: by a residency scan
// (clearTouched), unless recent buffers of the class were mostly touched.
func zeroLarge(mem []byte, class int) {
	skip := &denseSkip[class-numSmallClasses]
	if skip.Load() > 0 {
		skip.Add(-1)
		clear(mem)
		return
	}
	if resident, scanned := clearTouched(mem); scanned > 0 && 4*resident >= 3*scanned {
		skip.Store(denseRescan)
	}
}

// heapStats is a snapshot of the heap's state, for tests.
type heapStats struct {
	Chunks      int   // mapped chunks
	EmptyChunks int   // chunks without a used slab
	EmptySlabs  int   // empty slabs kept back in the classes' empty lists
	CachedLarge int   // freed large mappings kept for reuse
	CachedBytes int64 // their bytes
	IdleAnchors int   // idle GC registrations kept for reuse
}

func (h *heap) stats() heapStats {
	var st heapStats
	for _, s := range h.shards {
		s.mu.Lock()
		st.Chunks += s.nchunks
		st.EmptyChunks += s.emptyChunks
		st.IdleAnchors += len(s.anchors)
		for _, l := range s.large {
			st.CachedLarge += len(l)
			for _, e := range l {
				st.CachedBytes += int64(len(e.mem))
			}
		}
		for i := range s.classes {
			for sl := s.classes[i].empty.head; sl != nil; sl = sl.next {
				st.EmptySlabs++
			}
		}
		s.mu.Unlock()
	}
	return st
}
