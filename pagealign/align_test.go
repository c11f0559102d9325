package pagealign_test

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"testing"
	"unsafe"

	"github.com/offheap-go/offheap/pagealign"
)

func TestPageSize(t *testing.T) {
	ps := pagealign.PageSize()
	if ps != os.Getpagesize() {
		t.Fatalf("PageSize() = %d, os.Getpagesize() = %d", ps, os.Getpagesize())
	}
	if !pagealign.IsPowerOfTwo(ps) {
		t.Fatalf("PageSize() = %d is not a power of two", ps)
	}
	if ps < 4096 {
		t.Fatalf("PageSize() = %d, want at least 4096", ps)
	}
}

// integer is the helpers' constraint, which the package does not export.
type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// maxOf is the largest value of T.
func maxOf[T integer]() T {
	var zero T
	ones := ^zero
	if ones > 0 { // unsigned
		return ones
	}
	bits := unsafe.Sizeof(zero) * 8
	return T(uint64(1)<<(bits-1) - 1)
}

// minOf is the smallest value of T.
func minOf[T integer]() T {
	var zero T
	if ^zero > 0 {
		return 0
	}
	return -maxOf[T]() - 1
}

// testHelpers checks every helper on type T with the alignments 1, 8 and 16,
// which fit in every integer type, including the corners at T's limits.
func testHelpers[T integer](t *testing.T) {
	t.Helper()
	maxT := maxOf[T]()
	for _, a := range []T{1, 8, 16} {
		t.Run(fmt.Sprintf("align=%d", a), func(t *testing.T) {
			lastAligned := maxT &^ (a - 1) // largest multiple of a in T
			tests := []struct {
				n      T
				up     T
				upFits bool // false: AlignUp wraps around, up is meaningless
			}{
				{n: 0, up: 0, upFits: true},
				{n: 1, up: a, upFits: true},
				{n: a - 1, up: a, upFits: true},
				{n: a, up: a, upFits: true},
				{n: a + 1, up: 2 * a, upFits: true},
				{n: 2 * a, up: 2 * a, upFits: true},
				{n: 3*a - 1, up: 3 * a, upFits: true},
				{n: lastAligned, up: lastAligned, upFits: true},
				{n: lastAligned + 1, upFits: a == 1},
				{n: maxT, upFits: a == 1},
			}
			for _, tt := range tests {
				if a == 1 {
					// Everything is a multiple of 1: the rows above are
					// written for a > 1.
					tt.up, tt.upFits = tt.n, true
				}
				if tt.upFits {
					if got := pagealign.AlignUp(tt.n, a); got != tt.up {
						t.Errorf("AlignUp(%d, %d) = %d, want %d", tt.n, a, got, tt.up)
					}
				}
				got, ok := pagealign.AlignUpChecked(tt.n, a)
				if ok != tt.upFits {
					t.Errorf("AlignUpChecked(%d, %d) = %d, %v; want ok=%v", tt.n, a, got, ok, tt.upFits)
				} else if ok && got != tt.up {
					t.Errorf("AlignUpChecked(%d, %d) = %d, want %d", tt.n, a, got, tt.up)
				}
			}
		})
	}
	t.Run("IsPowerOfTwo", func(t *testing.T) {
		for _, n := range []T{1, 2, 4, 8, 16, 32, 64} {
			if !pagealign.IsPowerOfTwo(n) {
				t.Errorf("IsPowerOfTwo(%d) = false", n)
			}
		}
		// The largest power of two in T: the top bit for unsigned types,
		// the one below the sign bit for signed ones.
		top := maxT/2 + 1
		if !pagealign.IsPowerOfTwo(top) {
			t.Errorf("IsPowerOfTwo(%d) = false", top)
		}
		for _, n := range []T{0, 3, 5, 6, 7, 12, 15, 63, maxT, top - 1, top + 1} {
			if pagealign.IsPowerOfTwo(n) {
				t.Errorf("IsPowerOfTwo(%d) = true", n)
			}
		}
		if minT := minOf[T](); minT < 0 {
			// The minimum of a signed type has a single bit set, but it is negative.
			var one T = 1
			for _, n := range []T{minT, minT + 1, -one, -one - one, -(one << 3)} {
				if pagealign.IsPowerOfTwo(n) {
					t.Errorf("IsPowerOfTwo(%d) = true", n)
				}
			}
		}
	})
}

type myInt int // a named type: the constraint uses ~int

func TestAlignHelpers(t *testing.T) {
	t.Run("int", testHelpers[int])
	t.Run("int8", testHelpers[int8])
	t.Run("int16", testHelpers[int16])
	t.Run("int32", testHelpers[int32])
	t.Run("int64", testHelpers[int64])
	t.Run("uint", testHelpers[uint])
	t.Run("uint8", testHelpers[uint8])
	t.Run("uint16", testHelpers[uint16])
	t.Run("uint32", testHelpers[uint32])
	t.Run("uint64", testHelpers[uint64])
	t.Run("uintptr", testHelpers[uintptr])
	t.Run("myInt", testHelpers[myInt])
}

func TestAlignPageSizes(t *testing.T) {
	ps := pagealign.PageSize()
	tests := []struct {
		n, up int
	}{
		{0, 0},
		{1, ps},
		{ps - 1, ps},
		{ps, ps},
		{ps + 1, 2 * ps},
		{10 * ps, 10 * ps},
		{10*ps + ps/2, 11 * ps},
	}
	for _, tt := range tests {
		if got := pagealign.AlignUp(tt.n, ps); got != tt.up {
			t.Errorf("AlignUp(%d, %d) = %d, want %d", tt.n, ps, got, tt.up)
		}
		if got, ok := pagealign.AlignUpChecked(tt.n, ps); !ok || got != tt.up {
			t.Errorf("AlignUpChecked(%d, %d) = %d, %v; want %d, true", tt.n, ps, got, ok, tt.up)
		}
	}
	// Large alignments and values far above 32 bits.
	if got, want := pagealign.AlignUp(int64(1)<<40+1, int64(1)<<30), int64(1)<<40+int64(1)<<30; got != want {
		t.Errorf("AlignUp(1<<40+1, 1<<30) = %d, want %d", got, want)
	}
	if got, want := pagealign.AlignUp(uint64(1)<<63-1, uint64(1)<<63), uint64(1)<<63; got != want {
		t.Errorf("AlignUp(1<<63-1, 1<<63) = %d, want %d", got, want)
	}
}

func TestAlignUpCheckedOverflow(t *testing.T) {
	const ps = 4096
	tests := []struct {
		name string
		f    func() (any, bool)
		ok   bool
		want any
	}{
		{"MaxInt", func() (any, bool) { return pagealign.AlignUpChecked(math.MaxInt, ps) }, false, nil},
		{"MaxInt-ps+2", func() (any, bool) { return pagealign.AlignUpChecked(math.MaxInt-ps+2, ps) }, false, nil},
		{"MaxInt-ps+1", func() (any, bool) { return pagealign.AlignUpChecked(math.MaxInt-ps+1, ps) }, true, math.MaxInt - ps + 1},
		{"MaxInt64", func() (any, bool) { return pagealign.AlignUpChecked(int64(math.MaxInt64), ps) }, false, nil},
		{"MaxUint64", func() (any, bool) { return pagealign.AlignUpChecked(uint64(math.MaxUint64), ps) }, false, nil},
		{"MaxUint64-ps+2", func() (any, bool) { return pagealign.AlignUpChecked(uint64(math.MaxUint64-ps+2), ps) }, false, nil},
		{"MaxUint64-ps+1", func() (any, bool) { return pagealign.AlignUpChecked(uint64(math.MaxUint64-ps+1), ps) }, true, uint64(math.MaxUint64 - ps + 1)},
		{"MaxUint32", func() (any, bool) { return pagealign.AlignUpChecked(uint32(math.MaxUint32), ps) }, false, nil},
		{"MaxUintptr", func() (any, bool) { return pagealign.AlignUpChecked(^uintptr(0), ps) }, false, nil},
		{"MaxInt8 by 2", func() (any, bool) { return pagealign.AlignUpChecked(int8(math.MaxInt8), 2) }, false, nil},
		{"MaxInt8 by 1", func() (any, bool) { return pagealign.AlignUpChecked(int8(math.MaxInt8), 1) }, true, int8(math.MaxInt8)},
		{"MaxUint8 by 128", func() (any, bool) { return pagealign.AlignUpChecked(uint8(129), 128) }, false, nil},
		{"128 by 128", func() (any, bool) { return pagealign.AlignUpChecked(uint8(128), 128) }, true, uint8(128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.f()
			if ok != tt.ok {
				t.Fatalf("AlignUpChecked = %v, %v; want ok=%v", got, ok, tt.ok)
			}
			if ok && got != tt.want {
				t.Fatalf("AlignUpChecked = %v (%T), want %v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

// FuzzAlignUp64 compares the helpers on uint64 with arbitrary-precision
// arithmetic, for every power-of-two alignment.
func FuzzAlignUp64(f *testing.F) {
	for _, seed := range []struct {
		n     uint64
		shift uint8
	}{{0, 0}, {1, 12}, {4095, 12}, {4096, 12}, {4097, 12}, {math.MaxUint64, 12}, {math.MaxUint64 - 4095, 12}, {math.MaxUint64, 63}, {1 << 63, 63}, {12345, 3}} {
		f.Add(seed.n, seed.shift)
	}
	f.Fuzz(func(t *testing.T, n uint64, shift uint8) {
		align := uint64(1) << (shift % 64)
		bn, ba := new(big.Int).SetUint64(n), new(big.Int).SetUint64(align)
		// up = ceil(n/align)*align, exactly.
		up := new(big.Int).Add(bn, new(big.Int).Sub(ba, big.NewInt(1)))
		up.Div(up, ba).Mul(up, ba)

		got, ok := pagealign.AlignUpChecked(n, align)
		fits := up.IsUint64()
		if ok != fits {
			t.Fatalf("AlignUpChecked(%d, %d) = %d, %v; exact result %v", n, align, got, ok, up)
		}
		if ok && got != up.Uint64() {
			t.Fatalf("AlignUpChecked(%d, %d) = %d, want %v", n, align, got, up)
		}
		if ok && pagealign.AlignUp(n, align) != got {
			t.Fatalf("AlignUp(%d, %d) = %d, AlignUpChecked says %d", n, align, pagealign.AlignUp(n, align), got)
		}
		if !pagealign.IsPowerOfTwo(align) {
			t.Fatalf("IsPowerOfTwo(%d) = false", align)
		}
		if p := pagealign.IsPowerOfTwo(n); p != (n != 0 && n&(n-1) == 0) {
			t.Fatalf("IsPowerOfTwo(%d) = %v", n, p)
		}
	})
}

func ExampleAlignUp() {
	fmt.Println(pagealign.AlignUp(5000, 4096))
	fmt.Println(pagealign.AlignUp(8192, 4096))
	_, ok := pagealign.AlignUpChecked(uint64(math.MaxUint64), 4096)
	fmt.Println(ok)
	// Output:
	// 8192
	// 8192
	// false
}
