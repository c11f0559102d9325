package directmem

import (
	"bytes"
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/offheap-go/offheap/limits"
	"github.com/offheap-go/offheap/pagealign"
)

// addrOf is the address of a buffer's first byte, for overlap and alignment
// checks. The buffer must be live; the address is only compared.
func addrOf(b *Buffer) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b.mem))) }

func TestSizeClassTable(t *testing.T) {
	if len(classSizes) != numClasses || classSizes[numSmallClasses-1] != maxSmallSize || classSizes[numClasses-1] != maxClassSize {
		t.Fatalf("class table ends wrong: small max %d, max %d", classSizes[numSmallClasses-1], classSizes[numClasses-1])
	}
	for c := 1; c < numClasses; c++ {
		if classSizes[c] <= classSizes[c-1] || classSizes[c]%minClassSize != 0 {
			t.Fatalf("class %d = %d after %d", c, classSizes[c], classSizes[c-1])
		}
	}
	// Large classes are whole pages, so a mapping of a class is exactly it.
	for c := numSmallClasses; c < numClasses; c++ {
		if classSizes[c]%pagealign.PageSize() != 0 {
			t.Errorf("large class %d (%d bytes) is not whole pages", c, classSizes[c])
		}
	}
	// Small classes waste at most 1/16 of a slab at its end.
	for c := range numSmallClasses {
		if waste := slabSize % classSizes[c]; waste > slabSize/16 {
			t.Errorf("class %d (%d bytes) leaves %d bytes of a slab unused", c, classSizes[c], waste)
		}
	}
}

// TestClassOfIsTheSmallestFit checks classOf against a search of the table
// for every size up to 1 MiB and sampled sizes above, and the waste bound
// the documentation promises.
func TestClassOfIsTheSmallestFit(t *testing.T) {
	check := func(n int) {
		c := classOf(n)
		want, _ := slices.BinarySearch(classSizes[:], n)
		if c != want {
			t.Fatalf("classOf(%d) = %d (%d bytes), want %d (%d bytes)", n, c, classSizes[c], want, classSizes[want])
		}
		size := classSizes[c]
		if n > 64 && 4*size >= 5*n {
			t.Fatalf("class of %d bytes is %d: not below 1.25x", n, size)
		}
		if n <= 64 && size-n >= minClassSize {
			t.Fatalf("class of %d bytes is %d: wastes %d", n, size, size-n)
		}
	}
	for n := 1; n <= 1<<20; n++ {
		check(n)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(1 + r.IntN(maxClassSize))
	}
	check(maxClassSize)
}

func TestSizeClassAlignment(t *testing.T) {
	sizes := []int{1 << 20, 1<<20 + 1, 3 << 19, maxClassSize - 1, maxClassSize, maxClassSize + 1}
	for n := 1; n <= 2*maxSmallSize; n++ {
		sizes = append(sizes, n)
	}
	for align := 1; align <= pagealign.PageSize(); align *= 2 {
		for _, n := range sizes {
			c, size, ok := sizeClass(n, align)
			if !ok || size < n || size%align != 0 {
				t.Fatalf("sizeClass(%d, %d) = class %d, %d bytes, %v", n, align, c, size, ok)
			}
			if c >= 0 && size != classSizes[c] {
				t.Fatalf("sizeClass(%d, %d): size %d is not class %d's %d", n, align, size, c, classSizes[c])
			}
			if c >= 0 && c > 0 && classSizes[c-1] >= pagealign.AlignUp(n, align) && classSizes[c-1]%align == 0 {
				t.Fatalf("sizeClass(%d, %d) = %d, but class %d (%d) fits", n, align, size, c-1, classSizes[c-1])
			}
		}
	}
	if c, size, ok := sizeClass(0, 16); c != classNone || size != 0 || !ok {
		t.Errorf("sizeClass(0) = %d, %d, %v", c, size, ok)
	}
	if _, _, ok := sizeClass(int(^uint(0)>>1), 16); ok {
		t.Error("sizeClass of the largest int did not report overflow")
	}
}

// live is a buffer of the property test and what it must hold.
type live struct {
	b    *Buffer
	fill byte
}

// checkNoOverlap fails if any two live buffers share a byte of memory,
// counting each slot as its whole class size.
func checkNoOverlap(t *testing.T, bufs []live) {
	t.Helper()
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, l := range bufs {
		if n := len(l.b.mem); n > 0 {
			spans = append(spans, span{addrOf(l.b), addrOf(l.b) + uintptr(n)})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for i := 1; i < len(spans); i++ {
		if spans[i].lo < spans[i-1].hi {
			t.Fatalf("live buffers overlap: [%#x, %#x) and [%#x, %#x)", spans[i-1].lo, spans[i-1].hi, spans[i].lo, spans[i].hi)
		}
	}
}

// TestSlabProperties allocates and frees buffers of random sizes and
// alignments in random order and checks, at every step: each new buffer is
// zero, aligned and disjoint from every live one; every live buffer still
// holds what was written to it; and the budget's and pool's counters are
// exactly the sums over the live buffers.
func TestSlabProperties(t *testing.T) {
	drainGC(t)
	r := rand.New(rand.NewPCG(3, 4))
	budget := limits.NewBudget(1 << 40)
	pool0 := Stats()
	var allocs []*Allocator
	for align := 1; align <= pagealign.PageSize(); align *= 2 {
		allocs = append(allocs, NewAllocator(Options{Budget: budget, Alignment: align}))
	}
	allocs = append(allocs, NewAllocator(Options{Budget: budget, NoCleaner: true}))

	var bufs []live
	var count, capacity, used int64
	steps := 3000
	if testing.Short() {
		steps = 500
	}
	for step := range steps {
		if len(bufs) > 0 && r.IntN(3) == 0 {
			i := r.IntN(len(bufs))
			l := bufs[i]
			if got := l.b.Bytes(); !bytes.Equal(got, bytes.Repeat([]byte{l.fill}, len(got))) {
				t.Fatalf("step %d: buffer of %d bytes lost its contents", step, l.b.Capacity())
			}
			count--
			capacity -= int64(l.b.Capacity())
			used -= l.b.owner.rel.size
			if err := l.b.Free(); err != nil {
				t.Fatal(err)
			}
			bufs[i] = bufs[len(bufs)-1]
			bufs = bufs[:len(bufs)-1]
		} else {
			a := allocs[r.IntN(len(allocs))]
			var n int
			switch r.IntN(10) {
			case 0:
				n = 0
			case 1, 2:
				n = maxSmallSize/2 + r.IntN(3*maxSmallSize)
			default:
				n = 1 + r.IntN(2048)
			}
			b, err := a.Allocate(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if addrOf(b)%uintptr(a.align) != 0 && n > 0 {
				t.Fatalf("step %d: %d bytes at %#x, not %d-aligned", step, n, addrOf(b), a.align)
			}
			for i, v := range b.Bytes() {
				if v != 0 {
					t.Fatalf("step %d: new buffer of %d bytes has %#x at %d", step, n, v, i)
				}
			}
			fill := byte(1 + r.IntN(255))
			p := b.Bytes()
			for i := range p {
				p[i] = fill
			}
			bufs = append(bufs, live{b, fill})
			count++
			capacity += int64(n)
			used += b.owner.rel.size
			if c, size, _ := sizeClass(n, a.align); int64(max(size, 1)) != b.owner.rel.size || (c >= 0 && size != classSizes[c]) {
				t.Fatalf("step %d: %d bytes reserved %d, want the class size %d", step, n, b.owner.rel.size, size)
			}
		}
		s := budget.Stats()
		if s.Count != count || s.TotalCapacity != capacity || s.Reserved != used {
			t.Fatalf("step %d: budget %+v, want count %d, capacity %d, reserved %d", step, s, count, capacity, used)
		}
		p := Stats()
		if p.Count-pool0.Count != count || p.TotalCapacity-pool0.TotalCapacity != capacity || p.MemoryUsed-pool0.MemoryUsed != used {
			t.Fatalf("step %d: pool %+v (from %+v), want +%d buffers, +%d capacity, +%d used", step, p, pool0, count, capacity, used)
		}
		if step%100 == 0 {
			checkNoOverlap(t, bufs)
		}
	}
	checkNoOverlap(t, bufs)
	for _, l := range bufs {
		l.b.Free()
	}
	if s := budget.Stats(); s.Count != 0 || s.TotalCapacity != 0 || s.Reserved != 0 {
		t.Fatalf("budget after freeing everything: %+v", s)
	}
}

// TestSlotReuseIsZeroed frees a dirty slot and checks that the next buffer
// of the class, which is handed that slot first, is zeroed; and that with
// NoZero it is not cleared (the option's point).
func TestSlotReuseIsZeroed(t *testing.T) {
	budget := limits.NewBudget(1 << 30)
	for _, n := range []int{64, 4000, 100 << 10} {
		for _, noZero := range []bool{false, true} {
			a := NewAllocator(Options{Budget: budget, NoZero: noZero, NoCleaner: true})
			b1, err := a.Allocate(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			p := b1.Bytes()
			for i := range p {
				p[i] = 0xA5
			}
			at := addrOf(b1)
			b1.Free()
			b2, err := a.Allocate(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if addrOf(b2) != at {
				// Another goroutine's hint or a test running in parallel
				// took the slot; nothing to check.
				b2.Free()
				continue
			}
			zero := bytes.Count(b2.Bytes(), []byte{0}) == n
			if zero == noZero {
				t.Errorf("reused %d-byte slot with NoZero=%v: zeroed=%v", n, noZero, zero)
			}
			b2.Free()
		}
	}
}

// TestSlabHysteresis frees a burst of small buffers and checks that the
// heap keeps back at most maxEmptySlabBytes of empty slabs and one empty
// chunk per shard, gives the rest back at once, and unmaps the burst's
// memory once the scavenger has seen two collections.
func TestSlabHysteresis(t *testing.T) {
	h := theHeap
	bound := maxEmptySlabBytes.Load()
	maxEmptySlabBytes.Store(4 * slabSize)
	defer maxEmptySlabBytes.Store(bound)
	// Start from a heap without idle memory left by earlier tests.
	h.epoch.Add(2)
	h.trim()
	before := h.stats()
	a := NewAllocator(Options{Budget: limits.NewBudget(1 << 40), NoCleaner: true})
	const n = 200000 // 200000 x 112 bytes: 86 slabs, at least 5 new chunks
	bufs := make([]*Buffer, n)
	for i := range bufs {
		b, err := a.Allocate(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		bufs[i] = b
	}
	peak := h.stats()
	if peak.Chunks < before.Chunks+4 {
		t.Fatalf("a burst of %d buffers of 112 bytes mapped %d chunks (from %d)", n, peak.Chunks, before.Chunks)
	}
	for _, b := range bufs {
		b.Free()
	}
	after := h.stats()
	if kept := int64(after.EmptySlabs) * slabSize; kept > 4*slabSize || kept != h.emptySlabBytes.Load() {
		t.Errorf("%d empty slabs kept (counter %d bytes), bound %d bytes", after.EmptySlabs, h.emptySlabBytes.Load(), 4*slabSize)
	}
	if after.EmptyChunks > maxEmptyChunks*len(h.shards) {
		t.Errorf("%d empty chunks kept (at most %d a shard)", after.EmptyChunks, maxEmptyChunks)
	}
	if after.Chunks >= peak.Chunks {
		t.Errorf("nothing unmapped after the burst: %d chunks, %d at the peak", after.Chunks, peak.Chunks)
	}
	// Two collections' worth of epochs: everything idle goes.
	h.epoch.Add(2)
	h.trim()
	final := h.stats()
	if final.Chunks > before.Chunks || final.EmptyChunks != 0 || final.EmptySlabs != 0 || h.emptySlabBytes.Load() != 0 {
		t.Errorf("after the scavenger: %+v (before the burst: %+v)", final, before)
	}
}

// TestLargeCacheBounded frees more large buffers than the cache holds and
// checks the bound, reuse, and the scavenger emptying the cache.
func TestLargeCacheBounded(t *testing.T) {
	h := theHeap
	a := NewAllocator(Options{Budget: limits.NewBudget(1 << 40), NoCleaner: true})
	const size = 1 << 20
	bufs := make([]*Buffer, 2*maxCachedLarge/size)
	for i := range bufs {
		b, err := a.Allocate(context.Background(), size)
		if err != nil {
			t.Fatal(err)
		}
		b.PutAt(size-1, 1)
		bufs[i] = b
	}
	for _, b := range bufs {
		b.Free()
	}
	if st := h.stats(); st.CachedBytes > maxCachedLarge || h.cachedLarge.Load() != st.CachedBytes {
		t.Fatalf("cache holds %d bytes (counter %d), bound %d", st.CachedBytes, h.cachedLarge.Load(), maxCachedLarge)
	}
	// The next buffer of the class reuses a cached mapping, cleared.
	b, err := a.Allocate(context.Background(), size)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := b.GetAt(size - 1); v != 0 {
		t.Errorf("reused large buffer not zeroed: %d", v)
	}
	b.Free()
	h.epoch.Add(2)
	h.trim()
	if st := h.stats(); st.CachedLarge != 0 || st.CachedBytes != 0 || h.cachedLarge.Load() != 0 {
		t.Errorf("after the scavenger the cache holds %+v", st)
	}
}

func TestShardHintSpreadsGoroutines(t *testing.T) {
	var mu sync.Mutex
	seen := map[uint32]bool{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := shardHint() & theHeap.mask
			mu.Lock()
			seen[h] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) < 2 {
		t.Errorf("16 goroutines all hashed to shard %v", seen)
	}
	if a, b := shardHint(), shardHint(); a != b {
		t.Errorf("one goroutine, same depth: hints %d and %d", a, b)
	}
}

// TestClearTouched dirties reused large mappings in several patterns (one
// page, every page, scattered pages, more runs than the scan accepts, a
// length that ends inside a page) and checks that clearTouched leaves every
// byte of the requested length zero.
func TestClearTouched(t *testing.T) {
	ps := pagealign.PageSize()
	const size = 3 << 20 // more than one scan window
	region, err := pagealign.Map(size)
	if err != nil {
		t.Fatal(err)
	}
	defer pagealign.Unmap(region)
	npages := size / ps
	patterns := map[string]func(p int) bool{
		"none":      func(p int) bool { return false },
		"first":     func(p int) bool { return p == 0 },
		"all":       func(p int) bool { return true },
		"scattered": func(p int) bool { return p%97 == 3 },
		"alternate": func(p int) bool { return p%2 == 0 },
		"tail":      func(p int) bool { return p > npages-5 },
	}
	for name, touched := range patterns {
		for _, n := range []int{size, size - 100, 100 << 10, 64 << 10, 5000} {
			for p := range npages {
				if touched(p) {
					region[p*ps] = 0xEE
					region[p*ps+ps-1] = 0xEE
				}
			}
			clearTouched(region[:n])
			for i, v := range region[:n] {
				if v != 0 {
					t.Fatalf("%s, %d bytes: byte %d is %#x after clearTouched", name, n, i, v)
				}
			}
			clear(region) // the tail past n, for the next round
		}
	}
}
