package pagealign

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Region is memory obtained from the operating system by [Map], outside the
// Go heap. Its methods are safe for concurrent use. The zero Region is not
// mapped: Bytes returns nil and Unmap does nothing.
//
// A Region does not free itself: nothing but Unmap returns the memory, and
// the garbage collector neither sees nor frees it.
type Region struct {
	mem  []byte      // the mapping: length n, capacity whole pages; set by Map, never written after
	live atomic.Bool // true from Map until the first Unmap
}

// Map returns a region of n bytes of fresh, zero-filled, read-write memory:
// a private anonymous mapping (mmap(2) with MAP_PRIVATE|MAP_ANONYMOUS) on
// Unix, VirtualAlloc(MEM_RESERVE|MEM_COMMIT) on Windows. n is rounded up to
// whole pages; the region starts on a page boundary. Release it with
// [Region.Unmap].
//
// Untouched pages cost address space, not memory: the system commits them on
// first access. A failure of the system call (on Linux ENOMEM when the address
// space or vm.max_map_count is exhausted) is returned wrapped, so
// errors.Is(err, unix.ENOMEM) works. A size that is zero, negative or too large
// to round up to whole pages is [ErrInvalidSize].
func Map(n int) (*Region, error) {
	size, err := roundSize(n)
	if err != nil {
		return nil, err
	}
	mem, err := mapPages(size)
	if err != nil {
		return nil, err
	}
	r := &Region{mem: mem[:n]}
	r.live.Store(true)
	return r, nil
}

// Bytes returns the region's memory: a slice of length n (the size given to
// [Map]) and a capacity of n rounded up to whole pages. It returns nil once
// [Region.Unmap] has been called.
//
// The slice does not keep the region mapped: it, and every slice of it, must
// not be used after Unmap, which a slice cannot detect (an access faults, or
// worse, reaches memory mapped at the same address since).
func (r *Region) Bytes() []byte {
	if !r.live.Load() {
		return nil
	}
	return r.mem
}

// Unmap returns the region's memory to the operating system (munmap(2), or
// VirtualFree(MEM_RELEASE) on Windows). Only the first call unmaps; every
// later call, concurrent ones included, does nothing and returns nil. That
// makes a second Unmap harmless: the system reuses the addresses of freed
// regions, and unmapping the same addresses twice would take memory from
// whoever was given them in between.
//
// If the system refuses the first unmap (munmap fails only for arguments Map
// never produces), the error is returned and the region still counts as
// unmapped: a retry could hit a later mapping, a leak cannot hurt anyone.
//
// Slices returned by [Region.Bytes] must not be used after Unmap.
func (r *Region) Unmap() error {
	// Swap, not Load then Store: of any number of concurrent callers exactly
	// one sees true.
	if !r.live.Swap(false) {
		return nil
	}
	return unmapPages(r.mem[:cap(r.mem)])
}

// ErrInvalidSize is returned by [Map] for a size that is zero, negative or too
// large to round up to whole pages.
var ErrInvalidSize = errors.New("pagealign: invalid region size")

// ErrNotRegion is returned by [Advise], [Resident] and [Sync] for a slice that
// does not start on a page boundary, or whose length rounded up to whole
// pages exceeds its capacity: whole pages would reach memory the slice does
// not cover. All three do nothing for a zero-length slice.
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

// String returns the advice's name, as in the constant without "Advise",
// lower case; an unknown value prints as Advice(n).
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

// checkPages validates b for Advise, Resident and Sync, which act on whole
// pages: b must start on a page boundary, and its length rounded up to whole
// pages must stay within its capacity, so that the call never reaches memory
// the slice does not cover (the slice from Region.Bytes always passes). It
// returns the rounded length.
func checkPages(b []byte) (int, error) {
	if addr(b)&uintptr(pageSize-1) != 0 {
		return 0, fmt.Errorf("%w: start %#x is not a multiple of the page size %d", ErrNotRegion, addr(b), pageSize)
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
