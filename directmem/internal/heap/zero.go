// Zeroing reused memory.
// See heap.go for the overview.

package heap

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
// after one that found at least 3/4 of the pages touched: the scan then
// only adds its system calls. Racy updates of the counters only change how
// often a class is scanned.
const denseRescan = 15

// zeroLarge clears a reused large mapping of class c: by a residency scan
// (clearTouched), unless recent buffers of the class were mostly touched.
func (h *Heap) zeroLarge(mem []byte, c Class) {
	skip := &h.denseSkip[c-numSmallClasses]
	if skip.Load() > 0 {
		skip.Add(-1)
		clear(mem)
		return
	}
	if resident, scanned := clearTouched(mem); scanned > 0 && 4*resident >= 3*scanned {
		skip.Store(denseRescan)
	}
}
