package directmem

import (
	"sync"
	"unsafe"
)

// A shard is one of the heap's independent parts, each with its own lock,
// so that goroutines allocating at once rarely wait for each other: there
// is no global lock on any allocation or free path.
//
// A goroutine allocates from the shard its shardHint picks. A small slot
// goes back to the shard of its slab (from whatever goroutine frees it,
// including the garbage collector's cleanup goroutine); a large mapping and
// an anchor go back to the shard of the goroutine that frees them.
type shard struct {
	mu  sync.Mutex
	idx int // in heap.shards

	classes [numSmallClasses]classState
	// avail lists the chunks with an unused slab, chunks with used slabs
	// first. nchunks counts every mapped chunk, emptyChunks those without a
	// used slab.
	avail       chunkList
	nchunks     int
	emptyChunks int

	// large[c-numSmallClasses] holds freed mappings of large class c, the
	// most recently freed last.
	large [numLargeClasses][]largeEntry
	// anchors holds idle, reusable GC registrations (anchor.go).
	anchors []*anchor
	// pool is this shard's part of the "direct" pool's counts; arenas
	// lists the live arenas registered here, which keep their own.
	pool   shardPool
	arenas *arenaMem

	// Pad to a multiple of the cache line so that neighbouring shards'
	// locks do not share one.
	_ [64]byte
}

// maxAnchorsPerShard bounds the idle anchors a shard keeps. Each costs
// about 150 bytes of Go heap and a runtime special.
const maxAnchorsPerShard = 256

// shardHint returns a number that is the same for calls from one goroutine
// at the same depth and differs between goroutines: a cheap stand-in for
// "the current P", which Go does not expose. It hashes the address of a
// local variable, that is, a place on the calling goroutine's stack;
// distinct goroutines have disjoint stacks of at least 2 KiB. It is only a
// hint: a stack that grows and moves changes the answer, and two goroutines
// may share a shard; neither affects correctness.
func shardHint() uint32 {
	var x byte
	// Converting the pointer to an integer at once lets x stay on the
	// stack; the integer is hashed and never turned back into a pointer.
	p := uint64(uintptr(unsafe.Pointer(&x)))
	return uint32((p >> 11) * 0x9E3779B97F4A7C15 >> 40)
}

// popAnchor returns an idle anchor, or nil if the shard has none. s.mu must
// be held.
func (s *shard) popAnchor() *anchor {
	n := len(s.anchors)
	if n == 0 {
		return nil
	}
	an := s.anchors[n-1]
	s.anchors[n-1] = nil
	s.anchors = s.anchors[:n-1]
	return an
}

// pushAnchor keeps an idle anchor for reuse and returns nil, or returns it
// back if the shard has enough, for the caller to Close outside the lock.
// s.mu must be held.
func (s *shard) pushAnchor(an *anchor) *anchor {
	if an == nil || len(s.anchors) >= maxAnchorsPerShard {
		return an
	}
	s.anchors = append(s.anchors, an)
	return nil
}
