package directmem

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/offheap-go/offheap/cleaner"
)

// owner is the lifetime of one allocation, shared by its root Buffer and
// every view of it (the JVM's att field points at the root for the same
// reason). The GC cleanup hangs on the owner: while any Buffer of the
// allocation is reachable, the memory stays.
//
// Owners of arena buffers are shared by the whole arena.
type owner struct {
	// state moves once from ownerLive to ownerFreed; the Free that moves it
	// is the one that releases.
	state atomic.Uint32
	// flags holds flagFreed and flagMayFault. flagFreed is set by that
	// Free before it releases the memory, and every data method reads flags
	// first, to return ErrFreed instead of touching released memory. It is
	// deliberately a plain field, not an atomic: Free racing with a data
	// method is a bug in the caller (the memory may go while the method
	// uses it), and a plain write and read are what the race detector
	// reports. flagMayFault is set when the owner is made and never
	// changes. One byte for both is the cheapest check: the typed
	// accessors' fast path tests flags != 0 and stays small enough to
	// inline, going out of line (fault.go) when either is set.
	flags uint8
	// arena is set for memory that only its Arena may free. (It sits next
	// to flags so that the owner is 24 bytes, and an allocation 192.)
	arena bool
	// cl is the GC path of wrapped memory and arenas; nil when the memory
	// is only ever freed by hand (Options.NoCleaner) or has nothing to
	// release, and for allocator buffers, whose GC path is the anchor in
	// rel.blk (anchor.go).
	cl *cleaner.Cleanable
	// rel frees the memory. It must never refer to the owner: the cleanup
	// holds it, and a path back would keep the owner reachable forever.
	rel *release
}

const (
	ownerLive uint32 = iota
	ownerFreed
)

// The bits of owner.flags.
const (
	// flagFreed: Free has released the memory.
	flagFreed uint8 = 1 << iota
	// flagMayFault: the memory may fault when touched (a file mapping whose
	// file may shrink), so data methods run under the fault guard (fault.go).
	flagMayFault
)

// freed reports whether Free has released the memory. Callers that may
// race with Free must not use it; see flags.
func (o *owner) freed() bool { return o.flags&flagFreed != 0 }

// mayFault reports whether touching the memory may fault.
func (o *owner) mayFault() bool { return o.flags&flagMayFault != 0 }

// free releases the memory unless it already is; it is safe to call many
// times and from many goroutines, and it agrees with the GC path through
// the Cleanable so that the memory is released exactly once.
func (o *owner) free() {
	if !o.state.CompareAndSwap(ownerLive, ownerFreed) {
		o.freedAgain() // a tracked double Free is reported (leak.go)
		return
	}
	o.flags |= flagFreed
	switch {
	case o.cl != nil:
		// The cleaner runs rel.run, which must tell this Free from the
		// garbage collector.
		if o.rel != nil {
			o.rel.byHand.Store(true)
		}
		o.cl.Clean()
	case o.rel != nil:
		o.rel.release(true)
	}
	// The release does not refer to the owner (an arena's is a separate
	// object), so without this an owner whose Free is its last use could
	// be collected while the release runs, and a tracked explicit-only
	// owner's leak cleanup could report it lost while it is being freed.
	runtime.KeepAlive(o)
}

// release is everything needed to give an allocation back: the memory,
// what was reserved for it, and where it came from.
type release struct {
	mem      []byte // the allocation as obtained from the heap
	size     int64  // bytes taken from the heap and reserved from the budget
	capacity int64  // bytes asked for
	alloc    *Allocator
	fn       func() // Wrap's release function
	// blk is where the memory came from in the allocator's heap, and the
	// anchor through which the garbage collector releases a buffer with a
	// cleaner (anchor.go: such owners have no cl).
	blk block
	// byHand is set by Free before it releases through cl, so that a
	// release that finds it unset knows the garbage collector got there
	// first. (Owners without cl release by calling release(true) directly.)
	byHand atomic.Bool
	// track is the leak-detection record of a tracked allocation; only
	// leak.go sets it (atomically: an arena's owner may be tracked from
	// several goroutines, and the cleanup goroutine reads it).
	track atomic.Pointer[allocRecord]
}

// run is the release as a Cleanable runs it, by Free or by the garbage
// collector, which byHand tells apart.
func (r *release) run() { r.release(r.byHand.Load()) }

// release gives the memory back; byHand says whether Free asked for it.
func (r *release) release(byHand bool) {
	if m := r.blk.arena; m != nil {
		// An arena's leak record may be made by an Allocate that is still
		// running; m.release reads it under the lock that orders the two.
		m.release(&r.track, byHand)
		return
	}
	if t := r.track.Load(); t != nil {
		t.released(byHand)
	}
	if r.alloc != nil {
		r.alloc.giveBack(r)
	}
	if r.fn != nil {
		r.fn()
	}
}

// Free releases the buffer's memory now, instead of when the garbage
// collector finds the buffer unreachable (the JVM's Unsafe.invokeCleaner).
// The memory returns to the allocator and its reservation to the budget.
//
// Free is idempotent: a second call, or the garbage collector coming later,
// does nothing. After Free every data method of the buffer and its views
// returns ErrFreed, and slices from Bytes must no longer be used.
//
// Free on a view (Slice, Duplicate, AsReadOnly) or on a buffer of an Arena
// returns ErrNotOwner and changes nothing.
func (b *Buffer) Free() error {
	if b.isView {
		return fmt.Errorf("%w: the buffer is a slice, duplicate or read-only view", ErrNotOwner)
	}
	if b.owner.arena {
		return fmt.Errorf("%w: the buffer belongs to an arena; free the arena", ErrNotOwner)
	}
	b.owner.free()
	return nil
}

// IsFreed reports whether the buffer's memory has been released by Free
// (of this buffer, of the buffer it is a view of, or of its arena).
func (b *Buffer) IsFreed() bool { return b.owner.freed() }
