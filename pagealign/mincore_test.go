package pagealign_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/pagealign"
)

// resident calls Resident for b with a vec of want bytes, each preset to
// 0xFE (bit 0 clear, the others set) so that an unwritten vec shows, and
// returns bit 0 of each. It skips the test where Resident is unsupported.
func resident(t *testing.T, b []byte, pages int) []byte {
	t.Helper()
	vec := bytes.Repeat([]byte{0xFE}, pages)
	err := pagealign.Resident(b, vec)
	skipUnsupported(t, "Resident", err)
	if err != nil {
		t.Fatalf("Resident of %d bytes: %v", len(b), err)
	}
	for i := range vec {
		if vec[i] == 0xFE {
			t.Fatalf("Resident left vec[%d] as it was", i)
		}
		vec[i] &= 1
	}
	return vec
}

func TestResidentFresh(t *testing.T) {
	// A fresh region costs no memory: no page is resident until touched.
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 4*ps)
	if got := resident(t, region, 4); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("fresh region: resident %v, want none", got)
	}
}

func TestResidentTouched(t *testing.T) {
	// Touched pages are resident. (Whether their untouched neighbours stay
	// out depends on transparent huge pages; see mincore_linux_test.go.)
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 4*ps)
	region[0], region[2*ps+5] = 1, 1
	got := resident(t, region, 4)
	if got[0] != 1 || got[2] != 1 {
		t.Fatalf("after touching pages 0 and 2: resident %v", got)
	}
	// A part of the region: vec[i] describes the i-th page of the part, and
	// a length that is not whole pages covers the page of its last byte.
	if got := resident(t, region[2*ps:2*ps+1], 1); got[0] != 1 {
		t.Fatalf("page 2 alone: resident %v", got)
	}
	if got := resident(t, region[ps:2*ps+1], 2); got[1] != 1 {
		t.Fatalf("pages 1 and 2: resident %v, want page 2 resident", got)
	}
}

func TestResidentLongVec(t *testing.T) {
	// Resident writes one byte per page and leaves the rest of vec alone.
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 2*ps)
	vec := bytes.Repeat([]byte{0xAA}, 5)
	err := pagealign.Resident(region, vec)
	skipUnsupported(t, "Resident", err)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vec[2:], []byte{0xAA, 0xAA, 0xAA}) {
		t.Fatalf("vec past the 2 pages = %x, want it untouched", vec[2:])
	}
}

func TestResidentBadInput(t *testing.T) {
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 3*ps)
	skipUnsupported(t, "Resident", pagealign.Resident(region, make([]byte, 3)))
	vec := make([]byte, 4)

	// The slices Advise and Sync reject: misaligned starts, a page-aligned
	// slice whose length rounds up past its capacity, an unaligned heap slice.
	heap := make([]byte, 2*ps)
	if addrOf(heap[1:])%uintptr(ps) == 0 {
		heap = heap[1:]
	}
	for _, b := range [][]byte{region[1:], region[ps-1 : ps+1], region[:100:100], region[ps : ps+1 : ps+1], heap[1:]} {
		if err := pagealign.Resident(b, vec); !errors.Is(err, pagealign.ErrNotRegion) {
			t.Errorf("Resident of %d bytes at %#x (cap %d) = %v, want ErrNotRegion", len(b), addrOf(b), cap(b), err)
		}
	}

	// A vec shorter than a byte per page is an error naming both counts,
	// and the kernel never sees it: vec stays as it was.
	for _, tt := range []struct {
		b     []byte
		pages int
		vec   []byte
	}{
		{region, 3, nil},
		{region, 3, []byte{0xAA, 0xAA}},
		{region[:2*ps+1], 3, []byte{0xAA, 0xAA}},
		{region[:1], 1, []byte{}},
	} {
		before := bytes.Clone(tt.vec)
		err := pagealign.Resident(tt.b, tt.vec)
		if err == nil {
			t.Errorf("Resident of %d pages with a %d-byte vec succeeded", tt.pages, len(tt.vec))
			continue
		}
		if errors.Is(err, pagealign.ErrNotRegion) {
			t.Errorf("short vec reported as %v, but the slice is a region", err)
		}
		if msg := err.Error(); !strings.Contains(msg, strconv.Itoa(tt.pages)+" pages") || !strings.Contains(msg, "vec has "+strconv.Itoa(len(tt.vec))) {
			t.Errorf("short vec error %q does not name %d pages and %d bytes", msg, tt.pages, len(tt.vec))
		}
		if !bytes.Equal(tt.vec, before) {
			t.Errorf("short vec changed from %x to %x", before, tt.vec)
		}
	}

	// A zero-length slice covers no page: nothing to check, even unaligned
	// and with no vec at all.
	for _, b := range [][]byte{nil, region[:0], region[1:1], heap[1:1]} {
		if err := pagealign.Resident(b, nil); err != nil {
			t.Errorf("Resident of an empty slice at %#x: %v", addrOf(b), err)
		}
	}
}
