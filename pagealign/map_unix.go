//go:build unix

package pagealign

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Map returns n bytes of fresh, zero-filled, read-write memory outside the Go
// heap: a private anonymous mapping (mmap(2) with MAP_PRIVATE|MAP_ANONYMOUS).
// The slice has length n and a capacity of n rounded up to whole pages; it
// starts on a page boundary. Release it with [Unmap].
//
// The kernel commits pages lazily: untouched pages cost address space, not
// memory. An mmap failure (ENOMEM when the address space or vm.max_map_count
// is exhausted) is returned wrapped, so errors.Is(err, unix.ENOMEM) works.
func Map(n int) ([]byte, error) {
	size, err := roundSize(n)
	if err != nil {
		return nil, err
	}
	// MmapPtr, not Mmap: Mmap records every region in a map under a global
	// mutex, a contention point the allocator's hot path must not have.
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("pagealign: mmap of %d bytes: %w", size, err)
	}
	// p points at size bytes the kernel just mapped for us; nothing else
	// refers to them, so the slice is their only handle.
	return unsafe.Slice((*byte)(p), size)[:n], nil
}

// Unmap releases a region returned by [Map]. b must start where the region
// starts; its capacity says how long the region is, so pass the slice Map
// returned or a reslice b[:k] of it. Using b, or any slice of the region,
// after Unmap faults.
func Unmap(b []byte) error {
	size, err := checkRegion(b)
	if err != nil {
		return err
	}
	if err := unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(size)); err != nil {
		return fmt.Errorf("pagealign: munmap of %d bytes at %#x: %w", size, addr(b), err)
	}
	return nil
}

// Advise passes a usage hint for the pages covering b (madvise(2)). b must
// start on a page boundary; its length is rounded up to whole pages, which
// must lie within cap(b) (ErrNotRegion otherwise).
func Advise(b []byte, advice Advice) error {
	if len(b) == 0 {
		return nil
	}
	n, err := checkPages(b)
	if err != nil {
		return err
	}
	var a int
	switch advice {
	case AdviseNormal:
		a = unix.MADV_NORMAL
	case AdviseRandom:
		a = unix.MADV_RANDOM
	case AdviseSequential:
		a = unix.MADV_SEQUENTIAL
	case AdviseWillNeed:
		a = unix.MADV_WILLNEED
	case AdviseDontNeed:
		a = unix.MADV_DONTNEED
	default:
		return fmt.Errorf("pagealign: unknown advice %d", int(advice))
	}
	if err := unix.Madvise(b[:n], a); err != nil {
		return fmt.Errorf("pagealign: madvise(%v) of %d bytes: %w", advice, len(b), err)
	}
	return nil
}
