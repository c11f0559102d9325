// Zeroing reused memory.
// See heap.go for the overview.

package heap

import (
	"math"
	"sync"
	"time"

	"github.com/offheap-go/offheap/pagealign"
)

// Zero clears mem, the memory of b that TakeSmall or TakeLarge said is
// not known to be zero. mem must start where that memory does and keep
// its capacity: a large mapping is cleared in whole pages (clearTouched),
// up to the page boundary after len(mem).
func (h *Heap) Zero(mem []byte, b Block) {
	if m := b.large; m != nil && m.class >= numSmallClasses {
		h.zeroLarge(mem, m.class)
		return
	}
	clear(mem)
}

// denseRescan is how many reuses of a class pass without a residency scan
// after one that found the buffer mostly touched: the scan then only adds
// its system calls. Racy updates of the counters only change how often a
// class is scanned.
const denseRescan = 15

// How zeroLarge cleared a mapping, for the tests.
type zeroMethod int8

const (
	zeroedPlain   zeroMethod = iota // below the scan's break-even: clear
	zeroedSkipped                   // a dense class between scans: clear
	zeroedScanned                   // clearTouched
)

// zeroLarge clears a reused large mapping of class c: by a residency scan
// (clearTouched) if the buffer is long enough for the scan to pay on this
// machine (scanFrom) and recent buffers of the class were not mostly
// touched; plainly otherwise.
func (h *Heap) zeroLarge(mem []byte, c Class) zeroMethod {
	from := h.scanFrom.Load()
	if from == 0 {
		from = zeroCostsOnce().scanFrom()
		h.scanFrom.Store(from)
	}
	if int64(len(mem)) < from {
		clear(mem)
		return zeroedPlain
	}
	skip := &h.denseSkip[c-numSmallClasses]
	if skip.Load() > 0 {
		skip.Add(-1)
		clear(mem)
		return zeroedSkipped
	}
	// Dense: most pages were touched, or the untouched ones were too few
	// for skipping them to pay for the scan.
	resident, scanned := clearTouched(mem)
	untouched := int64(scanned-resident) * int64(pagealign.PageSize())
	if scanned > 0 && (4*resident >= 3*scanned || untouched < from) {
		skip.Store(denseRescan)
	}
	return zeroedScanned
}

// zeroCosts is what a plain clear of size bytes and a residency scan
// cost on this machine, the scan's when the previous user touched one page
// (the case where the scan is cheapest); the scan's cost is taken as
// fixed, since mincore's share per page is small (docs/allocator.md).
type zeroCosts struct {
	size        int
	clear, scan time.Duration
}

// noScan is scanFrom when a scan never pays (or there is none).
const noScan = math.MaxInt64

// maxScanFrom bounds scanFrom, should a disturbed measurement make the
// scan look dear: past it a clear costs several scans on every machine
// measured (docs/allocator.md).
const maxScanFrom = 4 << 20

// scanFrom returns the buffer length from which a residency scan costs
// less than a plain clear: where clearing, in proportion to the length,
// overtakes the scan's system calls. A buffer touched more than the
// measured one page makes the scan dearer: zeroLarge's dense rule.
func (z zeroCosts) scanFrom() int64 {
	if z.size <= 0 || z.clear <= 0 || z.scan <= 0 {
		return noScan
	}
	n := float64(z.size) * float64(z.scan) / float64(z.clear)
	return int64(min(max(n, 1), maxScanFrom))
}

// zeroCostsOnce measures the costs once per process: they are the
// machine's, and differ between machines (docs/allocator.md).
var zeroCostsOnce = sync.OnceValue(measureZeroCosts)
