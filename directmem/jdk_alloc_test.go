package directmem_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
	"github.com/offheap-go/offheap/pagealign"
)

// zeros is compared against buffers that must read as zero.
var zeros = make([]byte, 16<<20+16)

// checkZero fails the test unless b's bytes between position and limit are
// all zero.
func checkZero(tb testing.TB, b *directmem.Buffer, what string) {
	tb.Helper()
	p := b.Bytes()
	if !bytes.Equal(p, zeros[:len(p)]) {
		tb.Fatalf("%s: uninitialized buffer of %d bytes, first non-zero at %d", what, len(p), bytes.IndexFunc(p, func(r rune) bool { return r != 0 }))
	}
	runtime.KeepAlive(b)
}

// drainCleanups makes every buffer dropped so far give its memory back:
// a collection finds the unreachable ones and queues their cleanups, and
// WaitPending waits until those have run.
func drainCleanups(tb testing.TB) {
	tb.Helper()
	runtime.GC()
	if err := cleaner.WaitPending(tb.Context()); err != nil {
		tb.Fatal(err)
	}
}

// waitBudgetCount collects garbage until budget holds want reservations,
// a few rounds at most, and reports whether it got there.
func waitBudgetCount(tb testing.TB, budget *limits.Budget, want int64) bool {
	tb.Helper()
	for range 5 {
		drainCleanups(tb)
		if budget.Stats().Count == want {
			return true
		}
	}
	return false
}

// newRand returns a random source whose seed the test log shows.
func newRand(tb testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	tb.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed>>1|1))
}

// TestJDKAllocateDirectInit is AllocateDirectInit.java (bugs 4490253,
// 6535542, 8357959): new direct buffers read as zero, for sizes around
// each power of two below 16 MiB and each power of ten below 10 million,
// and for a sample of random sizes (the JDK tries 1024 per power of two;
// 8 here keep the test fast under -race).
func TestJDKAllocateDirectInit(t *testing.T) {
	check := func(n int) {
		b, err := testAllocator.AllocateContext(t.Context(), n)
		if err != nil {
			t.Fatalf("Allocate(%d): %v", n, err)
		}
		checkZero(t, b, fmt.Sprintf("allocateDirect(%d)", n))
		// Dirty it, so that memory reused for the next one must be zeroed.
		for i := range b.Bytes() {
			b.Bytes()[i] = 0xFF
		}
		if err := b.Free(); err != nil {
			t.Fatal(err)
		}
	}
	const maxBinLimit, maxDecLimit = 16 << 20, 10_000_000
	for limit := 1; limit < maxBinLimit; limit *= 2 {
		check(limit - 1)
		check(limit)
		check(limit + 1)
	}
	for limit := 1; limit < maxDecLimit; limit *= 10 {
		check(limit - 1)
		check(limit)
		check(limit + 1)
	}
	rng := newRand(t)
	for limit := 1; limit < maxBinLimit; limit *= 2 {
		for range 8 {
			check(rng.IntN(limit))
		}
	}
}

// TestAllocateZeroedAfterReuse allocates 1024 buffers of 1 KiB, checks that
// they are zero, fills them, frees them, and does it again: memory handed
// out again must be zeroed again.
func TestAllocateZeroedAfterReuse(t *testing.T) {
	const count, size = 1024, 1024
	for round := range 3 {
		bufs := make([]*directmem.Buffer, count)
		for i := range bufs {
			b, err := testAllocator.AllocateContext(t.Context(), size)
			if err != nil {
				t.Fatal(err)
			}
			if b.Capacity() != size || b.Position() != 0 || b.Limit() != size {
				t.Fatalf("new buffer %v", b)
			}
			for b.HasRemaining() {
				v, err := b.Get()
				if err != nil || v != 0 {
					t.Fatalf("round %d buffer %d: byte %d = %d, %v; want 0", round, i, b.Position()-1, v, err)
				}
			}
			b.Clear()
			if err := b.PutBytes(bytes.Repeat([]byte{0xFF}, size)); err != nil {
				t.Fatal(err)
			}
			bufs[i] = b
		}
		for _, b := range bufs {
			if err := b.Free(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestAllocateNew checks the state of a new buffer.
func TestAllocateNew(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 4095, 4096, 4097, 65539} {
		b := newTestBuffer(t, n)
		if got := cursorOf(b); got != (cursor{0, n, -1}) || b.Capacity() != n || b.IsReadOnly() || b.IsFreed() {
			t.Errorf("Allocate(%d): %v cap %d", n, got, b.Capacity())
		}
		checkZero(t, b, fmt.Sprint("Allocate(", n, ")"))
	}
}

// TestAllocateCapacityZero checks that a zero-capacity buffer works, is
// counted as the JVM counts it (one reservation, capacity 0, at least one
// byte reserved), and gives everything back when freed, even under a
// budget of 0.
func TestAllocateCapacityZero(t *testing.T) {
	for _, max := range []int64{1 << 20, 0} {
		t.Run(fmt.Sprint("limit", max), func(t *testing.T) {
			a, budget := privateAllocator(max)
			b, err := a.AllocateContext(t.Context(), 0)
			if err != nil {
				t.Fatalf("Allocate(0): %v", err)
			}
			if b.Capacity() != 0 || b.Limit() != 0 || b.HasRemaining() || len(b.Bytes()) != 0 {
				t.Errorf("zero-capacity buffer %v", b)
			}
			if _, err := b.Get(); !errors.Is(err, directmem.ErrBufferUnderflow) {
				t.Errorf("Get: %v, want ErrBufferUnderflow", err)
			}
			if err := b.Put(1); !errors.Is(err, directmem.ErrBufferOverflow) {
				t.Errorf("Put: %v, want ErrBufferOverflow", err)
			}
			if n, err := b.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("Read: %d, %v; want 0, EOF", n, err)
			}
			if s := budget.Stats(); s.Count != 1 || s.TotalCapacity != 0 || s.Reserved < 1 {
				t.Errorf("budget after Allocate(0): %+v, want count 1, capacity 0, reserved >= 1", s)
			}
			if err := b.Free(); err != nil {
				t.Fatal(err)
			}
			if s := budget.Stats(); s.Count != 0 || s.TotalCapacity != 0 || s.Reserved != 0 {
				t.Errorf("budget after Free: %+v, want all zero", s)
			}
		})
	}
}

// TestAllocateInvalidCapacity checks that a negative (or impossibly large)
// capacity is ErrInvalidCapacity and reserves nothing.
func TestAllocateInvalidCapacity(t *testing.T) {
	a, budget := privateAllocator(1 << 20)
	before := budget.Stats()
	for _, n := range []int{-1, -4096, math.MinInt, math.MaxInt} {
		b, err := a.AllocateContext(t.Context(), n)
		if !errors.Is(err, directmem.ErrInvalidCapacity) || b != nil {
			t.Errorf("Allocate(%d) = %v, %v; want nil, ErrInvalidCapacity", n, b, err)
		}
	}
	if _, err := directmem.Allocate(-1); !errors.Is(err, directmem.ErrInvalidCapacity) || !strings.Contains(err.Error(), "-1") {
		t.Errorf("directmem.Allocate(-1) = %v, want ErrInvalidCapacity naming -1", err)
	}
	if after := budget.Stats(); after != before {
		t.Errorf("budget changed by invalid allocations: %+v -> %+v", before, after)
	}
}

// TestAllocatorAlignment checks that invalid alignments fail every
// Allocate with ErrInvalidOptions, reserving nothing, and that valid ones
// are honoured.
func TestAllocatorAlignmentOptions(t *testing.T) {
	page := pagealign.PageSize()
	for _, align := range []int{3, 2 * page, -16, 24, page + 1} {
		budget := limits.NewBudget(1 << 20)
		a := directmem.NewAllocator(directmem.Options{Budget: budget, Alignment: align})
		for range 2 {
			b, err := a.AllocateContext(t.Context(), 64)
			if !errors.Is(err, directmem.ErrInvalidOptions) || b != nil {
				t.Errorf("Alignment %d: Allocate = %v, %v; want nil, ErrInvalidOptions", align, b, err)
			} else if !strings.Contains(err.Error(), fmt.Sprint(align)) {
				t.Errorf("Alignment %d: error %q does not name the value", align, err)
			}
		}
		if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 {
			t.Errorf("Alignment %d: budget %+v, want nothing reserved", align, s)
		}
	}
	for _, align := range []int{0, 1, 2, 8, 16, 64, 512, page} {
		a := directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(1 << 24), Alignment: align})
		want := align
		if align == 0 {
			want = directmem.DefaultAlignment
		}
		for _, n := range []int{1, 7, 100, 5000} {
			b, err := a.AllocateContext(t.Context(), n)
			if err != nil {
				t.Fatalf("Alignment %d: Allocate(%d): %v", align, n, err)
			}
			addr := uintptr(unsafe.Pointer(unsafe.SliceData(b.Bytes())))
			if addr%uintptr(want) != 0 {
				t.Errorf("Alignment %d: buffer of %d bytes at %#x", align, n, addr)
			}
			if err := b.Free(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPoolStats checks that the "direct" pool counts exactly the buffers
// an allocator hands out (not views, not wrapped memory) and forgets them
// when they are freed.
func TestPoolStats(t *testing.T) {
	drainCleanups(t) // buffers earlier tests dropped must not leave now
	a, budget := privateAllocator(1 << 20)
	before := directmem.Stats()
	if before.Name != "direct" {
		t.Errorf("Stats().Name = %q, want direct", before.Name)
	}
	b, err := a.AllocateContext(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	reserved := budget.Stats().Reserved
	want := directmem.PoolStats{
		Name:          "direct",
		Count:         before.Count + 1,
		TotalCapacity: before.TotalCapacity + 1000,
		MemoryUsed:    before.MemoryUsed + reserved,
	}
	if got := directmem.Stats(); got != want {
		t.Errorf("after Allocate(1000): %+v, want %+v", got, want)
	}
	views := []*directmem.Buffer{b.Slice(), b.Duplicate(), b.AsReadOnly(), b.Slice().Slice()}
	_ = directmem.Wrap(make([]byte, 100), nil)
	if got := directmem.Stats(); got != want {
		t.Errorf("after making views and wrapping: %+v, want %+v", got, want)
	}
	pools := directmem.Pools()
	if len(pools) == 0 || pools[0] != want {
		t.Errorf("Pools() = %+v, want the direct pool %+v first", pools, want)
	}
	runtime.KeepAlive(views)
	if err := b.Free(); err != nil {
		t.Fatal(err)
	}
	if got := directmem.Stats(); got != before {
		t.Errorf("after Free: %+v, want %+v", got, before)
	}
}

// TestJDKLimitDirectMemory ports LimitDirectMemory.java (bugs 4627316,
// 6743526) with a private budget per case in place of
// -XX:MaxDirectMemorySize: fill the budget with buffers of incr bytes while
// size >= incr, then allocate one more of incr bytes, which must fail (or,
// for "false", succeed). The cases that need the JVM's default limit
// (Runtime.maxMemory) are limits' business, not directmem's.
func TestJDKLimitDirectMemory(t *testing.T) {
	const K, M = 1 << 10, 1 << 20
	tests := []struct {
		run         string // the JDK's @run line
		limit       int64
		size, incr  int
		expectThrow bool
	}{
		{"-XX:MaxDirectMemorySize=10 LimitDirectMemory true 10 1", 10, 10, 1, true},
		{"-XX:MaxDirectMemorySize=1k LimitDirectMemory true 1k 100", K, K, 100, true},
		{"-XX:MaxDirectMemorySize=10m LimitDirectMemory true 10m 10m", 10 * M, 10 * M, 10 * M, true},
		// "We can increase the amount of available memory": nothing fills
		// (64M < 65M), and one buffer of exactly the limit fits.
		{"-XX:MaxDirectMemorySize=65M LimitDirectMemory false 64M 65M", 65 * M, 64 * M, 65 * M, false},
		// "We should be able to eliminate direct memory allocation entirely".
		{"-XX:MaxDirectMemorySize=0 LimitDirectMemory true 0 1", 0, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.run, " ", "_"), func(t *testing.T) {
			t.Parallel() // each failing case waits ~0.5 s, as the JVM does
			// What one buffer of incr bytes reserves (its size with rounding),
			// measured on a budget of its own.
			probe, probeBudget := privateAllocator(1 << 40)
			pb, err := probe.AllocateContext(t.Context(), tt.incr)
			if err != nil {
				t.Fatal(err)
			}
			reservePerBuffer := probeBudget.Stats().Reserved
			if err := pb.Free(); err != nil {
				t.Fatal(err)
			}

			a, budget := privateAllocator(tt.limit)
			var bufs []*directmem.Buffer
			defer func() {
				for _, b := range bufs {
					if err := b.Free(); err != nil {
						t.Error(err)
					}
				}
				if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 || s.TotalCapacity != 0 {
					t.Errorf("budget after freeing everything: %+v", s)
				}
			}()
			for size := tt.size; size >= tt.incr; size -= tt.incr {
				b, err := a.AllocateContext(t.Context(), tt.incr)
				if err != nil {
					t.Fatalf("filling: allocateDirect(%d) after %d buffers: %v", tt.incr, len(bufs), err)
				}
				bufs = append(bufs, b)
			}
			b, err := a.AllocateContext(t.Context(), tt.incr)
			if b != nil {
				bufs = append(bufs, b)
			}
			if !tt.expectThrow {
				if err != nil {
					t.Fatalf("allocateDirect(%d): %v, want success", tt.incr, err)
				}
			} else {
				if !errors.Is(err, limits.ErrOutOfDirectMemory) {
					t.Fatalf("allocateDirect(%d) = %v, want ErrOutOfDirectMemory", tt.incr, err)
				}
				s := budget.Stats()
				want := fmt.Sprintf("cannot reserve %d bytes of direct buffer memory (allocated: %d, limit: %d)",
					reservePerBuffer, s.Reserved, tt.limit)
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
				var oom *limits.OutOfMemoryError
				if !errors.As(err, &oom) || oom.Limit != tt.limit {
					t.Errorf("error %v: want an *OutOfMemoryError with limit %d", err, tt.limit)
				}
				if s.Count != int64(len(bufs)) || s.TotalCapacity != int64(len(bufs)*tt.incr) {
					t.Errorf("failed allocation changed the budget: %+v with %d buffers", s, len(bufs))
				}
			}
			// Capacity 0 always succeeds, even with the budget full.
			z, err := a.AllocateContext(t.Context(), 0)
			if err != nil {
				t.Fatalf("allocateDirect(0) on a full budget: %v", err)
			}
			bufs = append(bufs, z)
		})
	}
}

// TestJDKChew is Chew.java (bug 5046110, run with -Xmx16M): 64 buffers of
// 1 MiB, each dropped at once, under a 16 MiB budget. Dropped memory must
// come back through the collector while the allocation waits.
func TestJDKChew(t *testing.T) {
	a, budget := privateAllocator(16 << 20)
	for i := range 64 {
		if _, err := a.AllocateContext(t.Context(), 1<<20); err != nil {
			t.Fatalf("allocateDirect(1 MiB) #%d: %v (budget %+v)", i, err, budget.Stats())
		}
	}
	if !waitBudgetCount(t, budget, 0) {
		t.Errorf("dropped buffers not released: %+v", budget.Stats())
	}
}

// TestJDKDirectBufferAllocTest is DirectBufferAllocTest.java (bug 6857566,
// run with -XX:MaxDirectMemorySize=128m): max(min(2 x CPUs, 64), 4)
// goroutines allocate 1 MiB buffers and drop them for 5 seconds (1 second
// with -short); garbage creation must not outpace reclamation, so no
// allocation may fail.
func TestJDKDirectBufferAllocTest(t *testing.T) {
	const (
		minThreads = 4
		maxThreads = 64
		capacity   = 1 << 20
	)
	runTime := 5 * time.Second
	if testing.Short() {
		runTime = time.Second
	}
	threads := max(min(2*runtime.GOMAXPROCS(0), maxThreads), minThreads)
	a, budget := privateAllocator(128 << 20)
	deadline := time.Now().Add(runTime)
	var (
		wg          sync.WaitGroup
		allocations atomic.Int64
		failures    atomic.Int64
	)
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				b, err := a.AllocateContext(t.Context(), capacity)
				if err != nil {
					// The JDK's thread dies with the OutOfMemoryError.
					failures.Add(1)
					t.Errorf("allocateDirect(%d): %v", capacity, err)
					return
				}
				if err := b.PutAt(capacity-1, 1); err != nil { // touch it
					t.Error(err)
				}
				allocations.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d goroutines, %d allocations of %d bytes, %d failures; budget %+v",
		threads, allocations.Load(), capacity, failures.Load(), budget.Stats())
	if failures.Load() != 0 {
		t.Errorf("%d allocations failed", failures.Load())
	}
	if !waitBudgetCount(t, budget, 0) {
		t.Errorf("dropped buffers not released: %+v", budget.Stats())
	}
}
