//go:build linux || darwin

package pagealign

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Resident reports which pages covering b are resident in memory
// (mincore(2)): bit 0 of vec[i] is set if page i is, the other bits are
// the system's (darwin reports referenced and modified pages there). It is
// MappedByteBuffer.isLoaded's query, and says which pages of a region have
// been touched since it was mapped or last given back with AdviseDontNeed.
// The answer can be stale by the time it returns.
//
// b must start on a page boundary; its length is rounded up to whole pages,
// which must lie within cap(b) ([ErrNotRegion] otherwise). vec needs at least
// one byte per page; Resident writes only those. Resident of a zero-length
// slice does nothing.
func Resident(b, vec []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := checkPages(b)
	if err != nil {
		return err
	}
	if pages := n / pageSize; len(vec) < pages {
		return fmt.Errorf("pagealign: mincore of %d pages needs a byte per page, vec has %d", pages, len(vec))
	}
	// golang.org/x/sys/unix has no Mincore, so this is the raw system call
	// (on darwin through libSystem's syscall(2), as every unix.Syscall there).
	// The kernel reads no memory and writes n/pageSize bytes from vec's
	// start, which the checks above keep inside vec. Both pointers become
	// uintptrs in the call's argument list, which keeps what they point at
	// alive and in place until the call returns (unsafe.Pointer rule 4).
	_, _, e := unix.Syscall(unix.SYS_MINCORE,
		uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(n),
		uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if e != 0 {
		return fmt.Errorf("pagealign: mincore of %d bytes: %w", n, e)
	}
	return nil
}
