// Package pacing starts garbage collections on off-heap memory that waits
// for one. The Go collector paces itself on the Go heap, and the JVM's on
// its own heap, so a program whose heap is large and quiet can drop
// gigabytes of buffers that only a collection releases before either
// collector sees a reason to run. A [Pacer] counts the bytes of such
// buffers (directmem's managed buffers: released by a cleanup when dropped)
// allocated since the last completed cycle, net of those freed by hand, and
// starts one collection when they pass a goal: the managed bytes still live
// at the last cycle times a percentage (GOGC's by default), never less than
// [Floor].
//
// Counting costs the allocation path no atomic operation: each lease
// (internal/lease) gathers its owner's bytes under the owner's lock and
// adds them to the pacer once per [Batch]. Completed cycles are observed by
// a sentinel object whose cleanup runs once per cycle and re-arms itself,
// and by the budget's own collections as they return, never by polling.
//
// Package limits owns the pacer of each budget and exposes its setting
// (Budget.SetGCPercent) and counters (Budget.Stats).
package pacing

import (
	"context"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"weak"
)

const (
	// Floor is the smallest goal, so that a program with few live managed
	// buffers is not collected every few allocations: 64 MiB. A collection
	// costs a fixed part of a millisecond even on a small heap, and large
	// buffers are cheap to allocate untouched; it is also at or above the
	// high-water mark of a 64 MiB budget, which keeps collecting as it did
	// (docs/design.md, docs/BENCHMARKS.md).
	Floor = 64 << 20
	// Batch is the net managed bytes a lease gathers before adding them to
	// its pacer: the pacer sees an allocation late by at most a batch per
	// lease, and pays one atomic add per batch instead of one per buffer.
	Batch = 64 << 10
)

// Settings of [Pacer.Set] besides a percentage.
const (
	// Off starts no collection: the JVM's behaviour.
	Off = -1
	// FollowGOGC takes the percentage from the runtime's GOGC (the
	// variable or debug.SetGCPercent), read at every completed cycle; GOGC
	// off turns pacing off.
	FollowGOGC = math.MinInt
)

// Pacer is one budget's pacing state. All methods are safe for concurrent
// use.
type Pacer struct {
	// epoch is the number (mod 2^32) of the last completed GC cycle seen;
	// allocated, live and liveGone belong to it.
	epoch atomic.Uint32
	// percent is the percentage in effect, negative when pacing is off.
	percent atomic.Int64
	// allocated is the managed bytes the leases added since the epoch
	// began: allocated, less those freed by hand.
	allocated atomic.Int64
	// live is the managed bytes live when the epoch began; liveGone, those
	// of them released since (by hand or by the collector).
	live, liveGone atomic.Int64
	// triggered is epoch+1 once this epoch's collection has been asked
	// for, so that one epoch asks once.
	triggered atomic.Uint32
	// atStart is allocated when the budget's collection started in this
	// epoch, or -1 if none did: what was allocated after the start
	// survives that collection (the collector marks new objects live), so
	// it is carried into the next epoch's count.
	atStart atomic.Int64
	// collected counts the managed bytes the collector has released, ever;
	// the ended epoch's garbage is released once it reaches garbageMark.
	// Until then that garbage still waits, in the cleanup queue. early is
	// what the collector released of this epoch's own allocations before
	// the epoch ended (the cycle's end is seen after some of its cleanups).
	collected, garbageMark, early atomic.Int64
	// watching is set once the sentinel chain runs (it starts with the
	// first bytes added).
	watching atomic.Bool

	mu      sync.Mutex // serialises cycle ends and settings
	setting int        // FollowGOGC, Off or a percentage; guarded by mu
	cycles  uint64     // completed cycles at the last cycle end seen; guarded by mu

	sumLive func() int64
	collect func() bool
	await   func(context.Context)
}

// New returns a pacer that follows GOGC. sumLive returns the managed bytes
// live now (the leases' sum); collect starts a background collection unless
// one is running, and reports whether it started one; await waits for the
// collection in flight, starting one if none is, or for ctx to end.
func New(sumLive func() int64, collect func() bool, await func(context.Context)) *Pacer {
	p := &Pacer{setting: FollowGOGC, sumLive: sumLive, collect: collect, await: await}
	p.atStart.Store(-1)
	c, pct := readRuntime()
	p.cycles = c
	p.epoch.Store(uint32(c))
	p.percent.Store(p.effective(pct))
	return p
}

// Set changes the setting (a percentage, [Off] or [FollowGOGC]; any other
// negative value is Off) and returns the previous one.
func (p *Pacer) Set(setting int) (previous int) {
	if setting < 0 && setting != FollowGOGC {
		setting = Off
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	previous, p.setting = p.setting, setting
	_, pct := readRuntime()
	p.percent.Store(p.effective(pct))
	return previous
}

// Setting returns the setting made with Set (FollowGOGC by default).
func (p *Pacer) Setting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.setting
}

// effective is the percentage in force given the runtime's GOGC (negative
// when off). p.mu must be held, or p not yet shared.
func (p *Pacer) effective(gogc int64) int64 {
	switch {
	case p.setting == FollowGOGC:
		return gogc
	case p.setting < 0:
		return -1
	}
	return int64(p.setting)
}

// Epoch returns the current epoch, which a lease records with each managed
// buffer and hands back with it ([Pacer.Gone]).
func (p *Pacer) Epoch() uint32 { return p.epoch.Load() }

// Goal returns the managed bytes whose allocation since the last cycle
// starts a collection; 0 when pacing is off.
func (p *Pacer) Goal() int64 {
	pct := p.percent.Load()
	if pct < 0 {
		return 0
	}
	live := max(p.live.Load()-p.liveGone.Load(), 0)
	if pct != 0 && live > math.MaxInt64/pct {
		return math.MaxInt64
	}
	return max(live*pct/100, Floor)
}

// Add adds n net managed bytes (negative for buffers freed by hand) from a
// lease, and starts this epoch's collection if they pass the goal. It
// reports whether they, with the garbage of the last cycle still waiting
// for its cleanups, have passed twice the goal: the collection is not
// keeping up, and the allocating goroutine should wait for it
// ([Pacer.Wait]) before it allocates more, as the runtime makes a goroutine
// that allocates faster than the collector marks assist it.
func (p *Pacer) Add(n int64) (over bool) {
	if p.percent.Load() < 0 {
		return false
	}
	a := p.allocated.Add(n)
	if n <= 0 {
		return false
	}
	if !p.watching.Load() && p.watching.CompareAndSwap(false, true) {
		arm(weak.Make(p))
	}
	goal := p.Goal()
	if a >= goal {
		p.trigger()
	}
	return p.overdue(a, goal)
}

// overdue reports whether a allocated bytes and the ended epoch's garbage
// not released yet are twice the goal or more: the memory waiting for the
// collector is not keeping to the goal.
func (p *Pacer) overdue(a, goal int64) bool {
	unreleased := max(p.garbageMark.Load()-p.collected.Load(), 0)
	return (a+unreleased)/2 >= goal
}

// Collected counts size bytes of a managed buffer of the given epoch that
// the collector released.
func (p *Pacer) Collected(size int64, epoch uint32) {
	if epoch == p.epoch.Load() {
		p.early.Add(size)
	}
	p.collected.Add(size)
}

// Wait waits, if the goal is still passed twice over, until the collection
// in flight (if any) has ended and the releases queued so far have run, or
// ctx has ended: what a goroutine does when Add reports true.
func (p *Pacer) Wait(ctx context.Context) {
	if g := p.Goal(); g == 0 || !p.overdue(p.allocated.Load(), g) {
		return
	}
	p.await(ctx)
}

// trigger starts a collection, once per epoch. While one started by
// another trigger runs, it asks again at the next batch: that collection
// may have begun before the bytes it counts were dropped.
func (p *Pacer) trigger() {
	e := p.epoch.Load() + 1
	t := p.triggered.Load()
	if t == e || !p.triggered.CompareAndSwap(t, e) {
		return
	}
	if !p.collect() {
		p.triggered.CompareAndSwap(e, t)
	}
}

// Gone counts size bytes of a managed buffer from an earlier epoch
// released: it was counted live when this epoch began, and no longer is.
func (p *Pacer) Gone(size int64) { p.liveGone.Add(size) }

// Allocated returns the net managed bytes added since the last cycle.
func (p *Pacer) Allocated() int64 { return p.allocated.Load() }

// CycleEnded tells the pacer that a GC cycle may have completed: it begins
// a new epoch if the runtime counts one it has not seen. The sentinel calls
// it, and the budget when a collection it started returns. It must not be
// called with a lease's owner's lock held (it sums the leases).
func (p *Pacer) CycleEnded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, pct := readRuntime()
	if c == p.cycles {
		return
	}
	p.cycles = c
	p.percent.Store(p.effective(pct))
	// What the epoch allocated is not counted live: its garbage may not be
	// released yet (the cleanups run after the cycle), and what it dropped
	// while the cycle marked survives until the next one. A live set that
	// really grew is counted one cycle late.
	allocated := p.allocated.Load()
	live := max(p.sumLive()-allocated, 0)
	carried := int64(0)
	if at := p.atStart.Swap(-1); at >= 0 {
		carried = max(allocated-at, 0)
	}
	// Reset before the epoch moves on: a lease that reads the new epoch
	// adds to the new count.
	p.live.Store(live)
	p.liveGone.Store(0)
	garbage := max(allocated-carried-p.early.Swap(0), 0)
	p.garbageMark.Store(p.collected.Load() + garbage)
	p.allocated.Store(carried)
	p.epoch.Store(uint32(c))
}

// CollectionStarting tells the pacer that the budget is starting a
// collection (any trigger's): what is allocated from now on survives it.
func (p *Pacer) CollectionStarting() { p.atStart.Store(p.allocated.Load()) }

// readRuntime returns the completed GC cycles and GOGC (negative when off).
func readRuntime() (cycles uint64, gogc int64) {
	s := [2]metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/gogc:percent"}}
	metrics.Read(s[:])
	cycles = s[0].Value.Uint64()
	g := s[1].Value.Uint64()
	if g > math.MaxInt32 { // GOGC=off reads as uint64(-1)
		return cycles, -1
	}
	return cycles, int64(g)
}

// sentinel is an object whose only use is to become garbage: its cleanup
// runs once the cycle that found it unreachable has swept it. It holds a
// pointer so that the tiny allocator, whose objects may never be cleaned
// up, does not take it.
type sentinel struct{ _ *byte }

// arm allocates a sentinel whose cleanup reports the end of a cycle to the
// pacer and arms the next one. The chain holds the pacer weakly and ends
// when the budget that owns it is collected.
func arm(wp weak.Pointer[Pacer]) {
	runtime.AddCleanup(new(sentinel), cycleSeen, wp)
}

func cycleSeen(wp weak.Pointer[Pacer]) {
	p := wp.Value()
	if p == nil {
		return
	}
	p.CycleEnded()
	arm(wp)
}
