package limits_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

// The pacing tests hold a large Go heap, as the programs pacing is for do:
// the runtime's own goal is then twice that, far above anything the tests
// allocate on the Go heap, so the collector runs only when a budget starts
// it. Counts and bytes are checked, never time.

const (
	pacedHeap = 256 << 20
	pacedSize = 64 << 10  // one buffer
	pacedStep = 64        // buffers between two checks
	paceGoal  = 64 << 20  // pacing's goal with nothing live (its floor)
	pacedRuns = 8         // the goal's worth of buffers dropped, in all
	pacedMax  = 4 << 30   // the budget: its high-water mark stays far off
	batchLag  = 256 << 10 // bytes the leases may hold back from the pacer (internal/pacing.Batch per lease)
)

// holdHeap allocates n bytes of live pointer-free Go heap until the test ends.
func holdHeap(t *testing.T, n int) {
	hold := make([][]byte, n>>20)
	for i := range hold {
		hold[i] = make([]byte, 1<<20)
	}
	t.Cleanup(func() { runtime.KeepAlive(hold) })
}

// dropOne allocates a managed buffer and drops it.
//
//go:noinline
func dropOne(t *testing.T, a *directmem.Allocator) {
	buf, err := a.Allocate(pacedSize)
	if err != nil {
		t.Fatal(err)
	}
	buf.PutAt(0, 1)
}

// settleBudget waits for the collection b started, if any, and for the
// releases it queued: the dropped buffers it found are released then.
func settleBudget(t *testing.T, b *limits.Budget) {
	t.Helper()
	limits.WaitCollections(b)
	if err := cleaner.WaitPending(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// releaseAll collects until every buffer reserved on b is released.
func releaseAll(t *testing.T, b *limits.Budget) {
	t.Helper()
	for range 10 {
		if b.Stats().Count == 0 {
			return
		}
		runtime.GC()
		settleBudget(t, b)
	}
	t.Fatalf("%d buffers still reserved after 10 collections", b.Stats().Count)
}

func TestPacingBoundsDroppedBytes(t *testing.T) {
	holdHeap(t, pacedHeap)
	b := limits.NewBudget(pacedMax)
	b.SetGCPercent(100)
	a := directmem.NewAllocator(directmem.Options{Budget: b})
	defer releaseAll(t, b)
	if g := b.Stats().PaceGoal; g != paceGoal {
		t.Fatalf("PaceGoal %d with nothing live, want %d", g, paceGoal)
	}
	// Waiting is checked every step, once what the collections started so
	// far have released: at most the goal, the step dropped during the
	// last collection and the step since, and what the leases hold back.
	const slack = 2*pacedStep*pacedSize + batchLag
	var worst int64
	for i := range pacedRuns * paceGoal / pacedSize {
		dropOne(t, a)
		if (i+1)%pacedStep == 0 {
			settleBudget(t, b)
			s := b.Stats()
			worst = max(worst, s.Reserved)
			if s.Reserved > s.PaceGoal+slack {
				t.Fatalf("after %d buffers (%d MiB) dropped: %d MiB wait for a collection; goal %d MiB, slack %d MiB",
					i+1, (i+1)*pacedSize>>20, s.Reserved>>20, s.PaceGoal>>20, slack>>20)
			}
		}
	}
	s := b.Stats()
	if s.PacedGCs < pacedRuns/2 {
		t.Errorf("%d paced collections for %d times the goal dropped", s.PacedGCs, pacedRuns)
	}
	t.Logf("paced collections %d, worst waiting %d MiB, goal %d MiB", s.PacedGCs, worst>>20, s.PaceGoal>>20)
}

// TestPacingOffKeepsTheJVMsBehaviour: with pacing off, nothing collects
// what is dropped under a large Go heap until the budget's own marks.
func TestPacingOffKeepsTheJVMsBehaviour(t *testing.T) {
	holdHeap(t, pacedHeap)
	b := limits.NewBudget(pacedMax)
	b.SetGCPercent(-1)
	a := directmem.NewAllocator(directmem.Options{Budget: b})
	defer releaseAll(t, b)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs := ms.NumGC
	const n = pacedRuns * paceGoal / pacedSize
	for range n {
		dropOne(t, a)
	}
	settleBudget(t, b)
	s := b.Stats()
	if s.PacedGCs != 0 || s.BackgroundGCs != 0 || s.PaceAllocated != 0 {
		t.Fatalf("pacing off: %d paced and %d background collections, %d bytes counted", s.PacedGCs, s.BackgroundGCs, s.PaceAllocated)
	}
	if runtime.ReadMemStats(&ms); ms.NumGC != gcs {
		t.Skipf("the runtime collected %d times on its own; nothing more to check", ms.NumGC-gcs)
	}
	if s.Count != n || s.Reserved != n*pacedSize {
		t.Fatalf("pacing off, no collection: %d buffers (%d bytes) reserved, want all %d dropped (%d bytes)", s.Count, s.Reserved, n, n*pacedSize)
	}
}

// TestPacingCountsOnlyWhatWaits: explicit-only buffers, arenas and buffers
// freed by hand never wait for the collector, so they start no paced
// collection however much of them is allocated.
func TestPacingCountsOnlyWhatWaits(t *testing.T) {
	holdHeap(t, pacedHeap)
	const n = pacedRuns * paceGoal / pacedSize
	check := func(t *testing.T, b *limits.Budget) {
		t.Helper()
		settleBudget(t, b)
		s := b.Stats()
		if s.PacedGCs != 0 || s.PaceAllocated < -batchLag || s.PaceAllocated > batchLag {
			t.Fatalf("%d paced collections, %d bytes counted as waiting", s.PacedGCs, s.PaceAllocated)
		}
	}
	newBudget := func() *limits.Budget {
		b := limits.NewBudget(pacedMax)
		b.SetGCPercent(100)
		return b
	}
	t.Run("explicit", func(t *testing.T) {
		b := newBudget()
		a := directmem.NewAllocator(directmem.Options{Budget: b, NoCleaner: true})
		held := make([]*directmem.Buffer, 0, 2*paceGoal/pacedSize)
		for range n {
			buf, err := a.Allocate(pacedSize)
			if err != nil {
				t.Fatal(err)
			}
			if len(held) < cap(held) {
				held = append(held, buf) // twice the goal held at once
			} else {
				buf.Free()
			}
		}
		check(t, b)
		for _, buf := range held {
			buf.Free()
		}
	})
	t.Run("arena", func(t *testing.T) {
		b := newBudget()
		for range n / 256 {
			ar := directmem.NewArena(directmem.Options{Budget: b})
			for range 256 {
				if _, err := ar.Allocate(pacedSize); err != nil {
					t.Fatal(err)
				}
			}
			ar.Free()
		}
		check(t, b)
	})
	t.Run("freed", func(t *testing.T) {
		b := newBudget()
		a := directmem.NewAllocator(directmem.Options{Budget: b})
		for range n {
			buf, err := a.Allocate(pacedSize)
			if err != nil {
				t.Fatal(err)
			}
			buf.Free()
		}
		check(t, b)
	})
}
