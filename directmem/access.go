package directmem

import (
	"bytes"
	"errors"
	"runtime"
	"runtime/debug"
)

// ErrSameBuffer is returned by PutBuffer when the source is the buffer
// itself (the JVM's IllegalArgumentException for put(this)), and by
// ReadFrom and WriteTo when the reader or writer is the buffer itself
// (io.Copy(b, b)).
var ErrSameBuffer = errors.New("directmem: the source buffer is this buffer")

// Get reads the byte at the position and advances the position by one. At
// the limit it returns ErrBufferUnderflow.
func (b *Buffer) Get() (v byte, err error) {
	if b.pos >= b.lim || b.owner.flags != 0 {
		err = callByteGet((*Buffer).getSlow, b, &v)
		return
	}
	v = load8(b.ptr, b.pos)
	b.pos++
	runtime.KeepAlive(b)
	return v, nil
}

func (b *Buffer) getSlow(v *byte) (err error) {
	if b.pos >= b.lim || b.owner.freed() {
		return b.underflowError()
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	*v = load8(b.ptr, b.pos)
	b.pos++
	runtime.KeepAlive(b)
	return nil
}

// Put writes v at the position and advances the position by one. It returns
// ErrReadOnly for a read-only buffer and ErrBufferOverflow at the limit.
func (b *Buffer) Put(v byte) error {
	if b.pos >= b.lim || b.readOnly || b.owner.flags != 0 {
		return callBytePut((*Buffer).putSlow, b, v)
	}
	store8(b.ptr, b.pos, v)
	b.pos++
	runtime.KeepAlive(b)
	return nil
}

func (b *Buffer) putSlow(v byte) (err error) {
	if b.pos >= b.lim || b.readOnly || b.owner.freed() {
		return b.overflowError()
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	store8(b.ptr, b.pos, v)
	b.pos++
	runtime.KeepAlive(b)
	return nil
}

// GetAt reads the byte at index i, which must be in [0, limit); the position
// does not move.
func (b *Buffer) GetAt(i int) (v byte, err error) {
	if i < 0 || i >= b.lim || b.owner.flags != 0 {
		err = callByteGetAt((*Buffer).getAtSlow, b, i, &v)
		return
	}
	v = load8(b.ptr, i)
	runtime.KeepAlive(b)
	return v, nil
}

func (b *Buffer) getAtSlow(i int, v *byte) (err error) {
	if i < 0 || i >= b.lim || b.owner.freed() {
		return b.indexError(i, 1)
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	*v = load8(b.ptr, i)
	runtime.KeepAlive(b)
	return nil
}

// PutAt writes v at index i, which must be in [0, limit); the position does
// not move.
func (b *Buffer) PutAt(i int, v byte) error {
	if i < 0 || i >= b.lim || b.readOnly || b.owner.flags != 0 {
		return callBytePutAt((*Buffer).putAtSlow, b, i, v)
	}
	store8(b.ptr, i, v)
	runtime.KeepAlive(b)
	return nil
}

func (b *Buffer) putAtSlow(i int, v byte) (err error) {
	if i < 0 || i >= b.lim || b.readOnly || b.owner.freed() {
		return b.writeIndexError(i, 1)
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	store8(b.ptr, i, v)
	runtime.KeepAlive(b)
	return nil
}

// GetBytes fills dst from the position and advances the position by
// len(dst). If fewer than len(dst) bytes remain it returns
// ErrBufferUnderflow and copies nothing.
func (b *Buffer) GetBytes(dst []byte) error {
	if len(dst) > b.lim-b.pos || b.owner.flags != 0 {
		return callSlice((*Buffer).getBytesSlow, b, dst)
	}
	b.pos += copy(dst, b.bytes()[b.pos:b.lim])
	runtime.KeepAlive(b)
	return nil
}

func (b *Buffer) getBytesSlow(dst []byte) (err error) {
	if len(dst) > b.lim-b.pos || b.owner.freed() {
		return b.underflowError()
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	n := copy(dst, b.bytes()[b.pos:b.lim])
	b.pos += n
	runtime.KeepAlive(b)
	return nil
}

// PutBytes copies src to the position and advances the position by
// len(src). It returns ErrReadOnly for a read-only buffer, and
// ErrBufferOverflow if fewer than len(src) bytes remain, copying nothing.
func (b *Buffer) PutBytes(src []byte) error {
	if len(src) > b.lim-b.pos || b.readOnly || b.owner.flags != 0 {
		return callSlice((*Buffer).putBytesSlow, b, src)
	}
	b.pos += copy(b.bytes()[b.pos:b.lim], src)
	runtime.KeepAlive(b)
	return nil
}

func (b *Buffer) putBytesSlow(src []byte) (err error) {
	if len(src) > b.lim-b.pos || b.readOnly || b.owner.freed() {
		return b.overflowError()
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	n := copy(b.bytes()[b.pos:b.lim], src)
	b.pos += n
	runtime.KeepAlive(b)
	return nil
}

// GetBytesAt fills dst from index i; the position does not move. Unless
// 0 <= i and i+len(dst) <= limit it returns ErrIndexOutOfRange and copies
// nothing (the JVM's absolute get(int, byte[])).
func (b *Buffer) GetBytesAt(i int, dst []byte) error {
	if i < 0 || len(dst) > b.lim-i || b.owner.flags != 0 {
		return callSliceAt((*Buffer).getBytesAtSlow, b, i, dst)
	}
	copy(dst, b.bytes()[i:b.lim])
	runtime.KeepAlive(b)
	return nil
}

// PutBytesAt copies src to index i; the position does not move. It returns
// ErrReadOnly for a read-only buffer, and ErrIndexOutOfRange unless 0 <= i
// and i+len(src) <= limit, copying nothing.
func (b *Buffer) PutBytesAt(i int, src []byte) error {
	if i < 0 || len(src) > b.lim-i || b.readOnly || b.owner.flags != 0 {
		return callSliceAt((*Buffer).putBytesAtSlow, b, i, src)
	}
	copy(b.bytes()[i:b.lim], src)
	runtime.KeepAlive(b)
	return nil
}

func (b *Buffer) getBytesAtSlow(i int, dst []byte) (err error) {
	if i < 0 || len(dst) > b.lim-i || b.owner.freed() {
		return b.indexError(i, len(dst))
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	copy(dst, b.bytes()[i:b.lim])
	runtime.KeepAlive(b)
	return nil
}

func (b *Buffer) putBytesAtSlow(i int, src []byte) (err error) {
	if i < 0 || len(src) > b.lim-i || b.readOnly || b.owner.freed() {
		return b.writeIndexError(i, len(src))
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	copy(b.bytes()[i:b.lim], src)
	runtime.KeepAlive(b)
	return nil
}

// PutBuffer copies src's remaining bytes to this buffer's position and
// advances both positions by that count. The two may share memory (views
// of one allocation); the copy behaves as if through a temporary. It
// returns ErrSameBuffer if src is b, ErrReadOnly if b is read-only, and
// ErrBufferOverflow if src has more remaining bytes than b, moving nothing.
func (b *Buffer) PutBuffer(src *Buffer) (err error) {
	if src == b {
		return ErrSameBuffer
	}
	if err := b.checkWritable(); err != nil {
		return err
	}
	if err := src.checkLive(); err != nil {
		return err
	}
	n := src.lim - src.pos
	if n > b.lim-b.pos {
		return ErrBufferOverflow
	}
	if (b.owner.flags|src.owner.flags)&flagMayFault != 0 {
		defer endFault(debug.SetPanicOnFault(true), &err)
	}
	copy(b.bytes()[b.pos:b.lim], src.bytes()[src.pos:src.lim]) // copy is memmove
	b.pos += n
	src.pos += n
	runtime.KeepAlive(b)
	runtime.KeepAlive(src)
	return nil
}

// Compact moves the bytes between the position and the limit to the start
// of the buffer, sets the position just after them and the limit to the
// capacity, and discards the mark: the buffer is ready to be filled again
// after a partial drain (java.nio.ByteBuffer.compact).
func (b *Buffer) Compact() error {
	if b.readOnly || b.owner.flags != 0 {
		return callErr((*Buffer).compactSlow, b)
	}
	n := copy(b.bytes(), b.bytes()[b.pos:b.lim])
	b.pos, b.lim, b.mark = n, b.n, noMark
	runtime.KeepAlive(b)
	return nil
}

func (b *Buffer) compactSlow() (err error) {
	if err := b.checkWritable(); err != nil {
		return err
	}
	defer endFault(debug.SetPanicOnFault(true), &err)
	n := copy(b.bytes(), b.bytes()[b.pos:b.lim])
	b.pos, b.lim, b.mark = n, b.n, noMark
	runtime.KeepAlive(b)
	return nil
}

// Bytes returns the bytes between the position and the limit as a slice
// of the buffer's own memory: writes through either show in the other, and
// the position does not move.
//
// The slice is raw memory: for memory that may fault (a file mapping),
// touching it is not guarded, and a fault crashes the program; touch it
// inside Guard.
//
// The slice is raw memory outside the Go heap and does not keep it alive.
// It is valid only while the buffer (or a view of it) is reachable and not
// freed; keep the buffer alive with runtime.KeepAlive past the last use of
// the slice. Using it after Free, or after the buffer is collected, reads or
// writes released memory. Bytes ignores the read-only flag; writing through
// the slice of a read-only view is a bug the buffer cannot catch. It
// returns nil once the buffer is freed.
func (b *Buffer) Bytes() []byte {
	if b.owner.freed() {
		return nil
	}
	return b.bytes()[b.pos:b.lim:b.lim]
}

// Equal reports whether the remaining bytes of b and c are the same
// (java.nio.ByteBuffer.equals). A freed buffer equals nothing, and nor
// does one whose memory faults while they are compared.
func (b *Buffer) Equal(c *Buffer) bool {
	if b.owner.flags|c.owner.flags != 0 {
		return callEqual((*Buffer).equalSlow, b, c)
	}
	eq := bytes.Equal(b.bytes()[b.pos:b.lim], c.bytes()[c.pos:c.lim])
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	return eq
}

// Compare compares the remaining bytes of b and c lexicographically, as
// bytes.Compare does (java.nio.ByteBuffer.compareTo, with bytes unsigned).
// A freed buffer sorts before everything, and so does one whose memory
// faults while they are compared (if it is b's memory that faults, b sorts
// first; otherwise c).
func (b *Buffer) Compare(c *Buffer) (r int) {
	bf, cf := b.owner.freed(), c.owner.freed()
	switch {
	case bf && cf:
		return 0
	case bf:
		return -1
	case cf:
		return 1
	}
	if (b.owner.flags|c.owner.flags)&flagMayFault != 0 {
		defer b.endCompareFault(debug.SetPanicOnFault(true), &r)
	}
	r = bytes.Compare(b.bytes()[b.pos:b.lim], c.bytes()[c.pos:c.lim])
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	return r
}

func (b *Buffer) equalSlow(c *Buffer) (eq bool) {
	if b.owner.freed() || c.owner.freed() {
		return false
	}
	var err error
	defer endFault(debug.SetPanicOnFault(true), &err) // a fault leaves eq false
	eq = bytes.Equal(b.bytes()[b.pos:b.lim], c.bytes()[c.pos:c.lim])
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	return eq
}

// The helpers through which the fast paths call their slow twins, for the
// inlining budget: see typed_methods.go.

func callByteGet(f func(*Buffer, *byte) error, b *Buffer, v *byte) error { return f(b, v) }

func callBytePut(f func(*Buffer, byte) error, b *Buffer, v byte) error { return f(b, v) }

func callByteGetAt(f func(*Buffer, int, *byte) error, b *Buffer, i int, v *byte) error {
	return f(b, i, v)
}

func callBytePutAt(f func(*Buffer, int, byte) error, b *Buffer, i int, v byte) error {
	return f(b, i, v)
}

func callSlice(f func(*Buffer, []byte) error, b *Buffer, p []byte) error { return f(b, p) }

func callSliceAt(f func(*Buffer, int, []byte) error, b *Buffer, i int, p []byte) error {
	return f(b, i, p)
}

func callErr(f func(*Buffer) error, b *Buffer) error { return f(b) }

func callEqual(f func(*Buffer, *Buffer) bool, b, c *Buffer) bool { return f(b, c) }

// endCompareFault is endFault for Compare, whose result is an int: b sorts
// first if its memory faulted, c otherwise.
func (b *Buffer) endCompareFault(old bool, r *int) {
	debug.SetPanicOnFault(old)
	if p := recover(); p != nil {
		f, ok := p.(interface{ Addr() uintptr })
		if !ok {
			panic(p)
		}
		*r = 1
		if inMem(b.bytes()[b.pos:b.lim], f.Addr()) {
			*r = -1
		}
	}
}
