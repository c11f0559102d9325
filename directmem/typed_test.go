package directmem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// typedCase is one of the typed accessors (GetInt16 ... PutFloat64At) with
// its values reduced to their bits, zero-extended to 64, so that one table
// covers every type and NaN payloads compare exactly.
type typedCase struct {
	name  string
	size  int
	get   func(b *directmem.Buffer) (uint64, error)
	put   func(b *directmem.Buffer, bits uint64) error
	getAt func(b *directmem.Buffer, i int) (uint64, error)
	putAt func(b *directmem.Buffer, i int, bits uint64) error
}

func makeTyped[T any](name string, size int,
	get func(*directmem.Buffer) (T, error), put func(*directmem.Buffer, T) error,
	getAt func(*directmem.Buffer, int) (T, error), putAt func(*directmem.Buffer, int, T) error,
	toBits func(T) uint64, fromBits func(uint64) T,
) typedCase {
	return typedCase{
		name: name, size: size,
		get: func(b *directmem.Buffer) (uint64, error) {
			v, err := get(b)
			return toBits(v), err
		},
		put: func(b *directmem.Buffer, u uint64) error { return put(b, fromBits(u)) },
		getAt: func(b *directmem.Buffer, i int) (uint64, error) {
			v, err := getAt(b, i)
			return toBits(v), err
		},
		putAt: func(b *directmem.Buffer, i int, u uint64) error { return putAt(b, i, fromBits(u)) },
	}
}

var typedCases = []typedCase{
	makeTyped("Int16", 2, (*directmem.Buffer).GetInt16, (*directmem.Buffer).PutInt16,
		(*directmem.Buffer).GetInt16At, (*directmem.Buffer).PutInt16At,
		func(v int16) uint64 { return uint64(uint16(v)) }, func(u uint64) int16 { return int16(u) }),
	makeTyped("Uint16", 2, (*directmem.Buffer).GetUint16, (*directmem.Buffer).PutUint16,
		(*directmem.Buffer).GetUint16At, (*directmem.Buffer).PutUint16At,
		func(v uint16) uint64 { return uint64(v) }, func(u uint64) uint16 { return uint16(u) }),
	makeTyped("Int32", 4, (*directmem.Buffer).GetInt32, (*directmem.Buffer).PutInt32,
		(*directmem.Buffer).GetInt32At, (*directmem.Buffer).PutInt32At,
		func(v int32) uint64 { return uint64(uint32(v)) }, func(u uint64) int32 { return int32(u) }),
	makeTyped("Uint32", 4, (*directmem.Buffer).GetUint32, (*directmem.Buffer).PutUint32,
		(*directmem.Buffer).GetUint32At, (*directmem.Buffer).PutUint32At,
		func(v uint32) uint64 { return uint64(v) }, func(u uint64) uint32 { return uint32(u) }),
	makeTyped("Int64", 8, (*directmem.Buffer).GetInt64, (*directmem.Buffer).PutInt64,
		(*directmem.Buffer).GetInt64At, (*directmem.Buffer).PutInt64At,
		func(v int64) uint64 { return uint64(v) }, func(u uint64) int64 { return int64(u) }),
	makeTyped("Uint64", 8, (*directmem.Buffer).GetUint64, (*directmem.Buffer).PutUint64,
		(*directmem.Buffer).GetUint64At, (*directmem.Buffer).PutUint64At,
		func(v uint64) uint64 { return v }, func(u uint64) uint64 { return u }),
	makeTyped("Float32", 4, (*directmem.Buffer).GetFloat32, (*directmem.Buffer).PutFloat32,
		(*directmem.Buffer).GetFloat32At, (*directmem.Buffer).PutFloat32At,
		func(v float32) uint64 { return uint64(math.Float32bits(v)) }, func(u uint64) float32 { return math.Float32frombits(uint32(u)) }),
	makeTyped("Float64", 8, (*directmem.Buffer).GetFloat64, (*directmem.Buffer).PutFloat64,
		(*directmem.Buffer).GetFloat64At, (*directmem.Buffer).PutFloat64At,
		math.Float64bits, math.Float64frombits),
}

// widthMask keeps the low size bytes of bits.
func widthMask(size int) uint64 {
	if size == 8 {
		return math.MaxUint64
	}
	return 1<<(8*size) - 1
}

// encodeBits is what encoding/binary makes of the low size bytes of bits.
func encodeBits(order binary.ByteOrder, size int, bits uint64) []byte {
	p := make([]byte, size)
	switch size {
	case 2:
		order.PutUint16(p, uint16(bits))
	case 4:
		order.PutUint32(p, uint32(bits))
	case 8:
		order.PutUint64(p, bits)
	}
	return p
}

// typedPatterns are bit patterns for every width: edges, a pattern whose
// bytes all differ (so a wrong order shows), and NaNs with payloads, quiet
// and signalling, for both float widths (their low bytes serve the narrow types).
var typedPatterns = []uint64{
	0, 1, 0x7F, 0x80, 0xFF, 0x0102, 0x8000, 0x7FFF, 0xFFFF,
	0x01020304, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFF,
	0x0102030405060708, 0x8000000000000000, 0x7FFFFFFFFFFFFFFF, math.MaxUint64,
	0x7FA00001,         // float32 signalling NaN with a payload
	0xFFC12345,         // float32 quiet negative NaN with a payload
	0x7F800000,         // float32 +Inf
	0x7FF4000000000001, // float64 signalling NaN with a payload
	0xFFF8000000000123, // float64 quiet negative NaN with a payload
	math.Float64bits(math.Pi), uint64(math.Float32bits(-1.5)),
}

func TestTypedRoundTripAndLayout(t *testing.T) {
	orders := []binary.ByteOrder{binary.BigEndian, binary.LittleEndian}
	for _, tc := range typedCases {
		for _, order := range orders {
			t.Run(fmt.Sprintf("%s/%v", tc.name, order), func(t *testing.T) {
				b := newTestBuffer(t, 32)
				b.SetOrder(order)
				for _, pattern := range typedPatterns {
					want := pattern & widthMask(tc.size)
					layout := encodeBits(order, tc.size, want)

					// Relative, at an odd position.
					b.Clear()
					if err := b.SetPosition(3); err != nil {
						t.Fatal(err)
					}
					if err := tc.put(b, pattern); err != nil {
						t.Fatalf("Put%s(%#x): %v", tc.name, pattern, err)
					}
					if b.Position() != 3+tc.size {
						t.Errorf("Put%s advanced the position to %d, want %d", tc.name, b.Position(), 3+tc.size)
					}
					if got := snapshot(t, b)[3 : 3+tc.size]; !bytes.Equal(got, layout) {
						t.Errorf("Put%s(%#x) wrote % x, want % x", tc.name, pattern, got, layout)
					}
					if err := b.SetPosition(3); err != nil {
						t.Fatal(err)
					}
					got, err := tc.get(b)
					if err != nil || got != want {
						t.Errorf("Get%s = %#x, %v; want %#x", tc.name, got, err, want)
					}
					if b.Position() != 3+tc.size {
						t.Errorf("Get%s advanced the position to %d, want %d", tc.name, b.Position(), 3+tc.size)
					}

					// Absolute, at another odd index; the position stays.
					if err := b.SetPosition(1); err != nil {
						t.Fatal(err)
					}
					const at = 17
					if err := tc.putAt(b, at, pattern); err != nil {
						t.Fatalf("Put%sAt(%d, %#x): %v", tc.name, at, pattern, err)
					}
					if got := snapshot(t, b)[at : at+tc.size]; !bytes.Equal(got, layout) {
						t.Errorf("Put%sAt(%#x) wrote % x, want % x", tc.name, pattern, got, layout)
					}
					got, err = tc.getAt(b, at)
					if err != nil || got != want {
						t.Errorf("Get%sAt = %#x, %v; want %#x", tc.name, got, err, want)
					}
					if b.Position() != 1 {
						t.Errorf("absolute access moved the position to %d", b.Position())
					}

					// Bytes written by encoding/binary read back the same.
					raw := b.Duplicate()
					if err := raw.PutBytesAt(9, layout); err != nil {
						t.Fatal(err)
					}
					got, err = tc.getAt(b, 9)
					if err != nil || got != want {
						t.Errorf("Get%sAt over encoding/binary bytes = %#x, %v; want %#x", tc.name, got, err, want)
					}
				}
			})
		}
	}
}

// TestTypedFloatValues checks that ordinary float values, NaNs and signed
// zeros survive a round trip bit for bit.
func TestTypedFloatValues(t *testing.T) {
	b := newTestBuffer(t, 16)
	for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		b.SetOrder(order)
		for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, math.Pi, math.MaxFloat64, math.SmallestNonzeroFloat64,
			math.Inf(1), math.Inf(-1), math.NaN(), math.Float64frombits(0x7FF0000000000001)} {
			if err := b.PutFloat64At(3, v); err != nil {
				t.Fatal(err)
			}
			got, err := b.GetFloat64At(3)
			if err != nil || math.Float64bits(got) != math.Float64bits(v) {
				t.Errorf("%v: float64 %v (%#x) read back as %v (%#x), %v", order, v, math.Float64bits(v), got, math.Float64bits(got), err)
			}
			f := float32(v)
			if err := b.PutFloat32At(5, f); err != nil {
				t.Fatal(err)
			}
			g, err := b.GetFloat32At(5)
			if err != nil || math.Float32bits(g) != math.Float32bits(f) {
				t.Errorf("%v: float32 %v read back as %v, %v", order, f, g, err)
			}
		}
	}
}

// TestTypedIndexEdges checks the absolute accessors at the edges of the
// limit (not the capacity): limit-size fits, limit-size+1 does not, a
// negative index never does, and nothing fits below a limit smaller than
// the size. Failures write nothing and leave the position alone.
func TestTypedIndexEdges(t *testing.T) {
	for _, tc := range typedCases {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBuffer(t, 24)
			for _, limit := range []int{20, tc.size, tc.size - 1, 1, 0} {
				setCursor(t, b, cursor{0, limit, -1})
				bad := []int{-1, limit - tc.size + 1, limit, limit + 1, math.MinInt, math.MaxInt, math.MaxInt - tc.size + 2}
				if limit >= tc.size {
					i := limit - tc.size
					if err := tc.putAt(b, i, 0x0102030405060708); err != nil {
						t.Errorf("limit %d: Put%sAt(%d): %v", limit, tc.name, i, err)
					}
					if _, err := tc.getAt(b, i); err != nil {
						t.Errorf("limit %d: Get%sAt(%d): %v", limit, tc.name, i, err)
					}
					if err := tc.putAt(b, 0, 0); err != nil {
						t.Errorf("limit %d: Put%sAt(0): %v", limit, tc.name, err)
					}
				} else {
					bad = append(bad, 0)
				}
				before := snapshot(t, b)
				for _, i := range bad {
					if _, err := tc.getAt(b, i); !errors.Is(err, directmem.ErrIndexOutOfRange) {
						t.Errorf("limit %d: Get%sAt(%d) = %v, want ErrIndexOutOfRange", limit, tc.name, i, err)
					}
					if err := tc.putAt(b, i, math.MaxUint64); !errors.Is(err, directmem.ErrIndexOutOfRange) {
						t.Errorf("limit %d: Put%sAt(%d) = %v, want ErrIndexOutOfRange", limit, tc.name, i, err)
					}
				}
				if !bytes.Equal(before, snapshot(t, b)) {
					t.Errorf("limit %d: failed Put%sAt wrote bytes", limit, tc.name)
				}
				if b.Position() != 0 {
					t.Errorf("limit %d: absolute access moved the position to %d", limit, b.Position())
				}
			}
		})
	}
}

// TestTypedRelativeEdges checks the relative accessors with exactly size
// bytes remaining (fits) and one fewer (underflow, overflow; nothing moves).
func TestTypedRelativeEdges(t *testing.T) {
	for _, tc := range typedCases {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBuffer(t, 16)
			setCursor(t, b, cursor{16 - tc.size, 16, -1})
			if err := tc.put(b, 0xFFFFFFFFFFFFFFFF); err != nil {
				t.Errorf("Put%s with %d remaining: %v", tc.name, tc.size, err)
			}
			if b.HasRemaining() {
				t.Errorf("Put%s left %d remaining", tc.name, b.Remaining())
			}
			setCursor(t, b, cursor{16 - tc.size, 16, -1})
			if v, err := tc.get(b); err != nil || v != widthMask(tc.size) {
				t.Errorf("Get%s with %d remaining = %#x, %v", tc.name, tc.size, v, err)
			}
			setCursor(t, b, cursor{0, tc.size - 1, 0})
			if _, err := tc.get(b); !errors.Is(err, directmem.ErrBufferUnderflow) {
				t.Errorf("Get%s with %d remaining: %v, want ErrBufferUnderflow", tc.name, tc.size-1, err)
			}
			if err := tc.put(b, 1); !errors.Is(err, directmem.ErrBufferOverflow) {
				t.Errorf("Put%s with %d remaining: %v, want ErrBufferOverflow", tc.name, tc.size-1, err)
			}
			if got := cursorOf(b); got != (cursor{0, tc.size - 1, 0}) {
				t.Errorf("failed accesses moved the indexes to %v", got)
			}
			for i, v := range snapshot(t, b)[:tc.size-1] {
				if v != 0 {
					t.Errorf("failed Put%s wrote byte %d", tc.name, i)
				}
			}
		})
	}
}

// littleWrapper is a byte order the package does not know by identity; it
// must be classified by how it decodes.
type littleWrapper struct{ binary.ByteOrder }

func TestSetOrder(t *testing.T) {
	b := newTestBuffer(t, 8)
	if b.Order() != binary.BigEndian {
		t.Fatalf("new buffer order %v, want big-endian", b.Order())
	}
	nativeLittle := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	var native binary.ByteOrder = binary.BigEndian
	if nativeLittle {
		native = binary.LittleEndian
	}
	for _, tt := range []struct {
		name   string
		order  binary.ByteOrder
		want   binary.ByteOrder // what Order reports: one of java.nio's two
		little bool
	}{
		{"little", binary.LittleEndian, binary.LittleEndian, true},
		{"big", binary.BigEndian, binary.BigEndian, false},
		{"native", binary.NativeEndian, native, nativeLittle},
		{"custom", littleWrapper{binary.LittleEndian}, binary.LittleEndian, true},
		{"nil", nil, binary.BigEndian, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b.SetOrder(tt.order)
			if b.Order() != tt.want {
				t.Errorf("Order() = %v, want %v", b.Order(), tt.want)
			}
			if err := b.PutUint32At(0, 0x01020304); err != nil {
				t.Fatal(err)
			}
			want := []byte{1, 2, 3, 4}
			if tt.little {
				want = []byte{4, 3, 2, 1}
			}
			if got := snapshot(t, b)[:4]; !bytes.Equal(got, want) {
				t.Errorf("PutUint32At(0x01020304) wrote % x, want % x", got, want)
			}
		})
	}
}
