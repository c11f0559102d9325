package heap

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/offheap-go/offheap/pagealign"
)

func TestSizeClassTable(t *testing.T) {
	if len(classSizes) != numClasses || classSizes[LargestSmall] != MaxSmallSize || classSizes[numClasses-1] != maxClassSize {
		t.Fatalf("class table ends wrong: small max %d, max %d", classSizes[LargestSmall], classSizes[numClasses-1])
	}
	if numSmallClasses+numLargeClasses != numClasses || classSizes[0] != minClassSize {
		t.Fatalf("%d small and %d large classes of %d; the first is %d bytes", numSmallClasses, numLargeClasses, numClasses, classSizes[0])
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
	for c := Class(-3); c <= numClasses; c++ {
		if want := c >= 0 && int(c) < numSmallClasses; c.IsSmall() != want {
			t.Errorf("Class(%d).IsSmall() = %v", c, c.IsSmall())
		}
	}
	if None.IsSmall() || Uncached.IsSmall() || !LargestSmall.IsSmall() || (LargestSmall + 1).IsSmall() {
		t.Error("IsSmall of the pseudo-classes or the boundary is wrong")
	}
	for c := Class(-3); c <= numClasses; c++ {
		want := 0
		if c >= 0 && c < numClasses {
			want = classSizes[c]
		}
		if c.Size() != want {
			t.Errorf("Class(%d).Size() = %d, want %d", c, c.Size(), want)
		}
	}
	if LargestSmall.Size() != MaxSmallSize || None.Size() != 0 || Uncached.Size() != 0 {
		t.Error("Size of the largest small class or a pseudo-class is wrong")
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
	for c := range numClasses {
		check(classSizes[c])
		check(classSizes[c] + 1 - min(c, 1)) // one past each class but the last
	}
}

// TestSizeClassAlignment checks SizeClass for every size up to twice
// MaxSmallSize and every alignment: the size is the class's, a multiple of
// the alignment, and no smaller class would do.
func TestSizeClassAlignment(t *testing.T) {
	ps := pagealign.PageSize()
	sizes := []int{1 << 20, 1<<20 + 1, 3 << 19, maxClassSize - 1, maxClassSize, maxClassSize + 1, maxClassSize + ps + 1}
	for n := 1; n <= 2*MaxSmallSize; n++ {
		sizes = append(sizes, n)
	}
	for align := 1; align <= ps; align *= 2 {
		for _, n := range sizes {
			c, size, ok := SizeClass(n, align)
			if !ok || size < n || size%align != 0 {
				t.Fatalf("SizeClass(%d, %d) = class %d, %d bytes, %v", n, align, c, size, ok)
			}
			if c == Uncached {
				if n <= maxClassSize || size%ps != 0 || size-n >= ps {
					t.Fatalf("SizeClass(%d, %d) = Uncached, %d bytes", n, align, size)
				}
				continue
			}
			if c < 0 || c >= numClasses || size != classSizes[c] || size != c.Size() {
				t.Fatalf("SizeClass(%d, %d): class %d, size %d", n, align, c, size)
			}
			if c.IsSmall() != (size <= MaxSmallSize) {
				t.Fatalf("SizeClass(%d, %d) = class %d of %d bytes, small %v", n, align, c, size, c.IsSmall())
			}
			if c > 0 && classSizes[c-1] >= pagealign.AlignUp(n, align) && classSizes[c-1]%align == 0 {
				t.Fatalf("SizeClass(%d, %d) = %d, but class %d (%d) fits", n, align, size, c-1, classSizes[c-1])
			}
		}
	}
	if c, size, ok := SizeClass(0, 16); c != None || size != 0 || !ok {
		t.Errorf("SizeClass(0) = %d, %d, %v", c, size, ok)
	}
	maxInt := int(^uint(0) >> 1)
	if _, _, ok := SizeClass(maxInt, 16); ok {
		t.Error("SizeClass of the largest int did not report overflow")
	}
	// Beyond the classes the page rounding may overflow too.
	if _, _, ok := SizeClass(maxInt-ps+2, 1); ok {
		t.Error("SizeClass of a size whose page rounding overflows did not report it")
	}
}
