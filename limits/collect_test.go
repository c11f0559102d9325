package limits

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeCleanups stands in for the cleanups of dropped buffers: the n-th
// collection finds a reservation of frees[n] bytes unreachable (none if 0 or
// beyond frees) and queues its cleanup, and waitForProgress runs the queued
// cleanups, which release their reservations, and reports progress if there
// were any. The first collection waits for first to be closed, if it is not
// nil.
type fakeCleanups struct {
	frees []int64

	mu         sync.Mutex
	n          int     // collections so far
	pending    []int64 // cleanups queued
	progressed atomic.Int64
}

// progress returns how many waits for progress found cleanups to run.
func (c *fakeCleanups) progress() int64 { return c.progressed.Load() }

func newFakeCleanups(b *Budget, f *fake, first <-chan struct{}, frees ...int64) *fakeCleanups {
	c := &fakeCleanups{frees: frees}
	b.hooks.gc = func() {
		f.gcs.Add(1)
		c.mu.Lock()
		n := c.n
		c.n++
		c.mu.Unlock()
		if n == 0 && first != nil {
			<-first
		}
		if n < len(c.frees) && c.frees[n] > 0 {
			c.mu.Lock()
			c.pending = append(c.pending, c.frees[n])
			c.mu.Unlock()
		}
	}
	b.hooks.waitForProgress = func(context.Context) (bool, error) {
		c.mu.Lock()
		run := c.pending
		c.pending = nil
		c.mu.Unlock()
		for _, size := range run {
			b.Unreserve(size, size)
		}
		if len(run) == 0 {
			return false, nil
		}
		c.progressed.Add(1)
		return true, nil
	}
	return c
}

// A reservation that hits the limit while a background collection runs
// waits for that one to end (it may have started before the reservation's
// garbage was dropped), then retries once its cleanups have run. When they
// freed enough, as under churn, the reservation succeeds without forcing a
// collection of its own (TestOutwaitedCollectionFreesTooLittle: when they
// did not).
func TestOutwaitedCollectionFreesEnough(t *testing.T) {
	b, f := newFakeBudget(t, 100)
	release := make(chan struct{})
	c := newFakeCleanups(b, f, release, 90) // the background collection frees the 90
	outwaiting := make(chan struct{})
	b.hooks.gcOutwaiting = func() { close(outwaiting) }
	b.hooks.gcJoined = func() { t.Error("the reservation joined or started a collection after the background one") }
	if !b.tryReserveNow(90, 90) {
		t.Fatal("TryReserve(90) failed")
	}
	done := make(chan error)
	go func() { done <- b.Reserve(context.Background(), 20, 20) }()
	<-outwaiting
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Reserve = %v", err)
	}
	if s := b.Stats(); s.ForcedGCs != 0 || s.BackgroundGCs != 1 || s.Sleeps != 0 || f.gcs.Load() != 1 {
		t.Fatalf("stats %+v, %d collections; want the background one only, and no sleep", s, f.gcs.Load())
	}
	if n := c.progress(); n != 1 {
		t.Fatalf("%d waits for progress made progress; want 1 (the background collection's cleanups)", n)
	}
	wantCounters(t, b, 1, 20, 20)
}

// Reservations that wait out a background collection and find that its
// cleanups did not free enough for all of them: those that fit succeed, and
// the others share one forced collection, which starts after the
// background one has ended and so after they all arrived.
func TestOutwaitedCollectionThenForced(t *testing.T) {
	const waiters = 8
	b, f := newFakeBudget(t, 100)
	release := make(chan struct{})
	// The background collection frees the 90; the forced one finds nothing.
	newFakeCleanups(b, f, release, 90, 0)
	var outwaiting atomic.Int64
	arrived := make(chan struct{})
	b.hooks.gcOutwaiting = func() {
		if outwaiting.Add(1) == waiters {
			close(arrived)
		}
	}
	var joinedEarly atomic.Bool
	b.hooks.gcJoined = func() {
		select {
		case <-release:
		default:
			joinedEarly.Store(true)
		}
	}
	if !b.tryReserveNow(90, 90) { // starts the background collection
		t.Fatal("TryReserve(90) failed")
	}
	// No other: the collection after it must be forced by the waiters.
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, waiters)
	for range waiters {
		go func() { errs <- b.Reserve(context.Background(), 30, 30) }()
	}
	<-arrived // all of them wait for the background collection
	close(release)
	ok, oom := tally(t, errs, waiters)
	if ok != 3 || oom != waiters-3 {
		t.Fatalf("%d succeeded and %d failed; want 3 (what the background collection freed) and %d", ok, oom, waiters-3)
	}
	if joinedEarly.Load() {
		t.Fatal("a reservation joined the background collection that began before it arrived")
	}
	if s := b.Stats(); s.BackgroundGCs != 1 || s.ForcedGCs != 1 || f.gcs.Load() != 2 || s.Waits != waiters {
		t.Fatalf("stats %+v, %d collections; want the background one and one forced collection shared by %d waits",
			s, f.gcs.Load(), waiters)
	}
	wantCounters(t, b, 3, 90, 90)
}

// One waiter alone, to show the order: it waits out the background
// collection, retries after its cleanups, finds no room, and only then
// starts a collection, whose cleanups give it the memory.
func TestOutwaitedCollectionFreesTooLittle(t *testing.T) {
	b, f := newFakeBudget(t, 100)
	release := make(chan struct{})
	// The background collection frees 10; the forced one another 50.
	newFakeCleanups(b, f, release, 10, 50)
	gc := b.hooks.gc
	var atForced atomic.Int64 // total capacity when the forced collection starts
	b.hooks.gc = func() {
		if f.gcs.Load() == 1 {
			atForced.Store(b.Stats().TotalCapacity)
		}
		gc()
	}
	outwaiting := make(chan struct{})
	b.hooks.gcOutwaiting = func() { close(outwaiting) }
	for _, n := range []int64{10, 50, 30} { // the 30 crosses the mark: 90
		if !b.tryReserveNow(n, n) {
			t.Fatalf("TryReserve(%d) failed", n)
		}
	}
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- b.Reserve(context.Background(), 40, 40) }()
	<-outwaiting
	if s := b.Stats(); s.ForcedGCs != 0 {
		t.Fatalf("a collection was forced while the background one ran: %+v", s)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Reserve = %v", err)
	}
	if s := b.Stats(); s.BackgroundGCs != 1 || s.ForcedGCs != 1 || s.Sleeps != 0 || f.gcs.Load() != 2 {
		t.Fatalf("stats %+v, %d collections; want the background one, then one forced, and no sleep", s, f.gcs.Load())
	}
	if got := atForced.Load(); got != 80 {
		t.Fatalf("the forced collection started with total capacity %d; want 80, after the background collection's cleanups", got)
	}
	wantCounters(t, b, 2, 70, 70)
}

// A reservation waiting for cleanups to make progress takes memory as soon
// as one of them releases enough, without waiting for the rest: the wait is
// ended through its context, and has returned by the time Reserve does.
func TestProgressWaitEndsOnRelease(t *testing.T) {
	b, f := newFullFakeBudget(t, 10)
	var calls atomic.Int64
	var ended atomic.Bool
	b.hooks.waitForProgress = func(ctx context.Context) (bool, error) {
		if calls.Add(1) > 1 {
			return false, nil
		}
		b.Unreserve(10, 10) // the first cleanup; the others never finish
		<-ctx.Done()
		ended.Store(true)
		return true, ctx.Err()
	}
	if err := b.Reserve(context.Background(), 4, 4); err != nil {
		t.Fatalf("Reserve = %v", err)
	}
	if !ended.Load() {
		t.Fatal("Reserve returned before the wait for progress had ended")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d waits for progress; want 1", n)
	}
	if s := b.Stats(); s.ForcedGCs != 0 || s.Sleeps != 0 || f.gcs.Load() != 0 {
		t.Fatalf("stats %+v, %d collections; want neither a collection nor a sleep", s, f.gcs.Load())
	}
	wantCounters(t, b, 1, 4, 4)
}
