package limits

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// A lease's reservations show in the budget's counters at once, and
// unused credit does not: the counters are the sum over what is held.
func TestLeaseCountersExact(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	if g := l.Grant(); g != minGrant {
		t.Fatalf("grant %d for a 1 MiB budget; want %d", g, minGrant)
	}
	mu.Lock()
	if !l.TryReserve(112, 100) || !l.TryReserve(16, 10) || !l.TryReserve(1, 0) {
		t.Fatal("TryReserve within the grant failed")
	}
	mu.Unlock()
	wantCounters(t, b, 3, 110, 129)
	if total := b.totalCapacity.Load(); total != minGrant {
		t.Fatalf("the budget counts %d bytes of capacity taken; want one grant, %d", total, minGrant)
	}
	// A reservation made on the budget can come back through the lease,
	// and one made through the lease can go back to the budget.
	if err := b.Reserve(context.Background(), 64, 64); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	l.Unreserve(64, 64)
	l.Unreserve(112, 100)
	mu.Unlock()
	wantCounters(t, b, 2, 10, 17)
	b.Unreserve(16, 10)
	wantCounters(t, b, 1, 0, 1)
	mu.Lock()
	l.Unreserve(1, 0)
	mu.Unlock()
	wantCounters(t, b, 0, 0, 0)
	l.Close()
	wantCounters(t, b, 0, 0, 0)
	if total, n := b.totalCapacity.Load(), len(b.leases); total != 0 || n != 0 {
		t.Fatalf("after Close the budget counts %d bytes and %d leases; want 0 and 0", total, n)
	}
}

// Close folds a lease's live reservations into the budget, which can then
// return them.
func TestLeaseCloseKeepsReservations(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	mu.Lock()
	l.TryReserve(128, 100)
	mu.Unlock()
	l.Close()
	wantCounters(t, b, 1, 100, 128)
	mu.Lock()
	if l.TryReserve(16, 16) {
		t.Error("TryReserve on a closed lease succeeded")
	}
	mu.Unlock()
	b.Unreserve(128, 100)
	wantCounters(t, b, 0, 0, 0)
}

// What the lease does not cover it reports, reserving nothing: the caller
// goes to the budget.
func TestLeaseDeclines(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	defer l.Close()
	mu.Lock()
	for _, c := range []struct{ size, capacity int64 }{
		{minGrant + 1, minGrant + 1}, // more than a grant
		{10, 11},                     // size below capacity
		{-1, -1},                     // negative
	} {
		if l.TryReserve(c.size, c.capacity) {
			t.Errorf("TryReserve(%d, %d) = true; want false", c.size, c.capacity)
		}
	}
	mu.Unlock() // the budget takes it to read its counters
	if s := b.Stats(); s.Count != 0 || s.TotalCapacity != 0 {
		t.Fatalf("declined reservations left %+v", s)
	}

	full := NewBudget(minGrant - 1) // no room for a single grant
	var mu2 sync.Mutex
	l2 := full.NewLease(&mu2)
	defer l2.Close()
	mu2.Lock()
	if l2.TryReserve(16, 16) {
		t.Error("TryReserve succeeded with no room for a grant")
	}
	if !l2.TryReserve(1, 0) {
		t.Error("TryReserve of capacity 0 failed; it always fits")
	}
	l2.Unreserve(1, 0)
	mu2.Unlock()

	bad := newInvalidBudget(ErrInvalidLimit)
	var mu3 sync.Mutex
	l3 := bad.NewLease(&mu3)
	defer l3.Close()
	mu3.Lock()
	if l3.TryReserve(1, 0) {
		t.Error("TryReserve on a budget with an error succeeded")
	}
	mu3.Unlock()
}

func TestLeaseUnreservePanics(t *testing.T) {
	_, l, mu := newTestLease(t, 1<<20)
	defer l.Close()
	for _, c := range []struct{ n, size, capacity int64 }{{1, 10, 11}, {1, -1, -1}, {-1, 0, 0}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "Lease.UnreserveN") {
					t.Errorf("UnreserveN(%d, %d, %d) recovered %v; want a panic naming it", c.n, c.size, c.capacity, r)
				}
			}()
			mu.Lock()
			defer mu.Unlock()
			l.UnreserveN(c.n, c.size, c.capacity)
		}()
	}
}

// Credit beyond two grants goes back to the budget.
func TestLeaseReturnsExcessCredit(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	defer l.Close()
	mu.Lock()
	defer mu.Unlock()
	for range 3 * minGrant / 64 {
		if !l.TryReserve(64, 64) {
			t.Fatal("TryReserve failed")
		}
	}
	for range 3 * minGrant / 64 {
		l.Unreserve(64, 64)
	}
	if total := b.totalCapacity.Load(); total > 2*minGrant {
		t.Fatalf("the budget counts %d bytes for a lease holding nothing; want at most two grants (%d)", total, 2*minGrant)
	}
}

// Credit held by idle leases never makes a reservation fail that fits
// under the limit: the slow path takes it back, before any collection.
func TestLeaseCreditIsReclaimed(t *testing.T) {
	const max = 64 * minGrant
	b, f := newFakeBudget(t, max)
	b.SetHighWater(0)
	var mus [8]sync.Mutex
	var leases [8]*Lease
	for i := range leases {
		leases[i] = b.NewLease(&mus[i])
		mus[i].Lock()
		leases[i].TryReserve(16, 16) // each takes a grant
		mus[i].Unlock()
		defer leases[i].Close()
	}
	if err := b.Reserve(context.Background(), max-8*16, max-8*16); err != nil {
		t.Fatalf("reserving all that is left: %v", err)
	}
	if f.gcs.Load() != 0 || len(f.sleeps()) != 0 {
		t.Fatalf("reclaiming credit took %d collections and %d sleeps; want none", f.gcs.Load(), len(f.sleeps()))
	}
	wantCounters(t, b, 9, max, max)
	if err := b.Reserve(context.Background(), 1, 1); err == nil {
		t.Fatal("reserving past the limit succeeded")
	}
}

// Many owners reserving and returning through their leases, with the
// budget's counters read and credit reclaimed meanwhile: under -race,
// and exact at the end.
func TestLeaseConcurrent(t *testing.T) {
	b, _ := newFakeBudget(t, 1<<20)
	const owners, rounds = 8, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = b.Stats()
				b.reclaim()
			}
		}
	}()
	var kept [owners]int64
	for i := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mu sync.Mutex
			l := b.NewLease(&mu)
			defer l.Close()
			for r := range rounds {
				mu.Lock()
				if l.TryReserve(64, 48) {
					if r%3 != 0 {
						l.Unreserve(64, 48)
					} else {
						kept[i]++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	var n int64
	for _, k := range kept {
		n += k
	}
	wantCounters(t, b, n, 48*n, 64*n)
	b.Unreserve(64*n, 48*n) // returning them all at once: sizes are additive
	if s := b.Stats(); s.TotalCapacity != 0 || s.Reserved != 0 {
		t.Fatalf("after returning everything: %+v", s)
	}
}
