package heap

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/offheap-go/offheap/pagealign"
)

// liveSlot is a slot the property test holds and what it wrote there.
type liveSlot struct {
	mem  []byte
	b    Block
	s    *Shard
	fill byte
}

// checkSlot fails unless mem is the slot of b: inside its slab and its
// chunk, at a multiple of its class's size from the slab's start, aligned
// as SizeClass promises (to the largest power of two dividing the size, up
// to a page), and with length and capacity the class's size.
func checkSlot(t *testing.T, mem []byte, b Block, c Class) {
	t.Helper()
	sl := b.slab
	if sl == nil || b.large != nil {
		t.Fatalf("a slot of class %d has no slab", c)
	}
	size := classSizes[c]
	if int(sl.class) != int(c) || int(sl.size) != size || len(mem) != size || cap(mem) != size {
		t.Fatalf("slot of class %d (%d bytes): slab of class %d (%d bytes), len %d, cap %d", c, size, sl.class, sl.size, len(mem), cap(mem))
	}
	a, lo := addrOf(mem), addrOf(sl.mem)
	if a < lo || a+uintptr(size) > lo+slabSize || len(sl.mem) != slabSize {
		t.Fatalf("slot [%#x, %#x) outside its slab [%#x, %#x)", a, a+uintptr(size), lo, lo+slabSize)
	}
	if clo := addrOf(sl.chunk.mem); lo < clo || lo+slabSize > clo+chunkSize || (lo-clo)%slabSize != 0 {
		t.Fatalf("slab at %#x is not a slab of its chunk at %#x", lo, clo)
	}
	if off := a - lo; off != uintptr(b.slot)*uintptr(size) {
		t.Fatalf("slot %d of %d bytes at offset %d of its slab", b.slot, size, off)
	}
	align := min(size&-size, pagealign.PageSize())
	if a%uintptr(align) != 0 {
		t.Fatalf("slot of %d bytes at %#x is not %d-aligned", size, a, align)
	}
}

// TestTakeSmallProperties takes and gives back slots of random classes on
// random shards in random order, and checks at every step: a slot is its
// slab's and aligned, overlaps no live slot, and comes back to the shard
// it was taken from; its contents survive until it is given back; a slot
// said to be zero is, and Zero clears one that is not. With the default
// bound nothing is given back to the system, so the zeroed flag is exact:
// false for a slot handed out before (which still holds what its last user
// wrote), true for one never handed out of a slab never emptied. With
// "release", slabs go back to their chunks and chunks are unmapped as they
// empty, and FreeIdle runs now and then.
func TestTakeSmallProperties(t *testing.T) {
	for _, release := range []bool{false, true} {
		t.Run(fmt.Sprintf("release=%v", release), func(t *testing.T) {
			testTakeSmallProperties(t, release)
		})
	}
}

func testTakeSmallProperties(t *testing.T, release bool) {
	h := newHeap(t)
	if release {
		h.maxEmptySlabBytes.Store(slabSize)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var live []liveSlot
	lastFill := map[uintptr]byte{} // what was last written to each slot handed out
	emptied := map[*slab]bool{}    // slabs that have been empty since first used
	steps := 6000
	if testing.Short() {
		steps = 1500
	}
	zeroedSeen, reusedSeen := 0, 0
	for step := range steps {
		if len(live) > 0 && r.IntN(100) < 45 {
			i := r.IntN(len(live))
			l := live[i]
			if j := firstNot(l.mem, l.fill); j >= 0 {
				t.Fatalf("step %d: slot of %d bytes lost its contents at %d: %#x, want %#x", step, len(l.mem), j, l.mem[j], l.fill)
			}
			if l.b.Shard() != l.s {
				t.Fatalf("step %d: a block of shard %d goes back to shard %d", step, l.s.Index(), l.b.Shard().Index())
			}
			sl := l.b.slab
			if !give(h, l.b) {
				t.Fatalf("step %d: Put did not keep a slot", step)
			}
			if sl.inuse == 0 {
				emptied[sl] = true
			}
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
		} else {
			var c Class
			align := 1
			switch r.IntN(3) {
			case 0: // the classes with few slots a slab, so that slabs fill and empty
				c = LargestSmall - Class(r.IntN(6))
			case 1:
				c = Class(r.IntN(numSmallClasses))
			default: // a request, with an alignment
				align = 1 << r.IntN(13)
				var size int
				var ok bool
				c, size, ok = SizeClass(1+r.IntN(MaxSmallSize), min(align, pagealign.PageSize()))
				if !ok || !c.IsSmall() || size != classSizes[c] {
					t.Fatalf("step %d: SizeClass gave class %d, %d bytes, %v", step, c, size, ok)
				}
				align = min(align, pagealign.PageSize())
			}
			s := h.Shard(r.IntN(h.NumShards()))
			mem, b, zeroed := takeSmall(t, s, c)
			checkSlot(t, mem, b, c)
			if addrOf(mem)%uintptr(align) != 0 {
				t.Fatalf("step %d: slot for a %d-aligned request at %#x", step, align, addrOf(mem))
			}
			if b.Shard() != s {
				t.Fatalf("step %d: a slot taken from shard %d goes back to shard %d", step, s.Index(), b.Shard().Index())
			}
			a := addrOf(mem)
			for _, l := range live {
				if la := addrOf(l.mem); a < la+uintptr(len(l.mem)) && la < a+uintptr(len(mem)) {
					t.Fatalf("step %d: slot [%#x, %#x) overlaps live slot [%#x, %#x)", step, a, a+uintptr(len(mem)), la, la+uintptr(len(l.mem)))
				}
			}
			prev, seen := lastFill[a]
			if zeroed {
				zeroedSeen++
				if j := firstNot(mem, 0); j >= 0 {
					t.Fatalf("step %d: slot of %d bytes said zero has %#x at %d", step, len(mem), mem[j], j)
				}
			}
			if !release {
				switch {
				case seen && zeroed:
					t.Fatalf("step %d: a slot handed out before is said to be zero", step)
				case seen:
					reusedSeen++
					if j := firstNot(mem, prev); j >= 0 {
						t.Fatalf("step %d: reused slot has %#x at %d, not its last user's %#x", step, mem[j], j, prev)
					}
				case !zeroed && !emptied[b.slab]:
					t.Fatalf("step %d: slot %d of a slab never emptied, never handed out, said not zero", step, b.slot)
				}
			}
			if !zeroed {
				h.Zero(mem, b)
				if j := firstNot(mem, 0); j >= 0 {
					t.Fatalf("step %d: Zero left %#x at %d of a %d-byte slot", step, mem[j], j, len(mem))
				}
			}
			f := byte(1 + r.IntN(255))
			fill(mem, f)
			lastFill[a] = f
			live = append(live, liveSlot{mem, b, s, f})
		}
		if release && step%500 == 499 {
			h.FreeIdle()
		}
		if step%250 == 0 {
			if st := h.Stats(); int64(st.EmptySlabs)*slabSize != h.emptySlabBytes.Load() || h.emptySlabBytes.Load() > h.maxEmptySlabBytes.Load() {
				t.Fatalf("step %d: %d empty slabs kept, counter %d bytes, bound %d", step, st.EmptySlabs, h.emptySlabBytes.Load(), h.maxEmptySlabBytes.Load())
			}
		}
	}
	if zeroedSeen == 0 || (!release && reusedSeen == 0) {
		t.Errorf("the test saw %d fresh slots and %d reused ones: it tests too little", zeroedSeen, reusedSeen)
	}
	for _, l := range live {
		if j := firstNot(l.mem, l.fill); j >= 0 {
			t.Fatalf("at the end: slot of %d bytes lost its contents at %d", len(l.mem), j)
		}
		give(h, l.b)
	}
	checkAllFreed(t, h)
}

// TestSlabReuseFreshness empties a slab of the largest small class and
// takes its slots again: kept in the class's empty list, the slab is
// reused as it is, its slots not zero and still holding their old bytes;
// given back to its chunk (a bound of zero), its pages went back to the
// system, so on Linux they come back fresh and said to be zero.
func TestSlabReuseFreshness(t *testing.T) {
	for _, kept := range []bool{true, false} {
		t.Run(fmt.Sprintf("kept=%v", kept), func(t *testing.T) {
			h := newHeap(t)
			if !kept {
				h.maxEmptySlabBytes.Store(0)
			}
			s := h.Shard(1)
			c := LargestSmall
			per := int(slabSize / classSizes[c])
			var first []Block
			var firstMem [][]byte
			for range per {
				mem, b, zeroed := takeSmall(t, s, c)
				if !zeroed {
					t.Fatal("a slot of a new chunk is not said to be zero")
				}
				fill(mem, 0xA5)
				first = append(first, b)
				firstMem = append(firstMem, mem)
			}
			// The next slot makes a second slab current; the first, full,
			// empties as its slots come back.
			_, next, _ := takeSmall(t, s, c)
			second := []Block{next}
			if next.slab == first[0].slab {
				t.Fatal("a full slab handed out another slot")
			}
			for _, b := range first {
				give(h, b)
			}
			st := h.Stats()
			if kept && (st.EmptySlabs != 1 || first[0].slab.where != slabEmpty) {
				t.Fatalf("an emptied slab within the bound was not kept: %+v", st)
			}
			if !kept && (st.EmptySlabs != 0 || first[0].slab.where != slabUnused || h.emptySlabBytes.Load() != 0) {
				t.Fatalf("an emptied slab beyond the bound was kept: %+v", st)
			}
			// Fill the second slab, then take the first one's memory again.
			for range per - 1 {
				_, b, zeroed := takeSmall(t, s, c)
				if !zeroed || b.slab != next.slab {
					t.Fatalf("the second slab's fresh slots: zeroed %v, same slab %v", zeroed, b.slab == next.slab)
				}
				second = append(second, b)
			}
			var again []Block
			for i := range per {
				m, b, zeroed := takeSmall(t, s, c)
				again = append(again, b)
				if addrOf(m) != addrOf(firstMem[i]) {
					t.Fatalf("slot %d of the refilled slab is at %#x, not the first slab's %#x", i, addrOf(m), addrOf(firstMem[i]))
				}
				switch {
				case kept && zeroed:
					t.Fatalf("slot %d of a kept empty slab said to be zero", i)
				case kept:
					if j := firstNot(m, 0xA5); j >= 0 {
						t.Fatalf("slot %d of a kept empty slab changed at %d", i, j)
					}
					h.Zero(m, b)
				case zeroed != dontNeedZeroes:
					t.Fatalf("slot %d of a slab given back to the system: zeroed %v", i, zeroed)
				case !zeroed:
					h.Zero(m, b)
				}
				if j := firstNot(m, 0); j >= 0 {
					t.Fatalf("slot %d of the refilled slab has %#x at %d after Zero", i, m[j], j)
				}
			}
			for _, b := range append(second, again...) {
				give(h, b)
			}
			checkAllFreed(t, h)
		})
	}
}

// TestSlabHysteresis frees a burst of small buffers and checks that the
// heap keeps back at most maxEmptySlabBytes of empty slabs and one empty
// chunk per shard, gives the rest back at once, and unmaps the burst's
// memory once it has been idle through a collection cycle.
func TestSlabHysteresis(t *testing.T) {
	h := newHeap(t)
	h.maxEmptySlabBytes.Store(4 * slabSize)
	c, _, _ := SizeClass(100, 1)
	s := h.ShardFor(Hint())
	const n = 200000 // 200000 x 112 bytes: 86 slabs, at least 5 new chunks
	blocks := make([]Block, n)
	s.Lock()
	for i := range blocks {
		_, b, _, err := s.TakeSmall(c)
		if err != nil {
			s.Unlock()
			t.Fatal(err)
		}
		blocks[i] = b
	}
	s.Unlock()
	peak := h.Stats()
	if peak.Chunks < 5 || peak.EmptySlabs != 0 {
		t.Fatalf("a burst of %d buffers of 112 bytes: %+v", n, peak)
	}
	s.Lock()
	for _, b := range blocks {
		if !s.Put(b) {
			t.Error("Put did not keep a slot")
		}
	}
	s.Unlock()
	after := h.Stats()
	if kept := int64(after.EmptySlabs) * slabSize; kept > 4*slabSize || kept != h.emptySlabBytes.Load() {
		t.Errorf("%d empty slabs kept (counter %d bytes), bound %d bytes", after.EmptySlabs, h.emptySlabBytes.Load(), 4*slabSize)
	}
	if after.EmptyChunks > maxEmptyChunks*h.NumShards() {
		t.Errorf("%d empty chunks kept (at most %d a shard)", after.EmptyChunks, maxEmptyChunks)
	}
	if after.Chunks >= peak.Chunks {
		t.Errorf("nothing unmapped after the burst: %d chunks, %d at the peak", after.Chunks, peak.Chunks)
	}
	// One collection is not a whole cycle: everything stays.
	h.epoch.Add(1)
	h.trim()
	if st := h.Stats(); st != after {
		t.Errorf("after one collection: %+v, was %+v", st, after)
	}
	// Two are: everything idle goes.
	h.epoch.Add(1)
	h.trim()
	if final := h.Stats(); final != (Stats{}) || h.emptySlabBytes.Load() != 0 {
		t.Errorf("after the scavenger: %+v (%d bytes of empty slabs counted)", final, h.emptySlabBytes.Load())
	}
}

// TestSlotPutTwicePanics gives a slot back twice, and a slot never handed
// out once: slab.put's check panics rather than corrupt the slab.
func TestSlotPutTwicePanics(t *testing.T) {
	h := newHeap(t)
	s := h.Shard(0)
	c := LargestSmall
	mustPanic := func(what string, b Block) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		s.Lock()
		defer s.Unlock()
		s.Put(b)
	}

	// The only slot of the current slab.
	_, b, _ := takeSmall(t, s, c)
	give(h, b)
	mustPanic("a slot of the current slab given back twice", b)

	// A slot past the slab's bump: never handed out.
	mustPanic("a slot never handed out", Block{slab: b.slab, slot: b.slab.bump})

	// A slot of a slab that went to the empty list when it came back.
	per := int(slabSize / classSizes[c])
	var full []Block
	for range per + 1 { // the first slab's 8 (one reused), then one of a second
		_, b, _ := takeSmall(t, s, c)
		full = append(full, b)
	}
	first := full[0].slab
	for _, b := range full[:per] {
		give(h, b)
	}
	if first.where != slabEmpty {
		t.Fatalf("the emptied slab is in state %d, not kept empty", first.where)
	}
	mustPanic("a slot of a kept empty slab given back twice", full[0])
	give(h, full[per])
	checkAllFreed(t, h)
}

// TestSlotPutTwiceWhileOthersInUse shows what slab.put's check does not
// catch: a slot given back twice while another slot of its slab is out
// lands in the free list twice, and is then handed out to two owners.
func TestSlotPutTwiceWhileOthersInUse(t *testing.T) {
	t.Skip("known gap, reported to the lead: slab.put checks only inuse == 0 and idx >= bump")
	h := newHeap(t)
	s := h.Shard(0)
	_, a, _ := takeSmall(t, s, LargestSmall)
	_, other, _ := takeSmall(t, s, LargestSmall)
	give(h, a)
	defer func() {
		if recover() == nil {
			// The slab's count is now off by one: leave it alone.
			t.Error("a slot given back twice while its slab has another slot out did not panic")
			return
		}
		give(h, other)
	}()
	give(h, a)
}
