//go:build !linux

// Zeroing where there is no residency scan.
// See heap.go for the overview.

package heap

// clearTouched zeroes mem, the first bytes of a reused large mapping. Only
// Linux has the residency scan that lets it skip pages never touched
// (zero_linux.go); elsewhere it is clear.
func clearTouched(mem []byte) (resident, scanned int) {
	clear(mem)
	return 0, 0
}

// measureZeroCosts reports nothing measured: without a residency scan,
// zeroLarge always clears plainly.
func measureZeroCosts() zeroCosts { return zeroCosts{} }
