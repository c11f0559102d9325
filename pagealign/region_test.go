package pagealign_test

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/offheap-go/offheap/pagealign"
)

func TestMap(t *testing.T) {
	ps := pagealign.PageSize()
	for _, n := range []int{1, 100, ps - 1, ps, ps + 1, 2*ps - 1, 10 * ps, 10*ps + 1, 1 << 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			r, region := mapRegion(t, n)
			if len(region) != n {
				t.Errorf("len = %d, want %d", len(region), n)
			}
			if want := (n + ps - 1) / ps * ps; cap(region) != want {
				t.Errorf("cap = %d, want %d (whole pages)", cap(region), want)
			}
			if a := addrOf(region); a%uintptr(ps) != 0 {
				t.Errorf("region starts at %#x, not on a page boundary", a)
			}
			full := region[:cap(region)]
			for i, c := range full {
				if c != 0 {
					t.Fatalf("byte %d of a fresh region is %#x, want 0", i, c)
				}
			}
			// Writable over the whole capacity, not only the length.
			fill(region, 1)
			checkFill(t, region, 1)
			// Bytes hands out the same memory every time.
			if again := r.Bytes(); addrOf(again) != addrOf(region) || len(again) != n || cap(again) != cap(region) {
				t.Errorf("second Bytes() = %#x len %d cap %d, first %#x len %d cap %d",
					addrOf(again), len(again), cap(again), addrOf(region), n, cap(region))
			}
			if err := r.Unmap(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMapDistinct(t *testing.T) {
	// Two live regions never overlap, and writes to one do not show in the other.
	_, a := mapRegion(t, 1)
	_, b := mapRegion(t, 1)
	if addrOf(a) == addrOf(b) {
		t.Fatalf("two live regions at the same address %#x", addrOf(a))
	}
	a[0] = 1
	if b[0] != 0 {
		t.Fatalf("write to one region shows in another")
	}
}

func TestMapInvalidSize(t *testing.T) {
	ps := pagealign.PageSize()
	for _, n := range []int{0, -1, -ps, math.MinInt, math.MaxInt, math.MaxInt - ps + 2} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			r, err := pagealign.Map(n)
			if err == nil {
				// Do not leave it mapped even though the test fails.
				_ = r.Unmap()
				t.Fatalf("Map(%d) succeeded with %d bytes", n, len(r.Bytes()))
			}
			if !errors.Is(err, pagealign.ErrInvalidSize) {
				t.Fatalf("Map(%d) error = %v, want ErrInvalidSize", n, err)
			}
			if r != nil {
				t.Errorf("Map(%d) returned a non-nil region with its error", n)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(n)) {
				t.Errorf("Map(%d) error %q does not name the size", n, err)
			}
		})
	}
}

func TestUnmapTwice(t *testing.T) {
	// The bug this API exists for: region A is unmapped, the system hands its
	// addresses to region B, and a second unmap of A must not take them from B.
	// Where B lands does not matter; the test only needs B intact.
	const n = 64 << 10
	a, mem := mapRegion(t, n)
	fill(mem, 1)
	if err := a.Unmap(); err != nil {
		t.Fatalf("first Unmap: %v", err)
	}
	if got := a.Bytes(); got != nil {
		t.Fatalf("Bytes after Unmap = %d bytes at %#x, want nil", len(got), addrOf(got))
	}
	b, memB := mapRegion(t, n)
	fill(memB, 2)
	for i := range 3 {
		if err := a.Unmap(); err != nil {
			t.Fatalf("Unmap number %d of an unmapped region: %v", i+2, err)
		}
	}
	// A fault here kills the test binary, which is the failure.
	checkFill(t, b.Bytes(), 2)
	fill(b.Bytes(), 3)
	checkFill(t, b.Bytes(), 3)
}

func TestUnmapConcurrent(t *testing.T) {
	// Many goroutines unmap A while another maps B, which may land where A
	// was: every Unmap returns nil, and none of them unmaps B. (Unmaps that
	// all ran before B was mapped would not show a double munmap; rounds
	// where B is mapped between two of them would, by faulting below.)
	const callers = 16
	ps := pagealign.PageSize()
	for range 50 {
		a, mem := mapRegion(t, 4*ps)
		fill(mem, 1)
		var (
			start, done sync.WaitGroup
			errs        = make([]error, callers)
			b           *pagealign.Region
			errB        error
		)
		start.Add(1)
		done.Add(callers + 1)
		for i := range callers {
			go func() {
				defer done.Done()
				start.Wait()
				errs[i] = a.Unmap()
			}()
		}
		go func() {
			defer done.Done()
			start.Wait()
			b, errB = pagealign.Map(4 * ps)
		}()
		start.Done()
		done.Wait()
		if errB != nil {
			t.Fatal(errB)
		}
		for i, err := range errs {
			if err != nil {
				t.Errorf("concurrent Unmap %d: %v", i, err)
			}
		}
		if a.Bytes() != nil {
			t.Error("Bytes after concurrent Unmaps is not nil")
		}
		fill(b.Bytes(), 2)
		checkFill(t, b.Bytes(), 2)
		if err := b.Unmap(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestZeroRegion(t *testing.T) {
	// A Region not made by Map maps nothing: no memory, and an Unmap that
	// must not pass a nil address to munmap.
	var r pagealign.Region
	if b := r.Bytes(); b != nil {
		t.Fatalf("zero Region's Bytes = %d bytes, want nil", len(b))
	}
	for range 2 {
		if err := r.Unmap(); err != nil {
			t.Fatalf("zero Region's Unmap: %v", err)
		}
	}
}

func ExampleMap() {
	r, err := pagealign.Map(100)
	if err != nil {
		fmt.Println(err)
		return
	}
	region := r.Bytes()
	start := uintptr(unsafe.Pointer(&region[0]))
	fmt.Println("len:", len(region))
	fmt.Println("whole pages:", cap(region) == pagealign.PageSize())
	fmt.Println("page-aligned:", start%uintptr(pagealign.PageSize()) == 0)
	fmt.Println("zeroed:", region[0] == 0 && region[99] == 0)

	// Only the first Unmap unmaps; region must not be used after it.
	fmt.Println("unmap:", r.Unmap())
	fmt.Println("again:", r.Unmap())
	fmt.Println("bytes after:", r.Bytes() == nil)

	_, err = pagealign.Map(0)
	fmt.Println(errors.Is(err, pagealign.ErrInvalidSize), err)
	// Output:
	// len: 100
	// whole pages: true
	// page-aligned: true
	// zeroed: true
	// unmap: <nil>
	// again: <nil>
	// bytes after: true
	// true pagealign: invalid region size: 0 bytes
}
