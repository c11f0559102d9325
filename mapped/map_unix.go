//go:build unix

package mapped

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/offheap-go/offheap/pagealign"
)

// errNoMemory is mmap(2)'s ENOMEM: out of address space or of mappings
// (vm.max_map_count), which a collection may cure.
var errNoMemory error = unix.ENOMEM

// mmapFile is unix.MmapPtr; tests of the ENOMEM retry replace it.
var mmapFile = unix.MmapPtr

// mapFD is Map's work on f's descriptor, which Map keeps open meanwhile:
// the checks on the file, then the mapping; nil for size 0.
func mapFD(fd uintptr, mode Mode, offset, size int64) (*region, error) {
	fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(fd), &st); err != nil {
		return nil, err
	}
	acc := fl & unix.O_ACCMODE
	info := fileInfo{size: st.Size, dir: st.Mode&unix.S_IFMT == unix.S_IFDIR, regular: st.Mode&unix.S_IFMT == unix.S_IFREG}
	extend := func(end int64) error { return unix.Ftruncate(int(fd), end) }
	if err := checkFile(mode, acc != unix.O_WRONLY, acc != unix.O_RDONLY, info, offset+size, extend); err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, nil
	}
	// mmap(2) takes an offset that is a multiple of the page size: map from
	// the boundary below offset and hand out the rest.
	ps := int64(pagealign.PageSize())
	pagePos := offset % ps
	length := int(size + pagePos)
	prot, flags := unix.PROT_READ, unix.MAP_SHARED
	switch mode {
	case ReadWrite:
		prot |= unix.PROT_WRITE
	case Private:
		prot |= unix.PROT_WRITE
		flags = unix.MAP_PRIVATE
	}
	var p unsafe.Pointer
	mem, err := mapRetry(func() ([]byte, error) {
		var err error
		if p, err = mmapFile(int(fd), offset-pagePos, nil, uintptr(length), prot, flags); err != nil {
			return nil, err
		}
		// p is the start of length bytes the kernel just mapped for us,
		// in whole pages (msync, madvise and mincore take those: the
		// capacity says how far); nothing else refers to them.
		return unsafe.Slice((*byte)(p), pagealign.AlignUp(length, int(ps)))[:length], nil
	})
	if err != nil {
		return nil, err
	}
	// The release must not refer to the buffer: it holds only the address
	// and length, which are not Go pointers the collector follows.
	unmap := func() { _ = unix.MunmapPtr(p, uintptr(length)) }
	return &region{mem: mem, pagePos: int(pagePos), unmap: unmap}, nil
}
