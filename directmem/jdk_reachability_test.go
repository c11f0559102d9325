package directmem_test

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"weak"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
)

// catchCleanupPanics records the panics of release functions run by the
// cleaner (a double release would make the budget's Unreserve panic) for
// the rest of the test. The handler is process-wide, so tests that use it
// must not run in parallel.
func catchCleanupPanics(t *testing.T) func() []any {
	t.Helper()
	var (
		mu     sync.Mutex
		panics []any
	)
	old := cleaner.SetPanicHandler(func(v any, _ []byte) {
		mu.Lock()
		defer mu.Unlock()
		panics = append(panics, v)
	})
	t.Cleanup(func() { cleaner.SetPanicHandler(old) })
	return func() []any {
		mu.Lock()
		defer mu.Unlock()
		return append([]any(nil), panics...)
	}
}

// allocateAndDrop allocates a buffer of n bytes, writes to it, optionally
// frees it, and returns only a weak pointer to it, so that nothing on the
// caller's stack keeps it alive.
//
//go:noinline
func allocateAndDrop(t *testing.T, a *directmem.Allocator, n int, free bool) weak.Pointer[directmem.Buffer] {
	b, err := a.Allocate(n)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PutAt(n-1, 0x5A); err != nil {
		t.Fatal(err)
	}
	if free {
		if err := b.Free(); err != nil {
			t.Fatal(err)
		}
	}
	return weak.Make(b)
}

// wrapAndDrop wraps memory whose release counts its calls in *released,
// optionally frees the buffer, and drops it.
//
//go:noinline
func wrapAndDrop(t *testing.T, released *atomic.Int32, free bool) weak.Pointer[directmem.Buffer] {
	b := directmem.Wrap(make([]byte, 64), func() { released.Add(1) })
	if err := b.PutAt(0, 1); err != nil {
		t.Fatal(err)
	}
	if free {
		if err := b.Free(); err != nil {
			t.Fatal(err)
		}
	}
	return weak.Make(b)
}

// TestGCReleasesDroppedBuffer checks that a buffer dropped without Free is
// released by the garbage collector, exactly once, and its reservation
// returned to the budget.
func TestGCReleasesDroppedBuffer(t *testing.T) {
	panics := catchCleanupPanics(t)
	a, budget := privateAllocator(1 << 20)
	drainCleanups(t) // buffers earlier tests dropped must not leave during the test
	poolBefore := directmem.Stats()
	wp := allocateAndDrop(t, a, 1000, false)
	if s := budget.Stats(); s.Count != 1 || s.TotalCapacity != 1000 {
		t.Fatalf("budget after Allocate: %+v", s)
	}
	if !waitBudgetCount(t, budget, 0) {
		t.Fatalf("dropped buffer not released: budget %+v, weak pointer %v", budget.Stats(), wp.Value())
	}
	if wp.Value() != nil {
		t.Error("buffer released while still reachable through a weak pointer")
	}
	// More collections find nothing more to release.
	for range 3 {
		drainCleanups(t)
	}
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 || s.TotalCapacity != 0 {
		t.Errorf("budget after release: %+v, want all zero", s)
	}
	if got := directmem.Stats(); got != poolBefore {
		t.Errorf("pool after release: %+v, want %+v", got, poolBefore)
	}
	if p := panics(); len(p) != 0 {
		t.Errorf("release panicked: %v", p)
	}

	t.Run("Wrap", func(t *testing.T) {
		var released atomic.Int32
		wrapAndDrop(t, &released, false)
		for range 5 {
			if released.Load() != 0 {
				break
			}
			drainCleanups(t)
		}
		for range 3 {
			drainCleanups(t)
		}
		if n := released.Load(); n != 1 {
			t.Errorf("release of a dropped wrapped buffer ran %d times, want 1", n)
		}
	})
}

// TestGCAfterFreeDoesNothing checks that once a buffer is freed, its
// collection releases nothing more: no double release, counters stay.
func TestGCAfterFreeDoesNothing(t *testing.T) {
	panics := catchCleanupPanics(t)
	a, budget := privateAllocator(1 << 20)
	drainCleanups(t) // buffers earlier tests dropped must not leave during the test
	poolBefore := directmem.Stats()
	wp := allocateAndDrop(t, a, 1000, true)
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 {
		t.Fatalf("budget after Free: %+v", s)
	}
	for range 5 {
		drainCleanups(t)
		if wp.Value() == nil {
			break
		}
	}
	if wp.Value() != nil {
		t.Fatal("freed buffer never collected")
	}
	drainCleanups(t)
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 || s.TotalCapacity != 0 {
		t.Errorf("budget after collection of a freed buffer: %+v, want all zero", s)
	}
	if got := directmem.Stats(); got != poolBefore {
		t.Errorf("pool after collection of a freed buffer: %+v, want %+v", got, poolBefore)
	}
	if p := panics(); len(p) != 0 {
		t.Errorf("release panicked (double release?): %v", p)
	}

	t.Run("Wrap", func(t *testing.T) {
		var released atomic.Int32
		wp := wrapAndDrop(t, &released, true)
		if n := released.Load(); n != 1 {
			t.Fatalf("Free ran the release %d times, want 1", n)
		}
		for range 5 {
			drainCleanups(t)
			if wp.Value() == nil {
				break
			}
		}
		drainCleanups(t)
		if n := released.Load(); n != 1 {
			t.Errorf("release ran %d times after Free and collection, want 1", n)
		}
	})
}

// reachabilityChain allocates a buffer of 16384 bytes, writes a pattern,
// and applies step to it 1000 times, then once more, as ReachabilityTest
// does. It returns the last view and weak pointers to the intermediate
// ones; nothing else stays reachable.
//
//go:noinline
func reachabilityChain(t *testing.T, a *directmem.Allocator, step func(*directmem.Buffer) *directmem.Buffer) (*directmem.Buffer, []weak.Pointer[directmem.Buffer]) {
	b, err := a.Allocate(16384)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Capacity() {
		if err := b.PutAt(i, byte(i*7)); err != nil {
			t.Fatal(err)
		}
	}
	refs := make([]weak.Pointer[directmem.Buffer], 0, 1000)
	for range 1000 {
		b = step(b)
		refs = append(refs, weak.Make(b))
	}
	return step(b), refs
}

// TestJDKReachability ports ReachabilityTest.java (bug 8208362): after a
// chain of 1000 duplicates or slices of a direct buffer, some of the
// intermediate views can be collected while the last one keeps the
// memory. The JDK checks that the root ByteBuffer object stays reachable
// (each view's att points to it); here views point to the allocation's
// owner rather than the root Buffer, so the check is on the memory
// itself: it is not released (the budget still holds it) and the last
// view still reads the bytes the root wrote. Dropping the last view then
// releases it.
func TestJDKReachability(t *testing.T) {
	for _, tt := range []struct {
		name string
		step func(*directmem.Buffer) *directmem.Buffer
	}{
		{"testDuplicate", (*directmem.Buffer).Duplicate},
		{"testSlice", (*directmem.Buffer).Slice},
		{"testAsReadOnly", (*directmem.Buffer).AsReadOnly},
		{"testSliceAt", func(b *directmem.Buffer) *directmem.Buffer {
			v, err := b.SliceAt(0, b.Limit())
			if err != nil {
				panic(err)
			}
			return v
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			panics := catchCleanupPanics(t)
			a, budget := privateAllocator(1 << 20)
			last, refs := reachabilityChain(t, a, tt.step)

			collected := false
			for tries := 0; tries < 3 && !collected; tries++ {
				drainCleanups(t)
				for _, r := range refs {
					if r.Value() == nil {
						collected = true
						break
					}
				}
			}
			// Some or all of the intermediate values must be collected.
			if !collected {
				t.Error("no intermediate view was collected")
			}
			// The memory must not be: the last view still uses it.
			if s := budget.Stats(); s.Count != 1 || s.TotalCapacity != 16384 {
				t.Errorf("budget while the last view lives: %+v, want the buffer still reserved", s)
			}
			if last.IsFreed() {
				t.Fatal("last view reports its memory freed")
			}
			got := make([]byte, 16384)
			if err := last.GetBytesAt(0, got); err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				if v != byte(i*7) {
					t.Fatalf("byte %d of the last view = %d, want %d", i, v, byte(i*7))
				}
			}
			runtime.KeepAlive(last) // Reference.reachabilityFence(t)

			// Now the last view is dropped too.
			if !waitBudgetCount(t, budget, 0) {
				t.Errorf("memory not released after the last view was dropped: %+v", budget.Stats())
			}
			if s := budget.Stats(); s.Reserved != 0 || s.TotalCapacity != 0 {
				t.Errorf("budget after release: %+v", s)
			}
			if p := panics(); len(p) != 0 {
				t.Errorf("release panicked: %v", p)
			}
		})
	}
}

// TestViewKeepsMemoryAfterRootDropped checks the case the JVM's att
// exists for: only a slice survives, and it still reads the data.
func TestViewKeepsMemoryAfterRootDropped(t *testing.T) {
	a, budget := privateAllocator(1 << 20)
	view := sliceOfDropped(t, a)
	drainCleanups(t)
	drainCleanups(t)
	if s := budget.Stats(); s.Count != 1 {
		t.Fatalf("memory released while a slice of it lives: %+v", s)
	}
	if !bytes.Equal(view.Bytes(), []byte("live")) {
		t.Errorf("slice reads %q, want %q", view.Bytes(), "live")
	}
	runtime.KeepAlive(view)
	if !waitBudgetCount(t, budget, 0) {
		t.Errorf("memory not released after the slice was dropped: %+v", budget.Stats())
	}
}

//go:noinline
func sliceOfDropped(t *testing.T, a *directmem.Allocator) *directmem.Buffer {
	b, err := a.Allocate(64)
	if err != nil {
		t.Fatal(err)
	}
	return liveView(t, b)
}

// liveView writes "...live..." at b's position and returns the view of
// its "live".
func liveView(t *testing.T, b *directmem.Buffer) *directmem.Buffer {
	t.Helper()
	if _, err := b.WriteString("...live..."); err != nil {
		t.Fatal(err)
	}
	v, err := b.SliceAt(3, 4)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
