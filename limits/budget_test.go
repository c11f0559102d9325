package limits

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestNewBudgetNegativePanics(t *testing.T) {
	for _, max := range []int64{-1, math.MinInt64} {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("NewBudget(%d) did not panic", max)
				}
				if msg, _ := r.(string); !strings.Contains(msg, "negative limit") {
					t.Fatalf("NewBudget(%d) panicked with %v; want it to name the negative limit", max, r)
				}
			}()
			NewBudget(max)
		}()
	}
}

// TestLimitDirectMemory is the JDK's test/jdk/java/nio/Buffer/LimitDirectMemory
// at the level of the budget: with -XX:MaxDirectMemorySize=limit, allocate
// buffers of step bytes while fill bytes remain, then one more, which must
// fail exactly when throws is set.
func TestLimitDirectMemory(t *testing.T) {
	for _, tt := range []struct {
		limit, fill, step string
		throws            bool
		msg               string
	}{
		{"10", "10", "1", true, "cannot reserve 1 bytes of direct buffer memory (allocated: 10, limit: 10)"},
		{"1k", "1k", "100", true, "cannot reserve 100 bytes of direct buffer memory (allocated: 1000, limit: 1024)"},
		{"10m", "10m", "10m", true, "cannot reserve 10485760 bytes of direct buffer memory (allocated: 10485760, limit: 10485760)"},
		{"65M", "64M", "65M", false, ""},
		{"0", "0", "1", true, "cannot reserve 1 bytes of direct buffer memory (allocated: 0, limit: 0)"},
	} {
		t.Run(tt.limit+"/"+tt.fill+"/"+tt.step, func(t *testing.T) {
			limit, fill, step := mustParse(t, tt.limit), mustParse(t, tt.fill), mustParse(t, tt.step)
			b, _ := newFakeBudget(t, limit)
			ctx := context.Background()
			var n int64
			for ; fill >= step; fill -= step {
				if err := b.Reserve(ctx, step, step); err != nil {
					t.Fatalf("reservation %d of %d bytes: %v", n+1, step, err)
				}
				n++
			}
			before := b.Stats()
			err := b.Reserve(ctx, step, step)
			if !tt.throws {
				if err != nil {
					t.Fatalf("last reservation: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrOutOfDirectMemory) {
				t.Fatalf("last reservation: %v; want ErrOutOfDirectMemory", err)
			}
			if err.Error() != tt.msg {
				t.Fatalf("error %q; want %q", err, tt.msg)
			}
			var oom *OutOfMemoryError
			if !errors.As(err, &oom) || *oom != (OutOfMemoryError{Requested: step, Allocated: n * step, Limit: limit}) {
				t.Fatalf("error %#v; want an *OutOfMemoryError with Requested %d, Allocated %d, Limit %d", err, step, n*step, limit)
			}
			wantCounters(t, b, before.Count, before.TotalCapacity, before.Reserved)
			// A step larger than the whole limit fails without waiting.
			waits := int64(1)
			if step > limit {
				waits = 0
			}
			if s := b.Stats(); s.Failures != 1 || s.Waits != waits {
				t.Fatalf("failures, waits = %d, %d; want 1, %d", s.Failures, s.Waits, waits)
			}
		})
	}
}

func mustParse(t *testing.T, s string) int64 {
	t.Helper()
	n, err := ParseSize(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The limit applies to capacity; the error reports what is reserved, which
// includes rounding, as the JVM's RESERVED_MEMORY does.
func TestLimitAppliesToCapacity(t *testing.T) {
	b, _ := newFakeBudget(t, 100)
	if !b.tryReserveNow(4096, 100) {
		t.Fatal("TryReserve(4096, 100) failed under a limit of 100")
	}
	wantCounters(t, b, 1, 100, 4096)
	err := b.Reserve(context.Background(), 1, 1)
	if want := "cannot reserve 1 bytes of direct buffer memory (allocated: 4096, limit: 100)"; err == nil || err.Error() != want {
		t.Fatalf("Reserve(1, 1) = %v; want %q", err, want)
	}
	b.Unreserve(4096, 100)
	wantCounters(t, b, 0, 0, 0)
}

func TestLimitIsInclusive(t *testing.T) {
	for _, max := range []int64{1, 10, math.MaxInt64} {
		b, _ := newFakeBudget(t, max)
		if !b.tryReserveNow(max, max) {
			t.Fatalf("TryReserve(%d, %d) failed under a limit of %d", max, max, max)
		}
		if b.tryReserveNow(1, 1) {
			t.Fatalf("TryReserve(1, 1) succeeded with %d of %d taken", max, max)
		}
		b.Unreserve(max, max)
		if !b.tryReserveNow(max, max) {
			t.Fatal("the limit was not available again after Unreserve")
		}
		b.Unreserve(max, max)
	}
}

func TestCapacityZeroAlwaysFits(t *testing.T) {
	for _, max := range []int64{0, 1, 10, 1 << 20} {
		b, _ := newFakeBudget(t, max)
		if max > 0 && !b.tryReserveNow(max, max) {
			t.Fatalf("limit %d: filling the budget failed", max)
		}
		// The JVM reserves one byte for an empty buffer.
		if err := b.Reserve(context.Background(), 1, 0); err != nil {
			t.Fatalf("limit %d: Reserve(1, 0) = %v", max, err)
		}
		if !b.tryReserveNow(0, 0) {
			t.Fatalf("limit %d: TryReserve(0, 0) failed", max)
		}
		wantCounters(t, b, min(max, 1)+2, max, max+1)
		if s := b.Stats(); s.Waits != 0 {
			t.Fatalf("limit %d: capacity 0 waited", max)
		}
	}
}

func TestInvalidSizes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // argument errors come before any waiting
	b, f := newFakeBudget(t, 100)
	for _, tt := range []struct {
		size, capacity int64
		msg            string
	}{
		{-1, 0, "size -1, capacity 0"},
		{0, -1, "size 0, capacity -1"},
		{-1, -1, "size -1, capacity -1"},
		{5, 10, "size 5, capacity 10"},
		{math.MinInt64, 0, "size -9223372036854775808, capacity 0"},
		{0, math.MinInt64, "size 0, capacity -9223372036854775808"},
		{math.MaxInt64 - 1, math.MaxInt64, "size 9223372036854775806, capacity 9223372036854775807"},
		// More rounding than any page or alignment.
		{math.MaxInt64, 1, "size 9223372036854775807, capacity 1"},
		{1<<30 + 1, 0, "size 1073741825, capacity 0"},
		{math.MaxInt64, math.MaxInt64 - 1<<30 - 1, "size 9223372036854775807, capacity 9223372035781033982"},
	} {
		if b.tryReserveNow(tt.size, tt.capacity) {
			t.Errorf("TryReserve(%d, %d) = true", tt.size, tt.capacity)
		}
		for _, ctx := range []context.Context{context.Background(), ctx} {
			err := b.Reserve(ctx, tt.size, tt.capacity)
			if !errors.Is(err, ErrInvalidSize) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Reserve(%d, %d) = %v; want ErrInvalidSize naming %q", tt.size, tt.capacity, err, tt.msg)
			}
		}
	}
	wantCounters(t, b, 0, 0, 0)
	if s := b.Stats(); s.Waits != 0 || f.gcs.Load() != 0 {
		t.Fatalf("invalid sizes waited (%d) or collected (%d)", s.Waits, f.gcs.Load())
	}
}

func TestUnreserveTooMuchPanics(t *testing.T) {
	b, _ := newFakeBudget(t, 100)
	if !b.tryReserveNow(10, 5) {
		t.Fatal("TryReserve(10, 5) failed")
	}
	for _, tt := range []struct {
		size, capacity int64
		msg            string
	}{
		{10, 6, "Unreserve(10, 6) returns more than the budget holds (count 1, reserved 10, capacity 5)"},
		{11, 5, "Unreserve(11, 5) returns more than the budget holds (count 1, reserved 10, capacity 5)"},
		{-1, 0, "size -1, capacity 0"},
		{5, 10, "size 5, capacity 10"},
		{1<<30 + 6, 5, "size 1073741830, capacity 5"},
	} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tt.msg) {
					t.Fatalf("Unreserve(%d, %d) panicked with %v; want a panic saying %q", tt.size, tt.capacity, r, tt.msg)
				}
			}()
			b.Unreserve(tt.size, tt.capacity)
		}()
		wantCounters(t, b, 1, 5, 10)
	}
	b.Unreserve(10, 5)
	wantCounters(t, b, 0, 0, 0)
	// One reservation too many: count goes below zero.
	wantPanic(t, "Unreserve(0, 0) returns more than the budget holds (count 0, reserved 0, capacity 0)", func() { b.Unreserve(0, 0) })
	wantCounters(t, b, 0, 0, 0)
	// A reservation of capacity 0 cannot return capacity.
	if err := b.Reserve(context.Background(), 10, 0); err != nil {
		t.Fatal(err)
	}
	wantPanic(t, "Unreserve(10, 10) returns more than the budget holds (count 1, reserved 10, capacity 0)", func() { b.Unreserve(10, 10) })
	wantCounters(t, b, 1, 0, 10)
	b.Unreserve(10, 0)
	wantCounters(t, b, 0, 0, 0)
}

// The sequence that wrapped Reserved: sizes absurd for their capacity are
// errors, and nothing reaches the counters.
func TestAbsurdSizesDoNotWrap(t *testing.T) {
	b, _ := newFakeBudget(t, 100)
	for range 2 {
		if b.tryReserveNow(math.MaxInt64, 1) {
			t.Fatal("TryReserve(MaxInt64, 1) succeeded")
		}
		err := b.Reserve(context.Background(), math.MaxInt64, 1)
		if !errors.Is(err, ErrInvalidSize) || !strings.Contains(err.Error(), "size 9223372036854775807, capacity 1") {
			t.Fatalf("Reserve(MaxInt64, 1) = %v; want ErrInvalidSize naming the sizes", err)
		}
	}
	wantCounters(t, b, 0, 0, 0)
}

// Sizes that are each valid still cannot take Reserved past MaxInt64: the
// reservation that would fails at once.
func TestReservedCannotOverflow(t *testing.T) {
	b, f := newFakeBudget(t, math.MaxInt64)
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	if err := b.Reserve(context.Background(), math.MaxInt64-10, math.MaxInt64-10-1<<30); err != nil {
		t.Fatal(err)
	}
	if err := b.Reserve(context.Background(), 10, 10); err != nil {
		t.Fatal(err)
	}
	err := b.Reserve(context.Background(), 1, 1)
	if !errors.Is(err, ErrOutOfDirectMemory) {
		t.Fatalf("Reserve(1, 1) with Reserved at MaxInt64 = %v; want ErrOutOfDirectMemory", err)
	}
	if s := b.Stats(); s.Waits != 0 || f.gcs.Load() != 0 {
		t.Fatalf("a reservation whose bytes cannot be counted waited: %+v", s)
	}
	wantCounters(t, b, 2, math.MaxInt64-1<<30, math.MaxInt64)
}

// TestConcurrentReservations races reservations against releases and checks
// that no observer ever sees total capacity above the limit and that the
// counters come back to zero exactly.
func TestConcurrentReservations(t *testing.T) {
	const (
		max        = 400
		goroutines = 16
		rounds     = 2000
	)
	b, _ := newFakeBudget(t, max)
	var peak, successes, failures atomic.Int64
	observe := func() {
		total := b.totalCapacity.Load()
		for p := peak.Load(); total > p && !peak.CompareAndSwap(p, total); p = peak.Load() {
		}
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range rounds {
				capacity := rng.Int64N(200)
				size := capacity + rng.Int64N(16)
				var ok bool
				if g%4 == 0 {
					err := b.Reserve(context.Background(), size, capacity)
					if err != nil && !errors.Is(err, ErrOutOfDirectMemory) {
						t.Errorf("Reserve(%d, %d): %v", size, capacity, err)
						return
					}
					ok = err == nil
				} else {
					ok = b.tryReserveNow(size, capacity)
				}
				observe()
				if !ok {
					failures.Add(1)
					continue
				}
				successes.Add(1)
				runtime.Gosched() // hold it while others try
				observe()
				b.Unreserve(size, capacity)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > max {
		t.Fatalf("total capacity reached %d, over the limit of %d", p, max)
	}
	if successes.Load() == 0 {
		t.Fatal("no reservation succeeded")
	}
	wantCounters(t, b, 0, 0, 0)
	t.Logf("%d reservations, %d did not fit, peak total capacity %d", successes.Load(), failures.Load(), peak.Load())
}
