// Size classes: every allocation rounded up to one.
// See heap.go for the overview.

package heap

import (
	"math/bits"

	"github.com/offheap-go/offheap/pagealign"
)

// Class is a size class: every allocation is rounded up to one, so that
// freed memory can be handed out again to any request of the same class.
//
// Classes are 16, 32, 48 and 64 bytes, then four per power of two: 2^k
// times 5/4, 6/4, 7/4 and 8/4 of 2^(k-1) (80, 96, 112, 128, 160, 192,
// 224, 256, 320, ...), up to 32 MiB. The spacing bounds the waste: a
// request of n > 64 bytes gets a class smaller than 1.25 n, so at most a
// fifth of a slot is rounding (the worst case is one byte over a power of
// two: 2^k+1 in a class of 1.25 * 2^k). Requests of 64 bytes or less
// waste at most 15 bytes.
//
// Classes up to MaxSmallSize (32 KiB, the first 40) are slots of slabs
// (slab.go). The classes above are large buffers, each its own mapping,
// kept in a bounded cache when freed (large.go); beyond maxClassSize a
// buffer is rounded up to whole pages only and never cached.
//
// Why 32 KiB: up to there a class's slots fill a 256 KiB slab with at most
// 1/16 of it left over, and a slot costs nothing the system sees; above it
// a buffer is at least 9 pages, zeroing it dwarfs an mmap amortised by the
// cache, and one mapping per buffer keeps a freed large buffer's pages
// returnable on their own.
type Class int16

const (
	minClassSize    = 16
	maxClassSize    = 32 << 20
	numSmallClasses = 40
	numClasses      = 80
	numLargeClasses = numClasses - numSmallClasses

	// MaxSmallSize is the largest small class: 32 KiB.
	MaxSmallSize = 32 << 10
	// LargestSmall is the class of MaxSmallSize bytes.
	LargestSmall Class = numSmallClasses - 1
)

// Pseudo-classes for allocations that are not in a class.
const (
	// None is the class of capacity 0: no memory at all.
	None Class = -1
	// Uncached is the class of buffers larger than the largest class:
	// page-rounded, mapped and unmapped each time.
	Uncached Class = -2
)

// IsSmall reports whether c is a small class, served from slabs.
func (c Class) IsSmall() bool { return c >= 0 && c < numSmallClasses }

// Size returns the bytes of a buffer of class c, or 0 for a pseudo-class
// (None, Uncached) or a number that is no class.
func (c Class) Size() int {
	if c < 0 || c >= numClasses {
		return 0
	}
	return classSizes[c]
}

// classSizes[c] is the size in bytes of class c.
var classSizes = func() (t [numClasses]int) {
	for c := range t {
		if c < 4 {
			t[c] = (c + 1) * minClassSize
			continue
		}
		k := c/4 + 6 // the class lies in (2^(k-1), 2^k]
		m := c%4 + 5 // as m quarters of 2^(k-1)
		t[c] = m << (k - 3)
	}
	return t
}()

// classOf returns the smallest class of at least n bytes, for
// 0 < n <= maxClassSize.
func classOf(n int) int {
	if n <= 64 {
		return (n - 1) >> 4
	}
	// 2^(k-1) < n <= 2^k, and the class is the first multiple of 2^(k-3)
	// at or above n, the q+1-th, with q = (n-1) / 2^(k-3) in [4, 7].
	k := bits.Len(uint(n - 1))
	q := (n - 1) >> (k - 3)
	return 4*(k-7) + q
}

// SizeClass returns the class of a buffer of capacity bytes aligned to
// align (a power of two no larger than the page size), and the bytes it
// takes. ok is false if that overflows. The class is the first at or
// above capacity rounded up to align, n, and its size is a multiple of
// align, so that slots, which start at multiples of their size from a page
// boundary, are aligned too. No search is needed for that: for n in
// (2^(k-1), 2^k] the classes are the multiples of 2^(k-3) (of 16 up to
// 64), so either align divides them all, or align > 2^(k-3) and n, a
// multiple of align, is itself a class (3*2^(k-2) or 2^k).
// TestSizeClassAlignment checks it for every n up to twice MaxSmallSize.
func SizeClass(capacity, align int) (class Class, size int, ok bool) {
	if capacity == 0 {
		return None, 0, true
	}
	n, ok := pagealign.AlignUpChecked(capacity, align)
	if !ok {
		return 0, 0, false
	}
	if n > maxClassSize {
		size, ok := pagealign.AlignUpChecked(n, pagealign.PageSize())
		return Uncached, size, ok
	}
	c := classOf(n)
	return Class(c), classSizes[c], true
}
