//go:build linux

// The residency scan that clears only the pages a large buffer's last user touched.
// See heap.go for the overview.

package heap

import (
	"time"

	"github.com/offheap-go/offheap/pagealign"
)

// clearTouched zeroes mem, the first bytes of a reused large mapping, at a
// cost in proportion to what the mapping's previous user touched rather
// than to its size. mincore(2) says which pages are resident: resident
// runs are cleared; runs that are not are given back with MADV_DONTNEED,
// after which they read as zero. Pages never touched are not resident and
// cost nothing to clear, which is where the saving is: a big buffer of
// which a few pages were used costs little to reuse (docs/allocator.md,
// "Measurements behind the code", has the figures).
//
// Residency is only the choice of method, never what makes the result
// zero: a page that is not resident because it was swapped out is still
// discarded by MADV_DONTNEED. If the scan fails or finds the pages
// scattered in many runs, everything is cleared the plain way.
//
// It reports the pages it found resident and the pages it scanned (0, 0
// when it did not scan), so that the caller can stop scanning buffers that
// are always fully used (zeroLarge). Whether the scan pays for a buffer
// this size is the caller's choice (scanFrom).
func clearTouched(mem []byte) (resident, scanned int) {
	ps := pagealign.PageSize()
	// The mapping holds whole pages (its capacity is one), so the pages
	// under mem are all ours to scan and advise.
	pages := mem[:pagealign.AlignUp(len(mem), ps)]
	var vec [touchedWindow]byte
	for base := 0; base < len(pages); base += touchedWindow * ps {
		win := pages[base:min(base+touchedWindow*ps, len(pages))]
		n := len(win) / ps
		if pagealign.Resident(win, vec[:n]) != nil {
			clear(mem[base:])
			return 0, 0
		}
		for _, v := range vec[:n] {
			resident += int(v & 1)
		}
		scanned += n
		if !clearWindow(win, vec[:n], ps) {
			clear(mem[base:])
			return resident, scanned
		}
	}
	// The bytes past len(mem) in the last page may have been cleared or
	// discarded too: they are beyond every buffer's capacity, so no one
	// reads them.
	return resident, scanned
}

const (
	// touchedWindow is the pages scanned per mincore call (2 MiB of 4 KiB
	// pages), so that the vector lives on the stack.
	touchedWindow = 512
	// maxUntouchedRuns bounds the madvise calls per window.
	maxUntouchedRuns = 8
)

// clearWindow zeroes the pages of win as vec (mincore's answer) says, or
// reports false without doing anything if the non-resident pages form too
// many runs.
func clearWindow(win, vec []byte, ps int) bool {
	runs := 0
	for i := 0; i < len(vec); {
		j := i
		for j < len(vec) && vec[j]&1 == vec[i]&1 {
			j++
		}
		if vec[i]&1 == 0 {
			runs++
		}
		i = j
	}
	if runs > maxUntouchedRuns {
		return false
	}
	for i := 0; i < len(vec); {
		j := i
		for j < len(vec) && vec[j]&1 == vec[i]&1 {
			j++
		}
		run := win[i*ps : j*ps]
		if vec[i]&1 != 0 || pagealign.Advise(run, pagealign.AdviseDontNeed) != nil {
			clear(run)
		}
		i = j
	}
	return true
}

// The scratch mappings measureZeroCosts times: clearPages resident pages
// to clear, which it must fault in first (dear on a VM, hence few), and
// scanPages to scan, of which one is touched (the scan's cost
// hardly depends on the length).
const (
	clearPages        = 16
	scanPages         = 64
	calibrationRounds = 8
)

// measureZeroCosts times a plain clear of resident pages and clearTouched
// of a mapping of which one page was touched, on scratch mappings,
// alternately, keeping the fastest of each: the fastest is the one least
// disturbed by other processes. If mapping or the scan fails it reports
// nothing measured, and scans are never chosen.
func measureZeroCosts() zeroCosts {
	ps := pagealign.PageSize()
	dense, err := pagealign.Map(clearPages * ps)
	if err != nil {
		return zeroCosts{}
	}
	defer dense.Unmap()
	sparse, err := pagealign.Map(scanPages * ps)
	if err != nil {
		return zeroCosts{}
	}
	defer sparse.Unmap()
	d, s := dense.Bytes(), sparse.Bytes()
	clear(d) // fault every page in: a reused buffer's are resident
	z := zeroCosts{size: len(d), clear: time.Hour, scan: time.Hour}
	for range calibrationRounds {
		t := time.Now()
		clear(d)
		z.clear = min(z.clear, time.Since(t))
		s[0] = 1
		t = time.Now()
		if _, scanned := clearTouched(s); scanned == 0 {
			return zeroCosts{}
		}
		z.scan = min(z.scan, time.Since(t))
	}
	return z
}
