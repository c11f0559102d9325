package pagealign

import (
	"errors"
	"fmt"
)

// ErrInvalidSize is returned by [Map] for a size that is zero, negative or too
// large to round up to whole pages.
var ErrInvalidSize = errors.New("pagealign: invalid region size")

// ErrNotRegion is returned by [Unmap] and [Advise] for a slice that does not
// start on a page boundary, and by [Unmap] for an empty (zero-capacity)
// slice: neither can be (the start of) a region returned by [Map]. [Advise]
// of a zero-length slice does nothing.
var ErrNotRegion = errors.New("pagealign: not a page-aligned region")

// Advice is a hint about how a region will be used, passed to [Advise]
// (madvise(2)).
type Advice int

// Advice values. Their meaning is madvise(2)'s.
const (
	// AdviseNormal undoes earlier advice (MADV_NORMAL).
	AdviseNormal Advice = iota
	// AdviseRandom expects page references in random order (MADV_RANDOM).
	AdviseRandom
	// AdviseSequential expects sequential page references (MADV_SEQUENTIAL).
	AdviseSequential
	// AdviseWillNeed expects access soon: the kernel may read ahead (MADV_WILLNEED).
	AdviseWillNeed
	// AdviseDontNeed gives the pages back to the kernel. For a private
	// anonymous region the next access sees zero-filled pages again
	// (MADV_DONTNEED on Linux; on other systems the contents are undefined).
	AdviseDontNeed
)

func (a Advice) String() string {
	switch a {
	case AdviseNormal:
		return "normal"
	case AdviseRandom:
		return "random"
	case AdviseSequential:
		return "sequential"
	case AdviseWillNeed:
		return "willneed"
	case AdviseDontNeed:
		return "dontneed"
	}
	return fmt.Sprintf("Advice(%d)", int(a))
}

// checkRegion rejects a slice that cannot be (the start of) a region handed
// out by Map and returns the length of the pages behind it: its capacity,
// which Map set to a whole number of pages.
func checkRegion(b []byte) (int, error) {
	if cap(b) == 0 {
		return 0, fmt.Errorf("%w: empty slice", ErrNotRegion)
	}
	if addr(b)&uintptr(pageSize-1) != 0 {
		return 0, fmt.Errorf("%w: start %#x is not a multiple of the page size %d", ErrNotRegion, addr(b), pageSize)
	}
	return AlignUp(cap(b), pageSize), nil
}

// checkPages validates b for Advise, which act on whole pages:
// b must start on a page boundary, and its length rounded up to whole pages
// must stay within its capacity, so that the call never reaches memory the
// slice does not cover (a slice from Map always passes). It returns the
// rounded length.
func checkPages(b []byte) (int, error) {
	if _, err := checkRegion(b); err != nil {
		return 0, err
	}
	n := AlignUp(len(b), pageSize)
	if n > cap(b) {
		return 0, fmt.Errorf("%w: %d bytes at %#x round up to %d, past the slice's capacity %d", ErrNotRegion, len(b), addr(b), n, cap(b))
	}
	return n, nil
}

// roundSize validates a size given to Map and rounds it up to whole pages.
func roundSize(n int) (int, error) {
	if n <= 0 {
		return 0, fmt.Errorf("%w: %d bytes", ErrInvalidSize, n)
	}
	r, ok := AlignUpChecked(n, pageSize)
	if !ok {
		return 0, fmt.Errorf("%w: %d bytes cannot be rounded up to whole pages", ErrInvalidSize, n)
	}
	return r, nil
}
