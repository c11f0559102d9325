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
			if s := b.Stats(); s.Failures != 1 || s.Waits != 1 {
				t.Fatalf("failures, waits = %d, %d; want 1, 1", s.Failures, s.Waits)
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
	if !b.TryReserve(4096, 100) {
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
		if !b.TryReserve(max, max) {
			t.Fatalf("TryReserve(%d, %d) failed under a limit of %d", max, max, max)
		}
		if b.TryReserve(1, 1) {
			t.Fatalf("TryReserve(1, 1) succeeded with %d of %d taken", max, max)
		}
		b.Unreserve(max, max)
		if !b.TryReserve(max, max) {
			t.Fatal("the limit was not available again after Unreserve")
		}
		b.Unreserve(max, max)
	}
}

func TestCapacityZeroAlwaysFits(t *testing.T) {
	for _, max := range []int64{0, 1, 10, 1 << 20} {
		b, _ := newFakeBudget(t, max)
		if max > 0 && !b.TryReserve(max, max) {
			t.Fatalf("limit %d: filling the budget failed", max)
		}
		// The JVM reserves one byte for an empty buffer.
		if err := b.Reserve(context.Background(), 1, 0); err != nil {
			t.Fatalf("limit %d: Reserve(1, 0) = %v", max, err)
		}
		if !b.TryReserve(0, 0) {
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
	} {
		if b.TryReserve(tt.size, tt.capacity) {
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
	if !b.TryReserve(10, 5) {
		t.Fatal("TryReserve(10, 5) failed")
	}
	for _, tt := range []struct {
		size, capacity int64
		msg            string
	}{
		{10, 6, "releases more than is reserved"},
		{11, 5, "releases more than is reserved"},
		{-1, 0, "size -1, capacity 0"},
		{5, 10, "size 5, capacity 10"},
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
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("Unreserve(0, 0) on an empty budget did not panic")
			}
		}()
		b.Unreserve(0, 0)
	}()
	wantCounters(t, b, 0, 0, 0)
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
					ok = b.TryReserve(size, capacity)
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
