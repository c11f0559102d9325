package pagealign

import "os"

// integer is the set of integer types the alignment helpers accept.
type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// pageSize is read once: it cannot change while the process runs.
var pageSize = os.Getpagesize()

// PageSize returns the size in bytes of a virtual memory page, the unit in
// which [Map] hands out memory (java.nio.Bits.pageSize()).
func PageSize() int { return pageSize }

// AlignUp rounds n up to the next multiple of align, which must be a power
// of two. The result wraps around if n is within align of the type's maximum;
// callers that take sizes from users check for that with [AlignUpChecked].
func AlignUp[T integer](n, align T) T {
	return (n + align - 1) &^ (align - 1)
}

// AlignUpChecked is AlignUp that reports false instead of wrapping around
// when the rounded value does not fit in T.
func AlignUpChecked[T integer](n, align T) (T, bool) {
	r := AlignUp(n, align)
	return r, r >= n
}

// IsPowerOfTwo reports whether n is a positive power of two, the only
// alignments the helpers above accept.
func IsPowerOfTwo[T integer](n T) bool {
	return n > 0 && n&(n-1) == 0
}
