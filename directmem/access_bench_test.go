package directmem_test

import (
	"encoding/binary"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

// benchAllocator has room for the largest benchmark buffers, whatever the
// process-wide default budget is.
func benchAllocator() *directmem.Allocator {
	return directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(1 << 32)})
}

func mustAllocate(tb testing.TB, a *directmem.Allocator, n int) *directmem.Buffer {
	tb.Helper()
	buf, err := a.AllocateContext(tb.Context(), n)
	if err != nil {
		tb.Fatal(err)
	}
	return buf
}

// sink keeps benchmark results alive so the compiler cannot drop the work.
var sink uint64

// BenchmarkTypedAccess sums a 64 MiB buffer as big-endian int64s through
// GetInt64At, beside the same loop over a Go slice with
// binary.BigEndian.Uint64 (the JDK's getLong over a direct buffer: 0.8-0.9
// ns per element on this kind of machine).
func BenchmarkTypedAccess(b *testing.B) {
	const size = 64 << 20
	b.Run("direct", func(b *testing.B) { benchTypedDirect(b, size, binary.BigEndian) })
	// The JDK anchor reads in native order; this is the same, to compare.
	b.Run("direct-native", func(b *testing.B) { benchTypedDirect(b, size, binary.NativeEndian) })
	b.Run("slice", func(b *testing.B) {
		s := make([]byte, size)
		for i := 0; i < size; i += 8 {
			binary.BigEndian.PutUint64(s[i:], uint64(i))
		}
		b.SetBytes(size)
		var sum uint64
		for b.Loop() {
			for i := 0; i < size; i += 8 {
				sum += binary.BigEndian.Uint64(s[i:])
			}
		}
		sink = sum
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(size/8), "ns/elem")
	})
}

func benchTypedDirect(b *testing.B, size int, order binary.ByteOrder) {
	buf := mustAllocate(b, benchAllocator(), size)
	defer buf.Free()
	buf.SetOrder(order)
	for i := 0; i < size; i += 8 {
		buf.PutInt64At(i, int64(i))
	}
	b.SetBytes(int64(size))
	var sum int64
	for b.Loop() {
		for i := 0; i < size; i += 8 {
			v, err := buf.GetInt64At(i)
			if err != nil {
				b.Fatal(err)
			}
			sum += v
		}
	}
	sink = uint64(sum)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size/8), "ns/elem")
}

// BenchmarkBulk moves 1 MiB chunks in and out of a direct buffer with
// PutBytes and GetBytes, beside two copy calls between Go slices (the JDK's
// bulk put/get of 1 MiB: 115-143 µs per MiB here).
func BenchmarkBulk(b *testing.B) {
	const size = 1 << 20
	src, dst := make([]byte, size), make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	b.Run("direct", func(b *testing.B) {
		buf := mustAllocate(b, benchAllocator(), size)
		defer buf.Free()
		b.SetBytes(2 * size)
		for b.Loop() {
			buf.Clear()
			if err := buf.PutBytes(src); err != nil {
				b.Fatal(err)
			}
			buf.Flip()
			if err := buf.GetBytes(dst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("copy", func(b *testing.B) {
		mid := make([]byte, size)
		b.SetBytes(2 * size)
		for b.Loop() {
			copy(mid, src)
			copy(dst, mid)
		}
	})
}

// BenchmarkMayFault is the typed and bulk access of BenchmarkTypedAccess and
// BenchmarkBulk on a buffer whose memory may fault (every access goes out
// of line under the fault guard), beside the same on an ordinary buffer.
func BenchmarkMayFault(b *testing.B) {
	const size = 1 << 20
	for _, mf := range []bool{false, true} {
		name := "direct"
		if mf {
			name = "mayfault"
		}
		mk := func(b *testing.B) *directmem.Buffer {
			buf := mustAllocate(b, benchAllocator(), size)
			b.Cleanup(func() { buf.Free() })
			if mf {
				return directmem.WrapMayFault(buf.Bytes(), nil)
			}
			return buf
		}
		b.Run(name+"/GetInt64At", func(b *testing.B) {
			buf := mk(b)
			var sum int64
			for b.Loop() {
				for i := 0; i < size; i += 8 {
					v, _ := buf.GetInt64At(i)
					sum += v
				}
			}
			sink = uint64(sum)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(size/8), "ns/elem")
		})
		b.Run(name+"/PutInt64At", func(b *testing.B) {
			buf := mk(b)
			for b.Loop() {
				for i := 0; i < size; i += 8 {
					buf.PutInt64At(i, int64(i))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(size/8), "ns/elem")
		})
		b.Run(name+"/GetInt64", func(b *testing.B) {
			buf := mk(b)
			var sum int64
			for b.Loop() {
				buf.Clear()
				for buf.Remaining() >= 8 {
					v, _ := buf.GetInt64()
					sum += v
				}
			}
			sink = uint64(sum)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(size/8), "ns/elem")
		})
		b.Run(name+"/GetBytes64K", func(b *testing.B) {
			buf := mk(b)
			dst := make([]byte, 64<<10)
			b.SetBytes(64 << 10)
			for b.Loop() {
				buf.Clear()
				buf.GetBytes(dst)
			}
		})
		b.Run(name+"/ReadAt64K", func(b *testing.B) {
			buf := mk(b)
			dst := make([]byte, 64<<10)
			b.SetBytes(64 << 10)
			for b.Loop() {
				buf.ReadAt(dst, 0)
			}
		})
	}
	b.Run("copy64K", func(b *testing.B) {
		src, dst := make([]byte, 64<<10), make([]byte, 64<<10)
		b.SetBytes(64 << 10)
		for b.Loop() {
			copy(dst, src)
		}
	})
}
