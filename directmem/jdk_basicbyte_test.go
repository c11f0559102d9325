package directmem_test

// Ports of the direct-buffer cases of the JDK's test/jdk/java/nio/Buffer/
// BasicByte.java (generated from Basic-X.java.template) and Basic.java,
// with the JDK's numbers. The JDK throws; here the same conditions are
// error values, matched with errors.Is:
//
//	BufferUnderflowException   ErrBufferUnderflow
//	BufferOverflowException    ErrBufferOverflow
//	IndexOutOfBoundsException  ErrIndexOutOfRange
//	IllegalArgumentException   ErrIndexOutOfRange (position, limit)
//	InvalidMarkException       ErrInvalidMark
//	ReadOnlyBufferException    ErrReadOnly

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// basicCapacity is BasicByte.test()'s ByteBuffer.allocateDirect(7 * 1024).
const basicCapacity = 7 * 1024

// ic is Basic.ic: the value the JDK's tests store at index i.
func ic(i int) byte {
	j := i % 54
	v := j + 'a'
	if j > 26 {
		v += 128
	}
	return byte(v)
}

// ckb is Basic.ck(Buffer, long got, long expected) for bytes.
func ckb(tb testing.TB, b *directmem.Buffer, got, want byte) {
	tb.Helper()
	if got != want {
		tb.Fatalf("%v: expected %#x, got %#x", b, want, got)
	}
}

// ckOK fails the test on an unexpected error.
func ckOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// tryCatch is BasicByte.tryCatch: op must fail with target.
func tryCatch(tb testing.TB, b *directmem.Buffer, target error, op func() error) {
	tb.Helper()
	if err := op(); !errors.Is(err, target) {
		tb.Errorf("%v: got %v, want %v", b, err, target)
	}
}

// BasicByte.relGet(ByteBuffer)
func relGet(tb testing.TB, b *directmem.Buffer) {
	tb.Helper()
	n := b.Capacity()
	for i := range n {
		v, err := b.Get()
		ckOK(tb, err)
		ckb(tb, b, v, ic(i))
	}
	b.Rewind()
}

// BasicByte.relGet(ByteBuffer, int start)
func relGetFrom(tb testing.TB, b *directmem.Buffer, start int) {
	tb.Helper()
	n := b.Remaining()
	for i := start; i < n; i++ {
		v, err := b.Get()
		ckOK(tb, err)
		ckb(tb, b, v, ic(i))
	}
	b.Rewind()
}

// BasicByte.absGet: the JDK's version reads relatively too; this one uses
// the absolute get its name promises, and then the JDK's loop.
func absGet(tb testing.TB, b *directmem.Buffer) {
	tb.Helper()
	n := b.Capacity()
	for i := range n {
		v, err := b.GetAt(i)
		ckOK(tb, err)
		ckb(tb, b, v, ic(i))
	}
	relGet(tb, b)
}

// BasicByte.bulkGet: b.get(a, 7, n).
func bulkGet(tb testing.TB, b *directmem.Buffer) {
	tb.Helper()
	n := b.Capacity()
	a := make([]byte, n+7)
	ckOK(tb, b.GetBytes(a[7:7+n]))
	for i := range n {
		ckb(tb, b, a[i+7], ic(i))
	}
}

// BasicByte.absBulkGet: b.get(7, a, 7, len) at position 42.
func absBulkGet(tb testing.TB, b *directmem.Buffer) {
	tb.Helper()
	n := b.Capacity()
	length := n - 7*2
	a := make([]byte, n+7)
	ckOK(tb, b.SetPosition(42))
	ckOK(tb, b.GetBytesAt(7, a[7:7+length]))
	if b.Position() != 42 {
		tb.Fatalf("%v: absolute bulk get moved the position", b)
	}
	for i := range length {
		ckb(tb, b, a[i+7], ic(i))
	}
}

// BasicByte.relPut
func relPut(tb testing.TB, b *directmem.Buffer) error {
	tb.Helper()
	n := b.Capacity()
	b.Clear()
	for i := range n {
		if err := b.Put(ic(i)); err != nil {
			return err
		}
	}
	b.Flip()
	return nil
}

// BasicByte.absPut
func absPut(tb testing.TB, b *directmem.Buffer) error {
	tb.Helper()
	n := b.Capacity()
	b.Clear()
	for i := range n {
		if err := b.PutAt(i, ic(i)); err != nil {
			return err
		}
	}
	ckOK(tb, b.SetLimit(n))
	ckOK(tb, b.SetPosition(0))
	return nil
}

// BasicByte.bulkPutArray: b.put(a, 7, n).
func bulkPutArray(tb testing.TB, b *directmem.Buffer) error {
	tb.Helper()
	n := b.Capacity()
	b.Clear()
	a := make([]byte, n+7)
	for i := range n {
		a[i+7] = ic(i)
	}
	if err := b.PutBytes(a[7 : 7+n]); err != nil {
		return err
	}
	b.Flip()
	return nil
}

// BasicByte.bulkPutBuffer: put from another buffer at position 7, then
// put(this), which must fail.
func bulkPutBuffer(tb testing.TB, b *directmem.Buffer) error {
	tb.Helper()
	n := b.Capacity()
	b.Clear()
	c := newTestBuffer(tb, n+7)
	ckOK(tb, c.SetPosition(7))
	for i := range n {
		ckOK(tb, c.Put(ic(i)))
	}
	c.Flip()
	ckOK(tb, c.SetPosition(7))
	if err := b.PutBuffer(c); err != nil {
		return err
	}
	b.Flip()
	if err := b.PutBuffer(b); !errors.Is(err, directmem.ErrSameBuffer) || err.Error() == "" {
		tb.Errorf("put into same buffer: %v, want ErrSameBuffer with a message", err)
	}
	return nil
}

// BasicByte.absBulkPutArray: b.put(7, a, 7, len) at position 42 under limit n-7.
func absBulkPutArray(tb testing.TB, b *directmem.Buffer) error {
	tb.Helper()
	n := b.Capacity()
	b.Clear()
	lim := n - 7
	length := lim - 7
	ckOK(tb, b.SetLimit(lim))
	a := make([]byte, length+7)
	for i := range length {
		a[i+7] = ic(i)
	}
	ckOK(tb, b.SetPosition(42))
	if err := b.PutBytesAt(7, a[7:7+length]); err != nil {
		return err
	}
	if b.Position() != 42 {
		tb.Fatalf("%v: absolute bulk put moved the position", b)
	}
	return nil
}

// BasicByte.checkSlice
func checkSlice(tb testing.TB, b, slice *directmem.Buffer) {
	tb.Helper()
	if slice.Position() != 0 || slice.Limit() != b.Remaining() || slice.Capacity() != b.Remaining() {
		tb.Errorf("slice %v of %v", slice, b)
	}
	if b.IsDirect() != slice.IsDirect() {
		tb.Errorf("Lost direction: %v", slice)
	}
	if b.IsReadOnly() != slice.IsReadOnly() {
		tb.Errorf("Lost read-only: %v", slice)
	}
}

// testHet is BasicByte.testHet: heterogeneous relative puts and gets at
// position p. Java's char is uint16.
func testHet(tb testing.TB, b *directmem.Buffer) {
	tb.Helper()
	p := b.Position()
	ckOK(tb, b.SetLimit(b.Capacity()))
	ckOK(tb, b.PutUint16(1))
	ckOK(tb, b.PutUint16(math.MaxUint16))
	ckOK(tb, b.PutInt16(1))
	ckOK(tb, b.PutInt16(math.MaxInt16))
	ckOK(tb, b.PutInt32(1))
	ckOK(tb, b.PutInt32(math.MaxInt32))
	ckOK(tb, b.PutInt64(1))
	ckOK(tb, b.PutInt64(math.MaxInt64))
	ckOK(tb, b.PutFloat32(1))
	ckOK(tb, b.PutFloat32(math.SmallestNonzeroFloat32))
	ckOK(tb, b.PutFloat32(math.MaxFloat32))
	ckOK(tb, b.PutFloat64(1))
	ckOK(tb, b.PutFloat64(math.SmallestNonzeroFloat64))
	ckOK(tb, b.PutFloat64(math.MaxFloat64))
	ckOK(tb, b.SetLimit(b.Position()))
	ckOK(tb, b.SetPosition(p))

	ck := func(what string, got, want any, err error) {
		tb.Helper()
		if err != nil || got != want {
			tb.Fatalf("%v: %s = %v, %v; want %v", b, what, got, err, want)
		}
	}
	u16, err := b.GetUint16()
	ck("char", u16, uint16(1), err)
	u16, err = b.GetUint16()
	ck("char", u16, uint16(math.MaxUint16), err)
	i16, err := b.GetInt16()
	ck("short", i16, int16(1), err)
	i16, err = b.GetInt16()
	ck("short", i16, int16(math.MaxInt16), err)
	i32, err := b.GetInt32()
	ck("int", i32, int32(1), err)
	i32, err = b.GetInt32()
	ck("int", i32, int32(math.MaxInt32), err)
	i64, err := b.GetInt64()
	ck("long", i64, int64(1), err)
	i64, err = b.GetInt64()
	ck("long", i64, int64(math.MaxInt64), err)
	for _, want := range []float32{1, math.SmallestNonzeroFloat32, math.MaxFloat32} {
		f, err := b.GetFloat32()
		ck("float", f, want, err)
	}
	for _, want := range []float64{1, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		f, err := b.GetFloat64()
		ck("double", f, want, err)
	}
	if b.HasRemaining() {
		tb.Errorf("%v: bytes left after the gets", b)
	}
}

// TestJDKBasicByteDirect is BasicByte.test(0, ByteBuffer.allocateDirect(7 * 1024), true).
func TestJDKBasicByteDirect(t *testing.T) {
	b := newTestBuffer(t, basicCapacity)

	// BasicByte.test(): a new direct buffer reads all zero.
	for b.Position() < b.Limit() {
		v, err := b.Get()
		ckOK(t, err)
		ckb(t, b, v, 0)
	}
	if !b.IsDirect() {
		t.Fatal("Wrong direction")
	}

	t.Run("GetsAndPuts", func(t *testing.T) {
		ckOK(t, relPut(t, b))
		relGet(t, b)
		absGet(t, b)
		bulkGet(t, b)

		ckOK(t, absPut(t, b))
		relGet(t, b)
		absGet(t, b)
		bulkGet(t, b)

		ckOK(t, bulkPutArray(t, b))
		relGet(t, b)

		ckOK(t, bulkPutBuffer(t, b))
		relGet(t, b)

		ckOK(t, absBulkPutArray(t, b))
		absBulkGet(t, b)
	})

	t.Run("Compact", func(t *testing.T) {
		ckOK(t, relPut(t, b))
		ckOK(t, b.SetPosition(13))
		ckOK(t, b.Compact())
		b.Flip()
		relGetFrom(t, b, 13)
	})

	t.Run("Exceptions", func(t *testing.T) {
		ckOK(t, relPut(t, b))
		ckOK(t, b.SetLimit(b.Capacity()/2))
		ckOK(t, b.SetPosition(b.Limit()))

		tryCatch(t, b, directmem.ErrBufferUnderflow, func() error { _, err := b.Get(); return err })
		tryCatch(t, b, directmem.ErrBufferOverflow, func() error { return b.Put(42) })
		// The index must be non-negative and less than the buffer's limit.
		tryCatch(t, b, directmem.ErrIndexOutOfRange, func() error { _, err := b.GetAt(b.Limit()); return err })
		tryCatch(t, b, directmem.ErrIndexOutOfRange, func() error { _, err := b.GetAt(-1); return err })
		tryCatch(t, b, directmem.ErrIndexOutOfRange, func() error { return b.PutAt(b.Limit(), 42) })
		tryCatch(t, b, directmem.ErrInvalidMark, func() error {
			ckOK(t, b.SetPosition(0))
			b.Mark()
			ckOK(t, b.Compact())
			return b.Reset()
		})
		for _, tt := range []struct {
			name string
			err  error
		}{
			{"position beyond limit", b.SetPosition(b.Limit() + 1)},
			{"negative position", b.SetPosition(-1)},
			{"limit beyond capacity", b.SetLimit(b.Capacity() + 1)},
			{"negative limit", b.SetLimit(-1)},
		} {
			if !errors.Is(tt.err, directmem.ErrIndexOutOfRange) || tt.err.Error() == "" {
				t.Errorf("%s: %v, want ErrIndexOutOfRange with a message", tt.name, tt.err)
			}
		}
	})

	t.Run("AbsoluteBulkExceptions", func(t *testing.T) {
		// The JDK's b.get(7, tmpa, off, len) cases with a bad array offset or
		// length (-1/42, 42/1, 41/-1) cannot be written in Go: the slice
		// expression tmpa[off:off+len] panics before the call. The index
		// cases remain, and nothing may be copied.
		ckOK(t, relPut(t, b))
		ckOK(t, b.SetLimit(b.Capacity()/2))
		ckOK(t, b.SetPosition(b.Limit()))
		before := snapshot(t, b)
		tmpa := make([]byte, 42)
		for _, tt := range []struct{ index, length int }{
			{-1, 1},
			{b.Limit(), 1},
			{b.Limit() - 41, 42},
		} {
			for i := range tmpa {
				tmpa[i] = 0xA5
			}
			dst := tmpa[:tt.length]
			tryCatch(t, b, directmem.ErrIndexOutOfRange, func() error { return b.GetBytesAt(tt.index, dst) })
			if !bytes.Equal(tmpa, bytes.Repeat([]byte{0xA5}, 42)) {
				t.Errorf("get(%d, tmpa, 0, %d) copied bytes", tt.index, tt.length)
			}
			tryCatch(t, b, directmem.ErrIndexOutOfRange, func() error { return b.PutBytesAt(tt.index, dst) })
			if !bytes.Equal(before, snapshot(t, b)) {
				t.Errorf("put(%d, tmpa, 0, %d) copied bytes", tt.index, tt.length)
			}
		}
		// The largest that fit.
		ckOK(t, b.GetBytesAt(b.Limit()-42, tmpa))
		ckOK(t, b.PutBytesAt(b.Limit()-42, tmpa))
	})

	t.Run("Values", func(t *testing.T) {
		b.Clear()
		values := []int8{0, -1, 1, math.MaxInt8, math.MinInt8}
		for _, v := range values {
			ckOK(t, b.Put(byte(v)))
		}
		b.Flip()
		for _, want := range values {
			v, err := b.Get()
			ckOK(t, err)
			ckb(t, b, v, byte(want))
		}
	})

	t.Run("Comparison", func(t *testing.T) {
		// Continues from Values: b holds 5 bytes under its limit.
		b.Rewind()
		b2 := newTestBuffer(t, b.Capacity())
		ckOK(t, b2.PutBuffer(b))
		b2.Flip()
		ckOK(t, b.SetPosition(2))
		ckOK(t, b2.SetPosition(2))
		if !b.Equal(b2) {
			t.Fatalf("Identical buffers not equal: %v, %v", b, b2)
		}
		if b.Compare(b2) != 0 {
			t.Fatalf("Comparison to identical buffer != 0: %v, %v", b, b2)
		}
		ckOK(t, b.SetLimit(b.Limit()+1))
		ckOK(t, b.SetPosition(b.Limit()-1))
		ckOK(t, b.Put(99))
		b.Rewind()
		b2.Rewind()
		if b.Equal(b2) {
			t.Errorf("Non-identical buffers equal: %v, %v", b, b2)
		}
		if b.Compare(b2) <= 0 {
			t.Errorf("Comparison to shorter buffer <= 0: %v, %v", b, b2)
		}
		ckOK(t, b.SetLimit(b.Limit()-1))
		ckOK(t, b.PutAt(2, 42))
		if b.Equal(b2) {
			t.Errorf("Non-identical buffers equal: %v, %v", b, b2)
		}
		if b.Compare(b2) <= 0 {
			t.Errorf("Comparison to lesser buffer <= 0: %v, %v", b, b2)
		}
	})

	t.Run("InterestingValues", func(t *testing.T) {
		// The JDK's VALUES. ByteBuffer.compareTo compares bytes as signed
		// (Byte.compare); Buffer.Compare compares them unsigned, as
		// bytes.Compare does, so the expected order is cmp.Compare of uint8.
		values := []byte{0x80, 0xFF, 0, 1, 0x7F}
		for _, x := range values {
			xb := directmem.Wrap([]byte{x}, nil)
			if xb.Compare(xb) != 0 || !xb.Equal(xb) {
				t.Errorf("compareTo/equals not reflexive for %#x", x)
			}
			for _, y := range values {
				yb := directmem.Wrap([]byte{y}, nil)
				if xb.Compare(yb) != -yb.Compare(xb) {
					t.Errorf("compareTo not anti-symmetric: %#x, %#x", x, y)
				}
				if (xb.Compare(yb) == 0) != xb.Equal(yb) {
					t.Errorf("compareTo inconsistent with equals: %#x, %#x", x, y)
				}
				if xb.Compare(yb) != cmp.Compare(x, y) {
					t.Errorf("Compare(%#x, %#x) = %d, want %d", x, y, xb.Compare(yb), cmp.Compare(x, y))
				}
				if xb.Equal(yb) != (x == y) {
					t.Errorf("Equal(%#x, %#x) = %v", x, y, xb.Equal(yb))
				}
			}
		}
	})

	t.Run("SubDup", func(t *testing.T) {
		ckOK(t, relPut(t, b))
		relGet(t, b.Duplicate())
		ckOK(t, b.SetPosition(13))
		relGetFrom(t, b.Duplicate(), 13)
		relGetFrom(t, b.Duplicate().Slice(), 13)
		relGetFrom(t, b.Slice(), 13)
		relGetFrom(t, b.Slice().Duplicate(), 13)
	})

	t.Run("Slice", func(t *testing.T) {
		ckOK(t, b.SetPosition(5))
		sb := b.Slice()
		checkSlice(t, b, sb)
		ckOK(t, b.SetPosition(0))
		sb2 := sb.Slice()
		checkSlice(t, sb, sb2)
		if !sb.Equal(sb2) {
			t.Errorf("Sliced slices do not match: %v, %v", sb, sb2)
		}
	})

	t.Run("Heterogeneous", func(t *testing.T) {
		b.Clear()
		b.SetOrder(binary.BigEndian)
		for i := 0; i <= 9; i++ {
			ckOK(t, b.SetPosition(i))
			testHet(t, b)
		}
		b.SetOrder(binary.LittleEndian)
		ckOK(t, b.SetPosition(3))
		testHet(t, b)
		b.SetOrder(binary.BigEndian)
	})

	t.Run("ReadOnlyViews", func(t *testing.T) {
		b.Rewind()
		rb := b.AsReadOnly()
		if !b.Equal(rb) {
			t.Fatalf("Buffer not equal to read-only view: %v, %v", b, rb)
		}
		catchReadOnly := func(op func() error) {
			t.Helper()
			tryCatch(t, rb, directmem.ErrReadOnly, op)
		}
		catchReadOnly(func() error { return relPut(t, rb) })
		catchReadOnly(func() error { return absPut(t, rb) })
		catchReadOnly(func() error { return bulkPutArray(t, rb) })
		catchReadOnly(func() error { return bulkPutBuffer(t, rb) })
		catchReadOnly(func() error { return absBulkPutArray(t, rb) })

		// put(ByteBuffer) should not change source position.
		src := newTestBuffer(t, 1)
		catchReadOnly(func() error { return rb.PutBuffer(src) })
		if src.Position() != 0 {
			t.Errorf("source position moved to %d", src.Position())
		}
		catchReadOnly(rb.Compact)
		for _, tc := range typedCases {
			catchReadOnly(func() error { return tc.put(rb, 1) })
			catchReadOnly(func() error { return tc.putAt(rb, 0, 1) })
		}

		// Bulk puts from read-only buffers.
		b.Clear()
		rb.Rewind()
		ckOK(t, b.PutBuffer(rb))
		ob := newTestBuffer(t, rb.Capacity())
		rb.Rewind()
		ckOK(t, ob.PutBuffer(rb))
		ob.Flip()
		b.Flip()
		if !ob.Equal(b) {
			t.Error("copy of a read-only view differs from its source")
		}
		ckOK(t, relPut(t, b))
	})
}

// TestJDKBasicByteCallReset is BasicByte.callReset (bug 6231529): a
// duplicate and a read-only view keep the mark, so reset works on them.
func TestJDKBasicByteCallReset(t *testing.T) {
	b := newTestBuffer(t, 10)
	ckOK(t, b.SetPosition(0))
	b.Mark()
	if err := b.Duplicate().Reset(); err != nil {
		t.Errorf("duplicate().reset(): %v", err)
	}
	if err := b.AsReadOnly().Reset(); err != nil {
		t.Errorf("asReadOnlyBuffer().reset(): %v", err)
	}
}

// TestJDKBasicByteAllocate is BasicByte.testAllocate: a negative capacity
// is an error with a message (IllegalArgumentException).
func TestJDKBasicByteAllocate(t *testing.T) {
	b, err := directmem.Allocate(-1)
	if !errors.Is(err, directmem.ErrInvalidCapacity) || b != nil || err.Error() == "" {
		t.Errorf("Allocate(-1) = %v, %v; want nil, ErrInvalidCapacity with a message", b, err)
	}
}

// TestJDKBasicByteExceptionMatrix spells out which operation fails with
// which error at the JDK's Exceptions positions (limit = capacity/2,
// position at the limit) and at positions where each still fits.
func TestJDKBasicByteExceptionMatrix(t *testing.T) {
	b := newTestBuffer(t, basicCapacity)
	ckOK(t, relPut(t, b))
	lim := b.Capacity() / 2
	ckOK(t, b.SetLimit(lim))
	type op struct {
		name string
		do   func() error
	}
	ops := []op{
		{"get()", func() error { _, err := b.Get(); return err }},
		{"put(42)", func() error { return b.Put(42) }},
		{"getInt()", func() error { _, err := b.GetInt32(); return err }},
		{"putInt(1)", func() error { return b.PutInt32(1) }},
		{"get(limit)", func() error { _, err := b.GetAt(lim); return err }},
		{"get(limit-1)", func() error { _, err := b.GetAt(lim - 1); return err }},
		{"get(-1)", func() error { _, err := b.GetAt(-1); return err }},
		{"put(limit, 42)", func() error { return b.PutAt(lim, 42) }},
		{"put(limit-1, 42)", func() error { return b.PutAt(lim-1, 42) }},
		{"getLong(limit-8)", func() error { _, err := b.GetInt64At(lim - 8); return err }},
		{"getLong(limit-7)", func() error { _, err := b.GetInt64At(lim - 7); return err }},
		{"get(byte[4])", func() error { return b.GetBytes(make([]byte, 4)) }},
		{"put(byte[4])", func() error { return b.PutBytes(make([]byte, 4)) }},
	}
	// want[position] lists the error of each op in order; nil means it works.
	U, O, I := directmem.ErrBufferUnderflow, directmem.ErrBufferOverflow, directmem.ErrIndexOutOfRange
	want := map[int][]error{
		lim:     {U, O, U, O, I, nil, I, I, nil, nil, I, U, O},
		lim - 1: {nil, nil, U, O, I, nil, I, I, nil, nil, I, U, O},
		lim - 4: {nil, nil, nil, nil, I, nil, I, I, nil, nil, I, nil, nil},
		0:       {nil, nil, nil, nil, I, nil, I, I, nil, nil, I, nil, nil},
	}
	for _, pos := range []int{lim, lim - 1, lim - 4, 0} {
		for i, o := range ops {
			ckOK(t, b.SetPosition(pos))
			err := o.do()
			if w := want[pos][i]; (w == nil && err != nil) || (w != nil && !errors.Is(err, w)) {
				t.Errorf("position %d: %s = %v, want %v", pos, o.name, err, w)
			}
		}
	}
}

// TestJDKBasicByteIdentity fills 4096 bytes with random data 100 times and
// checks that a slice and a duplicate equal and compare equal to the buffer
// and each other, and that changing one byte through a view is seen by all.
func TestJDKBasicByteIdentity(t *testing.T) {
	const size, rounds = 4096, 100
	b := newTestBuffer(t, size)
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, size)
	for round := range rounds {
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		b.Clear()
		ckOK(t, b.PutBytes(data))
		b.Flip()
		start := rng.IntN(size)
		ckOK(t, b.SetPosition(start))
		slice, dup := b.Slice(), b.Duplicate()
		for _, pair := range [][2]*directmem.Buffer{{b, slice}, {b, dup}, {slice, dup}, {dup, b}} {
			if !pair[0].Equal(pair[1]) || pair[0].Compare(pair[1]) != 0 {
				t.Fatalf("round %d: %v and %v not identical", round, pair[0], pair[1])
			}
		}
		if !bytes.Equal(slice.Bytes(), data[start:]) {
			t.Fatalf("round %d: slice bytes differ from the data", round)
		}
		if slice.Remaining() == 0 {
			continue
		}
		i := rng.IntN(slice.Remaining())
		old, err := slice.GetAt(i)
		ckOK(t, err)
		ckOK(t, slice.PutAt(i, old+1))
		if dup.Equal(bytes2buf(data[start:])) || b.Compare(bytes2buf(data[start:])) == 0 {
			t.Fatalf("round %d: change through the slice not seen", round)
		}
		if want := cmp.Compare(old+1, old); b.Compare(bytes2buf(data[start:])) != want {
			t.Fatalf("round %d: Compare after change = %d, want %d", round, b.Compare(bytes2buf(data[start:])), want)
		}
		if !slice.Equal(dup) || !dup.Equal(b) {
			t.Fatalf("round %d: views disagree after a change", round)
		}
	}
}

// bytes2buf wraps p, which is on the Go heap, as a Buffer.
func bytes2buf(p []byte) *directmem.Buffer { return directmem.Wrap(p, nil) }
