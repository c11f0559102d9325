package heap

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/offheap-go/offheap/pagealign"
)

// TestClearTouched dirties a mapping in several patterns (no page, one
// page, every page, scattered pages, more runs than the scan accepts, the
// last pages), with pages not touched given back first so that only the
// touched ones are resident, and checks that clearTouched leaves every
// byte of the requested length zero (several lengths, one ending inside a
// page) and reports what it scanned.
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
		for _, n := range []int{size, size - 100, 100 << 10, 64 << 10, 64<<10 - 1, 5000} {
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
			wantScanned := pagealign.AlignUp(n, ps) / ps
			if pat.tooManyRuns {
				wantScanned = min(wantScanned, touchedWindow)
				touched = min(touched, (touchedWindow+1)/2)
			}
			// Residency is the kernel's: a touched page is resident, and
			// transparent huge pages may make more of them so.
			if scanned != wantScanned || resident < touched || resident > scanned {
				t.Errorf("%s, %d bytes: %d of %d pages resident, want %d scanned and at least %d resident", pat.name, n, resident, scanned, wantScanned, touched)
			}
		}
	}
}

// TestZeroLargeSkipsScansOfDenseClasses checks that a reuse of a large
// class whose buffer was mostly touched (3/4 of the pages, or all but
// fewer bytes than the scan's break-even) stops the residency scans of the
// class for denseRescan reuses, cleared the plain way, and that memory is
// zero either way (reuseLarge).
func TestZeroLargeSkipsScansOfDenseClasses(t *testing.T) {
	const size = 1 << 20
	ps := pagealign.PageSize()
	c := classOfSize(t, size)
	touch := func(n int) func([]byte) { return func(p []byte) { fill(p[:n], 0xC3) } }
	// Without huge pages faulted in behind our back, one touched page is
	// one resident page, so that sparse stays sparse.
	thp, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	exactResidency := err != nil || !strings.Contains(string(thp), "[always]")
	reuse := func(t *testing.T, h *Heap, touched int, want zeroMethod, wantSkip int32) {
		t.Helper()
		if how := reuseLarge(t, h, h.Shard(0), size, touch(touched)); how != want {
			t.Fatalf("a reuse touched over %d bytes was cleared by method %d, want %d", touched, how, want)
		}
		if n := h.denseSkip[c-numSmallClasses].Load(); n != wantSkip {
			t.Fatalf("after a reuse touched over %d bytes the class skips %d scans, want %d", touched, n, wantSkip)
		}
	}

	t.Run("all touched", func(t *testing.T) {
		h := newHeap(t)
		h.scanFrom.Store(cheapScanCosts.scanFrom())
		if exactResidency {
			reuse(t, h, ps, zeroedScanned, 0)
		}
		reuse(t, h, size, zeroedScanned, denseRescan)
		reuse(t, h, 1, zeroedSkipped, denseRescan-1)
		// Another class is scanned as before.
		if other := &h.denseSkip[c+1-numSmallClasses]; other.Load() != 0 {
			t.Fatalf("another class skips %d scans", other.Load())
		}
		checkAllFreed(t, h)
	})

	// 600 KiB of 1 MiB touched: less than 3/4 of the pages, and 424 KiB
	// untouched, which saves more than a scan where scans are cheap, and
	// less where they are dear.
	const touched = 600 << 10
	t.Run("untouched below the break-even", func(t *testing.T) {
		h := newHeap(t)
		h.scanFrom.Store(dearScanCosts.scanFrom())
		reuse(t, h, touched, zeroedScanned, denseRescan)
		checkAllFreed(t, h)
	})
	t.Run("untouched above the break-even", func(t *testing.T) {
		if !exactResidency {
			t.Skip("transparent huge pages may make the untouched pages resident")
		}
		h := newHeap(t)
		h.scanFrom.Store(cheapScanCosts.scanFrom())
		reuse(t, h, touched, zeroedScanned, 0)
		checkAllFreed(t, h)
	})
}

// TestMeasureZeroCosts checks that the measure of this machine times
// both methods on its scratch mappings (which of the two
// is faster is the machine's business).
func TestMeasureZeroCosts(t *testing.T) {
	z := measureZeroCosts()
	if z.size != clearPages*pagealign.PageSize() || z.clear <= 0 || z.scan <= 0 || z.clear >= time.Hour || z.scan >= time.Hour {
		t.Fatalf("measureZeroCosts() = %+v", z)
	}
}
