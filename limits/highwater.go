package limits

import (
	"fmt"
	"math"
)

// SetHighWater sets the fraction of the limit whose crossing starts a
// background garbage collection: when a reservation takes total capacity
// from below fraction*Max to at or above it, the budget starts one
// runtime.GC in a new goroutine, unless a collection it started is still
// running. Collecting early lets buffers that were dropped without being
// freed release their memory before a reservation has to wait for them.
// fraction 0 turns this off. The error wraps [ErrInvalidLimit] if fraction
// is not in [0, 1] (NaN included), and the mark is then unchanged.
//
// A program that keeps total capacity near the mark with explicit frees
// may cross it often and collect often; raise the mark or turn it off.
func (b *Budget) SetHighWater(fraction float64) error {
	if !(fraction >= 0 && fraction <= 1) {
		return fmt.Errorf("%w: high-water fraction %v is not in [0, 1]", ErrInvalidLimit, fraction)
	}
	b.highWater.Store(highWaterMark(fraction, b.max))
	return nil
}

// highWaterMark converts a fraction of limit to bytes, rounding up so that the
// mark is never below the fraction, and is 0 (off) when there is nothing to
// cross.
func highWaterMark(fraction float64, limit int64) int64 {
	if fraction == 0 || limit == 0 {
		return 0
	}
	// float64(limit) may round up to 2^63, which int64 cannot hold.
	m := math.Ceil(fraction * float64(limit))
	if m >= float64(limit) {
		return limit
	}
	return max(int64(m), 1)
}
