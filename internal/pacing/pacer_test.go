package pacing

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

// probe is what a pacer under test calls back: the live bytes it is told,
// and the collections and waits it asks for.
type probe struct {
	live        atomic.Int64
	collections atomic.Int64
	refuse      atomic.Bool // collect reports a collection already in flight
	waits       atomic.Int64
}

func newProbed(t *testing.T, setting int) (*Pacer, *probe) {
	t.Helper()
	pr := &probe{}
	p := New(pr.live.Load, func() bool {
		if pr.refuse.Load() {
			return false
		}
		pr.collections.Add(1)
		return true
	}, func(context.Context) { pr.waits.Add(1) })
	p.Set(setting)
	return p, pr
}

func TestGoal(t *testing.T) {
	p, _ := newProbed(t, 100)
	if g := p.Goal(); g != Floor {
		t.Fatalf("Goal with nothing live = %d, want the floor %d", g, Floor)
	}
	p.live.Store(10 * Floor)
	if g := p.Goal(); g != 10*Floor {
		t.Fatalf("Goal at 100%% of %d live = %d", int64(10*Floor), g)
	}
	p.Set(50)
	if g := p.Goal(); g != 5*Floor {
		t.Fatalf("Goal at 50%% of %d live = %d", int64(10*Floor), g)
	}
	p.liveGone.Store(8 * Floor)
	if g := p.Goal(); g != Floor {
		t.Fatalf("Goal at 50%% of %d live = %d, want the floor", int64(2*Floor), g)
	}
	p.liveGone.Store(20 * Floor) // more gone than counted: clamped at 0
	if g := p.Goal(); g != Floor {
		t.Fatalf("Goal with more gone than live = %d, want the floor", g)
	}
	p.liveGone.Store(0)
	p.Set(math.MaxInt32)
	p.live.Store(math.MaxInt64 / 2)
	if g := p.Goal(); g != math.MaxInt64 {
		t.Fatalf("Goal that overflows = %d, want MaxInt64", g)
	}
	p.Set(Off)
	if g := p.Goal(); g != 0 {
		t.Fatalf("Goal when off = %d, want 0", g)
	}
}

func TestSetReturnsPrevious(t *testing.T) {
	p, _ := newProbed(t, FollowGOGC)
	for _, tt := range []struct{ set, prev, now int }{
		{50, FollowGOGC, 50},
		{-7, 50, Off}, // any negative but FollowGOGC is Off
		{0, Off, 0},
		{FollowGOGC, 0, FollowGOGC},
	} {
		if prev := p.Set(tt.set); prev != tt.prev {
			t.Errorf("Set(%d) returned %d, want %d", tt.set, prev, tt.prev)
		}
		if now := p.Setting(); now != tt.now {
			t.Errorf("after Set(%d), Setting() = %d, want %d", tt.set, now, tt.now)
		}
	}
}

func TestFollowGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(300))
	p, _ := newProbed(t, FollowGOGC)
	p.live.Store(Floor)
	if g := p.Goal(); g != 3*Floor {
		t.Fatalf("Goal following GOGC=300 with the floor live = %d, want %d", g, int64(3*Floor))
	}
	debug.SetGCPercent(-1)
	p.Set(FollowGOGC) // GOGC is read at Set and at each cycle's end
	if g := p.Goal(); g != 0 {
		t.Fatalf("Goal following GOGC=off = %d, want 0 (off)", g)
	}
	p.Set(100) // a percentage of its own is not affected by GOGC=off
	if g := p.Goal(); g != Floor {
		t.Fatalf("Goal at 100%% while GOGC=off = %d, want the floor", g)
	}
}

func TestAddTriggersOncePerEpoch(t *testing.T) {
	p, pr := newProbed(t, 100)
	if over := p.Add(Floor - 1); over || pr.collections.Load() != 0 {
		t.Fatalf("below the goal: over %t, %d collections", over, pr.collections.Load())
	}
	if over := p.Add(1); over || pr.collections.Load() != 1 {
		t.Fatalf("at the goal: over %t, %d collections, want false, 1", over, pr.collections.Load())
	}
	if over := p.Add(Floor - 1); over || pr.collections.Load() != 1 {
		t.Fatalf("past the goal, same epoch: over %t, %d collections, want false, 1", over, pr.collections.Load())
	}
	if over := p.Add(1); !over {
		t.Fatal("at twice the goal: over = false")
	}
	if p.Add(-2 * Floor); p.Allocated() != 0 {
		t.Fatalf("after freeing everything by hand, Allocated = %d", p.Allocated())
	}
	if pr.collections.Load() != 1 {
		t.Fatalf("%d collections, want 1", pr.collections.Load())
	}
}

func TestAddRetriesWhileACollectionRuns(t *testing.T) {
	p, pr := newProbed(t, 100)
	pr.refuse.Store(true) // another trigger's collection is in flight
	p.Add(Floor)
	p.Add(Batch)
	if pr.collections.Load() != 0 {
		t.Fatalf("%d collections while one was in flight", pr.collections.Load())
	}
	pr.refuse.Store(false) // it ended without a cycle the pacer saw
	p.Add(Batch)
	if pr.collections.Load() != 1 {
		t.Fatalf("%d collections once the other ended, want 1", pr.collections.Load())
	}
}

func TestOffCountsNothing(t *testing.T) {
	p, pr := newProbed(t, Off)
	if over := p.Add(100 * Floor); over || p.Allocated() != 0 || pr.collections.Load() != 0 {
		t.Fatalf("off: over %t, Allocated %d, %d collections", over, p.Allocated(), pr.collections.Load())
	}
	p.Wait(context.Background())
	if pr.waits.Load() != 0 {
		t.Fatal("off: Wait waited")
	}
}

func TestWaitOnlyWhenOver(t *testing.T) {
	p, pr := newProbed(t, 100)
	p.Add(Floor)
	p.Wait(context.Background())
	if pr.waits.Load() != 0 {
		t.Fatal("Wait waited below twice the goal")
	}
	p.Add(Floor)
	p.Wait(context.Background())
	if pr.waits.Load() != 1 {
		t.Fatal("Wait did not wait at twice the goal")
	}
}

// TestCycleEnded runs real collections: each begins an epoch, counts what
// is live less what the ended epoch allocated, and forgets the count.
func TestCycleEnded(t *testing.T) {
	p, pr := newProbed(t, 100)
	e0 := p.Epoch()
	p.CycleEnded() // no cycle since New: nothing changes
	if p.Epoch() != e0 {
		t.Fatal("CycleEnded without a cycle began an epoch")
	}
	pr.live.Store(10 * Floor)
	p.Add(3 * Floor)
	runtime.GC()
	p.CycleEnded()
	if p.Epoch() == e0 {
		t.Fatal("CycleEnded after runtime.GC kept the epoch")
	}
	if p.Allocated() != 0 {
		t.Fatalf("Allocated = %d after a cycle, want 0", p.Allocated())
	}
	if g := p.Goal(); g != 7*Floor {
		t.Fatalf("Goal = %d, want 100%% of 10 floors live less 3 allocated in the epoch", g)
	}
	p.Gone(2 * Floor)
	if g := p.Goal(); g != 5*Floor {
		t.Fatalf("Goal = %d after 2 floors of it gone, want 5 floors", g)
	}
	// The epoch's collection may be asked for again.
	n := pr.collections.Load()
	p.Add(5 * Floor)
	if pr.collections.Load() != n+1 {
		t.Fatal("no collection in the new epoch")
	}
}

// TestSentinelSeesCycles checks that a cycle nobody tells the pacer about
// (the runtime's own) still begins an epoch, through the sentinel chain
// that the first Add starts.
func TestSentinelSeesCycles(t *testing.T) {
	p, _ := newProbed(t, 100)
	p.Add(Batch)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard, not a measure
	defer cancel()
	for _, round := range []int{1, 2, 3} {
		e := p.Epoch()
		for p.Epoch() == e {
			runtime.GC()
			if err := cleaner.WaitPending(ctx); err != nil {
				t.Fatalf("round %d: the sentinel never saw a cycle: %v", round, err)
			}
		}
		if p.Allocated() != 0 {
			t.Fatalf("round %d: Allocated = %d after a cycle", round, p.Allocated())
		}
		p.Add(Batch)
	}
}

// TestCycleEndedCarriesWhatSurvives: what was allocated after the budget's
// collection started survives it (the collector marks new objects live),
// so the next epoch begins with it counted.
func TestCycleEndedCarriesWhatSurvives(t *testing.T) {
	p, _ := newProbed(t, 100)
	p.Add(3 * Batch)
	p.CollectionStarting()
	p.Add(2 * Batch)
	runtime.GC()
	p.CycleEnded()
	if a := p.Allocated(); a != 2*Batch {
		t.Fatalf("Allocated = %d after the cycle, want the %d allocated after its start", a, 2*Batch)
	}
	// A cycle the budget did not start carries nothing.
	runtime.GC()
	p.CycleEnded()
	if a := p.Allocated(); a != 0 {
		t.Fatalf("Allocated = %d after a cycle the budget did not start, want 0", a)
	}
}

// TestOverdueCountsUnreleasedGarbage: the last cycle's garbage waits in the
// cleanup queue until the collector's releases have run; until then it
// counts towards twice the goal.
func TestOverdueCountsUnreleasedGarbage(t *testing.T) {
	p, _ := newProbed(t, 100)
	p.Add(2 * Floor)
	runtime.GC()
	p.CycleEnded() // the epoch's 2 floors are garbage, none released yet
	if over := p.Add(Batch); !over {
		t.Fatal("with two floors of garbage unreleased: over = false")
	}
	p.Collected(Floor, p.Epoch()-1)
	if over := p.Add(Batch); over {
		t.Fatal("with one floor of garbage unreleased and two batches allocated: over = true")
	}
	p.Collected(Floor, p.Epoch()-1)
	p.Add(Floor)
	if over := p.Add(Batch); over {
		t.Fatal("with the garbage released and a floor allocated: over = true")
	}
}
