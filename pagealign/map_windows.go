//go:build windows

package pagealign

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapPages reserves and commits size bytes, a whole number of pages, of
// read-write memory (VirtualAlloc).
func mapPages(size int) ([]byte, error) {
	a, err := windows.VirtualAlloc(0, uintptr(size), windows.MEM_RESERVE|windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if err != nil {
		return nil, fmt.Errorf("pagealign: VirtualAlloc of %d bytes: %w", size, err)
	}
	// a is the address of size bytes VirtualAlloc just committed; it is not
	// Go heap memory, so converting it to a pointer hides nothing from the GC.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&a))
	return unsafe.Slice((*byte)(p), size), nil
}

// unmapPages releases mem, a whole allocation from mapPages
// (VirtualFree(MEM_RELEASE), which takes the start and a size of 0).
func unmapPages(mem []byte) error {
	if err := windows.VirtualFree(addr(mem), 0, windows.MEM_RELEASE); err != nil {
		return fmt.Errorf("pagealign: VirtualFree at %#x: %w", addr(mem), err)
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

// Sync returns errors.ErrUnsupported on Windows. Its counterpart there,
// FlushViewOfFile, applies only to views of file mappings, which [Map]
// does not make, and reaches the disk only with FlushFileBuffers on the
// file's handle, which a slice does not carry.
func Sync(b []byte) error { return errors.ErrUnsupported }
