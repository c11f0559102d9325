package directmem_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"

	"github.com/offheap-go/offheap/directmem"
)

// ioContent is the data the io tests move around.
var ioContent = []byte("The quick brown fox jumps over the lazy dog. 0123456789")

// newContentBuffer returns a buffer holding ioContent between position 0 and
// its limit, with spare capacity beyond the limit.
func newContentBuffer(tb testing.TB) *directmem.Buffer {
	tb.Helper()
	b := newTestBuffer(tb, len(ioContent)+16)
	if _, err := b.Write(ioContent); err != nil {
		tb.Fatal(err)
	}
	b.Flip()
	return b
}

// TestIOTestReader runs testing/iotest's reader conformance test (Read,
// and ReadAt since a Buffer is an io.ReaderAt) on a filled buffer, directly
// and through the iotest wrappers. (iotest.DataErrReader is left out: its
// Read(nil) loops forever on any reader, which TestReader's first call hits.)
func TestIOTestReader(t *testing.T) {
	for _, tt := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"Buffer", func(r io.Reader) io.Reader { return r }},
		{"OneByteReader", iotest.OneByteReader},
		{"HalfReader", iotest.HalfReader},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newContentBuffer(t)
			if err := iotest.TestReader(tt.wrap(b), ioContent); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		b := newTestBuffer(t, 8)
		b.Flip()
		if err := iotest.TestReader(b, nil); err != nil {
			t.Error(err)
		}
	})
	t.Run("Slice", func(t *testing.T) {
		// ReadAt offsets count from the start of the view.
		b := newContentBuffer(t)
		if err := b.SetPosition(4); err != nil {
			t.Fatal(err)
		}
		if err := iotest.TestReader(b.Slice(), ioContent[4:]); err != nil {
			t.Error(err)
		}
	})
}

func TestRead(t *testing.T) {
	b := newContentBuffer(t)
	p := make([]byte, 10)
	n, err := b.Read(p)
	if n != 10 || err != nil || !bytes.Equal(p, ioContent[:10]) || b.Position() != 10 {
		t.Fatalf("Read(10) = %d, %v, %q, position %d", n, err, p[:n], b.Position())
	}
	big := make([]byte, 1000)
	n, err = b.Read(big)
	if n != len(ioContent)-10 || err != nil || !bytes.Equal(big[:n], ioContent[10:]) {
		t.Fatalf("Read(rest) = %d, %v", n, err)
	}
	if n, err := b.Read(p); n != 0 || err != io.EOF {
		t.Errorf("Read at the limit = %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := b.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) at the limit = %d, %v; want 0, nil", n, err)
	}
	if b.Position() != len(ioContent) {
		t.Errorf("position %d, want %d (never past the limit)", b.Position(), len(ioContent))
	}
}

func TestReadByte(t *testing.T) {
	b := newTestBuffer(t, 4)
	if _, err := b.Write([]byte{7, 8}); err != nil {
		t.Fatal(err)
	}
	b.Flip()
	for _, want := range []byte{7, 8} {
		if c, err := b.ReadByte(); c != want || err != nil {
			t.Errorf("ReadByte = %d, %v; want %d, nil", c, err, want)
		}
	}
	if c, err := b.ReadByte(); c != 0 || err != io.EOF {
		t.Errorf("ReadByte at the limit = %d, %v; want 0, io.EOF (not ErrBufferUnderflow)", c, err)
	}
	if _, err := b.Get(); !errors.Is(err, directmem.ErrBufferUnderflow) {
		t.Errorf("Get at the limit = %v, want ErrBufferUnderflow", err)
	}
}

func TestWriteAndWriteByte(t *testing.T) {
	b := newTestBuffer(t, 8)
	if err := b.SetLimit(6); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Write([]byte{1, 2}); n != 2 || err != nil {
		t.Fatalf("Write(2) = %d, %v", n, err)
	}
	if err := b.WriteByte(3); err != nil {
		t.Fatal(err)
	}
	if n, err := b.WriteString("ab"); n != 2 || err != nil {
		t.Fatalf("WriteString(ab) = %d, %v", n, err)
	}
	// One byte of room: a partial write, the count and ErrBufferOverflow.
	n, err := b.Write([]byte{9, 8, 7})
	if n != 1 || !errors.Is(err, directmem.ErrBufferOverflow) {
		t.Errorf("Write past the limit = %d, %v; want 1, ErrBufferOverflow", n, err)
	}
	if err := b.WriteByte(4); !errors.Is(err, directmem.ErrBufferOverflow) {
		t.Errorf("WriteByte at the limit = %v, want ErrBufferOverflow", err)
	}
	if n, err := b.WriteString("x"); n != 0 || !errors.Is(err, directmem.ErrBufferOverflow) {
		t.Errorf("WriteString at the limit = %d, %v; want 0, ErrBufferOverflow", n, err)
	}
	if n, err := b.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) at the limit = %d, %v; want 0, nil", n, err)
	}
	if got, want := snapshot(t, b), []byte{1, 2, 3, 'a', 'b', 9, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("bytes %v, want %v (nothing past the limit)", got, want)
	}
	if b.Position() != 6 {
		t.Errorf("position %d, want 6", b.Position())
	}
	ro := b.AsReadOnly()
	ro.Clear()
	if n, err := ro.Write([]byte{1}); n != 0 || !errors.Is(err, directmem.ErrReadOnly) {
		t.Errorf("Write on read-only = %d, %v; want 0, ErrReadOnly", n, err)
	}
	if n, err := ro.WriteString("x"); n != 0 || !errors.Is(err, directmem.ErrReadOnly) {
		t.Errorf("WriteString on read-only = %d, %v; want 0, ErrReadOnly", n, err)
	}
}

func TestReadAt(t *testing.T) {
	b := newContentBuffer(t) // limit len(ioContent), capacity beyond it
	if err := b.SetPosition(7); err != nil {
		t.Fatal(err)
	}
	lim := int64(b.Limit())
	for _, tt := range []struct {
		name    string
		n       int
		off     int64
		wantN   int
		wantErr error
	}{
		{"Start", 5, 0, 5, nil},
		{"Middle", 5, 10, 5, nil},
		{"ExactEnd", 5, lim - 5, 5, nil},
		{"Partial", 10, lim - 4, 4, io.EOF},
		{"AtLimit", 1, lim, 0, io.EOF},
		{"AtLimitEmpty", 0, lim, 0, nil},
		{"PastLimit", 1, lim + 1, 0, io.EOF},
		{"PastLimitEmpty", 0, lim + 1, 0, io.EOF},
		{"PastCapacity", 1, 1 << 40, 0, io.EOF},
		{"MaxOffset", 1, math.MaxInt64, 0, io.EOF},
		{"Negative", 1, -1, 0, directmem.ErrIndexOutOfRange},
		{"MinOffset", 1, math.MinInt64, 0, directmem.ErrIndexOutOfRange},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := make([]byte, tt.n)
			n, err := b.ReadAt(p, tt.off)
			if n != tt.wantN {
				t.Errorf("ReadAt(%d, %d) = %d bytes, want %d", tt.n, tt.off, n, tt.wantN)
			}
			if tt.wantErr == io.EOF {
				if err != io.EOF {
					t.Errorf("ReadAt error %v, want io.EOF itself", err)
				}
			} else {
				wantErr(t, "ReadAt", err, tt.wantErr)
			}
			if n > 0 && !bytes.Equal(p[:n], ioContent[tt.off:tt.off+int64(n)]) {
				t.Errorf("ReadAt read %q", p[:n])
			}
			if b.Position() != 7 {
				t.Errorf("ReadAt moved the position to %d", b.Position())
			}
		})
	}
}

func TestWriteAt(t *testing.T) {
	for _, tt := range []struct {
		name    string
		data    string
		off     int64
		wantN   int
		wantErr error
		want    string // the 8 bytes below the limit afterwards
	}{
		{"Start", "ab", 0, 2, nil, "ab......"},
		{"End", "ab", 6, 2, nil, "......ab"},
		{"Partial", "abc", 6, 2, directmem.ErrBufferOverflow, "......ab"},
		{"AtLimit", "a", 8, 0, directmem.ErrBufferOverflow, "........"},
		{"AtLimitEmpty", "", 8, 0, nil, "........"},
		{"PastLimit", "a", 9, 0, directmem.ErrIndexOutOfRange, "........"},
		{"PastCapacity", "a", 1 << 40, 0, directmem.ErrIndexOutOfRange, "........"},
		{"Negative", "a", -1, 0, directmem.ErrIndexOutOfRange, "........"},
		{"MinOffset", "a", math.MinInt64, 0, directmem.ErrIndexOutOfRange, "........"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBuffer(t, 12)
			b.Duplicate().Write(bytes.Repeat([]byte{'.'}, 12))
			setCursor(t, b, cursor{3, 8, -1})
			n, err := b.WriteAt([]byte(tt.data), tt.off)
			if n != tt.wantN {
				t.Errorf("WriteAt(%q, %d) = %d, want %d", tt.data, tt.off, n, tt.wantN)
			}
			wantErr(t, "WriteAt", err, tt.wantErr)
			got := snapshot(t, b)
			if string(got[:8]) != tt.want || string(got[8:]) != "...." {
				t.Errorf("bytes %q, want %q followed by ....", got, tt.want)
			}
			if b.Position() != 3 {
				t.Errorf("WriteAt moved the position to %d", b.Position())
			}
		})
	}
}

// progressLessReader returns (0, nil) forever.
type progressLessReader struct{}

func (progressLessReader) Read([]byte) (int, error) { return 0, nil }

func TestReadFrom(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tt := range []struct {
		name    string
		src     func() io.Reader
		room    int
		wantN   int64
		wantErr error
	}{
		{"EOF", func() io.Reader { return strings.NewReader("hello") }, 8, 5, nil},
		{"EOFWithData", func() io.Reader { return iotest.DataErrReader(strings.NewReader("hello")) }, 8, 5, nil},
		{"OneByte", func() io.Reader { return iotest.OneByteReader(strings.NewReader("hello")) }, 8, 5, nil},
		{"Half", func() io.Reader { return iotest.HalfReader(strings.NewReader("hello")) }, 8, 5, nil},
		{"EmptyReader", func() io.Reader { return strings.NewReader("") }, 8, 0, nil},
		{"Fills", func() io.Reader { return strings.NewReader("hello, world") }, 8, 8, directmem.ErrBufferOverflow},
		{"FillsOneByte", func() io.Reader { return iotest.OneByteReader(strings.NewReader("hello, world")) }, 8, 8, directmem.ErrBufferOverflow},
		{"NoRoom", func() io.Reader { return strings.NewReader("hello") }, 0, 0, directmem.ErrBufferOverflow},
		{"ErrReader", func() io.Reader { return iotest.ErrReader(errBoom) }, 8, 0, errBoom},
		{"ErrAfterData", func() io.Reader {
			return io.MultiReader(strings.NewReader("hel"), iotest.ErrReader(errBoom))
		}, 8, 3, errBoom},
		{"Timeout", func() io.Reader { return iotest.TimeoutReader(strings.NewReader("hello")) }, 8, 5, iotest.ErrTimeout},
		{"NoProgress", func() io.Reader { return progressLessReader{} }, 8, 0, io.ErrNoProgress},
		{"NoProgressAfterData", func() io.Reader {
			return io.MultiReader(strings.NewReader("he"), progressLessReader{})
		}, 8, 2, io.ErrNoProgress},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBuffer(t, 12)
			setCursor(t, b, cursor{2, 2 + tt.room, -1})
			n, err := b.ReadFrom(tt.src())
			if n != tt.wantN {
				t.Errorf("ReadFrom = %d bytes, want %d", n, tt.wantN)
			}
			wantErr(t, "ReadFrom", err, tt.wantErr)
			if b.Position() != 2+int(n) {
				t.Errorf("position %d, want %d", b.Position(), 2+n)
			}
			got := snapshot(t, b)
			if !bytes.Equal(got[2:2+n], []byte("hello, world")[:n]) {
				t.Errorf("read %q", got[2:2+n])
			}
			for i, v := range got {
				if (i < 2 || i >= 2+int(n)) && v != 0 {
					t.Errorf("byte %d outside the read range changed to %d", i, v)
				}
			}
		})
	}
}

// shortWriter accepts at most max bytes per Write and reports err with them.
type shortWriter struct {
	buf bytes.Buffer
	max int
	err error
}

func (w *shortWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.max)
	w.buf.Write(p[:n])
	return n, w.err
}

func TestWriteTo(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tt := range []struct {
		name    string
		w       *shortWriter
		wantN   int64
		wantErr error
	}{
		{"All", &shortWriter{max: 1000}, int64(len(ioContent)), nil},
		{"Short", &shortWriter{max: 5}, 5, io.ErrShortWrite},
		{"Nothing", &shortWriter{max: 0}, 0, io.ErrShortWrite},
		{"Error", &shortWriter{max: 3, err: errBoom}, 3, errBoom},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newContentBuffer(t)
			n, err := b.WriteTo(tt.w)
			if n != tt.wantN || !bytes.Equal(tt.w.buf.Bytes(), ioContent[:n]) {
				t.Errorf("WriteTo = %d (%q), want %d", n, tt.w.buf.Bytes(), tt.wantN)
			}
			wantErr(t, "WriteTo", err, tt.wantErr)
			if b.Position() != int(n) {
				t.Errorf("position %d, want %d (advanced by what was written)", b.Position(), n)
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		b := newTestBuffer(t, 4)
		b.Flip()
		w := &shortWriter{max: 0, err: errBoom}
		if n, err := b.WriteTo(w); n != 0 || err != nil {
			t.Errorf("WriteTo from an empty buffer = %d, %v; want 0, nil without calling Write", n, err)
		}
	})
	t.Run("Copy", func(t *testing.T) {
		// io.Copy uses WriteTo of the source and ReadFrom of the target.
		src := newContentBuffer(t)
		dst := newTestBuffer(t, 2*len(ioContent))
		n, err := io.Copy(dst, src)
		if n != int64(len(ioContent)) || err != nil {
			t.Fatalf("io.Copy = %d, %v", n, err)
		}
		dst.Flip()
		if !bytes.Equal(dst.Bytes(), ioContent) {
			t.Errorf("copied %q", dst.Bytes())
		}
	})
}

func TestReadFromWriteToMisbehaving(t *testing.T) {
	for _, n := range []int{-1, 17} {
		b := newTestBuffer(t, 16)
		if got, err := b.ReadFrom(badCountReader{n}); err == nil || got != 0 || b.Position() != 0 {
			t.Errorf("ReadFrom(reader returning %d) = %d, %v; position %d; want an error, nothing read", n, got, err, b.Position())
		}
		if got, err := b.WriteTo(badCountWriter{n}); err == nil || got != 0 || b.Position() != 0 {
			t.Errorf("WriteTo(writer returning %d) = %d, %v; position %d; want an error, nothing written", n, got, err, b.Position())
		}
	}
	b := newTestBuffer(t, 16)
	if _, err := b.ReadFrom(cursorMover{b}); err == nil || b.Position() > b.Limit() {
		t.Errorf("ReadFrom(a reader moving the cursor) = %v; position %d, limit %d", err, b.Position(), b.Limit())
	}
	b.SetPosition(0)
	if _, err := b.WriteTo(cursorMover{b}); err == nil || b.Position() > b.Limit() {
		t.Errorf("WriteTo(a writer moving the cursor) = %v; position %d, limit %d", err, b.Position(), b.Limit())
	}
	var _ io.ReaderFrom = b
	var _ io.WriterTo = b
}

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
