package cleanup

import (
	"runtime"
)

// Reusable is a garbage-collector registration that can guard one resource
// after another: the cheap path for owners that are made and released by
// the million, such as small direct buffers.
//
// cleaner.Register costs a runtime.AddCleanup, and Cleanable.Clean a
// [runtime.Cleanup.Stop]: each takes runtime-wide locks and walks the
// span's list of specials (docs/allocator.md, "anchors", has the cost). A
// Reusable pays for runtime.AddCleanup once, when it is made, and is then
// armed and disarmed with a few plain stores and a statistics counter each,
// any number of times. The trick is that the object the runtime watches is the Reusable itself, not the resource's
// owner: the owner holds the Reusable while it is armed, so the Reusable
// becomes unreachable exactly when the owner does, and release runs; an
// explicit release disarms it, after which the owner must drop its
// reference and the Reusable can be armed for the next owner.
//
// Rules, on top of those of cleaner.Register:
//
//   - While armed, a Reusable must be reachable only through the owner it
//     guards; and the argument given to Arm must not refer to the Reusable
//     or to that owner, or release never runs.
//   - Arm, Disarm and Close on one Reusable must not run concurrently; the
//     code that owns it (one owner at a time, or a cache under a lock)
//     orders them. Only the garbage collector's release may run concurrently
//     with them, and it never runs while the Reusable is reachable.
//   - Once an owner's Disarm has returned, the owner must stop referring to
//     the Reusable: an old owner that kept it would keep it reachable while
//     it guards a new owner, whose release then could not run.
//
// The counters of [Stats] (cleaner.Stats) treat each arming as a
// registration: Arm counts in Registered, a Disarm that finds it armed in
// CleanedExplicitly, and a release by the garbage collector in CleanedByGC,
// so cleaner.Counters.Live stays the number of resources awaiting release.
type Reusable[A any] struct {
	rec     *reusableRecord[A]
	cleanup runtime.Cleanup
	// 64 bytes, not 24: fewer per span, so AddCleanup's sorted insert walks less.
	_ [40]byte
}

// reusableRecord is the argument of the runtime cleanup. It never refers to
// the Reusable, which the runtime watches.
type reusableRecord[A any] struct {
	// state moves idle -> armed (Arm) -> idle (Disarm) any number of times,
	// or armed -> fired once (the garbage collector).
	//
	// state and arg are plain fields, not atomics, because nothing touches
	// them concurrently: Arm, Disarm and Close are ordered by their caller
	// (the rules above), and they all need the Reusable in hand, while the
	// garbage collector's cleanByGC runs only once the Reusable is
	// unreachable, so after the last of them, never beside one. What orders
	// their writes before cleanByGC's reads is the collection in between
	// (the runtime tells the race detector so: runCleanups calls
	// racefingo, "a happens-before edge between the cleanup argument being
	// mutated and the call to the cleanup").
	state   uint32
	arg     A
	release func(A)
}

const (
	reusableIdle uint32 = iota
	reusableArmed
	reusableFired
	reusableClosed
)

// NewReusable returns an idle Reusable whose release function, once the
// Reusable is armed and then found unreachable, runs with the argument of
// the last Arm. release must not refer to the Reusable. It panics if
// release is nil.
func NewReusable[A any](release func(A)) *Reusable[A] {
	if release == nil {
		panic("cleanup.NewReusable: nil release function")
	}
	r := &Reusable[A]{rec: &reusableRecord[A]{release: release}}
	r.cleanup = runtime.AddCleanup(r, (*reusableRecord[A]).cleanByGC, r.rec)
	return r
}

// Arm makes arg the argument release runs with if the Reusable becomes
// unreachable before Disarm. It panics unless the Reusable is idle (new, or
// disarmed since its last Arm).
func (r *Reusable[A]) Arm(arg A) {
	if r.rec.state != reusableIdle {
		panic("cleanup: Arm of a Reusable that is armed, fired or closed")
	}
	r.rec.arg = arg
	r.rec.state = reusableArmed
	CountRegistered()
}

// Disarm withdraws the garbage collector's claim on the argument of the last
// Arm, and reports whether it did: false means the Reusable was not armed.
// It does not run release; the caller, having won, releases the resource
// itself. Afterwards the Reusable is idle and may be armed again, and the
// owner that armed it must drop its reference to it.
func (r *Reusable[A]) Disarm() bool {
	if r.rec.state != reusableArmed {
		return false
	}
	r.rec.state = reusableIdle
	var zero A
	r.rec.arg = zero // let go of what the argument refers to while idle
	CountCleanedExplicitly()
	return true
}

// Arg returns the argument of the last Arm while the Reusable is armed,
// and the zero A otherwise: an owner that keeps its release state only in
// its armed Reusable (one allocation the smaller) reads it back here
// before Disarm.
func (r *Reusable[A]) Arg() A { return r.rec.arg }

// Close retires an idle Reusable: the runtime forgets it, and it must not
// be armed again. Dropping an idle Reusable without Close is also correct;
// Close only spares the runtime from queueing a cleanup that would do
// nothing. It panics if the Reusable is armed.
func (r *Reusable[A]) Close() {
	if r.rec.state == reusableArmed {
		panic("cleanup: Close of an armed Reusable")
	}
	// Arm must refuse it from now on: the runtime no longer watches it, so
	// an owner armed on it would never be released.
	r.rec.state = reusableClosed
	r.cleanup.Stop()
}

// cleanByGC is the function given to runtime.AddCleanup: the Reusable
// became unreachable. Only an armed one has something to release.
func (rec *reusableRecord[A]) cleanByGC() {
	if rec.state != reusableArmed {
		return
	}
	rec.state = reusableFired
	arg := rec.arg
	var zero A
	rec.arg = zero
	RunFromGC(func() { rec.release(arg) })
}
