package pagealign_test

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
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
