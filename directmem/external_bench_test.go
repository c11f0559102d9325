package directmem_test

import (
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// wrapBenchPool is made once per process: pool names are process-wide.
var wrapBenchPool = directmem.NewPool("wrap-bench")

// BenchmarkPoolWrap is Pool.Wrap + Free of memory that may fault, as
// package mapped maps a file. Leak detection is off, its production
// default. Run with -cpu 1,2: RunParallel.
func BenchmarkPoolWrap(b *testing.B) {
	prev := directmem.LeakDetection()
	directmem.SetLeakDetection(directmem.LeakDisabled)
	b.Cleanup(func() { directmem.SetLeakDetection(prev) })
	mem := make([]byte, 4096)
	rel := func() {}
	m := directmem.Memory{Bytes: mem, Release: rel, MayFault: true, ReadOnly: true, Detail: "bench"}
	b.Run("Wrap", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				wrapBenchPool.Wrap(m).Free()
			}
		})
	})
}

// BenchmarkSharedBuffer is a buffer of one Shared memory + Free, as package
// mapped makes a lease on a cached mapping: Buffer alone, and BufferWith
// with 24 bytes of the caller's own in the same allocation (a Lease's).
// Under RunParallel with -cpu 2, both goroutines share the one memory.
func BenchmarkSharedBuffer(b *testing.B) {
	prev := directmem.LeakDetection()
	directmem.SetLeakDetection(directmem.LeakDisabled)
	b.Cleanup(func() { directmem.SetLeakDetection(prev) })
	mem := make([]byte, 4096)
	s := wrapBenchPool.Share(directmem.Memory{Bytes: mem, Release: func() {}, MayFault: true, ReadOnly: true, Detail: "bench"})
	defer s.Close()
	b.Run("Buffer", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Buffer().Free()
			}
		})
	})
	b.Run("BufferWith", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				buf, x := directmem.BufferWith[[3]uintptr](s)
				x[0] = 1
				buf.Free()
			}
		})
	})
}
