package mapped

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/pagealign"
)

// pool is the "mapped" pool: every mapping of this package, counted and
// tracked by directmem.
var pool = directmem.NewPool("mapped")

// Stats returns the statistics of the "mapped" pool (the JVM's "mapped"
// BufferPoolMXBean): the mappings not yet unmapped, their capacities, and
// the memory they take from their page boundaries. Mappings of size 0 are
// not counted. directmem.Pools lists it too.
func Stats() directmem.PoolStats { return pool.Stats() }

// Map maps size bytes of f from offset in the given mode: the Go form of
// FileChannel.map. The result's position is 0, its limit and capacity
// size, its byte order big-endian.
//
// As in the JVM, the arguments are checked first, in this order, before
// any system call: a negative offset or size, an offset+size that
// overflows, then the mode against how f was opened (every mode needs f
// open for reading; ReadWrite and Private need it open for writing too,
// else the error matches fs.ErrPermission). f must be a regular file. If
// it is shorter than offset+size, ReadWrite and Private extend it (with
// zeros; sparse where the file system allows), while ReadOnly fails with an
// error naming the file's size. Size 0 maps nothing: the buffer is empty
// and not counted in Stats.
//
// The offset need not be a multiple of the page size: the mapping starts
// at the page boundary below it and the buffer at offset (Stats counts the
// bytes from the boundary as memory used). If the system is out of
// mappings or address space (mmap's ENOMEM), Map runs a garbage collection,
// which may unmap dropped buffers, waits 100 ms and tries once more, as
// the JVM does, before failing with ErrMapFailed.
//
// Errors are *fs.PathError values naming f. The buffer stays valid after f
// is closed; Free unmaps it, or the garbage collector does if it is never
// freed.
func Map(f *os.File, mode Mode, offset, size int64) (*Buffer, error) {
	r, err := mapRegion(f, mode, offset, size)
	if err != nil {
		return nil, err
	}
	// The buffer is made here, not under Control, so that the allocation
	// stack leak detection records starts at the caller's code.
	if r == nil {
		return emptyBuffer(mode), nil
	}
	return newBuffer(f.Name(), mode, offset, r), nil
}

// mapRegion is Map without the buffer: the region mapped, or nil for size 0.
func mapRegion(f *os.File, mode Mode, offset, size int64) (*region, error) {
	if f == nil {
		return nil, &fs.PathError{Op: "map", Path: "", Err: fs.ErrInvalid}
	}
	if err := checkArgs(mode, offset, size); err != nil {
		return nil, &fs.PathError{Op: "map", Path: f.Name(), Err: err}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, &fs.PathError{Op: "map", Path: f.Name(), Err: err}
	}
	var r *region
	var mapErr error
	if err := rc.Control(func(fd uintptr) { r, mapErr = mapFD(fd, mode, offset, size) }); err != nil {
		// f was closed: Control says so with internal/poll's error, which
		// os.File's own methods report as os.ErrClosed.
		return nil, &fs.PathError{Op: "map", Path: f.Name(), Err: os.ErrClosed}
	}
	if mapErr != nil {
		return nil, &fs.PathError{Op: "map", Path: f.Name(), Err: mapErr}
	}
	return r, nil
}

// region is a mapping mapFD made: mem from the page boundary, the
// buffer's bytes from pagePos, and the release that unmaps it (which must
// not refer to the buffer).
type region struct {
	mem     []byte
	pagePos int
	unmap   func()
}

// MapFile opens the file at path with the least access mode needs (read
// only for ReadOnly, read and write otherwise), maps it as Map does, and
// closes it: the mapping stays valid. The file is not created.
func MapFile(path string, mode Mode, offset, size int64) (*Buffer, error) {
	return withFile(path, mode, offset, size, Map)
}

// withFile opens the file at path as MapFile does, after checking the
// arguments (bad ones open nothing), and calls mapf on it.
func withFile[T any](path string, mode Mode, offset, size int64, mapf func(*os.File, Mode, int64, int64) (T, error)) (T, error) {
	var none T
	if err := checkArgs(mode, offset, size); err != nil {
		return none, &fs.PathError{Op: "map", Path: path, Err: err}
	}
	flag := os.O_RDONLY
	if mode != ReadOnly {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return none, err
	}
	defer f.Close()
	return mapf(f, mode, offset, size)
}

// checkArgs is the JVM's first round of checks, before any system call.
func checkArgs(mode Mode, offset, size int64) error {
	switch {
	case offset < 0:
		return fmt.Errorf("%w: negative offset %d", fs.ErrInvalid, offset)
	case size < 0:
		return fmt.Errorf("%w: negative size %d", fs.ErrInvalid, size)
	case offset > math.MaxInt64-size:
		return fmt.Errorf("%w: offset %d + size %d overflows", fs.ErrInvalid, offset, size)
	case !mode.valid():
		return fmt.Errorf("%w: unknown mode %d", fs.ErrInvalid, int(mode))
	case size > int64(math.MaxInt-pagealign.PageSize()):
		return fmt.Errorf("%w: size %d does not fit in this platform's address space", fs.ErrInvalid, size)
	}
	return nil
}

// checkFile is the second round of checks: the file's access mode and
// type, and its size against the mapping's end, extending it if the mode
// allows. It is given what the system says of the file.
func checkFile(mode Mode, readable, writable bool, info fileInfo, end int64, extend func(int64) error) error {
	switch {
	case !readable:
		return fmt.Errorf("%w: a %v mapping needs the file open for reading", fs.ErrPermission, mode)
	case mode != ReadOnly && !writable:
		return fmt.Errorf("%w: a %v mapping needs the file open for writing", fs.ErrPermission, mode)
	case info.dir:
		return fmt.Errorf("%w: is a directory", fs.ErrInvalid)
	case !info.regular:
		return fmt.Errorf("%w: not a regular file", fs.ErrInvalid)
	case info.size >= end:
		return nil
	case mode == ReadOnly:
		return fmt.Errorf("%w: a READ_ONLY mapping up to byte %d of a file of %d bytes: cannot extend a file mapped read-only", fs.ErrInvalid, end, info.size)
	}
	return extend(end)
}

// fileInfo is what checkFile needs of fstat(2).
type fileInfo struct {
	size         int64
	dir, regular bool
}

// mapRetry is mmap with the JVM's answer to ENOMEM: one garbage
// collection (dropped mappings may then be unmapped by their cleanups),
// 100 ms, and one more try.
func mapRetry(mmap func() ([]byte, error)) ([]byte, error) {
	mem, err := mmap()
	if err == nil || !errors.Is(err, errNoMemory) {
		return mem, err
	}
	runtime.GC()
	sleep(100 * time.Millisecond)
	if mem, err = mmap(); err == nil {
		return mem, nil
	}
	if errors.Is(err, errNoMemory) {
		return nil, fmt.Errorf("%w: %w", ErrMapFailed, err)
	}
	return nil, err
}

// sleep is time.Sleep; tests of the retry replace it.
var sleep = time.Sleep

// newBuffer makes the buffer of a mapping of the file name.
func newBuffer(name string, mode Mode, offset int64, r *region) *Buffer {
	m, mp := describe(name, mode, offset, r)
	return &Buffer{Buffer: pool.Wrap(m), m: mp, off: r.pagePos}
}

// describe is what the "mapped" pool is given of a mapping of the file
// name, and what its buffers share.
func describe(name string, mode Mode, offset int64, r *region) (directmem.Memory, *mapping) {
	detail := fmt.Sprintf("%s, offset %d, %v", name, offset, mode)
	return directmem.Memory{
		Bytes:    r.mem[r.pagePos:],
		Used:     int64(len(r.mem)),
		Release:  r.unmap,
		MayFault: true,
		ReadOnly: mode == ReadOnly,
		Detail:   detail,
	}, &mapping{mem: r.mem, mode: mode, detail: detail}
}

// emptyBuffer is the buffer of a mapping of size 0: nothing is mapped.
// It is in no pool, so not counted, but owned: Free works on it.
func emptyBuffer(mode Mode) *Buffer {
	var none *directmem.Pool
	db := none.Wrap(directmem.Memory{Bytes: []byte{}, ReadOnly: mode == ReadOnly})
	return &Buffer{Buffer: db, m: &mapping{mode: mode}}
}
