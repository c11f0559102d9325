// Shards: the heap's independent parts, one lock each.
// See heap.go for the overview.

package heap

import "sync"

// Shard is one of the heap's independent parts, each with its own lock,
// so that goroutines allocating at once rarely wait for each other: there
// is no global lock on any allocation or free path. See heap.go.
//
// A goroutine allocates from the shard its Hint picks; every block goes
// back to the shard it came from (Block.Shard), whatever goroutine frees
// it, the garbage collector's cleanup goroutine included. Callers may keep
// state of their own per shard under its lock (Lock, Unlock, Index):
// directmem keeps its pool counts, leases and idle anchors there, so that
// an allocation takes one lock in all.
type Shard struct {
	mu  sync.Mutex
	h   *Heap
	idx int // in h.shards

	classes [numSmallClasses]classState
	// avail lists the chunks with an unused slab, chunks with used slabs
	// first. nchunks counts every mapped chunk, emptyChunks those without a
	// used slab.
	avail       chunkList
	nchunks     int
	emptyChunks int

	// large[c-numSmallClasses] holds freed mappings of large class c, the
	// most recently freed last.
	large [numLargeClasses][]*mapping

	// Pad to a multiple of the cache line so that neighbouring shards'
	// locks do not share one.
	_ [64]byte
}

// Lock locks the shard: TakeSmall and Put need it held, and
// so does whatever the caller keeps per shard.
func (s *Shard) Lock() { s.mu.Lock() }

// Unlock unlocks the shard.
func (s *Shard) Unlock() { s.mu.Unlock() }

// Index returns the shard's index in its heap, for callers that keep
// state per shard.
func (s *Shard) Index() int { return s.idx }
