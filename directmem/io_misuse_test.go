package directmem_test

import (
	"errors"
	"io"
	"testing"
	"unsafe"

	"github.com/offheap-go/offheap/directmem"
)

// io.Copy(b, b) takes b.WriteTo(b): the nested b.Write moves b's position
// to the limit, and WriteTo adding the count again would leave position >
// limit, which the Buffer doc says never happens and which Slice, Bytes and
// Compact trust. So WriteTo, and ReadFrom, refuse their own buffer.
func TestCopyBufferToItself(t *testing.T) {
	b := newFilledBuffer(t, 16)
	if err := b.SetLimit(8); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(b, b)
	if !errors.Is(err, directmem.ErrSameBuffer) || n != 0 || b.Position() != 0 || b.Limit() != 8 {
		t.Errorf("io.Copy(b, b) = %d, %v; position %d, limit %d; want 0, ErrSameBuffer, 0, 8",
			n, err, b.Position(), b.Limit())
	}
	n, err = b.ReadFrom(b)
	if !errors.Is(err, directmem.ErrSameBuffer) || n != 0 || b.Position() != 0 {
		t.Errorf("b.ReadFrom(b) = %d, %v; position %d; want 0, ErrSameBuffer, 0", n, err, b.Position())
	}
}

// freeingReader frees the destination buffer during its first Read and
// allocates another buffer of the same size, which gets the freed memory;
// its second Read fills whatever p ReadFrom gives it.
type freeingReader struct {
	t     *testing.T
	b     *directmem.Buffer
	other *directmem.Buffer
	calls int
}

func (r *freeingReader) Read(p []byte) (int, error) {
	r.calls++
	switch r.calls {
	case 1:
		addr := unsafe.SliceData(p)
		if err := r.b.Free(); err != nil {
			r.t.Fatal(err)
		}
		// Allocate until a buffer gets the freed memory.
		for range 256 {
			o := newTestBuffer(r.t, r.b.Capacity())
			if unsafe.SliceData(o.Bytes()) == addr {
				r.other = o
				break
			}
		}
		p[0] = 'x'
		return 1, nil
	case 2:
		for i := range p {
			p[i] = 0xAA
		}
		return len(p), io.EOF
	}
	return 0, io.EOF
}

// A reader that frees the destination buffer must not be handed its
// memory again: that memory may already belong to another buffer.
func TestReadFromStopsAtFree(t *testing.T) {
	b, err := testAllocator.AllocateContext(t.Context(), 64)
	if err != nil {
		t.Fatal(err)
	}
	r := &freeingReader{t: t, b: b}
	n, err := b.ReadFrom(r)
	if !errors.Is(err, directmem.ErrFreed) || r.calls != 1 || n != 0 {
		t.Errorf("ReadFrom = %d, %v after %d reads; want 0, ErrFreed after 1", n, err, r.calls)
	}
	if r.other != nil {
		if got, _ := r.other.GetAt(1); got != 0 {
			t.Errorf("a write through the freed buffer's memory reached another live buffer: %#x", got)
		}
	}
}
