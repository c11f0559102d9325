package directmem

import (
	"fmt"
	"unsafe"
)

// Buffer is a window on memory outside the Go heap with the cursor of
// java.nio.ByteBuffer: the Go form of a DirectByteBuffer.
//
// A Buffer has a capacity, fixed when it is created, and three indexes that
// always satisfy
//
//	0 <= mark <= position <= limit <= capacity
//
// Relative operations (Get, Put, GetInt32, Read, Write, ...) work at the
// position and advance it by the number of bytes they move; they never go
// past the limit. Absolute operations (GetAt, PutInt32At, ReadAt, ...)
// take an index, check it against the limit, and leave the position alone.
// The mark, when set, is where Reset returns the position to; it is
// discarded (set to "none") whenever the position or limit moves below it.
//
// Multi-byte values are read and written in the buffer's byte order,
// big-endian unless SetOrder says otherwise (as in the JVM).
//
// Slice, SliceAt, Duplicate and AsReadOnly return views: new Buffers with
// their own indexes over the same memory. A view keeps the memory alive for
// as long as the view is reachable, is not counted in the pool statistics,
// and cannot be freed: Free on a view returns ErrNotOwner. New views start
// big-endian, whatever the order of the buffer they came from.
//
// After Free, every method that touches the memory, on the buffer and on
// all its views, returns ErrFreed. Methods that only move indexes keep
// working.
//
// A Buffer is not safe for concurrent use, except that Free may be called
// from any goroutine once no other goroutine is using the buffer or its
// views. The zero Buffer is not usable; buffers come from Allocate,
// an Allocator, an Arena, or Wrap.
type Buffer struct {
	// ptr and n are this buffer's window on the allocation: its first byte
	// and its capacity. Off-heap memory is not kept alive by ptr; owner
	// does that. (No slice: without its cap word a Buffer keeps 64 bytes
	// with scratch below.)
	ptr   unsafe.Pointer
	n     int
	owner *owner

	pos, lim int
	mark     int // -1 when there is no mark
	// scratch carries a typed get's value back from its out-of-line twin
	// (typed_methods.go): a Buffer is used by one goroutine at a time.
	scratch uint64
	// swap says the buffer's byte order is not the host's: loads and
	// stores swap bytes. It is the whole of the order (see Order), which
	// keeps a Buffer at 64 bytes.
	swap     bool
	readOnly bool
	isView   bool // a slice, duplicate or read-only view: not the owner
}

// noMark is the value of Buffer.mark when no mark is set.
const noMark = -1

// newBuffer returns the root buffer of an allocation.
func newBuffer(mem []byte, o *owner) *Buffer {
	b := new(Buffer)
	initBuffer(b, mem, o)
	return b
}

// bytes returns the buffer's memory, [0, capacity).
func (b *Buffer) bytes() []byte { return unsafe.Slice((*byte)(b.ptr), b.n) }

// Capacity returns the number of bytes the buffer can hold.
func (b *Buffer) Capacity() int { return b.n }

// Position returns the index of the next byte a relative operation reads or writes.
func (b *Buffer) Position() int { return b.pos }

// Limit returns the index of the first byte that must not be read or written.
func (b *Buffer) Limit() int { return b.lim }

// Remaining returns the number of bytes between the position and the limit.
func (b *Buffer) Remaining() int { return b.lim - b.pos }

// HasRemaining reports whether there is any byte between the position and the limit.
func (b *Buffer) HasRemaining() bool { return b.pos < b.lim }

// IsReadOnly reports whether the buffer rejects writes with ErrReadOnly.
func (b *Buffer) IsReadOnly() bool { return b.readOnly }

// IsDirect reports true, for every Buffer, as a DirectByteBuffer's
// isDirect does. A Buffer that Wrap made over Go memory reports true as
// well, since Wrap cannot tell where its memory came from. It exists for
// code ported from java.nio.
func (b *Buffer) IsDirect() bool { return true }

// SetPosition sets the position. It fails with ErrIndexOutOfRange, changing
// nothing, unless 0 <= p <= limit. A mark beyond the new position is discarded.
func (b *Buffer) SetPosition(p int) error {
	if p > b.lim || p < 0 {
		return b.badPosition(p)
	}
	if b.mark > p {
		b.mark = noMark
	}
	b.pos = p
	return nil
}

func (b *Buffer) badPosition(p int) error {
	if p < 0 {
		return fmt.Errorf("%w: newPosition < 0: (%d < 0)", ErrIndexOutOfRange, p)
	}
	return fmt.Errorf("%w: newPosition > limit: (%d > %d)", ErrIndexOutOfRange, p, b.lim)
}

// SetLimit sets the limit. It fails with ErrIndexOutOfRange, changing
// nothing, unless 0 <= l <= capacity. A position beyond the new limit is
// moved to it; a mark beyond it is discarded.
func (b *Buffer) SetLimit(l int) error {
	if l > b.n || l < 0 {
		if l < 0 {
			return fmt.Errorf("%w: newLimit < 0: (%d < 0)", ErrIndexOutOfRange, l)
		}
		return fmt.Errorf("%w: newLimit > capacity: (%d > %d)", ErrIndexOutOfRange, l, b.n)
	}
	b.lim = l
	if b.pos > l {
		b.pos = l
	}
	if b.mark > l {
		b.mark = noMark
	}
	return nil
}

// Mark sets the mark at the position.
func (b *Buffer) Mark() { b.mark = b.pos }

// Reset moves the position back to the mark, or returns ErrInvalidMark if
// no mark is set. The mark stays.
func (b *Buffer) Reset() error {
	if b.mark < 0 {
		return ErrInvalidMark
	}
	b.pos = b.mark
	return nil
}

// Clear readies the buffer to be filled: position 0, limit at capacity,
// no mark. The bytes are not changed.
func (b *Buffer) Clear() {
	b.pos, b.lim, b.mark = 0, b.n, noMark
}

// Flip readies the buffer to be drained after filling: the limit moves to
// the position, the position to 0, and the mark is discarded.
func (b *Buffer) Flip() {
	b.pos, b.lim, b.mark = 0, b.pos, noMark
}

// Rewind readies the buffer to be read again: position 0, no mark, the
// limit unchanged.
func (b *Buffer) Rewind() {
	b.pos, b.mark = 0, noMark
}

// Slice returns a view of the bytes between the position and the limit.
// The view's capacity and limit are this buffer's remaining count, its
// position is 0, it has no mark, it is big-endian, and it is read-only if
// this buffer is. Changes to the bytes show through both.
func (b *Buffer) Slice() *Buffer {
	return b.view(b.pos, b.lim-b.pos)
}

// SliceAt returns a view of length bytes starting at index, as Slice does,
// without regard to the position. It fails with ErrIndexOutOfRange unless
// 0 <= index, 0 <= length and index+length <= limit.
func (b *Buffer) SliceAt(index, length int) (*Buffer, error) {
	if index < 0 || length < 0 || length > b.lim-index {
		return nil, fmt.Errorf("%w: range [%d, %d + %d) out of bounds for length %d", ErrIndexOutOfRange, index, index, length, b.lim)
	}
	return b.view(index, length), nil
}

// view makes the view of mem[off:off+n] that Slice and SliceAt return.
func (b *Buffer) view(off, n int) *Buffer {
	p := b.ptr
	if n > 0 {
		// Only then: an empty view must not point past its allocation's
		// end, which the garbage collector may take for the next object.
		p = unsafe.Add(b.ptr, off)
	}
	return &Buffer{
		ptr: p, n: n, owner: b.owner,
		lim: n, mark: noMark, swap: hostLittleEndian,
		readOnly: b.readOnly, isView: true,
	}
}

// Duplicate returns a view of the whole buffer with the same capacity,
// position, limit, mark and read-only state, in big-endian order. The two
// share bytes but move their indexes independently.
func (b *Buffer) Duplicate() *Buffer {
	d := *b
	d.swap, d.isView = hostLittleEndian, true
	return &d
}

// AsReadOnly returns a read-only Duplicate: the same bytes, which the view
// can read but not change.
func (b *Buffer) AsReadOnly() *Buffer {
	d := b.Duplicate()
	d.readOnly = true
	return d
}

// String describes the buffer's indexes, like java.nio.Buffer.toString.
func (b *Buffer) String() string {
	return fmt.Sprintf("directmem.Buffer[pos=%d lim=%d cap=%d]", b.pos, b.lim, b.n)
}
