package mapped

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"runtime"

	"github.com/offheap-go/offheap/directmem"
)

// Transfers between files and streams: FileChannel.transferTo and
// transferFrom, with the JDK 21 behaviour.
//
// Each chunk of a transfer (at most mappedTransferSize bytes) goes through
// the first tier that can take it:
//
//  1. the kernel (Linux): copy_file_range(2) between files, sendfile(2) to
//     sockets, pipes and files that copy_file_range refuses; no byte
//     passes through user space.
//  2. read-only mapped windows of the source of at most 8 MiB (the JVM's
//     MAPPED_TRANSFER_SIZE), written to a trusted destination (*os.File,
//     *net.TCPConn, *net.UnixConn) straight from the mapping and unmapped
//     after each window: one copy, in the kernel's write.
//  3. an 8 KiB temporary direct buffer (TRANSFER_SIZE) from a small cache
//     (tempbuf.go): pread from the source, write to the destination.
//
// A tier that cannot do the job says so before writing anything
// (errTierUnsupported) and the transfer goes on with the next one.

const (
	// mappedTransferSize is the largest chunk: the JVM's
	// FileChannelImpl.MAPPED_TRANSFER_SIZE, the size of a mapped window.
	mappedTransferSize = 8 << 20
	// maxEmptyReads is how many (0, nil) reads in a row TransferFrom
	// accepts from a reader before io.ErrNoProgress.
	maxEmptyTransferReads = 100
)

// tier names a way of moving bytes.
type tier int

const (
	tierKernel tier = iota + 1 // copy_file_range, sendfile
	tierMapped                 // 8 MiB read-only mapped windows
	tierBuffer                 // 8 KiB temporary direct buffer
)

func (t tier) String() string {
	switch t {
	case tierKernel:
		return "kernel"
	case tierMapped:
		return "mapped"
	case tierBuffer:
		return "buffer"
	}
	return fmt.Sprintf("tier(%d)", int(t))
}

var (
	// firstTier is the tier transfers start with; tests set a later one to
	// force the fallbacks.
	firstTier = tierKernel
	// tierDone, when set, is told of each chunk a tier moved (tests).
	tierDone func(t tier, n int64)
)

// errTierUnsupported is a tier's answer when it cannot do a transfer; it
// is returned only with a count of 0, and never leaves this package.
var errTierUnsupported = errors.New("mapped: transfer tier unsupported")

// fileState is what a transfer needs to know of a file.
type fileState struct {
	size                 int64
	readable, writable   bool
	append, dir, regular bool
}

// TransferTo writes up to count bytes of src, from position, to dst, and
// returns how many it wrote: FileChannel.transferTo. It reads src at
// position without moving src's own offset; dst is written as its Write
// method would (a file's offset advances, an O_APPEND file is appended to).
//
// The count is cut to what the file holds past position: a position at or
// beyond src's size transfers nothing and returns 0, nil. Between files on
// Linux the bytes are copied in the kernel (copy_file_range(2), which may
// share extents on file systems that can); to sockets (*net.TCPConn,
// *net.UnixConn) and pipes they are sent by sendfile(2), waiting for a full
// non-blocking socket on the runtime's poller as a Write does; elsewhere,
// or where the kernel refuses, from read-only mapped windows of 8 MiB to
// files and sockets, and through an 8 KiB temporary direct buffer to any
// other io.Writer. On darwin and Windows only the last two (darwin) or the
// last one (Windows) run.
//
// Bad input returns an error and writes nothing: a nil file or writer, or a
// negative position or count (errors.Is fs.ErrInvalid), src a directory or
// not a regular file (fs.ErrInvalid), src not open for reading or a dst
// file not open for writing (fs.ErrPermission), a closed file
// (os.ErrClosed). These are *fs.PathError values naming src. An error
// during the transfer comes back with the count written before it.
func TransferTo(src *os.File, position, count int64, dst io.Writer) (int64, error) {
	return TransferToContext(context.Background(), src, position, count, dst)
}

// TransferToContext is TransferTo with a context, checked before each
// chunk of at most 8 MiB (and each 8 KiB through a temporary buffer): when
// ctx ends, it returns the count written so far and ctx.Err().
func TransferToContext(ctx context.Context, src *os.File, position, count int64, dst io.Writer) (int64, error) {
	const op = "transferto"
	if src == nil {
		return 0, &fs.PathError{Op: op, Path: "", Err: fmt.Errorf("%w: nil source file", fs.ErrInvalid)}
	}
	fail := func(err error) (int64, error) { return 0, &fs.PathError{Op: op, Path: src.Name(), Err: err} }
	if isNilWriter(dst) {
		return fail(fmt.Errorf("%w: nil destination", fs.ErrInvalid))
	}
	if err := checkRange(position, count); err != nil {
		return fail(err)
	}
	st, err := statFile(src)
	if err != nil {
		return fail(err)
	}
	if err := checkSource(st); err != nil {
		return fail(err)
	}
	df, dstIsFile := dst.(*os.File)
	if dstIsFile {
		dt, err := statFile(df)
		if err != nil {
			return fail(fmt.Errorf("destination %s: %w", df.Name(), err))
		}
		if err := checkDestination(dt, true); err != nil {
			return fail(fmt.Errorf("destination %s: %w", df.Name(), err))
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if position >= st.size {
		return 0, nil
	}
	count = min(count, st.size-position)
	t := firstTier
	if dstIsFile && sameFile(src, df) {
		// Overlapping ranges of one file: the JVM gives up on the direct
		// and mapped paths too.
		t = tierBuffer
	}
	var total int64
	for total < count {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		chunk := min(count-total, mappedTransferSize)
		n, err := transferToChunk(ctx, &t, src, position+total, chunk, dst)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break // src is shorter than it was: the end of the file
		}
	}
	return total, nil
}

// transferToChunk moves up to n bytes of src from pos to dst through the
// first tier, from *t on, that takes them, and leaves that tier in *t.
func transferToChunk(ctx context.Context, t *tier, src *os.File, pos, n int64, dst io.Writer) (int64, error) {
	for {
		var m int64
		var err error
		switch *t {
		case tierKernel:
			m, err = kernelTransferTo(src, pos, n, dst)
		case tierMapped:
			if !trusted(dst) {
				err = errTierUnsupported
				break
			}
			m, err = mappedTransferTo(src, pos, n, dst)
		default:
			m, err = bufferTransferTo(ctx, src, pos, n, dst)
		}
		if err == errTierUnsupported && m == 0 && *t < tierBuffer {
			*t++
			continue
		}
		if m > 0 && tierDone != nil {
			tierDone(*t, m)
		}
		return m, err
	}
}

// trusted reports whether dst is a destination that mapped windows may be
// written to: one whose Write hands the memory to the kernel and does not
// keep it (the JVM's FileChannelImpl and SelChImpl).
func trusted(dst io.Writer) bool {
	switch dst.(type) {
	case *os.File, *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}

// mappedTransferTo writes n bytes of src from pos to dst from a read-only
// mapping, unmapped before it returns (transferToTrustedChannel).
func mappedTransferTo(src *os.File, pos, n int64, dst io.Writer) (int64, error) {
	b, err := Map(src, ReadOnly, pos, n)
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return 0, errTierUnsupported
		}
		return 0, err
	}
	defer b.Free()
	return b.WriteTo(dst)
}

// bufferTransferTo writes n bytes of src from pos to dst through a
// temporary direct buffer (transferToArbitraryChannel).
func bufferTransferTo(ctx context.Context, src *os.File, pos, n int64, dst io.Writer) (int64, error) {
	tb, err := getTempBuffer(ctx)
	if err != nil {
		return 0, err
	}
	defer putTempBuffer(tb)
	mem := tb.Bytes()
	var total int64
	for total < n {
		if total > 0 {
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
		c := min(n-total, int64(len(mem)))
		nr, rerr := src.ReadAt(mem[:c], pos+total)
		if nr > 0 {
			nw, werr := dst.Write(mem[:nr])
			if nw < 0 || nw > nr {
				return total, fmt.Errorf("mapped: transfer: writer returned invalid count %d", nw)
			}
			total += int64(nw)
			if werr != nil {
				return total, werr
			}
			if nw < nr {
				return total, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			break // the file shrank
		}
		if rerr != nil {
			return total, rerr
		}
	}
	runtime.KeepAlive(tb)
	return total, nil
}

// TransferFrom reads up to count bytes from src and writes them to dst at
// position, and returns how many it wrote: FileChannel.transferFrom. dst's
// own offset does not move (the writes are positioned), and as in JDK 21
// a position beyond dst's size grows the file (the bytes between the old
// end and position read as zeros; the file may be sparse there).
//
// When src is an *os.File it is read from its own offset, which advances
// by the count, as reading it would, and the count is cut to what src
// holds past that offset. Between regular files on Linux the bytes are
// copied in the kernel (copy_file_range(2)); otherwise from read-only
// mapped windows of src of 8 MiB, written to dst with pwrite(2). Any other
// reader (and a pipe) is read into an 8 KiB temporary direct buffer until
// count bytes or io.EOF, each buffer written at its position. A reader
// that returns no bytes and no error 100 times in a row fails with
// io.ErrNoProgress.
//
// Bad input returns an error and writes nothing: a nil file or reader, a
// negative position or count (fs.ErrInvalid); dst a directory, not a
// regular file, or opened with O_APPEND (whose writes cannot be
// positioned, as os.File.WriteAt says) (fs.ErrInvalid); dst not open for
// writing or a src file not open for reading (fs.ErrPermission); a closed
// file (os.ErrClosed). These are *fs.PathError values naming dst. An error
// during the transfer comes back with the count written before it.
func TransferFrom(src io.Reader, dst *os.File, position, count int64) (int64, error) {
	return TransferFromContext(context.Background(), src, dst, position, count)
}

// TransferFromContext is TransferFrom with a context, checked before each
// chunk of at most 8 MiB (and each 8 KiB through a temporary buffer): when
// ctx ends, it returns the count written so far and ctx.Err().
func TransferFromContext(ctx context.Context, src io.Reader, dst *os.File, position, count int64) (int64, error) {
	const op = "transferfrom"
	if dst == nil {
		return 0, &fs.PathError{Op: op, Path: "", Err: fmt.Errorf("%w: nil destination file", fs.ErrInvalid)}
	}
	fail := func(err error) (int64, error) { return 0, &fs.PathError{Op: op, Path: dst.Name(), Err: err} }
	sf, srcIsFile := src.(*os.File)
	if src == nil || (srcIsFile && sf == nil) {
		return fail(fmt.Errorf("%w: nil source", fs.ErrInvalid))
	}
	if err := checkRange(position, count); err != nil {
		return fail(err)
	}
	dt, err := statFile(dst)
	if err != nil {
		return fail(err)
	}
	if err := checkDestination(dt, false); err != nil {
		return fail(err)
	}
	var st fileState
	if srcIsFile {
		if st, err = statFile(sf); err != nil {
			return fail(fmt.Errorf("source %s: %w", sf.Name(), err))
		}
		if !st.readable {
			return fail(fmt.Errorf("source %s: %w: not open for reading", sf.Name(), fs.ErrPermission))
		}
		if st.dir {
			return fail(fmt.Errorf("source %s: %w: is a directory", sf.Name(), fs.ErrInvalid))
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if count == 0 {
		return 0, nil
	}
	if srcIsFile && st.regular && !sameFile(sf, dst) {
		return fileTransferFrom(ctx, sf, st.size, dst, position, count)
	}
	return readerTransferFrom(ctx, src, dst, position, count)
}

// fileTransferFrom is TransferFrom from a regular file
// (transferFromFileChannel): from src's offset, at most to its end, and
// src's offset advances by the count.
func fileTransferFrom(ctx context.Context, src *os.File, size int64, dst *os.File, position, count int64) (total int64, err error) {
	pos, err := src.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	limit := min(count, size-pos)
	if limit <= 0 {
		return 0, nil
	}
	t := firstTier
	for total < limit {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		chunk := min(limit-total, mappedTransferSize)
		var n int64
		switch t {
		case tierKernel:
			// Reads from src's offset and advances it.
			n, err = kernelTransferFrom(src, dst, position+total, chunk)
		case tierMapped:
			if n, err = mappedTransferFrom(src, pos+total, chunk, dst, position+total); n > 0 {
				if _, serr := src.Seek(pos+total+n, io.SeekStart); serr != nil && err == nil {
					err = serr
				}
			}
		default:
			// Reads from src's offset and advances it.
			n, err = bufferTransferFrom(ctx, src, dst, position+total, chunk)
		}
		if err == errTierUnsupported && n == 0 && t < tierBuffer {
			t++
			continue
		}
		if n > 0 && tierDone != nil {
			tierDone(t, n)
		}
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// mappedTransferFrom writes n bytes of src from pos to dst at position
// from a read-only mapping of src, unmapped before it returns.
func mappedTransferFrom(src *os.File, pos, n int64, dst *os.File, position int64) (int64, error) {
	b, err := Map(src, ReadOnly, pos, n)
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return 0, errTierUnsupported
		}
		return 0, err
	}
	defer b.Free()
	return b.WriteTo(io.NewOffsetWriter(dst, position))
}

// readerTransferFrom is TransferFrom from any reader
// (transferFromArbitraryChannel), in chunks of at most 8 MiB.
func readerTransferFrom(ctx context.Context, src io.Reader, dst *os.File, position, count int64) (int64, error) {
	var total int64
	for total < count {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		chunk := min(count-total, mappedTransferSize)
		n, err := bufferTransferFrom(ctx, src, dst, position+total, chunk)
		if n > 0 && tierDone != nil {
			tierDone(tierBuffer, n)
		}
		total += n
		if err != nil || n < chunk {
			return total, err // n < chunk without an error: src's io.EOF
		}
	}
	return total, nil
}

// bufferTransferFrom reads up to n bytes from src through a temporary
// direct buffer and writes them to dst at position. It returns a nil error
// at src's io.EOF.
func bufferTransferFrom(ctx context.Context, src io.Reader, dst *os.File, position, n int64) (int64, error) {
	tb, err := getTempBuffer(ctx)
	if err != nil {
		return 0, err
	}
	defer putTempBuffer(tb)
	mem := tb.Bytes()
	var total int64
	empty := 0
	for total < n {
		if total > 0 {
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
		c := min(n-total, int64(len(mem)))
		nr, rerr := src.Read(mem[:c])
		if nr < 0 || int64(nr) > c {
			return total, fmt.Errorf("mapped: transfer: reader returned invalid count %d", nr)
		}
		if nr > 0 {
			empty = 0
			nw, werr := dst.WriteAt(mem[:nr], position+total)
			total += int64(nw)
			if werr != nil {
				return total, werr
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return total, rerr
		}
		if nr == 0 {
			if empty++; empty >= maxEmptyTransferReads {
				return total, io.ErrNoProgress
			}
		}
	}
	runtime.KeepAlive(tb)
	return total, nil
}

// checkSource is TransferTo's check of its source.
func checkSource(st fileState) error {
	switch {
	case !st.readable:
		return fmt.Errorf("%w: not open for reading", fs.ErrPermission)
	case st.dir:
		return fmt.Errorf("%w: is a directory", fs.ErrInvalid)
	case !st.regular:
		return fmt.Errorf("%w: not a regular file", fs.ErrInvalid)
	}
	return nil
}

// checkDestination checks a destination file; appendOK says whether it may
// have been opened with O_APPEND (TransferTo writes as Write does).
func checkDestination(st fileState, appendOK bool) error {
	switch {
	case st.dir:
		return fmt.Errorf("%w: is a directory", fs.ErrInvalid)
	case !st.writable:
		return fmt.Errorf("%w: not open for writing", fs.ErrPermission)
	case appendOK:
		return nil
	case !st.regular:
		return fmt.Errorf("%w: not a regular file", fs.ErrInvalid)
	case st.append:
		return fmt.Errorf("%w: opened with O_APPEND: writes at a position are impossible", fs.ErrInvalid)
	}
	return nil
}

// isNilWriter reports whether w is nil or a nil pointer of a type this
// package knows.
func isNilWriter(w io.Writer) bool {
	switch d := w.(type) {
	case nil:
		return true
	case *os.File:
		return d == nil
	case *net.TCPConn:
		return d == nil
	case *net.UnixConn:
		return d == nil
	case *directmem.Buffer:
		return d == nil
	}
	return false
}

// sameFile reports whether a and b are the same open file (one
// descriptor), whose ranges may overlap.
func sameFile(a, b *os.File) bool {
	if a == b {
		return true
	}
	sa, err1 := a.Stat()
	sb, err2 := b.Stat()
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// checkRange is the JVM's first check of a transfer's arguments.
func checkRange(position, count int64) error {
	if position < 0 {
		return fmt.Errorf("%w: negative position %d", fs.ErrInvalid, position)
	}
	if count < 0 {
		return fmt.Errorf("%w: negative count %d", fs.ErrInvalid, count)
	}
	return nil
}
