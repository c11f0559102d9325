package heap

import (
	"testing"

	"github.com/offheap-go/offheap/pagealign"
)

// TestTakeLargeFresh maps a large block: page-aligned, of its size, said
// to be zero and zero, and going back to the shard it was taken from.
func TestTakeLargeFresh(t *testing.T) {
	h := newHeap(t)
	s := h.Shard(3)
	for _, n := range []int{MaxSmallSize + 1, 1 << 20, maxClassSize, maxClassSize + 1} {
		c, size, ok := SizeClass(n, 1)
		if !ok || c.IsSmall() || c == None {
			t.Fatalf("SizeClass(%d) = %d, %d, %v", n, c, size, ok)
		}
		mem, b, zeroed := takeLarge(t, h, s, c, size)
		if !zeroed || len(mem) != size || addrOf(mem)%uintptr(pagealign.PageSize()) != 0 {
			t.Fatalf("%d bytes: zeroed %v, len %d, at %#x", n, zeroed, len(mem), addrOf(mem))
		}
		if b.Shard() != s || b.slab != nil || b.large == nil || b.large.class != c {
			t.Fatalf("%d bytes: the block's shard is %v, its class %d", n, b.Shard(), b.large.class)
		}
		if mem[0] != 0 || mem[size-1] != 0 {
			t.Fatalf("%d bytes: a fresh mapping is not zero", n)
		}
		mem[0], mem[size-1] = 1, 1
		give(h, b)
	}
	checkAllFreed(t, h)
}

// TestLargeCacheBounded frees more large buffers than the cache holds and
// checks the bound, reuse, and FreeIdle emptying the cache.
func TestLargeCacheBounded(t *testing.T) {
	h := newHeap(t)
	s := h.Shard(0)
	const size = 1 << 20
	c := classOfSize(t, size)
	blocks := make([]Block, 2*maxCachedLarge/size)
	for i := range blocks {
		mem, b, _ := takeLarge(t, h, s, c, size)
		mem[size-1] = 1
		blocks[i] = b
	}
	cached := 0
	for _, b := range blocks {
		m := b.large
		if give(h, b) {
			cached++
		} else if m.mem != nil {
			t.Fatal("a large block Put did not keep was not unmapped")
		}
	}
	st := h.Stats()
	if cached != maxCachedLarge/size || st.CachedLarge != cached || st.CachedBytes != maxCachedLarge || h.cachedLarge.Load() != st.CachedBytes {
		t.Fatalf("%d of %d kept; the cache holds %+v (counter %d), bound %d", cached, len(blocks), st, h.cachedLarge.Load(), maxCachedLarge)
	}
	// The next buffer of the class reuses the most recently freed mapping.
	last := blocks[cached-1].large
	mem, b, zeroed := takeLarge(t, h, s, c, size)
	if zeroed || b.large != last || addrOf(mem) != addrOf(last.mem) {
		t.Fatalf("after the cache filled: zeroed %v, reused the last freed %v", zeroed, b.large == last)
	}
	if mem[size-1] != 1 {
		t.Fatal("a reused mapping lost its last user's byte before Zero")
	}
	h.Zero(mem, b)
	if j := firstNot(mem, 0); j >= 0 {
		t.Fatalf("reused large buffer not zeroed at %d: %#x", j, mem[j])
	}
	if h.cachedLarge.Load() != maxCachedLarge-size {
		t.Errorf("taking a cached mapping left the counter at %d", h.cachedLarge.Load())
	}
	give(h, b)
	checkAllFreed(t, h)
}

// TestPutLargeRefuses checks that Put keeps neither a block of no class
// nor one beyond the cache's bound, and that Unmap then unmaps it.
func TestPutLargeRefuses(t *testing.T) {
	h := newHeap(t)
	s := h.Shard(1)
	unmapped := func(b Block) {
		t.Helper()
		m := b.large
		s := b.Shard()
		s.Lock()
		kept := s.Put(b)
		s.Unlock()
		if kept {
			t.Fatalf("Put kept a %d-byte mapping of class %d", m.size(), m.class)
		}
		if m.mem == nil {
			t.Fatal("Put unmapped a mapping itself, under the lock")
		}
		h.Unmap(b)
		if m.mem != nil {
			t.Fatal("Unmap left the mapping's memory")
		}
	}

	// Above the largest class: no class, never cached.
	c, size, _ := SizeClass(maxClassSize+1, 1)
	if c != Uncached {
		t.Fatalf("SizeClass(%d) = %d, not Uncached", maxClassSize+1, c)
	}
	mem, b, zeroed := takeLarge(t, h, s, c, size)
	if !zeroed || b.Shard() != s {
		t.Fatalf("an uncached block: zeroed %v, shard %v", zeroed, b.Shard())
	}
	mem[size-1] = 1
	h.Zero(mem, b) // not a class: a plain clear
	if mem[size-1] != 0 {
		t.Fatal("Zero did not clear an uncached block")
	}
	unmapped(b)

	// The largest class fills the cache in maxCachedLarge/maxClassSize.
	top := Class(numClasses - 1)
	var blocks []Block
	for range maxCachedLarge/maxClassSize + 1 {
		_, b, _ := takeLarge(t, h, s, top, maxClassSize)
		blocks = append(blocks, b)
	}
	for _, b := range blocks[:len(blocks)-1] {
		if !give(h, b) {
			t.Fatal("Put did not keep a mapping within the bound")
		}
	}
	unmapped(blocks[len(blocks)-1])
	if st := h.Stats(); st.CachedBytes != maxCachedLarge || h.cachedLarge.Load() != maxCachedLarge {
		t.Fatalf("a refused Put changed the cache: %+v, counter %d", st, h.cachedLarge.Load())
	}
	checkAllFreed(t, h)
}

// TestLargeBlockHome checks that a large block goes back to the shard it
// was last taken from, even when its mapping came from another shard's
// cache, and that a shard's own cache is tried first.
func TestLargeBlockHome(t *testing.T) {
	h := newHeap(t)
	s0, s1 := h.Shard(0), h.Shard(1)
	const size = 256 << 10
	c := classOfSize(t, size)
	mem, b, _ := takeLarge(t, h, s0, c, size)
	m := b.large
	fill(mem, 0x5A)
	give(h, b)
	if len(s0.large[c-numSmallClasses]) != 1 || len(s1.large[c-numSmallClasses]) != 0 {
		t.Fatal("a large block did not go back to its shard's cache")
	}
	// Shard 1 has none of the class: it takes shard 0's.
	mem, b, zeroed := takeLarge(t, h, s1, c, size)
	if b.large != m || zeroed || b.Shard() != s1 {
		t.Fatalf("shard 1 took %v (shard 0's %v), zeroed %v, goes back to shard %d", b.large, m, zeroed, b.Shard().Index())
	}
	if len(s0.large[c-numSmallClasses]) != 0 {
		t.Fatal("a mapping taken from shard 0's cache is still there")
	}
	if j := firstNot(mem, 0x5A); j >= 0 {
		t.Fatalf("a cached mapping changed at %d", j)
	}
	give(h, b)
	if len(s0.large[c-numSmallClasses]) != 0 || len(s1.large[c-numSmallClasses]) != 1 {
		t.Fatal("a large block taken from shard 1 did not go back to shard 1's cache")
	}
	// Shard 1 takes its own cached mapping; shard 0, with none cached,
	// maps one. With one mapping in each cache, each shard takes its own.
	_, b1, _ := takeLarge(t, h, s1, c, size)
	_, b0, zeroed := takeLarge(t, h, s0, c, size)
	if b1.large != m || b0.large == m || !zeroed {
		t.Fatal("shard 1 did not take its own cached mapping")
	}
	give(h, b0)
	give(h, b1)
	_, b0, _ = takeLarge(t, h, s0, c, size)
	_, b1, _ = takeLarge(t, h, s1, c, size)
	if b1.large != m || b0.large == m || b1.Shard() != s1 || b0.Shard() != s0 {
		t.Fatal("with a mapping in each shard's cache, a shard did not take its own")
	}
	give(h, b0)
	give(h, b1)
	// A smaller request of a cached class gets the mapping cut to length.
	mem, b, _ = takeLarge(t, h, s0, c, size-100)
	if len(mem) != size-100 || b.large.size() != size {
		t.Fatalf("a cached mapping of %d bytes handed out as %d", b.large.size(), len(mem))
	}
	give(h, b)
	checkAllFreed(t, h)
}
