package heap

import (
	"math"
	"testing"
)

func TestIdleSince(t *testing.T) {
	for _, tc := range []struct {
		since, now uint32
		idle       bool
	}{
		{5, 5, false}, {5, 6, false}, {5, 7, true}, {5, 100, true},
		{math.MaxUint32, 0, false}, {math.MaxUint32, 1, true}, {math.MaxUint32 - 1, 0, true},
	} {
		if got := idleSince(tc.since, tc.now); got != tc.idle {
			t.Errorf("idleSince(%d, %d) = %v", tc.since, tc.now, got)
		}
	}
}

// idleHeap makes a heap holding each kind of idle memory the scavenger
// gives back, and a slot still in use (on shard 2): on shard 0 an empty
// slab kept in its class's list and an empty current slab; on shard 5 an
// empty chunk and an empty current slab; on both, cached large mappings.
func idleHeap(t *testing.T) (h *Heap, inUse []byte, inUseBlock Block) {
	t.Helper()
	h = newHeap(t)
	h.maxEmptySlabBytes.Store(slabSize) // shard 0's slab fills the bound
	per := slabSize / MaxSmallSize
	for _, tc := range []struct {
		s     *Shard
		slots int
	}{
		{h.Shard(0), per + 1},               // a full slab, then one slot of the next
		{h.Shard(5), slabsPerChunk*per + 1}, // a full chunk, then one slot of the next
	} {
		var blocks []Block
		for range tc.slots {
			_, b, _ := takeSmall(t, tc.s, LargestSmall)
			blocks = append(blocks, b)
		}
		for _, b := range blocks {
			give(h, b)
		}
	}
	var large []Block
	for _, s := range []*Shard{h.Shard(0), h.Shard(5)} {
		for _, n := range []int{64 << 10, 1 << 20} {
			_, b, _ := takeLarge(t, h, s, classOfSize(t, n), n)
			large = append(large, b)
		}
	}
	for _, b := range large {
		give(h, b)
	}
	inUse, inUseBlock, _ = takeSmall(t, h.Shard(2), 3)
	fill(inUse, 0x77)
	want := Stats{Chunks: 4, EmptyChunks: 1, EmptySlabs: 1, CachedLarge: 4, CachedBytes: 2 * (64<<10 + 1<<20)}
	if st := h.Stats(); st != want {
		t.Fatalf("the idle heap is %+v, not what the test means: %+v", st, want)
	}
	return h, inUse, inUseBlock
}

// TestFreeIdleGivesBackEverything checks that FreeIdle gives back every
// idle chunk, empty slab and cached mapping, and nothing in use.
func TestFreeIdleGivesBackEverything(t *testing.T) {
	h, mem, b := idleHeap(t)
	h.FreeIdle()
	if st := h.Stats(); st != (Stats{Chunks: 1}) {
		t.Errorf("after FreeIdle with one slot in use: %+v", st)
	}
	if h.emptySlabBytes.Load() != 0 || h.cachedLarge.Load() != 0 {
		t.Errorf("after FreeIdle the heap counts %d bytes of empty slabs and %d cached", h.emptySlabBytes.Load(), h.cachedLarge.Load())
	}
	for i := range h.NumShards() {
		s := h.Shard(i)
		for c := range s.classes {
			if cs := &s.classes[c]; cs.empty.head != nil || (cs.cur != nil && cs.cur.inuse == 0) {
				t.Errorf("shard %d class %d keeps an empty slab", i, c)
			}
		}
	}
	if j := firstNot(mem, 0x77); j >= 0 {
		t.Fatalf("FreeIdle changed a slot in use at %d", j)
	}
	give(h, b)
	checkAllFreed(t, h)
	// The heap works on after giving everything back.
	mem, b, zeroed := takeSmall(t, h.Shard(0), LargestSmall)
	if !zeroed || firstNot(mem, 0) >= 0 {
		t.Error("the first slot after FreeIdle emptied the heap is not fresh")
	}
	give(h, b)
	checkAllFreed(t, h)
}

// TestTrimWaitsForAWholeCycle checks that idle memory survives the
// collection it went idle in, and goes at the next.
func TestTrimWaitsForAWholeCycle(t *testing.T) {
	h, _, b := idleHeap(t)
	before := h.Stats()
	h.epoch.Add(1)
	h.trim()
	if st := h.Stats(); st != before {
		t.Errorf("idle for part of a cycle, given back: %+v, was %+v", st, before)
	}
	h.epoch.Add(1)
	h.trim()
	if st := h.Stats(); st != (Stats{Chunks: 1}) {
		t.Errorf("idle for a whole cycle, kept: %+v", st)
	}
	// Memory that goes idle now waits for a whole cycle from now.
	_, lb, _ := takeLarge(t, h, h.Shard(0), classOfSize(t, 1<<20), 1<<20)
	give(h, lb)
	h.epoch.Add(1)
	h.trim()
	if st := h.Stats(); st.CachedLarge != 1 {
		t.Errorf("a mapping cached in this cycle was given back: %+v", st)
	}
	give(h, b)
	checkAllFreed(t, h)
}

// TestScavengerStarts checks that the heap arms its scavenger when it first
// holds memory that may go idle, and not before.
func TestScavengerStarts(t *testing.T) {
	h := New(1)
	if h.scavenging.Load() {
		t.Fatal("a new heap has a scavenger")
	}
	_, b, _ := takeSmall(t, h.Shard(0), 0)
	if !h.scavenging.Load() {
		t.Fatal("mapping a chunk did not start the scavenger")
	}
	give(h, b)
	checkAllFreed(t, h)

	h = New(1)
	_, b, _ = takeLarge(t, h, h.Shard(0), classOfSize(t, 64<<10), 64<<10)
	if h.scavenging.Load() {
		t.Fatal("a mapping handed out started the scavenger")
	}
	give(h, b)
	if !h.scavenging.Load() {
		t.Fatal("caching a mapping did not start the scavenger")
	}
	checkAllFreed(t, h)
}

// TestCloseCollectionsAreOneEpoch: collections less than minEpoch apart
// (a budget pacing them starts one every few milliseconds) advance the
// epoch once, so that idle memory is not given back after a few
// milliseconds only to be faulted in again.
func TestCloseCollectionsAreOneEpoch(t *testing.T) {
	h := newHeap(t)
	e := h.epoch.Load()
	t0 := int64(minEpoch) * 10
	h.tick(t0)
	h.tick(t0 + int64(minEpoch)/2)
	h.tick(t0 + int64(minEpoch) - 1)
	if got := h.epoch.Load() - e; got != 1 {
		t.Fatalf("three collections within minEpoch advanced the epoch %d times, want 1", got)
	}
	h.tick(t0 + int64(minEpoch))
	if got := h.epoch.Load() - e; got != 2 {
		t.Fatalf("a collection minEpoch later: epoch advanced %d times in all, want 2", got)
	}
}
