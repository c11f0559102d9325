package mapped

import (
	"errors"

	"github.com/offheap-go/offheap/directmem"
)

var (
	// ErrMapFailed is returned when the system refuses a mapping even after
	// a garbage collection and a retry (the JVM's "Map failed"
	// OutOfMemoryError): mmap(2) failed with ENOMEM, typically because the
	// address space or vm.max_map_count is exhausted.
	ErrMapFailed = errors.New("mapped: map failed")

	// ErrFault is returned by a data method of a mapped Buffer whose memory
	// faulted: the file was truncated below the page touched, or the disk
	// behind a sparse file is full. It is directmem.ErrFault.
	ErrFault = directmem.ErrFault
)
