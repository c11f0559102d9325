package limits

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The Lease doc promises that "a reservation made on the budget may be
// returned through a lease and the other way round". Returning a lease's
// reservation to the budget when the budget itself holds none takes its
// own count and bytes below zero, though the sums with the leases' parts
// (what Stats shows) do not; that must not panic.
func TestLeaseReservationReturnedToBudget(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	defer l.Close()
	leaseReserve(t, l, mu, 64, 64)
	wantCounters(t, b, 1, 64, 64)
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Budget.Unreserve of a reservation made through a lease panicked: %v", r)
			}
		}()
		b.Unreserve(64, 64)
	}()
	wantCounters(t, b, 0, 0, 0)
}

// The Lease doc promises that "credit held by idle leases never makes a
// reservation fail that fits under the limit", TryReserve's included.
func TestTryReserveTakesIdleLeaseCredit(t *testing.T) {
	const max = 2 * minGrant
	b, l, mu := newTestLease(t, max)
	defer l.Close()
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	leaseReserve(t, l, mu, 1, 1) // takes one grant, 4096 bytes
	s := b.Stats()
	want := max - s.TotalCapacity // room under the limit: 8191
	if !b.TryReserve(want, want) {
		t.Errorf("TryReserve(%d) failed with total capacity %d of %d: the idle lease's credit blocks it",
			want, s.TotalCapacity, max)
	}
}

// probeLocker runs probe when Lease.Close takes it, on Close's goroutine.
type probeLocker struct {
	sync.Mutex
	probe func()
}

func (m *probeLocker) Lock() {
	if p := m.probe; p != nil {
		m.probe = nil
		p()
	}
	m.Mutex.Lock()
}

// Stats is exact whenever no reservation is in progress, so Lease.Close
// must not open a window in which the lease has left the budget's set but
// its counts are not folded in yet: Close takes the lease's lock with
// leaseMu held (which Stats holds while it adds up) and the lease still in
// the set.
func TestLeaseCloseFoldsUnderLeaseMu(t *testing.T) {
	b, _ := newFakeBudget(t, 1<<20)
	m := &probeLocker{}
	l := b.NewLease(m)
	leaseReserve(t, l, m, 100, 100)
	wantCounters(t, b, 1, 100, 100)
	var heldLeaseMu, inSet bool
	m.probe = func() {
		// On Close's goroutine: if Close holds leaseMu, reading the set is
		// safe, and TryLock fails.
		if b.leaseMu.TryLock() {
			b.leaseMu.Unlock()
			return
		}
		heldLeaseMu = true
		_, inSet = b.leases[l]
	}
	l.Close()
	if !heldLeaseMu || !inSet {
		t.Errorf("Close took the lease's lock with leaseMu held %v, the lease in the budget's set %v; want both", heldLeaseMu, inSet)
	}
	wantCounters(t, b, 1, 100, 100)
	b.Unreserve(100, 100)
	wantCounters(t, b, 0, 0, 0)
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

// leaseReserve reserves through l under its owner's lock mu, failing the
// test if the lease declines.
func leaseReserve(t *testing.T, l *Lease, mu sync.Locker, size, capacity int64) {
	t.Helper()
	mu.Lock()
	ok := l.TryReserve(size, capacity)
	mu.Unlock()
	if !ok {
		t.Fatalf("Lease.TryReserve(%d, %d) failed", size, capacity)
	}
}

// newTestLease returns a fake budget of max bytes and a lease on it whose
// owner's lock is mu.
func newTestLease(t *testing.T, max int64) (*Budget, *Lease, *sync.Mutex) {
	t.Helper()
	b, _ := newFakeBudget(t, max)
	mu := new(sync.Mutex)
	return b, b.NewLease(mu), mu
}
