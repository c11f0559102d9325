//go:build windows

package pagealign

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Map returns n bytes of fresh, zero-filled, read-write memory outside the Go
// heap (VirtualAlloc with MEM_RESERVE|MEM_COMMIT). The slice has length n and
// a capacity of n rounded up to whole pages. Release it with [Unmap].
func Map(n int) ([]byte, error) {
	size, err := roundSize(n)
	if err != nil {
		return nil, err
	}
	a, err := windows.VirtualAlloc(0, uintptr(size), windows.MEM_RESERVE|windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if err != nil {
		return nil, fmt.Errorf("pagealign: VirtualAlloc of %d bytes: %w", size, err)
	}
	// a is the address of size bytes VirtualAlloc just committed; it is not
	// Go heap memory, so converting it to a pointer hides nothing from the GC.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&a))
	return unsafe.Slice((*byte)(p), size)[:n], nil
}

// Unmap releases a region returned by [Map] (VirtualFree with MEM_RELEASE).
func Unmap(b []byte) error {
	if _, err := checkRegion(b); err != nil {
		return err
	}
	if err := windows.VirtualFree(addr(b), 0, windows.MEM_RELEASE); err != nil {
		return fmt.Errorf("pagealign: VirtualFree at %#x: %w", addr(b), err)
	}
	return nil
}

// Advise passes a usage hint for the pages covering b. Windows has no
// madvise; AdviseDontNeed decommits and recommits the pages, which gives the
// memory back and makes it read as zero, and the other hints are ignored.
func Advise(b []byte, advice Advice) error {
	if len(b) == 0 {
		return nil
	}
	size, err := checkPages(b)
	if err != nil {
		return err
	}
	switch advice {
	case AdviseNormal, AdviseRandom, AdviseSequential, AdviseWillNeed:
		return nil
	case AdviseDontNeed:
		if err := windows.VirtualFree(addr(b), uintptr(size), windows.MEM_DECOMMIT); err != nil {
			return fmt.Errorf("pagealign: decommit of %d bytes: %w", size, err)
		}
		if _, err := windows.VirtualAlloc(addr(b), uintptr(size), windows.MEM_COMMIT, windows.PAGE_READWRITE); err != nil {
			return fmt.Errorf("pagealign: recommit of %d bytes: %w", size, err)
		}
		return nil
	}
	return fmt.Errorf("pagealign: unknown advice %d", int(advice))
}
