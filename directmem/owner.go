package directmem

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/offheap-go/offheap/cleaner"
)

// owner is the lifetime of one allocation, shared by its root Buffer and
// every view of it (the JVM's att field points at the root for the same
// reason): while any Buffer of the allocation is reachable, the memory
// stays. An Arena's buffers all share the arena's owner.
type owner struct {
	// claimed is set by the first Free, which is the one that releases.
	claimed atomic.Bool
	// flags is what every data method tests, in one byte: flagFreed once
	// Free has begun to release the memory (so use after Free is ErrFreed,
	// not a crash), flagMayFault for memory whose pages can fault
	// (fault.go). It is deliberately a plain field, not an atomic: Free
	// racing with a data method is a bug in the caller (the memory may go
	// while the method uses it), and a plain write and read are what the
	// race detector reports. It is also the cheapest check, which keeps
	// the typed accessors small enough to inline.
	flags uint8
	// arena is set for the owner of an Arena's buffers: only the arena
	// may free them.
	arena bool
	// cl is the garbage collector's path for arenas; nil for explicit-only
	// memory, and for an Allocator's buffers and those of Wrap, whose path
	// is their anchor (anchor.go, external.go).
	cl *cleaner.Cleanable
	// rel gives the memory back. It never refers to the owner: the garbage
	// collector's path holds it, and a path back would keep the owner
	// reachable forever.
	rel releaser
}

const (
	flagFreed    uint8 = 1 << iota // Free has released, or is releasing, the memory
	flagMayFault                   // the memory may fault (file-backed)
)

// freed reports whether Free has released the memory. Callers that may
// race with Free must not use it; see flags.
func (o *owner) freed() bool { return o.flags&flagFreed != 0 }

// mayFault reports whether the memory may fault when touched.
func (o *owner) mayFault() bool { return o.flags&flagMayFault != 0 }

// A releaser gives back what an owner holds, whatever kind of memory it
// is: an Allocator's buffer (allocation), an arena's memory (arenaMem), or
// memory given to Wrap (wrapped). Its release runs once per owner: from Free
// with byHand set, or from the garbage collector's path without, which is
// how leak detection tells a freed allocation from a collected one.
type releaser interface {
	release(byHand bool)
	// record is the allocation's leak record (leak.go), nil when it is
	// not tracked.
	record() *allocRecord
}

// free releases the memory unless it already is; it is safe to call many
// times and from many goroutines, and it agrees with the garbage
// collector's path (through cl, or the anchor's Disarm) so that the memory
// is released exactly once.
func (o *owner) free() {
	if !o.claimed.CompareAndSwap(false, true) {
		o.freedAgain() // a tracked double Free is reported (leak.go)
		return
	}
	o.flags |= flagFreed
	if o.cl != nil {
		// The Cleanable decides between this Free and the collector; its
		// function is the collector's path, so Free's own is run here.
		if o.cl.Cancel() {
			o.rel.release(true)
		}
	} else if o.rel != nil {
		o.rel.release(true)
	}
	// rel does not refer to the owner, so without this an owner whose Free
	// is its last use could be collected while the release runs, and a
	// tracked explicit-only owner's leak cleanup could report it lost
	// while it is being freed.
	runtime.KeepAlive(o)
}

// Free releases the buffer's memory now, instead of when the garbage
// collector finds the buffer unreachable (the JVM's Unsafe.invokeCleaner).
// The memory returns to where it came from and its reservation to the
// budget.
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
