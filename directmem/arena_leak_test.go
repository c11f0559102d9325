package directmem

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/limits"
)

// An Arena is safe for concurrent use, so its Free may race with its first
// tracked Allocate, which makes the arena's leak record under the arena's
// lock. The release must therefore read the record under that lock too
// (arenaMem.release), and track must finish the record before publishing
// it. Before both were so, the Free could find no record and the Allocate
// then track an arena already freed (listed by Live() for good and, for an
// explicit-only arena, reported LeakLost once dropped), or the Free could
// read the record's lostReport while track was still writing it (a data
// race) and delete it from the live records before track stored it.

// TestArenaFreedDuringFirstTrackedAllocate frees the arena while its first
// tracked Allocate holds the arena's lock (clearing a reused 8 MiB
// mapping): the freed arena must not stay in Live() or, once dropped, be
// reported as lost.
func TestArenaFreedDuringFirstTrackedAllocate(t *testing.T) {
	c := trackLeaks(t, LeakSampled) // explicit-only arenas are always tracked
	budget := limits.NewBudget(1 << 30)
	const capacity = 8<<20 - 4091
	// A touched 8 MiB mapping in the large cache, so that the arena's
	// Allocate clears it (about a millisecond) under its lock.
	prime := func() {
		b, err := NewAllocator(Options{Budget: budget, NoCleaner: true}).Allocate(capacity)
		if err != nil {
			t.Fatal(err)
		}
		clear(b.Bytes())
		p := b.Bytes()
		for i := range p {
			p[i] = 1
		}
		b.Free()
	}
	const rounds = 5
	for range rounds {
		prime()
		ar := NewArena(Options{Budget: budget, NoCleaner: true})
		// Free once the Allocate holds the arena's lock.
		freeDuringAllocate(t, ar, capacity, func() bool {
			if ar.mem.mu.TryLock() {
				ar.mem.mu.Unlock()
				return false
			}
			return true
		})
	}
	if n := trackedArenas(capacity); n != 0 {
		t.Errorf("%d of %d freed arenas are still listed by Live()", n, rounds)
	}
	// The arenas are unreachable now; a false LeakLost report would come
	// within a couple of collections.
	for range 3 {
		drainGC(t)
	}
	if got := c.matching(capacity); len(got) != 0 {
		t.Errorf("%d reports for freed arenas, first: %v", len(got), got[0].Message())
	}
}

// TestArenaFreedAsItsRecordIsPublished frees the arena as soon as the
// Allocate has published its record, without synchronising with the rest
// of track: no data race on the record (under -race), and no record left
// in Live().
func TestArenaFreedAsItsRecordIsPublished(t *testing.T) {
	trackLeaks(t, LeakSampled)
	budget := limits.NewBudget(1 << 30)
	const capacity = 4093
	rounds := 3000
	if raceEnabled {
		rounds = 300
	}
	for range rounds {
		ar := NewArena(Options{Budget: budget, NoCleaner: true})
		freeDuringAllocate(t, ar, capacity, func() bool { return ar.own.rel.record() != nil })
	}
	if n := trackedArenas(capacity); n != 0 {
		t.Errorf("%d of %d freed arenas are still listed by Live()", n, rounds)
	}
}

// freeDuringAllocate runs ar.Allocate(capacity) on another goroutine and
// frees ar as soon as ready reports true (or the Allocate is over: then the
// round shows nothing).
func freeDuringAllocate(t *testing.T, ar *Arena, capacity int, ready func() bool) {
	t.Helper()
	var wg sync.WaitGroup
	var done atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		ar.Allocate(capacity)
		done.Store(true)
	}()
	for !done.Load() && !ready() {
		runtime.Gosched()
	}
	if err := ar.Free(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !ar.IsFreed() {
		t.Fatal("arena not freed")
	}
}

// trackedArenas is the number of arenas of capacity bytes that Live lists.
func trackedArenas(capacity int) int {
	n := 0
	for _, a := range Live() {
		if a.Arena && a.Capacity == int64(capacity) {
			n++
		}
	}
	return n
}
