// Package heap is where directmem's buffer memory comes from: anonymous
// mmap'd memory cut into size classes, shared by every Allocator and
// Arena of the process (the budgets are theirs; the memory is everyone's).
// It knows nothing of buffers, budgets or cleanups; directmem builds those
// on top. docs/allocator.md has the picture and the measurements.
//
// The structures, one line each:
//
//   - Heap: the process's shards, the bounds on idle memory, the scavenger's epoch.
//   - Shard: one lock and everything it guards; goroutines spread over shards by Hint.
//   - Class: a size class (sizeclass.go); classes up to 32 KiB are small.
//   - chunk: one 4 MiB mapping cut into 16 slabs (chunk.go).
//   - slab: 256 KiB of a chunk cut into equal slots of one small class (slab.go).
//   - mapping: the own mapping of one large buffer, cached when freed (large.go).
//   - Block: where one allocation's memory came from, for giving it back.
//
// Allocating (directmem's Allocator.Allocate, Arena.Allocate):
//
//  1. SizeClass rounds the capacity up to a class and its size.
//  2. A small class: with the shard of Hint locked, Shard.TakeSmall takes a
//     slot of the class's current slab; a full slab is replaced by a
//     partial one, a kept empty one, or a new slab of a chunk, mapping a
//     chunk if none has a free slab.
//  3. A large class: Heap.TakeLarge takes a cached mapping of the class
//     (the shard's own cache first, then the others'), or maps a new one.
//  4. Memory that is not known to be zero (a reused slot or mapping) is
//     cleared by Zero: slots with clear; large mappings with clear too up
//     to the length where, as measured once on this machine, a residency
//     scan that clears only the pages their last user touched costs less.
//
// Freeing:
//
//  1. A small block goes back to its slab, in the slab's shard, under that
//     shard's lock (Shard.Put). A slab left empty is kept for reuse
//     while the heap's kept empty slabs stay under a bound; beyond it, its
//     pages go back to the system and the slab to its chunk, and a chunk
//     left empty beyond one per shard is unmapped.
//  2. A large block goes back to its home shard's cache under that shard's
//     lock (Shard.Put), within a bound on cached bytes; what does not
//     fit is unmapped after the lock is let go (Heap.Unmap).
//  3. After every garbage collection the scavenger (scavenge.go) gives back
//     whatever stayed idle through a whole cycle.
//
// Every Block goes back to the shard it came from, so that whatever the
// caller counts under that shard's lock (directmem's pool counts, leases,
// idle anchors) is added and subtracted under the same lock.
package heap

import (
	"runtime"
	"sync/atomic"

	"github.com/offheap-go/offheap/internal/stripe"
)

// Heap is a set of shards and what they share: the bounds on idle memory
// and the scavenger.
type Heap struct {
	shards []*Shard
	mask   uint32
	// cachedLarge is the bytes of freed large mappings in the shards'
	// caches, emptySlabBytes those of the empty slabs kept in the classes'
	// empty lists; maxEmptySlabBytes bounds the latter.
	cachedLarge       atomic.Int64
	emptySlabBytes    atomic.Int64
	maxEmptySlabBytes atomic.Int64
	// epoch counts the garbage collections seen by the scavenger; idle
	// memory is stamped with it.
	epoch      atomic.Uint32
	lastEpoch  atomic.Int64 // when afterGC last advanced epoch (UnixNano)
	scavenging atomic.Bool
	// denseSkip[c-numSmallClasses] is how many more reused mappings of
	// large class c Zero clears without a residency scan (zero.go).
	denseSkip [numLargeClasses]atomic.Int32
	// scanFrom is the buffer length from which Zero clears a large
	// mapping by residency scan; 0 until measured (zero.go).
	scanFrom atomic.Int64
}

// New returns a heap with four shards per processor, rounded up to a
// power of two between 4 and 64: enough that goroutines spread by Hint
// seldom share one.
func New(procs int) *Heap {
	n := stripe.Count(procs)
	h := &Heap{shards: make([]*Shard, n), mask: uint32(n - 1)}
	h.maxEmptySlabBytes.Store(defaultMaxEmptySlabBytes)
	for i := range h.shards {
		h.shards[i] = &Shard{h: h, idx: i}
	}
	return h
}

// NumShards returns the number of shards; Shard(i) takes 0 <= i < NumShards().
func (h *Heap) NumShards() int { return len(h.shards) }

// Shard returns shard i.
func (h *Heap) Shard(i int) *Shard { return h.shards[i] }

// ShardFor returns the shard a goroutine with the given Hint allocates from.
func (h *Heap) ShardFor(hint uint32) *Shard { return h.shards[hint&h.mask] }

// Hint returns the calling goroutine's stripe hint (stripe.Hint): a cheap
// stand-in for "the current P" that picks its shard.
func Hint() uint32 { return stripe.Hint() }

// Block says where an allocation's memory came from, for giving it back.
// The zero Block is the memory of capacity 0: nothing.
type Block struct {
	slab  *slab    // a small block's slab
	large *mapping // a large block's mapping
	slot  uint32   // a small block's slot in its slab
}

// Shard returns the shard the block goes back to: its slab's, or the one
// its mapping was handed out from. Nil for capacity 0.
func (b Block) Shard() *Shard {
	switch {
	case b.slab != nil:
		return b.slab.chunk.shard
	case b.large != nil:
		return b.large.home
	}
	return nil
}

// Stats is a snapshot of the heap's idle and mapped memory, for tests and
// diagnostics.
type Stats struct {
	Chunks      int   // mapped chunks
	EmptyChunks int   // chunks without a used slab
	EmptySlabs  int   // empty slabs kept back in the classes' empty lists
	CachedLarge int   // freed large mappings kept for reuse
	CachedBytes int64 // their bytes
}

// Stats returns a snapshot, taking each shard's lock in turn.
func (h *Heap) Stats() Stats {
	var st Stats
	for _, s := range h.shards {
		s.mu.Lock()
		st.Chunks += s.nchunks
		st.EmptyChunks += s.emptyChunks
		for _, l := range s.large {
			st.CachedLarge += len(l)
			for _, m := range l {
				st.CachedBytes += int64(m.size())
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

// dontNeedZeroes says whether MADV_DONTNEED leaves anonymous private pages
// zero-filled, as on Linux (and VirtualFree's decommit on Windows); on
// other systems the contents are undefined, so pages given back count as
// dirty.
var dontNeedZeroes = runtime.GOOS == "linux" || runtime.GOOS == "windows"
