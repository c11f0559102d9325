package pagealign_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/offheap-go/offheap/pagealign"
)

// addrOf is the address of b's first byte (also for empty slices).
func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// mapRegion maps n bytes, skipping the test where mapping is unsupported. It
// returns the region and a function that unmaps it exactly once; the test's
// cleanup unmaps it if the test did not, so a failing test does not leak.
func mapRegion(t testing.TB, n int) (region []byte, unmap func()) {
	t.Helper()
	region, err := pagealign.Map(n)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("Map is not supported on %s", runtime.GOOS)
	}
	if err != nil {
		t.Fatalf("Map(%d): %v", n, err)
	}
	done := false
	unmap = func() {
		t.Helper()
		if done {
			return
		}
		done = true
		if err := pagealign.Unmap(region); err != nil {
			t.Errorf("Unmap of the %d-byte region: %v", n, err)
		}
	}
	t.Cleanup(unmap)
	return region, unmap
}

func TestMap(t *testing.T) {
	ps := pagealign.PageSize()
	for _, n := range []int{1, 100, ps - 1, ps, ps + 1, 2*ps - 1, 10 * ps, 10*ps + 1, 1 << 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			region, unmap := mapRegion(t, n)
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
			for i := range full {
				full[i] = byte(i*7 + 1)
			}
			for i, c := range full {
				if c != byte(i*7+1) {
					t.Fatalf("byte %d reads back %#x, want %#x", i, c, byte(i*7+1))
				}
			}
			unmap()
		})
	}
}

func TestMapDistinct(t *testing.T) {
	// Two live regions never overlap, and writes to one do not show in the other.
	a, _ := mapRegion(t, 1)
	b, _ := mapRegion(t, 1)
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
			region, err := pagealign.Map(n)
			if err == nil {
				// Do not leave it mapped even though the test fails.
				_ = pagealign.Unmap(region)
				t.Fatalf("Map(%d) succeeded with len %d, cap %d", n, len(region), cap(region))
			}
			if !errors.Is(err, pagealign.ErrInvalidSize) {
				t.Fatalf("Map(%d) error = %v, want ErrInvalidSize", n, err)
			}
			if region != nil {
				t.Errorf("Map(%d) returned a non-nil slice with its error", n)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(n)) {
				t.Errorf("Map(%d) error %q does not name the size", n, err)
			}
		})
	}
}

func TestUnmapReslice(t *testing.T) {
	ps := pagealign.PageSize()
	for _, k := range []int{0, 1, ps, 3*ps + 5} {
		t.Run(strconv.Itoa(k), func(t *testing.T) {
			region, err := pagealign.Map(4 * ps)
			if errors.Is(err, errors.ErrUnsupported) {
				t.Skipf("Map is not supported on %s", runtime.GOOS)
			}
			if err != nil {
				t.Fatal(err)
			}
			// region[:k] keeps the capacity, which is what Unmap uses.
			if err := pagealign.Unmap(region[:k]); err != nil {
				t.Fatalf("Unmap(region[:%d]): %v", k, err)
			}
		})
	}
}

func TestUnmapNotRegion(t *testing.T) {
	ps := pagealign.PageSize()
	region, _ := mapRegion(t, 2*ps)

	// A heap slice that does not start on a page boundary.
	heap := make([]byte, 3*ps)
	off := 1
	if addrOf(heap[off:])%uintptr(ps) == 0 {
		off = 2
	}
	heapUnaligned := heap[off:]

	tests := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"zero-capacity reslice", region[:0:0]},
		{"region[1:]", region[1:]},
		{"region[ps-1:]", region[ps-1:]},
		{"region[1:1]", region[1:1]},
		{"unaligned heap slice", heapUnaligned},
		{"small heap slice", make([]byte, 3)[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pagealign.Unmap(tt.b)
			if !errors.Is(err, pagealign.ErrNotRegion) {
				t.Fatalf("Unmap = %v, want ErrNotRegion", err)
			}
		})
	}
	// None of the rejected calls unmapped anything: the region is still usable.
	full := region[:cap(region)]
	for i := range full {
		full[i] = 0xA5
	}
	if err := pagealign.Advise(region, pagealign.AdviseNormal); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(heap)
}

func TestAdviseNotRegion(t *testing.T) {
	region, _ := mapRegion(t, 2*pagealign.PageSize())
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
			region, _ := mapRegion(t, 3*ps)
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
		region, _ := mapRegion(t, ps)
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
	region, _ := mapRegion(t, 4*ps)
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

func ExampleMap() {
	region, err := pagealign.Map(100)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := pagealign.Unmap(region); err != nil {
			fmt.Println(err)
		}
	}()
	start := uintptr(unsafe.Pointer(&region[0]))
	fmt.Println("len:", len(region))
	fmt.Println("whole pages:", cap(region) == pagealign.PageSize())
	fmt.Println("page-aligned:", start%uintptr(pagealign.PageSize()) == 0)
	fmt.Println("zeroed:", region[0] == 0 && region[99] == 0)

	_, err = pagealign.Map(0)
	fmt.Println(errors.Is(err, pagealign.ErrInvalidSize), err)
	// Output:
	// len: 100
	// whole pages: true
	// page-aligned: true
	// zeroed: true
	// true pagealign: invalid region size: 0 bytes
}
