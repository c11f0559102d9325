package cleaner_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

// owner is a typical owner: it holds a pointer and is bigger than the tiny
// allocator's 16 bytes, so the runtime collects each one on its own.
type owner struct {
	name string
	data [4]int64
}

// patience bounds every wait of these tests. It is only a guard against a
// hung test, never a measure of speed: nothing waits for it to pass.
const patience = 30 * time.Second

// waitCtx is a context that ends after patience or with the test.
func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// registerDropped registers release for an owner that is unreachable as soon
// as this function returns (it is not inlined, so no caller frame keeps it).
//
//go:noinline
func registerDropped(release func()) *cleaner.Cleanable {
	return cleaner.Register(&owner{name: "dropped"}, release)
}

// collect runs garbage collections and waits for the cleanups they queue
// until done reports true, failing the test after a few rounds. One round is
// normally enough; the loop only absorbs a collection that found an owner
// still referenced from a stale stack slot.
func collect(t testing.TB, done func() bool) {
	t.Helper()
	ctx := waitCtx(t)
	for range 10 {
		if done() {
			return
		}
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			t.Fatalf("WaitPending: %v", err)
		}
	}
	if !done() {
		t.Fatal("condition still false after 10 rounds of runtime.GC + WaitPending")
	}
}

// settle waits for every cleanup queued so far, so that a test starts with
// nothing pending and counter deltas are its own.
func settle(t testing.TB) {
	t.Helper()
	runtime.GC()
	if err := cleaner.WaitPending(waitCtx(t)); err != nil {
		t.Fatalf("WaitPending: %v", err)
	}
}

// blocked is a GC-triggered release function that is running and blocked:
// it holds the runtime's cleanup goroutine until unblock is called.
type blocked struct {
	c       *cleaner.Cleanable
	started chan struct{}
	done    chan struct{}
	gate    chan struct{}
	once    sync.Once
}

// blockCleanupGoroutine drops an owner whose release blocks, collects it, and
// returns once its release is running. The test's cleanup unblocks it (if the
// test has not) and waits for it to finish, so later tests start clean.
func blockCleanupGoroutine(t testing.TB) *blocked {
	t.Helper()
	b := &blocked{
		started: make(chan struct{}),
		done:    make(chan struct{}),
		gate:    make(chan struct{}),
	}
	b.c = registerDropped(func() {
		close(b.started)
		<-b.gate
		close(b.done)
	})
	t.Cleanup(func() {
		b.unblock()
		select {
		case <-b.started:
			<-b.done
		default: // never collected: there is nothing to wait for
		}
		if err := cleaner.WaitPending(waitCtx(t)); err != nil {
			t.Errorf("WaitPending after unblocking: %v", err)
		}
	})
	ctx := waitCtx(t)
	for range 10 {
		runtime.GC()
		// runtime.GC has queued the cleanup if it found the owner
		// unreachable. Wait until the release has started, or until
		// nothing is pending (the owner was not collected this time).
		waitStartedOrIdle(ctx, b.started)
		select {
		case <-b.started:
			return b
		default:
		}
	}
	t.Fatal("the blocking release never started")
	return nil
}

// waitStartedOrIdle waits for started, or for WaitPending to report that
// nothing is pending, which means the collection did not queue the cleanup.
func waitStartedOrIdle(ctx context.Context, started <-chan struct{}) {
	idle := make(chan struct{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(idle)
		_ = cleaner.WaitPending(ctx)
	}()
	select {
	case <-started:
	case <-idle:
	}
	cancel()
	<-idle
}

// unblock lets the blocked release return. It is idempotent.
func (b *blocked) unblock() { b.once.Do(func() { close(b.gate) }) }

// singleCleanupGoroutine reports whether the runtime runs all cleanups on one
// goroutine (it starts max(GOMAXPROCS/4, 1) of them), so that a blocked
// release holds back every other cleanup.
func singleCleanupGoroutine() bool { return runtime.GOMAXPROCS(0) < 8 }

// mustPanic calls f and returns what it panicked with, failing if it did not.
func mustPanic(t *testing.T, f func()) (v any) {
	t.Helper()
	defer func() { v = recover() }()
	f()
	t.Fatal("did not panic")
	return nil
}

// delta is the change in the counters between two snapshots.
func delta(before, after cleaner.Counters) cleaner.Counters {
	return cleaner.Counters{
		Registered:        after.Registered - before.Registered,
		CleanedExplicitly: after.CleanedExplicitly - before.CleanedExplicitly,
		CleanedByGC:       after.CleanedByGC - before.CleanedByGC,
		Panics:            after.Panics - before.Panics,
		Running:           after.Running - before.Running,
	}
}
