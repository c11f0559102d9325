package limits

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fake stands in for the runtime, the clock and the cleaner: collections
// are counted and instant, cleanups never make progress, sleeps are recorded
// and take no time.
type fake struct {
	gcs   atomic.Int64
	mu    sync.Mutex
	slept []time.Duration
}

func (f *fake) sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}

// newFakeBudget returns a budget of max bytes wired to a fake; the test
// waits for any collection the budget started before it ends.
func newFakeBudget(t testing.TB, max int64) (*Budget, *fake) {
	t.Helper()
	b, f := NewBudget(max), &fake{}
	b.hooks = hooks{
		gc: func() { f.gcs.Add(1) },
		sleep: func(_ context.Context, d time.Duration) error {
			f.mu.Lock()
			f.slept = append(f.slept, d)
			f.mu.Unlock()
			return nil
		},
		waitForProgress: func(context.Context) (bool, error) { return false, nil },
	}
	t.Cleanup(func() { waitCollections(b) })
	return b, f
}

// newFullFakeBudget is newFakeBudget with the budget filled to max and the
// background collection that filling starts over and not counted: the
// start of every test of the slow path.
func newFullFakeBudget(t testing.TB, max int64) (*Budget, *fake) {
	t.Helper()
	b, f := newFakeBudget(t, max)
	if !b.tryReserveNow(max, max) {
		t.Fatal("filling the budget failed")
	}
	waitCollections(b) // else a forced collection would join the background one
	f.gcs.Store(0)
	return b, f
}

// tally receives n results of Reserve and counts the successes and the
// ErrOutOfDirectMemory failures; any other error fails t.
func tally(t testing.TB, errs <-chan error, n int) (ok, oom int) {
	t.Helper()
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrOutOfDirectMemory):
			oom++
		default:
			t.Fatalf("Reserve = %v", err)
		}
	}
	return ok, oom
}

// waitCollections returns once no collection started by b is running.
func waitCollections(b *Budget) {
	for {
		b.gcMu.Lock()
		done := b.gcDone
		b.gcMu.Unlock()
		if done == nil {
			return
		}
		<-done
	}
}

// wantCounters fails t unless b's reservation counters are as given.
func wantCounters(t *testing.T, b *Budget, count, totalCapacity, reserved int64) {
	t.Helper()
	s := b.Stats()
	if s.Count != count || s.TotalCapacity != totalCapacity || s.Reserved != reserved {
		t.Fatalf("count, total capacity, reserved = %d, %d, %d; want %d, %d, %d",
			s.Count, s.TotalCapacity, s.Reserved, count, totalCapacity, reserved)
	}
}
