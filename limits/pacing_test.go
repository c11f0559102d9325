package limits

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/internal/lease"
	"github.com/offheap-go/offheap/internal/pacing"
)

func TestDefaultGCPercentFromEnvironment(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == envGOGC {
				return v, true
			}
			return "", false
		}
	}
	for _, tt := range []struct {
		value string
		want  int
	}{{"", FollowGOGC}, {"off", -1}, {"0", 0}, {"50", 50}, {"400", 400}} {
		b := newDefaultBudget(env(tt.value), memory(8<<30))
		if b.Err() != nil || b.GCPercent() != tt.want {
			t.Errorf("%s=%q: GCPercent %d, Err %v; want %d, nil", envGOGC, tt.value, b.GCPercent(), b.Err(), tt.want)
		}
	}
	if s := newDefaultBudget(env("off"), memory(8<<30)).Stats(); s.PaceGoal != 0 {
		t.Errorf("%s=off: PaceGoal %d, want 0", envGOGC, s.PaceGoal)
	}
	if s := newDefaultBudget(env("100"), memory(8<<30)).Stats(); s.PaceGoal != pacing.Floor {
		t.Errorf("%s=100 with nothing allocated: PaceGoal %d, want the floor %d", envGOGC, s.PaceGoal, pacing.Floor)
	}
	for _, bad := range []string{"abc", "-1", "1.5", "OFF", " 50", "50%", "99999999999999999999"} {
		b := newDefaultBudget(env(bad), memory(8<<30))
		err := b.Err()
		if !errors.Is(err, ErrInvalidLimit) || !strings.Contains(err.Error(), envGOGC+"="+`"`+bad+`"`) {
			t.Errorf("%s=%q: Err %v; want ErrInvalidLimit naming the variable and value", envGOGC, bad, err)
			continue
		}
		wantInvalidBudget(t, b)
	}
}

func TestSetGCPercent(t *testing.T) {
	b := NewBudget(1 << 30)
	for _, tt := range []struct{ set, prev, now int }{
		{FollowGOGC, FollowGOGC, FollowGOGC},
		{200, FollowGOGC, 200},
		{-1, 200, -1},
		{-42, -1, -1},
		{0, -1, 0},
	} {
		if prev := b.SetGCPercent(tt.set); prev != tt.prev {
			t.Errorf("SetGCPercent(%d) = %d, want %d", tt.set, prev, tt.prev)
		}
		if now := b.GCPercent(); now != tt.now {
			t.Errorf("after SetGCPercent(%d), GCPercent() = %d, want %d", tt.set, now, tt.now)
		}
	}
	b.SetGCPercent(-1)
	if g := b.Stats().PaceGoal; g != 0 {
		t.Errorf("pacing off: PaceGoal %d, want 0", g)
	}
}

// TestFollowGOGCOff: a budget that follows GOGC does not pace while the
// runtime's collector is off.
func TestFollowGOGCOff(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	b := NewBudget(1 << 30)
	if g := b.Stats().PaceGoal; g != 0 {
		t.Fatalf("GOGC=off: PaceGoal %d, want 0", g)
	}
	b.SetGCPercent(100)
	if g := b.Stats().PaceGoal; g != pacing.Floor {
		t.Fatalf("GOGC=off, budget at 100%%: PaceGoal %d, want %d", g, pacing.Floor)
	}
}

// TestPacingAndHighWaterOneCollection drives the high-water mark and pacing
// together with collections that block until the test lets them end:
// however many ask, one collection runs at a time, and it is counted once,
// by the trigger that started it. (The forced collection's share is
// TestForcedCollectionsCoalesce's.)
func TestPacingAndHighWaterOneCollection(t *testing.T) {
	const limit = 1 << 30
	b, _ := newFakeBudget(t, limit)
	b.SetGCPercent(100)
	var running, most atomic.Int64
	gate := make(chan struct{})
	b.hooks.gc = func() {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-gate
		running.Add(-1)
	}
	var mu sync.Mutex
	l, err := lease.Open(b, &mu)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	managed := func(n int64) (wait bool) {
		mu.Lock()
		defer mu.Unlock()
		_, wait = l.Managed(n)
		return wait
	}

	// Crossing the high-water mark starts a collection, which blocks.
	hw := b.Stats().HighWater
	if !b.tryReserveNow(hw, hw) {
		t.Fatal("reserving up to the high-water mark failed")
	}
	// Pacing passes its goal, and twice it, meanwhile; goroutines that
	// would wait for the collection join the one running.
	if wait := managed(pacing.Floor); wait {
		t.Fatal("at the goal: wait = true")
	}
	if wait := managed(pacing.Floor); !wait {
		t.Fatal("at twice the goal: wait = false")
	}
	var joined sync.WaitGroup
	joined.Add(4)
	b.hooks.gcJoined = joined.Done
	var waiters sync.WaitGroup
	for range 4 {
		waiters.Add(1)
		go func() {
			defer waiters.Done()
			l.WaitCollection(context.Background())
		}()
	}
	joined.Wait()

	b.hooks.gcJoined = nil
	close(gate)
	waiters.Wait()
	waitCollections(b)
	s := b.Stats()
	if most.Load() != 1 {
		t.Errorf("%d collections ran at once, want 1", most.Load())
	}
	if s.BackgroundGCs != 1 || s.PacedGCs != 0 || s.ForcedGCs != 0 {
		t.Errorf("collections: background %d, paced %d, forced %d; want 1, 0, 0", s.BackgroundGCs, s.PacedGCs, s.ForcedGCs)
	}
	// With none in flight, pacing starts its own (the fake collection
	// began no cycle, so the count of this epoch stands).
	managed(pacing.Batch)
	waitCollections(b)
	if s := b.Stats(); s.PacedGCs != 1 {
		t.Errorf("after the high-water collection: %d paced collections, want 1", s.PacedGCs)
	}
	b.Unreserve(hw, hw)
	mu.Lock()
	l.Unmanaged(2*pacing.Floor+pacing.Batch, 0, true)
	mu.Unlock()
}
