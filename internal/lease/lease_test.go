package lease

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/internal/pacing"
)

// fakeBudget is a budget of max bytes of capacity that records what its
// leases fold into it.
type fakeBudget struct {
	max, taken                int64
	count, reserved, capacity int64
	set                       Set
	sleepers                  atomic.Int32
	takes, givebacks, folds   int
	pacer                     *pacing.Pacer
	collections               int // collections the pacer asked for
}

func (b *fakeBudget) Take(n int64) bool {
	b.takes++
	if n > b.max-b.taken {
		return false
	}
	b.taken += n
	return true
}

func (b *fakeBudget) GiveBack(n int64) { b.givebacks++; b.taken -= n }

func (b *fakeBudget) Fold(count, reserved, capacity, credit int64) {
	b.folds++
	b.count += count
	b.reserved += reserved
	b.capacity += capacity
	b.taken -= credit
}

func newFake(max, grant int64) *fakeBudget {
	b := &fakeBudget{max: max}
	b.pacer = pacing.New(b.set.SumManaged, func() bool { b.collections++; return true }, func(context.Context) {})
	b.set.Init(b, &b.sleepers, grant, b.pacer)
	return b
}

// holding is what a lease holds, for comparisons.
type holding struct{ credit, count, reserved, capacity int64 }

func held(l *Lease) holding { return holding{l.credit, l.count, l.reserved, l.capacity} }

func TestSizesOK(t *testing.T) {
	for _, tt := range []struct {
		size, capacity int64
		ok             bool
	}{
		{0, 0, true}, {1, 0, true}, {16, 1, true}, {MaxRounding, 0, true}, {MaxRounding + 5, 5, true},
		{math.MaxInt64, math.MaxInt64, true},
		{MaxRounding + 1, 0, false}, {math.MaxInt64, 1, false}, {4, 5, false}, {-1, -1, false},
		{0, -1, false}, {math.MinInt64, 0, false}, {math.MaxInt64, math.MinInt64, false},
	} {
		if got := SizesOK(tt.size, tt.capacity); got != tt.ok {
			t.Errorf("SizesOK(%d, %d) = %t; want %t", tt.size, tt.capacity, got, tt.ok)
		}
	}
}

func TestOpenRejectsNil(t *testing.T) {
	var mu sync.Mutex
	for _, tt := range []struct {
		budget any
		mu     sync.Locker
	}{{nil, &mu}, {newFake(100, 10), nil}, {nil, nil}} {
		if l, err := Open(tt.budget, tt.mu); l != nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%v, %v) = %v, %v; want nil, ErrInvalid", tt.budget, tt.mu, l, err)
		}
	}
}

func TestTryReserve(t *testing.T) {
	b := newFake(100, 10)
	var mu sync.Mutex
	l := open(&b.set, &mu)
	defer l.Close()
	if !l.TryReserve(16, 4) || !l.TryReserve(8, 6) {
		t.Fatal("TryReserve within one grant failed")
	}
	if got, want := held(l), (holding{0, 2, 24, 10}); got != want || b.takes != 1 || b.taken != 10 {
		t.Fatalf("lease holds %+v after %d takes of %d; want %+v after one take of 10", got, b.takes, b.taken, want)
	}
	if !l.TryReserve(1, 0) {
		t.Fatal("capacity 0 does not fit with no credit")
	}
	for _, tt := range []struct{ size, capacity int64 }{
		{11, 11},             // more than a grant
		{3, 4},               // size below capacity
		{-1, -1},             // negative
		{MaxRounding + 2, 1}, // absurd rounding
		{math.MaxInt64, 1},
	} {
		if l.TryReserve(tt.size, tt.capacity) {
			t.Errorf("TryReserve(%d, %d) = true; want false", tt.size, tt.capacity)
		}
	}
	if got, want := held(l), (holding{0, 3, 25, 10}); got != want {
		t.Fatalf("declined reservations changed the lease: %+v; want %+v", got, want)
	}
	// No room for another grant.
	small := newFake(15, 10)
	l2 := open(&small.set, &mu)
	defer l2.Close()
	if !l2.TryReserve(10, 10) || l2.TryReserve(1, 1) {
		t.Fatal("want one grant of 10 and no second under a limit of 15")
	}
	// Grant 0: a budget with an error.
	bad := newFake(100, 0)
	l3 := open(&bad.set, &mu)
	defer l3.Close()
	if l3.TryReserve(1, 0) || bad.takes != 0 {
		t.Fatal("a lease with grant 0 reserved or asked for a grant")
	}
}

// The lease's reserved bytes cannot overflow: it declines instead.
func TestTryReserveOverflow(t *testing.T) {
	b := newFake(math.MaxInt64, MaxRounding)
	var mu sync.Mutex
	l := open(&b.set, &mu)
	defer l.Close()
	l.reserved = math.MaxInt64 - MaxRounding // as if many reservations were held
	l.count, l.capacity = 1<<34, 0
	if !l.TryReserve(MaxRounding, 0) {
		t.Fatal("TryReserve up to MaxInt64 bytes failed")
	}
	if l.TryReserve(1, 0) {
		t.Fatalf("TryReserve past MaxInt64 bytes succeeded: reserved %d", l.reserved)
	}
	l.count, l.reserved, l.capacity = 0, 0, 0
}

// Every refusal panics naming the values and changes nothing.
func TestUnreserveNRefuses(t *testing.T) {
	b := newFake(1<<20, 4096)
	var mu sync.Mutex
	l := open(&b.set, &mu)
	defer l.Close()
	for range 3 {
		l.TryReserve(100, 64)
	}
	before := held(l) // count 3, reserved 300, capacity 192
	for _, tt := range []struct {
		name           string
		n, size, capac int64
	}{
		{"count below zero", 4, 300, 192},
		{"bytes below zero", 1, 301, 64},
		{"capacity below zero", 1, 200, 193},
		{"negative count", -1, 0, 0},
		{"negative capacity", 1, 0, -1},
		{"size below capacity", 1, 63, 64},
		{"bytes without a reservation", 0, 1, 0},
		{"all reservations, not all bytes", 3, 299, 192},
		{"all reservations, not all capacity", 3, 300, 191},
	} {
		func() {
			defer func() {
				r := recover()
				want := "lease: UnreserveN(" + strconv.FormatInt(tt.n, 10) + ", " + strconv.FormatInt(tt.size, 10) + ", " + strconv.FormatInt(tt.capac, 10) +
					") on a lease holding count 3, reserved 300, capacity 192"
				if s, _ := r.(string); !strings.Contains(s, want) {
					t.Errorf("%s: recovered %v; want a panic saying %q", tt.name, r, want)
				}
			}()
			l.UnreserveN(tt.n, tt.size, tt.capac)
		}()
		if got := held(l); got != before {
			t.Fatalf("%s: the refusal changed the lease to %+v; want %+v", tt.name, got, before)
		}
	}
	l.UnreserveN(3, 300, 192)
	if got := held(l); got.count != 0 || got.reserved != 0 || got.capacity != 0 {
		t.Fatalf("after returning everything the lease holds %+v", got)
	}
}

// Credit above two grants goes back, and all of it while someone waits.
func TestUnreserveReturnsCredit(t *testing.T) {
	b := newFake(1<<20, 10)
	var mu sync.Mutex
	l := open(&b.set, &mu)
	defer l.Close()
	for range 3 {
		l.TryReserve(10, 10)
	}
	l.UnreserveN(3, 30, 30)
	if l.credit != 10 || b.taken != 10 {
		t.Fatalf("after returning three grants' worth the lease keeps %d and the budget counts %d; want one grant, 10", l.credit, b.taken)
	}
	b.sleepers.Store(1)
	l.TryReserve(4, 4)
	l.Unreserve(4, 4)
	if l.credit != 0 || b.taken != 0 {
		t.Fatalf("with a reservation waiting the lease keeps %d credit; want 0", l.credit)
	}
}

// Reclaim takes every lease's credit back; the sum adds what they hold.
func TestSetReclaimAndSum(t *testing.T) {
	b := newFake(1<<20, 10)
	var mu1, mu2 sync.Mutex
	l1, l2 := open(&b.set, &mu1), open(&b.set, &mu2)
	defer l1.Close()
	defer l2.Close()
	l1.TryReserve(8, 4)
	l2.TryReserve(16, 3)
	b.set.Lock()
	count, reserved, capacity := b.set.SumLocked()
	n := b.set.Len()
	b.set.Unlock()
	if count != 2 || reserved != 24 || capacity != 7 || n != 2 {
		t.Fatalf("sum %d, %d, %d over %d leases; want 2, 24, 7 over 2", count, reserved, capacity, n)
	}
	if !b.set.Reclaim() || l1.credit != 0 || l2.credit != 0 || b.taken != 7 {
		t.Fatalf("after Reclaim: credits %d, %d, budget counts %d; want 0, 0, 7", l1.credit, l2.credit, b.taken)
	}
	if b.set.Reclaim() {
		t.Fatal("a second Reclaim found credit")
	}
}

// probeLocker runs probe when Close takes it, on Close's goroutine.
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

// Close takes the lease's lock with the set locked (which a sum holds)
// and the lease still in the set: a sum never sees the lease gone and its
// counts not folded in yet. It folds once; a closed lease declines and
// refuses.
func TestClose(t *testing.T) {
	b := newFake(1<<20, 10)
	m := &probeLocker{}
	l := open(&b.set, m)
	if !l.TryReserve(12, 8) {
		t.Fatal("TryReserve failed")
	}
	var setLocked, inSet bool
	m.probe = func() {
		if b.set.mu.TryLock() {
			b.set.mu.Unlock()
			return
		}
		setLocked = true
		_, inSet = b.set.leases[l]
	}
	l.Close()
	if !setLocked || !inSet {
		t.Errorf("Close took the lease's lock with the set locked %t, the lease in the set %t; want both", setLocked, inSet)
	}
	if b.folds != 1 || b.count != 1 || b.reserved != 12 || b.capacity != 8 || b.taken != 8 || b.set.Len() != 0 {
		t.Fatalf("after Close the budget has %+v; want one fold of 1, 12, 8 and its credit back", b)
	}
	l.Close()
	if b.folds != 1 {
		t.Fatal("a second Close folded again")
	}
	if l.TryReserve(1, 1) {
		t.Error("TryReserve on a closed lease succeeded")
	}
	defer func() {
		if s, _ := recover().(string); !strings.Contains(s, "closed true") {
			t.Errorf("Unreserve on a closed lease recovered %q; want a refusal naming it", s)
		}
	}()
	l.Unreserve(0, 0)
}

// TestManagedCounts follows the pacing counts of a lease: managed bytes
// live, and net bytes handed to the pacer once per batch.
func TestManagedCounts(t *testing.T) {
	b := newFake(1<<30, 1<<20)
	b.pacer.Set(100)
	var mu sync.Mutex
	l := open(&b.set, &mu)
	defer l.Close()
	mu.Lock()
	defer mu.Unlock()
	const half = pacing.Batch / 2
	e, wait := l.Managed(half)
	if wait || l.managed != half || b.pacer.Allocated() != 0 {
		t.Fatalf("half a batch: wait %t, managed %d, pacer allocated %d; want false, %d, 0", wait, l.managed, b.pacer.Allocated(), half)
	}
	if e != b.pacer.Epoch() {
		t.Fatalf("Managed returned epoch %d, the pacer is in %d", e, b.pacer.Epoch())
	}
	l.Managed(half)
	if l.pending != 0 || b.pacer.Allocated() != pacing.Batch {
		t.Fatalf("a batch: pending %d, pacer allocated %d; want 0, %d", l.pending, b.pacer.Allocated(), pacing.Batch)
	}
	// Freed by hand in their epoch: off the pacer's count, a batch at a time.
	l.Unmanaged(half, e, false)
	if l.managed != half || l.pending != -half || b.pacer.Allocated() != pacing.Batch {
		t.Fatalf("one freed: managed %d, pending %d, pacer allocated %d", l.managed, l.pending, b.pacer.Allocated())
	}
	l.Unmanaged(half, e, false)
	if l.managed != 0 || l.pending != 0 || b.pacer.Allocated() != 0 {
		t.Fatalf("both freed: managed %d, pending %d, pacer allocated %d; want 0, 0, 0", l.managed, l.pending, b.pacer.Allocated())
	}
	// Released by the collector: still dropped bytes the pacer counted.
	l.Managed(pacing.Batch)
	l.Unmanaged(pacing.Batch, e, true)
	if l.managed != 0 || l.pending != 0 || b.pacer.Allocated() != pacing.Batch {
		t.Fatalf("collected: managed %d, pending %d, pacer allocated %d; want 0, 0, %d", l.managed, l.pending, b.pacer.Allocated(), pacing.Batch)
	}
	// From an earlier epoch: counted live when this one began, gone now.
	l.Managed(pacing.Batch)
	l.Unmanaged(pacing.Batch, e-1, false)
	if l.managed != 0 || b.pacer.Allocated() != 2*pacing.Batch {
		t.Fatalf("earlier epoch: managed %d, pacer allocated %d; want 0, %d", l.managed, b.pacer.Allocated(), 2*pacing.Batch)
	}
	if b.collections != 0 {
		t.Fatalf("%d collections below the goal", b.collections)
	}
}

func TestSumManaged(t *testing.T) {
	b := newFake(1<<30, 1<<20)
	var mu1, mu2 sync.Mutex
	l1, l2 := open(&b.set, &mu1), open(&b.set, &mu2)
	under := func(mu *sync.Mutex, f func()) { mu.Lock(); f(); mu.Unlock() }
	under(&mu1, func() { l1.Managed(100) })
	under(&mu2, func() { l2.Managed(20) })
	if n := b.set.SumManaged(); n != 120 {
		t.Fatalf("SumManaged = %d, want 120", n)
	}
	under(&mu1, func() { l1.Unmanaged(100, 0, true) })
	l1.Close()
	if n := b.set.SumManaged(); n != 20 {
		t.Fatalf("SumManaged = %d after one lease's buffer went and it closed, want 20", n)
	}
	under(&mu2, func() { l2.Unmanaged(20, 0, true) })
	l2.Close()
}
