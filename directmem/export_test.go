package directmem

import "github.com/offheap-go/offheap/directmem/internal/heap"

// classSizes is the size of every class, smallest first; the first
// numSmallClasses are small (slabs).
var classSizes, numSmallClasses = func() (sizes []int, small int) {
	for c := heap.Class(0); c.Size() > 0; c++ {
		sizes = append(sizes, c.Size())
		if c.IsSmall() {
			small++
		}
	}
	return sizes, small
}()

// heapRel returns the release of an Allocator's buffer (or of a view of
// one), or nil for any other buffer.
func heapRel(b *Buffer) *heapRelease {
	if x, ok := b.owner.rel.(*allocation); ok {
		return &x.rel
	}
	return nil
}

// theHeap is the heap every Allocator and Arena takes from.
var theHeap = procMemory.heap

// anchorOf returns the anchor of an Allocator's buffer, nil if it has none.
func anchorOf(b *Buffer) *anchor {
	if x, ok := b.owner.rel.(*allocation); ok {
		return x.an
	}
	return nil
}

func sizeClass(capacity, align int) (heap.Class, int, bool) { return heap.SizeClass(capacity, align) }

// testRelease is a releaser with nothing to give back, for tests of the
// leak-detection hook on owners of their own.
type testRelease struct{ track *allocRecord }

func (r *testRelease) release(byHand bool) {
	if r.track != nil {
		r.track.released(byHand)
	}
}

func (r *testRelease) record() *allocRecord { return r.track }

// newTestOwner returns an owner with a testRelease, tracked as an
// allocation of capacity bytes as the allocator would track it.
func newTestOwner(capacity int64, arena, explicitOnly bool) (*owner, *testRelease) {
	r := &testRelease{}
	o := &owner{arena: arena, rel: r}
	r.track = trackAllocation(o, capacity, explicitOnly)
	return o, r
}
