package directmem

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// The io interfaces a Buffer implements. Relative ones (Read, Write,
// ReadByte, WriteByte, ReadFrom, WriteTo) work between the position and the
// limit and advance the position; absolute ones (ReadAt, WriteAt) take an
// offset from the start of the buffer, are bounded by the limit, and leave
// the position alone.
var (
	_ io.Reader       = (*Buffer)(nil)
	_ io.Writer       = (*Buffer)(nil)
	_ io.ByteReader   = (*Buffer)(nil)
	_ io.ByteWriter   = (*Buffer)(nil)
	_ io.ReaderAt     = (*Buffer)(nil)
	_ io.WriterAt     = (*Buffer)(nil)
	_ io.ReaderFrom   = (*Buffer)(nil)
	_ io.WriterTo     = (*Buffer)(nil)
	_ io.StringWriter = (*Buffer)(nil)
)

// maxEmptyReads is how many (0, nil) reads in a row ReadFrom accepts.
const maxEmptyReads = 100

// Read copies up to len(p) bytes from the position into p and advances the
// position. With nothing remaining it returns 0, io.EOF (a Reader's end,
// where Get says ErrBufferUnderflow).
func (b *Buffer) Read(p []byte) (int, error) {
	if b.owner.flags != 0 {
		return callRead((*Buffer).readSlow, b, p)
	}
	return b.read(p)
}

func (b *Buffer) readSlow(p []byte) (n int, err error) {
	if err := b.checkLive(); err != nil {
		return 0, err
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	return b.read(p)
}

// read is Read once the memory is known to be live.
func (b *Buffer) read(p []byte) (int, error) {
	if b.pos >= b.lim {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, b.bytes()[b.pos:b.lim])
	b.pos += n
	runtime.KeepAlive(b)
	return n, nil
}

// Write copies p to the position and advances the position. When p is
// longer than the remaining space, Write copies what fits and returns the
// count with ErrBufferOverflow: a buffer does not grow. It returns
// ErrReadOnly for a read-only buffer, writing nothing.
func (b *Buffer) Write(p []byte) (int, error) {
	if b.readOnly || b.owner.flags != 0 {
		return callRead((*Buffer).writeSlow, b, p)
	}
	return write(b, p)
}

// WriteString is Write for a string, without converting it to a []byte.
func (b *Buffer) WriteString(s string) (int, error) {
	if b.readOnly || b.owner.flags != 0 {
		return callWriteString((*Buffer).writeStringSlow, b, s)
	}
	return write(b, s)
}

func (b *Buffer) writeSlow(p []byte) (n int, err error) { return writeSlow(b, p) }

func (b *Buffer) writeStringSlow(s string) (n int, err error) { return writeSlow(b, s) }

func writeSlow[S string | []byte](b *Buffer, p S) (n int, err error) {
	if err := b.checkWritable(); err != nil {
		return 0, err
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	return write(b, p)
}

// write is Write once the buffer is known to be live and writable.
func write[S string | []byte](b *Buffer, p S) (int, error) {
	n := copy(b.bytes()[b.pos:b.lim], p)
	b.pos += n
	runtime.KeepAlive(b)
	if n < len(p) {
		return n, ErrBufferOverflow
	}
	return n, nil
}

// ReadByte is Get with io.ByteReader's convention: io.EOF, not
// ErrBufferUnderflow, when nothing remains.
func (b *Buffer) ReadByte() (byte, error) {
	v, err := b.Get()
	if err == ErrBufferUnderflow {
		return 0, io.EOF
	}
	return v, err
}

// WriteByte is Put, for io.ByteWriter.
func (b *Buffer) WriteByte(c byte) error { return b.Put(c) }

// ReadAt copies bytes from offset off into p, without moving the position.
// It reads only below the limit: if fewer than len(p) bytes lie between
// off and the limit it copies those and returns io.EOF, as io.ReaderAt
// requires. A negative offset returns ErrIndexOutOfRange.
func (b *Buffer) ReadAt(p []byte, off int64) (n int, err error) {
	if err := b.checkLive(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, fmt.Errorf("%w: ReadAt at negative offset %d", ErrIndexOutOfRange, off)
	}
	if off >= int64(b.lim) {
		if len(p) == 0 && off == int64(b.lim) {
			return 0, nil
		}
		return 0, io.EOF
	}
	if b.owner.mayFault() {
		defer endFault(debug.SetPanicOnFault(true), &err)
	}
	n = copy(p, b.bytes()[off:b.lim])
	runtime.KeepAlive(b)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt copies p to offset off, without moving the position. It writes
// only below the limit: if p does not fit it writes what does and returns
// the count with ErrBufferOverflow. A negative offset, or one past the
// limit, returns ErrIndexOutOfRange; a read-only buffer, ErrReadOnly.
func (b *Buffer) WriteAt(p []byte, off int64) (n int, err error) {
	if err := b.checkWritable(); err != nil {
		return 0, err
	}
	if off < 0 || off > int64(b.lim) {
		return 0, fmt.Errorf("%w: WriteAt at offset %d, limit %d", ErrIndexOutOfRange, off, b.lim)
	}
	if b.owner.mayFault() {
		defer endFault(debug.SetPanicOnFault(true), &err)
	}
	n = copy(b.bytes()[off:b.lim], p)
	runtime.KeepAlive(b)
	if n < len(p) {
		return n, ErrBufferOverflow
	}
	return n, nil
}

// ReadFrom reads from r into the space between the position and the limit
// until r returns io.EOF or the buffer is full, advancing the position by
// the count. It returns a nil error at io.EOF, r's error if it fails, and
// ErrBufferOverflow if the buffer filled before r reported io.EOF (r may
// still hold data: a buffer does not grow). It returns ErrSameBuffer if r
// is b, and ErrFreed if r frees the buffer while it reads.
//
// If the buffer's memory may fault and faults while r.Read writes it, ReadFrom
// returns an error matching ErrFault, with the count and position of the
// reads before that one. Other panics in r propagate.
func (b *Buffer) ReadFrom(r io.Reader) (int64, error) {
	if err := b.checkWritable(); err != nil {
		return 0, err
	}
	if rb, ok := r.(*Buffer); ok && rb == b {
		return 0, fmt.Errorf("%w: ReadFrom", ErrSameBuffer)
	}
	defer runtime.KeepAlive(b)
	var total int64
	empty := 0
	for b.pos < b.lim {
		pos, lim := b.pos, b.lim
		n, err, fault := readFrom(r, b.bytes()[pos:lim], b.owner.mayFault())
		if fault != nil {
			return total, fault
		}
		// r may reach the buffer: checked again, so that a Free does not
		// let the next Read write released memory, and a moved cursor does
		// not let the position pass the limit.
		if err := b.checkLive(); err != nil {
			return total, err
		}
		if b.pos != pos || b.lim != lim {
			return total, fmt.Errorf("directmem: ReadFrom: the reader moved the buffer's position or limit (%d, %d -> %d, %d)", pos, lim, b.pos, b.lim)
		}
		if n < 0 || n > lim-pos {
			return total, fmt.Errorf("directmem: ReadFrom: reader returned invalid count %d", n)
		}
		b.pos += n
		total += int64(n)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		// A reader that keeps returning nothing would spin us forever;
		// bufio gives up after the same number of empty reads.
		if n == 0 {
			if empty++; empty >= maxEmptyReads {
				return total, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return total, ErrBufferOverflow
}

// WriteTo writes the bytes between the position and the limit to w and
// advances the position by the count w accepted. It returns ErrSameBuffer
// if w is b.
//
// If the buffer's memory may fault and faults while w.Write reads it,
// WriteTo returns 0 and an error matching ErrFault, and the position does
// not move (w may have taken some bytes). Other panics in w propagate.
func (b *Buffer) WriteTo(w io.Writer) (int64, error) {
	if err := b.checkLive(); err != nil {
		return 0, err
	}
	if wb, ok := w.(*Buffer); ok && wb == b {
		return 0, fmt.Errorf("%w: WriteTo", ErrSameBuffer)
	}
	defer runtime.KeepAlive(b)
	pos, lim := b.pos, b.lim
	rem := lim - pos
	if rem == 0 {
		return 0, nil
	}
	n, err, fault := writeTo(w, b.bytes()[pos:lim], b.owner.mayFault())
	if fault != nil {
		return 0, fault
	}
	if b.pos != pos || b.lim != lim {
		// w reaches the buffer: adding n could take the position past the
		// limit.
		return int64(n), fmt.Errorf("directmem: WriteTo: the writer moved the buffer's position or limit (%d, %d -> %d, %d)", pos, lim, b.pos, b.lim)
	}
	if n < 0 || n > rem {
		return 0, fmt.Errorf("directmem: WriteTo: writer returned invalid count %d", n)
	}
	b.pos += n
	if err == nil && n < rem {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

// readFrom is r.Read(p), under a fault guard when p may fault: a fault in
// p, the buffer's memory, is returned as fault; any other panic in r goes on.
func readFrom(r io.Reader, p []byte, mayFault bool) (n int, err, fault error) {
	if mayFault {
		defer endFaultIn(debug.SetPanicOnFault(true), &fault, p)
	}
	n, err = r.Read(p)
	return n, err, nil
}

// writeTo is w.Write(p) as readFrom is r.Read(p).
func writeTo(w io.Writer, p []byte, mayFault bool) (n int, err, fault error) {
	if mayFault {
		defer endFaultIn(debug.SetPanicOnFault(true), &fault, p)
	}
	n, err = w.Write(p)
	return n, err, nil
}

// The helpers through which the fast paths call their slow twins, for the
// inlining budget: see typed_methods.go.

func callRead(f func(*Buffer, []byte) (int, error), b *Buffer, p []byte) (int, error) {
	return f(b, p)
}

func callWriteString(f func(*Buffer, string) (int, error), b *Buffer, s string) (int, error) {
	return f(b, s)
}
