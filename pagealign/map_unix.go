//go:build unix

package pagealign

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapPages maps size bytes, a whole number of pages, of private anonymous
// read-write memory (mmap(2)).
func mapPages(size int) ([]byte, error) {
	// MmapPtr, not Mmap: Mmap records every region in a map under a global
	// mutex, a contention point the allocator's hot path must not have.
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("pagealign: mmap of %d bytes: %w", size, err)
	}
	// p points at size bytes the kernel just mapped for us; nothing else
	// refers to them, so the slice is their only handle.
	return unsafe.Slice((*byte)(p), size), nil
}

// unmapPages unmaps mem, a whole mapping from mapPages (munmap(2)).
func unmapPages(mem []byte) error {
	// mem's pointer came from MmapPtr and goes back to the kernel unchanged;
	// Region.Unmap calls this once per mapping, so it is never stale.
	if err := unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(mem)), uintptr(len(mem))); err != nil {
		return fmt.Errorf("pagealign: munmap of %d bytes at %#x: %w", len(mem), addr(mem), err)
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

// Sync writes the modified pages covering b back to the file they map and
// waits until the writes complete (msync(2) with MS_SYNC): for a shared
// file mapping it is MappedByteBuffer.force. For anonymous memory, such as a
// [Region], there is no file and it does nothing. b must start on a page
// boundary; its length is rounded up to whole pages, which must lie within
// cap(b) ([ErrNotRegion] otherwise). Sync of a zero-length slice does nothing.
func Sync(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := checkPages(b)
	if err != nil {
		return err
	}
	if err := unix.Msync(b[:n], unix.MS_SYNC); err != nil {
		return fmt.Errorf("pagealign: msync of %d bytes: %w", n, err)
	}
	return nil
}
