package limits

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/offheap-go/offheap/internal/lease"
)

// The budget side of leases, with real budgets; the lease itself is tested
// in internal/lease.

func TestLeaseGrant(t *testing.T) {
	for _, tt := range []struct{ max, want int64 }{
		{0, minGrant}, {1 << 20, minGrant}, {1 << 30, 1 << 20}, {math.MaxInt64, maxGrant}, {8 << 20, 8 << 10},
	} {
		if got := leaseGrant(tt.max); got != tt.want {
			t.Errorf("leaseGrant(%d) = %d; want %d", tt.max, got, tt.want)
		}
	}
	// The budget counts one grant once a lease has reserved.
	b, l, mu := newTestLease(t, 1<<20)
	defer l.Close()
	leaseReserve(t, l, mu, 16, 16)
	if total := b.totalCapacity.Load(); total != minGrant {
		t.Fatalf("the budget counts %d bytes of capacity; want one grant, %d", total, minGrant)
	}
}

// Open rejects what is not a budget and a lock; before it did, a lease
// with a nil lock made the next Stats panic holding the budget's lease
// lock, and every later Stats or reservation block for ever.
func TestOpenRejects(t *testing.T) {
	b, _ := newFakeBudget(t, 1<<20)
	var mu sync.Mutex
	for _, tt := range []struct {
		name   string
		budget any
		mu     sync.Locker
		msg    string
	}{
		{"nil lock", b, nil, "want a budget and a lock"},
		{"nil budget", nil, &mu, "want a budget and a lock"},
		{"nil *Budget", (*Budget)(nil), &mu, "*limits.Budget(<nil>)"},
		{"not a budget", "64m", &mu, "not string(64m)"},
	} {
		l, err := lease.Open(tt.budget, tt.mu)
		if l != nil || !errors.Is(err, lease.ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Open = %v, %v; want nil and lease.ErrInvalid naming %q", tt.name, l, err, tt.msg)
		}
	}
	wantCounters(t, b, 0, 0, 0) // Stats still works
	l, err := lease.Open(b, &mu)
	if err != nil {
		t.Fatal(err)
	}
	leaseReserve(t, l, &mu, 16, 16)
	wantCounters(t, b, 1, 16, 16)
	mu.Lock()
	l.Unreserve(16, 16)
	mu.Unlock()
	l.Close()
	wantCounters(t, b, 0, 0, 0)
}

// A lease's reservations show in the budget's counters at once, and unused
// credit does not.
func TestLeaseCountersExact(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	leaseReserve(t, l, mu, 112, 100)
	leaseReserve(t, l, mu, 16, 10)
	leaseReserve(t, l, mu, 1, 0)
	wantCounters(t, b, 3, 110, 129)
	if total := b.totalCapacity.Load(); total != minGrant {
		t.Fatalf("the budget counts %d bytes of capacity taken; want one grant, %d", total, minGrant)
	}
	mu.Lock()
	l.Unreserve(112, 100)
	l.UnreserveN(2, 17, 10)
	mu.Unlock()
	wantCounters(t, b, 0, 0, 0)
	l.Close()
	if total := b.totalCapacity.Load(); total != 0 {
		t.Fatalf("after Close the budget counts %d bytes; want 0", total)
	}
}

// A reservation goes back the way it came: a lease refuses one made on
// the budget, and the budget one made through a lease, when they do not
// hold that much (they cannot tell otherwise), and nothing changes.
func TestReservationGoesBackWhereMade(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	defer l.Close()
	leaseReserve(t, l, mu, 16, 10)
	wantPanic(t, "limits: Unreserve(16, 10) returns more than the budget holds (count 0, reserved 0, capacity 0)", func() {
		b.Unreserve(16, 10)
	})
	wantCounters(t, b, 1, 10, 16)
	if err := b.Reserve(context.Background(), 64, 64); err != nil {
		t.Fatal(err)
	}
	wantPanic(t, "lease: UnreserveN(1, 64, 64) on a lease holding count 1, reserved 16, capacity 10", func() {
		mu.Lock()
		defer mu.Unlock()
		l.Unreserve(64, 64)
	})
	wantCounters(t, b, 2, 74, 80)
	b.Unreserve(64, 64)
	mu.Lock()
	l.Unreserve(16, 10)
	mu.Unlock()
	wantCounters(t, b, 0, 0, 0)
}

// The bug strict accounting fixes: a lease that returned more than it
// held drove the budget's counters negative, after which a 1 MiB budget
// accepted 1024 reservations of 1 MiB.
func TestOverUnreserveCannotRaiseTheLimit(t *testing.T) {
	const mib = 1 << 20
	b, l, mu := newTestLease(t, mib)
	defer l.Close()
	leaseReserve(t, l, mu, 16, 16)
	wantPanic(t, "lease: UnreserveN(1024, 1073741824, 1073741824)", func() {
		mu.Lock()
		defer mu.Unlock()
		l.UnreserveN(1024, 1024*mib, 1024*mib)
	})
	wantPanic(t, "limits: Unreserve(1048576, 1048576) returns more than the budget holds", func() {
		b.Unreserve(mib, mib)
	})
	mu.Lock()
	l.Unreserve(16, 16)
	mu.Unlock()
	var ok int
	for range 1024 {
		if b.Reserve(context.Background(), mib, mib) == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d reservations of 1 MiB succeeded on a 1 MiB budget; want 1", ok)
	}
}

// Absurd sizes never reach a counter through a lease: the lease declines
// them, and the budget, where the caller goes next, names them.
func TestLeaseDeclinesAbsurdSizes(t *testing.T) {
	b, l, mu := newTestLease(t, 100)
	defer l.Close()
	mu.Lock()
	for range 2 {
		if l.TryReserve(math.MaxInt64, 1) {
			t.Error("Lease.TryReserve(MaxInt64, 1) = true; want false")
		}
	}
	mu.Unlock()
	wantCounters(t, b, 0, 0, 0)
	err := b.Reserve(context.Background(), math.MaxInt64, 1)
	if !errors.Is(err, ErrInvalidSize) || !strings.Contains(err.Error(), "size 9223372036854775807, capacity 1") {
		t.Fatalf("Reserve(MaxInt64, 1) = %v; want ErrInvalidSize naming the sizes", err)
	}
}

// Close hands a lease's live reservations to the budget, which can then
// return them.
func TestLeaseCloseKeepsReservations(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	leaseReserve(t, l, mu, 128, 100)
	l.Close()
	wantCounters(t, b, 1, 100, 128)
	if total := b.totalCapacity.Load(); total != 100 {
		t.Fatalf("after Close the budget counts %d bytes of capacity; want the 100 reserved", total)
	}
	mu.Lock()
	if l.TryReserve(16, 16) {
		t.Error("TryReserve on a closed lease succeeded")
	}
	mu.Unlock()
	b.Unreserve(128, 100)
	wantCounters(t, b, 0, 0, 0)
}

// What a lease cannot cover it declines, reserving nothing: the caller
// goes to the budget.
func TestLeaseDeclines(t *testing.T) {
	b, l, mu := newTestLease(t, 1<<20)
	defer l.Close()
	mu.Lock()
	for _, c := range []struct{ size, capacity int64 }{
		{minGrant + 1, minGrant + 1}, // more than a grant
		{10, 11},                     // size below capacity
		{-1, -1},                     // negative
		{1<<30 + 2, 1},               // more rounding than any page or alignment
	} {
		if l.TryReserve(c.size, c.capacity) {
			t.Errorf("TryReserve(%d, %d) = true; want false", c.size, c.capacity)
		}
	}
	mu.Unlock() // the budget takes it to read its counters
	if s := b.Stats(); s.Count != 0 || s.TotalCapacity != 0 || b.totalCapacity.Load() != 0 {
		t.Fatalf("declined reservations left %+v", s)
	}

	full, _ := newFakeBudget(t, minGrant-1) // no room for a single grant
	var mu2 sync.Mutex
	l2 := openLease(t, full, &mu2)
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
	l3 := openLease(t, bad, &mu3)
	defer l3.Close()
	mu3.Lock()
	if l3.TryReserve(1, 0) {
		t.Error("TryReserve on a budget with an error succeeded")
	}
	mu3.Unlock()
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
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	var mus [8]sync.Mutex
	var leases [8]*lease.Lease
	for i := range leases {
		leases[i] = openLease(t, b, &mus[i])
		leaseReserve(t, leases[i], &mus[i], 16, 16) // each takes a grant
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

// Idle credit does not make a reservation without waiting fail either.
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
	if !b.tryReserveNow(want, want) {
		t.Errorf("tryReserveNow(%d) failed with total capacity %d of %d: the idle lease's credit blocks it",
			want, s.TotalCapacity, max)
	}
}

// Many owners reserving and returning through their leases, with the
// budget's counters read and credit reclaimed meanwhile: under -race, and
// exact at the end.
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
				b.leases.Reclaim()
			}
		}
	}()
	var kept [owners]int64
	leases := make([]*lease.Lease, owners)
	mus := make([]sync.Mutex, owners)
	for i := range owners {
		leases[i] = openLease(t, b, &mus[i])
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, mu := leases[i], &mus[i]
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
	for i, l := range leases {
		mus[i].Lock()
		l.UnreserveN(kept[i], 64*kept[i], 48*kept[i])
		mus[i].Unlock()
		l.Close()
	}
	wantCounters(t, b, 0, 0, 0)
	if total := b.totalCapacity.Load(); total != 0 {
		t.Fatalf("the budget counts %d bytes after every lease closed; want 0", total)
	}
}

// openLease opens a lease on b guarded by mu, failing the test on error.
func openLease(t *testing.T, b *Budget, mu sync.Locker) *lease.Lease {
	t.Helper()
	l, err := lease.Open(b, mu)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// leaseReserve reserves through l under its owner's lock mu, failing the
// test if the lease declines.
func leaseReserve(t *testing.T, l *lease.Lease, mu sync.Locker, size, capacity int64) {
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
func newTestLease(t *testing.T, max int64) (*Budget, *lease.Lease, *sync.Mutex) {
	t.Helper()
	b, _ := newFakeBudget(t, max)
	mu := new(sync.Mutex)
	return b, openLease(t, b, mu), mu
}

// wantPanic runs f and fails t unless it panics with a message containing msg.
func wantPanic(t *testing.T, msg string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, msg) {
			t.Errorf("recovered %v; want a panic saying %q", r, msg)
		}
	}()
	f()
}
