package pagealign_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/offheap-go/offheap/pagealign"
)

// addrOf is the address of b's first byte (also for empty slices).
func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// mapRegion maps n bytes, skipping the test where mapping is unsupported.
// It returns the region and its memory; the test's cleanup unmaps the region,
// which does nothing if the test unmapped it already.
func mapRegion(t testing.TB, n int) (*pagealign.Region, []byte) {
	t.Helper()
	r, err := pagealign.Map(n)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("Map is not supported on %s", runtime.GOOS)
	}
	if err != nil {
		t.Fatalf("Map(%d): %v", n, err)
	}
	t.Cleanup(func() {
		if err := r.Unmap(); err != nil {
			t.Errorf("Unmap of the %d-byte region: %v", n, err)
		}
	})
	return r, r.Bytes()
}

// fill writes a pattern derived from seed over all of b, capacity included.
func fill(b []byte, seed byte) {
	b = b[:cap(b)]
	for i := range b {
		b[i] = byte(i*7) + seed
	}
}

// checkFill reports the first byte of b (capacity included) that does not
// hold fill's pattern for seed.
func checkFill(t *testing.T, b []byte, seed byte) {
	t.Helper()
	b = b[:cap(b)]
	for i, c := range b {
		if want := byte(i*7) + seed; c != want {
			t.Fatalf("byte %d = %#x, want %#x", i, c, want)
		}
	}
}

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

func TestAdviseNotRegion(t *testing.T) {
	_, region := mapRegion(t, 2*pagealign.PageSize())
	// Misaligned starts, and a page-aligned slice whose length rounds up
	// past its capacity: whole pages would reach bytes it does not cover.
	for _, b := range [][]byte{region[1:], region[17:100], region[:100:100]} {
		if err := pagealign.Advise(b, pagealign.AdviseDontNeed); !errors.Is(err, pagealign.ErrNotRegion) {
			t.Errorf("Advise of a slice at %#x = %v, want ErrNotRegion", addrOf(b), err)
		}
	}
	// Empty slices are a no-op, like madvise of zero bytes.
	for _, b := range [][]byte{nil, region[:0], region[1:1]} {
		if err := pagealign.Advise(b, pagealign.AdviseDontNeed); err != nil {
			t.Errorf("Advise of an empty slice: %v", err)
		}
	}
	// The region is still read-write and keeps its contents.
	region[0] = 1
	if region[0] != 1 {
		t.Fatal("region lost a write")
	}
}

func TestAdvise(t *testing.T) {
	ps := pagealign.PageSize()
	advices := []pagealign.Advice{
		pagealign.AdviseNormal, pagealign.AdviseRandom, pagealign.AdviseSequential,
		pagealign.AdviseWillNeed, pagealign.AdviseDontNeed,
	}
	for _, a := range advices {
		t.Run(a.String(), func(t *testing.T) {
			_, region := mapRegion(t, 3*ps)
			for _, b := range [][]byte{region, region[:1], region[ps : 2*ps+1]} {
				if err := pagealign.Advise(b, a); err != nil {
					t.Errorf("Advise(%d bytes, %v): %v", len(b), a, err)
				}
			}
			// Still usable afterwards.
			region[0], region[len(region)-1] = 1, 2
		})
	}
	t.Run("unknown", func(t *testing.T) {
		_, region := mapRegion(t, ps)
		for _, a := range []pagealign.Advice{-1, pagealign.AdviseDontNeed + 1, 99} {
			err := pagealign.Advise(region, a)
			if err == nil {
				t.Fatalf("Advise(%v) succeeded", a)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(int(a))) {
				t.Errorf("Advise(%d) error %q does not name the advice", int(a), err)
			}
		}
	})
}

func TestAdviceString(t *testing.T) {
	for a, want := range map[pagealign.Advice]string{
		pagealign.AdviseNormal:     "normal",
		pagealign.AdviseRandom:     "random",
		pagealign.AdviseSequential: "sequential",
		pagealign.AdviseWillNeed:   "willneed",
		pagealign.AdviseDontNeed:   "dontneed",
		42:                         "Advice(42)",
		-1:                         "Advice(-1)",
	} {
		if got := a.String(); got != want {
			t.Errorf("Advice(%d).String() = %q, want %q", int(a), got, want)
		}
	}
}

func TestAdviseDontNeedZeroes(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "android", "windows":
	default:
		t.Skipf("MADV_DONTNEED leaves the contents undefined on %s", runtime.GOOS)
	}
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 4*ps)
	full := region[:cap(region)]
	for i := range full {
		full[i] = 0xFF
	}
	// Give back the middle two pages only; a length that is not a whole
	// number of pages covers the page holding its last byte.
	if err := pagealign.Advise(full[ps:2*ps+1], pagealign.AdviseDontNeed); err != nil {
		t.Fatal(err)
	}
	for i, c := range full {
		inside := i >= ps && i < 3*ps
		switch {
		case inside && c != 0:
			t.Fatalf("byte %d = %#x after DontNeed, want 0", i, c)
		case !inside && c != 0xFF:
			t.Fatalf("byte %d = %#x outside the advised pages, want 0xff", i, c)
		}
	}
	// The pages are still mapped read-write.
	full[ps] = 7
	if full[ps] != 7 {
		t.Fatal("write after DontNeed lost")
	}
}

// skipUnsupported skips the test if err says the call is not supported here.
func skipUnsupported(t *testing.T, what string, err error) {
	t.Helper()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("%s is not supported on %s", what, runtime.GOOS)
	}
}

func TestSync(t *testing.T) {
	// An anonymous region has no file to write back: msync succeeds and
	// changes nothing, for the whole region or any page-aligned part.
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 3*ps+1)
	fill(region, 5)
	for _, b := range [][]byte{region, region[:1], region[:ps], region[ps : 2*ps+1], region[3*ps:], region[:cap(region)]} {
		err := pagealign.Sync(b)
		skipUnsupported(t, "Sync", err)
		if err != nil {
			t.Errorf("Sync of %d bytes at page offset %d: %v", len(b), (addrOf(b)-addrOf(region))/uintptr(ps), err)
		}
	}
	checkFill(t, region, 5)
}

func TestSyncNotRegion(t *testing.T) {
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 2*ps)
	skipUnsupported(t, "Sync", pagealign.Sync(region))
	// The same slices Advise rejects: misaligned starts, a page-aligned
	// slice whose length rounds up past its capacity, an unaligned heap slice.
	heap := make([]byte, 2*ps)
	if addrOf(heap[1:])%uintptr(ps) == 0 {
		heap = heap[1:]
	}
	for _, b := range [][]byte{region[1:], region[ps-1 : ps+1], region[:100:100], region[ps : ps+1 : ps+1], heap[1:]} {
		err := pagealign.Sync(b)
		if !errors.Is(err, pagealign.ErrNotRegion) {
			t.Errorf("Sync of %d bytes at %#x (cap %d) = %v, want ErrNotRegion", len(b), addrOf(b), cap(b), err)
		}
	}
	// Empty slices are a no-op, like msync of zero bytes, even unaligned.
	for _, b := range [][]byte{nil, region[:0], region[1:1], heap[1:1]} {
		if err := pagealign.Sync(b); err != nil {
			t.Errorf("Sync of an empty slice: %v", err)
		}
	}
	region[0] = 1 // still mapped read-write
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
