package limits

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

var jvmBackoff = []time.Duration{
	1 * time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond,
	16 * time.Millisecond, 32 * time.Millisecond, 64 * time.Millisecond, 128 * time.Millisecond,
	256 * time.Millisecond,
}

func TestBackoffSchedule(t *testing.T) {
	b, f := newFullFakeBudget(t, 10)
	err := b.Reserve(context.Background(), 1, 1)
	if !errors.Is(err, ErrOutOfDirectMemory) {
		t.Fatalf("Reserve = %v; want ErrOutOfDirectMemory", err)
	}
	slept := f.sleeps()
	if !slices.Equal(slept, jvmBackoff) {
		t.Fatalf("slept %v; want %v", slept, jvmBackoff)
	}
	var total time.Duration
	for _, d := range slept {
		total += d
	}
	if total != 511*time.Millisecond {
		t.Fatalf("slept %v in all; want 511ms", total)
	}
	if got := f.gcs.Load(); got != 1 {
		t.Fatalf("%d collections; want 1", got)
	}
	s := b.Stats()
	if s.Waits != 1 || s.ForcedGCs != 1 || s.Sleeps != 9 || s.Failures != 1 || s.BackgroundGCs != 1 {
		t.Fatalf("stats %+v; want 1 wait, 1 forced GC, 9 sleeps, 1 failure, 1 background GC (from filling)", s)
	}
	wantCounters(t, b, 1, 10, 10)
}

// While cleanups make progress the loop neither sleeps nor gives up: the
// JVM's waitForReferenceProcessing returning true.
func TestProgressIsNotASleep(t *testing.T) {
	b, f := newFakeBudget(t, 10)
	// Before the collection: progress, progress, none. After it: progress,
	// then none for ever.
	script := []bool{true, true, false, true}
	var calls atomic.Int64
	b.hooks.waitForProgress = func(context.Context) (bool, error) {
		i := calls.Add(1) - 1
		if i < int64(len(script)) {
			return script[i], nil
		}
		return false, nil
	}
	var gcAt atomic.Int64
	b.hooks.gc = func() { gcAt.Store(calls.Load()); f.gcs.Add(1) }
	if !b.tryReserveNow(10, 10) {
		t.Fatal("filling the budget failed")
	}
	waitCollections(b) // the background collection from filling
	f.gcs.Store(0)
	if err := b.Reserve(context.Background(), 1, 1); !errors.Is(err, ErrOutOfDirectMemory) {
		t.Fatalf("Reserve = %v; want ErrOutOfDirectMemory", err)
	}
	if got := gcAt.Load(); got != 3 {
		t.Fatalf("the forced collection came after %d waits for progress; want 3", got)
	}
	// 3 before the collection, then 1 with progress and 9 without.
	if got := calls.Load(); got != 13 {
		t.Fatalf("%d waits for progress; want 13", got)
	}
	if !slices.Equal(f.sleeps(), jvmBackoff) {
		t.Fatalf("slept %v; want %v", f.sleeps(), jvmBackoff)
	}
	if got := f.gcs.Load(); got != 1 {
		t.Fatalf("%d forced collections; want 1", got)
	}
}

// A reservation succeeds once a cleanup that ran while it waited for
// progress has released memory, without a collection.
func TestReserveSucceedsAfterProgress(t *testing.T) {
	b, f := newFullFakeBudget(t, 10)
	b.hooks.waitForProgress = func(context.Context) (bool, error) {
		b.Unreserve(10, 10) // a cleanup freeing a buffer
		return true, nil
	}
	if err := b.Reserve(context.Background(), 4, 4); err != nil {
		t.Fatalf("Reserve = %v", err)
	}
	if got := f.gcs.Load(); got != 0 {
		t.Fatalf("%d collections; want none", got)
	}
	wantCounters(t, b, 1, 4, 4)
}

// A reservation succeeds when another goroutine releases memory during the
// back-off.
func TestReserveSucceedsDuringBackoff(t *testing.T) {
	b, _ := newFullFakeBudget(t, 10)
	sleeping, wake := make(chan time.Duration), make(chan struct{})
	b.hooks.sleep = func(_ context.Context, d time.Duration) error {
		sleeping <- d
		<-wake
		return nil
	}
	done := make(chan error)
	go func() { done <- b.Reserve(context.Background(), 8, 8) }()
	for _, want := range jvmBackoff[:3] {
		if d := <-sleeping; d != want {
			t.Fatalf("sleep of %v; want %v", d, want)
		}
		if want == jvmBackoff[2] {
			b.Unreserve(10, 10)
		}
		wake <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatalf("Reserve = %v", err)
	}
	s := b.Stats()
	if s.Sleeps != 3 || s.Failures != 0 || s.ForcedGCs != 1 {
		t.Fatalf("stats %+v; want 3 sleeps, 1 forced GC, no failure", s)
	}
	wantCounters(t, b, 1, 8, 8)
}

// A context that is done does not stop a reservation that fits: like the
// JVM's interrupts, it only cuts waiting short.
func TestDoneContextFastPath(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b, _ := newFakeBudget(t, 10)
	if err := b.Reserve(ctx, 10, 10); err != nil {
		t.Fatalf("Reserve with a done context and room = %v", err)
	}
	err := b.Reserve(ctx, 1, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Reserve with a done context and no room = %v; want context.Canceled", err)
	}
	if errors.Is(err, ErrOutOfDirectMemory) {
		t.Fatalf("a cancelled reservation reports ErrOutOfDirectMemory: %v", err)
	}
	if s := b.Stats(); s.ForcedGCs != 0 || s.Sleeps != 0 || s.Failures != 0 {
		t.Fatalf("a done context still waited: %+v", s)
	}
	wantCounters(t, b, 1, 10, 10)
}

// Each place the slow path waits returns when the context ends, with an
// error wrapping ctx.Err() and nothing reserved. The waits are made
// endless, so returning at all shows that cancellation is what ended them.
func TestContextEndsWaiting(t *testing.T) {
	for _, stage := range []string{"progress", "collection", "sleep"} {
		for _, want := range []error{context.Canceled, context.DeadlineExceeded} {
			t.Run(stage+"/"+want.Error(), func(t *testing.T) {
				b, _ := newFullFakeBudget(t, 10)
				waiting := make(chan struct{})
				release := make(chan struct{})
				defer close(release)
				switch stage {
				case "progress":
					b.hooks.waitForProgress = func(ctx context.Context) (bool, error) {
						close(waiting)
						<-ctx.Done()
						return true, ctx.Err()
					}
				case "collection":
					b.hooks.gc = func() { <-release }
					b.hooks.gcJoined = func() { close(waiting) }
				case "sleep":
					b.hooks.sleep = func(ctx context.Context, _ time.Duration) error {
						close(waiting)
						return sleepContext(ctx, time.Hour)
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				if want == context.DeadlineExceeded {
					ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
				}
				defer cancel()
				done := make(chan error)
				go func() { done <- b.Reserve(ctx, 1, 1) }()
				var err error
				select {
				case <-waiting:
					if want == context.Canceled {
						cancel()
					}
					err = <-done
				case err = <-done:
					// Only a deadline can end the wait before the stage is
					// reached (on a loaded machine 1 ms passes first).
					if want == context.Canceled {
						t.Fatalf("Reserve = %v before it was cancelled", err)
					}
				}
				if !errors.Is(err, want) {
					t.Fatalf("Reserve = %v; want %v", err, want)
				}
				wantCounters(t, b, 1, 10, 10)
				if s := b.Stats(); s.Failures != 0 {
					t.Fatalf("a cancelled reservation counted as a failure: %+v", s)
				}
			})
		}
	}
}

// Reservations that hit the limit together share forced collections: the
// first starts one, and everyone who arrived while it ran shares the next
// (a collection that began before a reservation arrived may not free its
// garbage).
func TestForcedCollectionsCoalesce(t *testing.T) {
	const waiters = 32
	b, f := newFullFakeBudget(t, 10)
	if err := b.SetHighWater(0); err != nil { // count forced collections only
		t.Fatal(err)
	}
	release := make(chan struct{})
	b.hooks.gc = func() { f.gcs.Add(1); <-release }
	joined := make(chan struct{}, 2*waiters)
	b.hooks.gcJoined = func() { joined <- struct{}{} }
	b.hooks.gcOutwaiting = func() { joined <- struct{}{} }

	errs := make(chan error, waiters)
	for range waiters {
		go func() { errs <- b.Reserve(context.Background(), 1, 1) }()
	}
	for range waiters {
		<-joined
	}
	b.Unreserve(10, 10) // room for ten of them once the collection ends
	close(release)
	ok, oom := tally(t, errs, waiters)
	if got := f.gcs.Load(); got != 2 {
		t.Fatalf("%d waiters caused %d collections; want 2", waiters, got)
	}
	if s := b.Stats(); s.ForcedGCs != 2 || s.Waits != waiters {
		t.Fatalf("stats %+v; want 2 forced GCs and %d waits", s, waiters)
	}
	if ok != 10 || oom != waiters-10 {
		t.Fatalf("%d succeeded and %d failed; want 10 and %d", ok, oom, waiters-10)
	}
	wantCounters(t, b, 10, 10, 10)
}

// A request larger than the whole limit can never fit: it fails at once
// with the usual error, without waiting for cleanups, collecting or
// sleeping.
func TestLargerThanLimitFailsAtOnce(t *testing.T) {
	for _, tt := range []struct {
		max, size, capacity int64
		msg                 string
	}{
		{10, 11, 11, "cannot reserve 11 bytes of direct buffer memory (allocated: 4, limit: 10)"},
		{0, 1, 1, "cannot reserve 1 bytes of direct buffer memory (allocated: 4, limit: 0)"},
		{1 << 20, 1<<20 + 4096, 1<<20 + 1, "cannot reserve 1052672 bytes of direct buffer memory (allocated: 4, limit: 1048576)"},
	} {
		b, f := newFakeBudget(t, tt.max)
		b.hooks.waitForProgress = func(context.Context) (bool, error) {
			t.Error("a request larger than the limit waited for cleanups")
			return false, nil
		}
		if err := b.Reserve(context.Background(), 4, 0); err != nil {
			t.Fatal(err)
		}
		err := b.Reserve(context.Background(), tt.size, tt.capacity)
		if !errors.Is(err, ErrOutOfDirectMemory) || err.Error() != tt.msg {
			t.Errorf("limit %d: Reserve(%d, %d) = %v; want ErrOutOfDirectMemory %q", tt.max, tt.size, tt.capacity, err, tt.msg)
		}
		waitCollections(b)
		s := b.Stats()
		if s.Waits != 0 || s.ForcedGCs != 0 || s.Sleeps != 0 || f.gcs.Load() != 0 || len(f.sleeps()) != 0 || s.Failures != 1 {
			t.Errorf("limit %d: stats %+v, %d collections; want one failure and no wait, collection or sleep", tt.max, s, f.gcs.Load())
		}
		wantCounters(t, b, 1, 0, 4)
	}
}

// With the real runtime, cleaner and clock, a reservation that cannot fit
// fails after the JVM's back-off of about half a second.
func TestRealBackoffTakesHalfASecond(t *testing.T) {
	b := NewBudget(10)
	t.Cleanup(func() { waitCollections(b) })
	if !b.tryReserveNow(10, 10) {
		t.Fatal("filling the budget failed")
	}
	start := time.Now()
	err := b.Reserve(context.Background(), 1, 1)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrOutOfDirectMemory) {
		t.Fatalf("Reserve = %v; want ErrOutOfDirectMemory", err)
	}
	// A lower bound only: the nine sleeps take at least their 511 ms; how
	// much longer depends on the machine.
	if elapsed < 400*time.Millisecond {
		t.Fatalf("failing took %v; want at least the back-off's 511ms", elapsed)
	}
	if s := b.Stats(); s.Sleeps != 9 || s.Failures != 1 {
		t.Fatalf("stats %+v; want 9 sleeps and 1 failure", s)
	}
}

// The point of the loop: memory held by a buffer that was dropped without
// being freed comes back through its cleanup, and the reservation that
// needed it succeeds.
func TestReserveReclaimsUnreachableBuffers(t *testing.T) {
	const size = 1 << 20
	b := NewBudget(size)
	t.Cleanup(func() { waitCollections(b) })
	dropBuffer(t, b, size)
	if err := b.Reserve(context.Background(), size, size); err != nil {
		t.Fatalf("Reserve = %v", err)
	}
	if s := b.Stats(); s.Failures != 0 || s.Waits != 1 {
		t.Fatalf("stats %+v; want one wait and no failure", s)
	}
	b.Unreserve(size, size)
	wantCounters(t, b, 0, 0, 0)
	if err := cleaner.WaitPending(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// dropBuffer reserves size bytes for an owner that becomes unreachable on
// return, with a cleanup that gives them back.
//
//go:noinline
func dropBuffer(t *testing.T, b *Budget, size int64) {
	if !b.tryReserveNow(size, size) {
		t.Fatal("filling the budget failed")
	}
	owner := new([64]byte)
	cleaner.Register(owner, func() { b.Unreserve(size, size) })
	runtime.KeepAlive(owner)
}

// A context that ends while the reservation waits for cleanups, when none
// are pending (cleaner.WaitForProgress then returns false, nil without
// looking at ctx), must not get a forced collection started on its behalf.
func TestDoneContextStartsNoCollection(t *testing.T) {
	b, f := newFullFakeBudget(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.hooks.waitForProgress = func(context.Context) (bool, error) {
		cancel() // the deadline passes while we look
		return false, nil
	}
	b.hooks.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	err := b.Reserve(ctx, 1, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Reserve = %v; want context.Canceled", err)
	}
	if s := b.Stats(); s.ForcedGCs != 0 || f.gcs.Load() != 0 {
		t.Errorf("a reservation whose context had ended forced %d collection(s)", s.ForcedGCs)
	}
}
