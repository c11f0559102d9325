package directmem

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Leak detection (Netty's ResourceLeakDetector, for direct buffers).
//
// The JVM releases a dropped direct buffer when the garbage collector finds
// it unreachable, and so does this package: with leak detection disabled
// (the default) that is normal, not a leak. With detection on, an
// allocation may be tracked: it gets a record holding its pool, capacity
// and, when sampled, the stack that allocated it. A tracked buffer that the
// garbage collector finds unreachable before Free was called is reported
// as a leak through the handler set with SetLeakHandler, and every tracked
// allocation that has not been released is listed by Live.
//
// Which allocations are tracked:
//
//   - LeakDisabled: none. The allocation path pays one atomic load and a
//     branch (trackAllocation below).
//   - LeakSampled: one allocation in 128, chosen at random, is tracked with
//     its stack. Explicit-only buffers (Options.NoCleaner) and arenas are
//     always tracked, with a stack only when sampled, because dropping one
//     is always a bug: it loses memory for good.
//   - LeakParanoid: every allocation, with its stack.
//
// # The hook, for code that makes owners (allocator.go, arena.go, external.go)
//
// trackAllocation (or track, for a pool other than "direct") is called
// once per new owner, after its releaser is set and before any Buffer of
// it is handed out, and returns the record to keep in the releaser (nil
// when the allocation is not tracked). The releaser's record method
// returns it, and its release calls record.released(byHand), so Free needs
// no other call; a release by the garbage collector reports the leak.
//
// An explicitOnly owner (Options.NoCleaner) has no cleanup that will ever
// release its memory. When tracking is on, such an owner also gets a
// report-only runtime cleanup: if it becomes unreachable before Free, the
// leak is reported (LeakLost) but the memory is NOT released, by design:
// an explicit-only buffer promises not to be released behind the
// program's back, and a program that drops one has a bug that releasing
// it would hide. The allocation stays in Live (Unreachable set), since its
// memory and reservation are still held. Free of an explicit-only buffer
// that is already freed is reported as LeakDoubleFree (Free itself stays
// idempotent: nothing is released twice). Double Free is not reported for
// arenas.

// LeakLevel is how many allocations leak detection tracks.
type LeakLevel int32

const (
	// LeakDisabled tracks nothing: a buffer dropped without Free is released
	// by the garbage collector, as in the JVM, and nobody is told. The default.
	LeakDisabled LeakLevel = iota
	// LeakSampled tracks one allocation in 128 (at random) with its
	// allocation stack, plus every explicit-only buffer and arena (with a
	// stack when sampled). Netty's default level; cheap enough for production.
	LeakSampled
	// LeakParanoid tracks every allocation with its stack. Costs a stack
	// capture per allocation (docs/testing.md has the figures): for tests
	// and debugging.
	LeakParanoid
)

// leakSampleInterval is LeakSampled's 1-in-N (Netty's samplingInterval).
const leakSampleInterval = 128

// maxStackDepth is the number of frames recorded per stack.
const maxStackDepth = 32

// leakLevel is the current LeakLevel, read on every allocation.
var leakLevel atomic.Int32

// String returns "disabled", "sampled" or "paranoid", the names
// ParseLeakLevel and DIRECTMEM_LEAKS accept.
func (l LeakLevel) String() string {
	switch l {
	case LeakDisabled:
		return "disabled"
	case LeakSampled:
		return "sampled"
	case LeakParanoid:
		return "paranoid"
	}
	return fmt.Sprintf("LeakLevel(%d)", int32(l))
}

// ErrInvalidLeakLevel is returned by ParseLeakLevel for a name it does not know.
var ErrInvalidLeakLevel = errors.New("directmem: invalid leak detection level")

// ParseLeakLevel returns the level named s: "disabled", "sampled" or
// "paranoid", in any mix of ASCII upper and lower case, with surrounding
// spaces ignored. It returns an error wrapping ErrInvalidLeakLevel for
// anything else.
func ParseLeakLevel(s string) (LeakLevel, error) {
	// Case-insensitive in ASCII only: Unicode lower-casing would accept
	// "PARANOİD" (U+0130 lowers to "i").
	t := strings.TrimSpace(s)
	if strings.IndexFunc(t, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
		t = ""
	}
	switch strings.ToLower(t) {
	case "disabled":
		return LeakDisabled, nil
	case "sampled":
		return LeakSampled, nil
	case "paranoid":
		return LeakParanoid, nil
	}
	return LeakDisabled, fmt.Errorf("%w %q (want disabled, sampled or paranoid)", ErrInvalidLeakLevel, s)
}

// SetLeakDetection sets the leak detection level for allocations made from
// now on; allocations already tracked stay tracked, and those that were not
// stay untracked. It panics if level is not one of the three levels.
//
// The initial level comes from the environment variable DIRECTMEM_LEAKS
// (disabled, sampled or paranoid), read once when the package is
// initialised. An invalid value is not ignored silently: it is logged once
// as a log/slog warning naming the variable and the value, and detection
// stays disabled.
func SetLeakDetection(level LeakLevel) {
	if level < LeakDisabled || level > LeakParanoid {
		panic(fmt.Sprintf("directmem.SetLeakDetection: invalid level %d", int32(level)))
	}
	leakLevel.Store(int32(level))
}

// LeakDetection returns the current leak detection level.
func LeakDetection() LeakLevel { return LeakLevel(leakLevel.Load()) }

// leakEnv is the environment variable holding the initial LeakLevel.
const leakEnv = "DIRECTMEM_LEAKS"

func init() {
	level, err := leakLevelFromEnv(os.LookupEnv)
	if err != nil {
		// No handler can have been set yet: user code runs after this
		// package's init. So the one report goes to log/slog.
		slog.Warn("directmem: invalid "+leakEnv+"; leak detection stays disabled",
			"value", os.Getenv(leakEnv), "valid", "disabled|sampled|paranoid")
		return
	}
	leakLevel.Store(int32(level))
}

// leakLevelFromEnv reads DIRECTMEM_LEAKS through lookup. Unset or empty
// means LeakDisabled.
func leakLevelFromEnv(lookup func(string) (string, bool)) (LeakLevel, error) {
	v, ok := lookup(leakEnv)
	if !ok || strings.TrimSpace(v) == "" {
		return LeakDisabled, nil
	}
	level, err := ParseLeakLevel(v)
	if err != nil {
		return LeakDisabled, fmt.Errorf("%s=%q: %w", leakEnv, v, err)
	}
	return level, nil
}

// poolDirect is the name of the pool of Allocate, Allocators and Arenas.
const poolDirect = "direct"

// allocRecord is what leak detection knows of one tracked allocation. It
// must never refer to the owner: for explicit-only owners it is the
// argument of a runtime cleanup of the owner.
type allocRecord struct {
	// state moves once from recLive to one of the others.
	state        atomic.Uint32
	id           uint64
	pool         string
	detail       string
	capacity     int64
	explicitOnly bool
	arena        bool
	// pcs is the allocation stack; nil when the allocation was tracked
	// without being sampled (an explicit-only buffer under LeakSampled).
	pcs []uintptr
	// freePCs is where Free released an explicit-only buffer whose
	// allocation stack was recorded, for a later double-Free report. It is
	// written before state leaves recLive and read only after.
	freePCs []uintptr
	// lostReport is the report-only cleanup of an explicit-only owner.
	lostReport runtime.Cleanup
}

const (
	recLive      uint32 = iota
	recFreed            // released by Free
	recCollected        // released by the garbage collector without Free: reported
	recLost             // explicit-only, unreachable without Free: reported, memory kept
)

// allocIDs numbers tracked allocations in the order they were tracked.
var allocIDs atomic.Uint64

// trackAllocation is the allocation path's hook for the "direct" pool: it
// decides whether to track the allocation owned by o, of capacity bytes,
// and returns its record or nil. See the comment at the top of this file.
//
// With detection disabled it costs one atomic load and a branch, and it is
// small enough to inline into the allocator.
func trackAllocation(o *owner, capacity int64, explicitOnly bool) *allocRecord {
	if leakLevel.Load() == int32(LeakDisabled) {
		return nil
	}
	return track(o, poolDirect, "", capacity, explicitOnly)
}

// track is trackAllocation's slow path, for an allocation of the named
// pool; detail describes the memory in reports.
func track(o *owner, pool, detail string, capacity int64, explicitOnly bool) *allocRecord {
	level := LeakLevel(leakLevel.Load())
	if level == LeakDisabled {
		return nil
	}
	sampled := level == LeakParanoid || rand.Uint32()%leakSampleInterval == 0
	if !sampled && !explicitOnly && !o.arena {
		return nil
	}
	r := &allocRecord{pool: pool, detail: detail, capacity: capacity, explicitOnly: explicitOnly, arena: o.arena}
	if sampled {
		r.pcs = callers(2) // from track's caller on; stackOf trims the library's frames
	}
	r.id = allocIDs.Add(1)
	// The record is complete before it is published: a release that finds
	// it reads lostReport and deletes it from liveRecords.
	if explicitOnly {
		r.lostReport = runtime.AddCleanup(o, (*allocRecord).collected, r)
	}
	liveRecords.Store(r, struct{}{})
	return r
}

// callers returns the stack of the calling goroutine, skipping skip frames
// above callers' caller.
func callers(skip int) []uintptr {
	var buf [maxStackDepth]uintptr
	n := runtime.Callers(skip+2, buf[:])
	pcs := make([]uintptr, n)
	copy(pcs, buf[:n])
	return pcs
}

// released is called once when a tracked allocation is released; byHand
// tells Free from the garbage collector (every releaser's release calls it).
func (r *allocRecord) released(byHand bool) {
	if !byHand {
		if r.state.CompareAndSwap(recLive, recCollected) {
			liveRecords.Delete(r)
			reportLeak(leakEvent{kind: LeakCollected, rec: r})
		}
		return
	}
	if r.explicitOnly && !r.arena && r.pcs != nil {
		r.freePCs = callers(1)
	}
	if !r.state.CompareAndSwap(recLive, recFreed) {
		return
	}
	if r.explicitOnly {
		r.lostReport.Stop()
	}
	liveRecords.Delete(r)
}

// collected is the report-only cleanup of an explicit-only owner: the owner
// became unreachable, and unless Free came first the memory is lost.
func (r *allocRecord) collected() {
	if r.state.CompareAndSwap(recLive, recLost) {
		// The record stays in liveRecords: the memory is still held.
		reportLeak(leakEvent{kind: LeakLost, rec: r})
	}
}

// freedAgain is called by owner.free when the owner was already freed. For a
// tracked explicit-only buffer that is a double Free, and it is reported;
// nothing is released twice either way.
func (o *owner) freedAgain() {
	if o.rel == nil {
		return
	}
	r := o.rel.record()
	if r == nil || !r.explicitOnly || r.arena {
		return
	}
	ev := leakEvent{kind: LeakDoubleFree, rec: r, againPCs: callers(1)}
	if r.state.Load() == recFreed {
		ev.freePCs = r.freePCs
	}
	reportLeak(ev)
}
