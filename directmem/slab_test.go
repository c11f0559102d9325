package directmem

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/offheap-go/offheap/directmem/internal/heap"
	"github.com/offheap-go/offheap/limits"
	"github.com/offheap-go/offheap/pagealign"
)

// addrOf is the address of a buffer's first byte, for overlap and alignment
// checks. The buffer must be live; the address is only compared.
func addrOf(b *Buffer) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b.mem))) }

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
			used -= heapRel(l.b).size
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
				n = heap.MaxSmallSize/2 + r.IntN(3*heap.MaxSmallSize)
			default:
				n = 1 + r.IntN(2048)
			}
			b, err := a.Allocate(n)
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
			used += heapRel(b).size
			if c, size, _ := sizeClass(n, a.align); int64(max(size, 1)) != heapRel(b).size || (c >= 0 && size != classSizes[c]) {
				t.Fatalf("step %d: %d bytes reserved %d, want the class size %d", step, n, heapRel(b).size, size)
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
			b1, err := a.Allocate(n)
			if err != nil {
				t.Fatal(err)
			}
			p := b1.Bytes()
			for i := range p {
				p[i] = 0xA5
			}
			at := addrOf(b1)
			b1.Free()
			b2, err := a.Allocate(n)
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
