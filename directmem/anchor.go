package directmem

import "github.com/offheap-go/offheap/cleaner"

// Buffers with a cleaner (the default) are released by the garbage
// collector through an anchor: a cleaner.Reusable that the buffer's
// allocation refers to while it is live. runtime.AddCleanup plus
// Cleanup.Stop cost 350-400 ns here, more than the JDK's whole
// allocateDirect+free of a small buffer; an anchor pays AddCleanup once and
// is then armed and disarmed for a few nanoseconds each. Free disarms
// the anchor and returns it to its shard's cache for the next buffer; a
// dropped buffer takes its anchor down with it, and the anchor's cleanup
// releases the buffer.
//
// The anchor is watched by the runtime, so its cleanup's argument must not
// lead back to it: it cannot be the buffer's release (which lives in the
// same allocation as the Buffer and refers to the anchor). It is a copy of
// what the release needs, gcRelease, from which releaseCollected rebuilds
// a release and runs it as the garbage collector's path would.
type anchor = cleaner.Reusable[gcRelease]

// gcRelease is a copy of a managed buffer's release, taken when the buffer
// is made, without the anchor.
type gcRelease struct {
	alloc    *Allocator
	mem      []byte
	size     int64
	capacity int64
	blk      block
	track    *allocRecord
}

func newAnchor() *anchor { return cleaner.NewReusable(releaseCollected) }

// releaseCollected is an anchor's release: the buffer it guarded became
// unreachable without Free. It runs on the runtime's cleanup goroutine.
func releaseCollected(g gcRelease) {
	r := &release{mem: g.mem, size: g.size, capacity: g.capacity, alloc: g.alloc, blk: g.blk}
	if g.track != nil {
		r.track.Store(g.track)
	}
	r.release(false) // the garbage collector's path
}
