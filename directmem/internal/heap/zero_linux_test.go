package heap

import (
	"os"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/pagealign"
)

// TestClearTouched dirties a mapping in several patterns (no page, one
// page, every page, scattered pages, more runs than the scan accepts, the
// last pages), with pages not touched given back first so that only the
// touched ones are resident, and checks that clearTouched leaves every
// byte of the requested length zero (several lengths, one ending inside a
// page, some below the scan's threshold) and reports what it scanned.
func TestClearTouched(t *testing.T) {
	ps := pagealign.PageSize()
	const size = 3 << 20 // more than one scan window
	r, err := pagealign.Map(size)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Unmap()
	region := r.Bytes()
	npages := size / ps
	patterns := []struct {
		name    string
		touched func(p int) bool
		// tooManyRuns: the first window has more untouched runs than
		// maxUntouchedRuns, so clearTouched clears the rest plainly.
		tooManyRuns bool
	}{
		{"none", func(p int) bool { return false }, false},
		{"first", func(p int) bool { return p == 0 }, false},
		{"all", func(p int) bool { return true }, false},
		{"scattered", func(p int) bool { return p%97 == 3 }, false},
		{"alternate", func(p int) bool { return p%2 == 0 }, true},
		{"tail", func(p int) bool { return p > npages-5 }, false},
	}
	for _, pat := range patterns {
		for _, n := range []int{size, size - 100, 100 << 10, minTouchedScan, minTouchedScan - 1, 5000} {
			if err := pagealign.Advise(region, pagealign.AdviseDontNeed); err != nil {
				t.Fatal(err)
			}
			touched := 0
			for p := range npages {
				if pat.touched(p) {
					region[p*ps] = 0xEE
					region[p*ps+ps-1] = 0xEE
					if p*ps < n {
						touched++
					}
				}
			}
			resident, scanned := clearTouched(region[:n])
			if j := firstNot(region[:n], 0); j >= 0 {
				t.Fatalf("%s, %d bytes: byte %d is %#x after clearTouched", pat.name, n, j, region[j])
			}
			wantScanned := 0
			if n >= minTouchedScan {
				wantScanned = pagealign.AlignUp(n, ps) / ps
				if pat.tooManyRuns {
					wantScanned = min(wantScanned, touchedWindow)
					touched = min(touched, (touchedWindow+1)/2)
				}
			}
			// Residency is the kernel's: a touched page is resident, and
			// transparent huge pages may make more of them so.
			if scanned != wantScanned || (scanned > 0 && resident < touched) || resident > scanned {
				t.Errorf("%s, %d bytes: %d of %d pages resident, want %d scanned and at least %d resident", pat.name, n, resident, scanned, wantScanned, touched)
			}
		}
	}
}

// TestZeroLargeSkipsScansOfDenseClasses checks that a reuse of a large
// class whose buffer was all touched stops the residency scans of the
// class for denseRescan reuses, cleared the plain way, and that Zero leaves
// the memory zero either way.
func TestZeroLargeSkipsScansOfDenseClasses(t *testing.T) {
	h := newHeap(t)
	s := h.Shard(0)
	const size = 1 << 20
	c := classOfSize(t, size)
	skip := &h.denseSkip[c-numSmallClasses]
	reuse := func(touch int) {
		t.Helper()
		mem, b, _ := takeLarge(t, h, s, c, size)
		fill(mem[:touch], 0xC3)
		give(h, b)
		mem, b, zeroed := takeLarge(t, h, s, c, size)
		if zeroed {
			t.Fatal("a cached mapping was said to be zero")
		}
		h.Zero(mem, b)
		if j := firstNot(mem, 0); j >= 0 {
			t.Fatalf("Zero of a mapping touched over %d bytes left %#x at %d", touch, mem[j], j)
		}
		give(h, b)
	}
	if thp, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || !strings.Contains(string(thp), "[always]") {
		// Without huge pages faulted in behind our back, one touched page
		// is one resident page: sparse, so the class stays scanned.
		reuse(pagealign.PageSize())
		if n := skip.Load(); n != 0 {
			t.Fatalf("a sparse reuse set the class's skip count to %d", n)
		}
	}
	reuse(size)
	if n := skip.Load(); n != denseRescan {
		t.Fatalf("after a dense reuse the class skips %d scans, want %d", n, denseRescan)
	}
	reuse(1)
	if n := skip.Load(); n != denseRescan-1 {
		t.Fatalf("a reuse while skipping left the count at %d, want %d", n, denseRescan-1)
	}
	// Another class is scanned as before.
	if other := &h.denseSkip[c+1-numSmallClasses]; other.Load() != 0 {
		t.Fatalf("another class skips %d scans", other.Load())
	}
	checkAllFreed(t, h)
}
