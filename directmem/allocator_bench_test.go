package directmem_test

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

// The allocation benchmarks, side by side with what a user would pick
// instead. Every allocation touches its first byte, as the JDK anchor
// (shared/anchors/jvm/DirectBench.java) does.
//
//	direct   Allocate with a cleaner (the default), then Free / drop
//	explicit Options.NoCleaner, then Free
//	arena    Arena.Allocate; the arena is freed (or dropped) every 64
//	         buffers (16 of 1 MiB, so that one arena holds a quarter of
//	         the budget, below the budget's high-water mark), so ns/op
//	         includes a 64th (16th) of NewArena and Free
//	heap     make([]byte), kept in a 1024-slot ring so that it escapes
//	clear    clear() of one reused slice: the floor for handing out
//	         zeroed memory
//
// The budget is 64 MiB, like the anchor's -XX:MaxDirectMemorySize=64m: in
// the Drop benchmarks it is what makes the collector run.

var allocBenchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"256KiB", 256 << 10}, {"1MiB", 1 << 20}}

const allocBenchBudget = 64 << 20

// allocBenchArenaBatch is the number of buffers of n bytes per arena.
func allocBenchArenaBatch(n int) int { return min(64, allocBenchBudget/4/n) }

// allocBenchRing keeps heap allocations reachable for a while.
var allocBenchRing [1024][]byte

func allocBenchMust(b *testing.B, buf *directmem.Buffer, err error) *directmem.Buffer {
	if err != nil {
		b.Fatal(err)
	}
	buf.PutAt(0, 1)
	return buf
}

func BenchmarkAllocFree(b *testing.B) {
	for _, sz := range allocBenchSizes {
		n := sz.n
		b.Run(sz.name+"/direct", func(b *testing.B) { benchAllocFree(b, n, false) })
		b.Run(sz.name+"/explicit", func(b *testing.B) { benchAllocFree(b, n, true) })
		b.Run(sz.name+"/arena", func(b *testing.B) {
			benchArena(b, n, false)
		})
		b.Run(sz.name+"/heap", func(b *testing.B) { benchHeap(b, n) })
		b.Run(sz.name+"/clear", func(b *testing.B) { benchClear(b, n) })
	}
}

func BenchmarkAllocDrop(b *testing.B) {
	ctx := context.Background()
	for _, sz := range allocBenchSizes {
		n := sz.n
		b.Run(sz.name+"/direct", func(b *testing.B) {
			a := directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(allocBenchBudget)})
			for b.Loop() {
				buf, err := a.AllocateContext(ctx, n)
				allocBenchMust(b, buf, err)
			}
		})
		b.Run(sz.name+"/explicit", func(b *testing.B) {
			b.Skip("an explicit-only buffer cannot be dropped: nothing would ever release it")
		})
		b.Run(sz.name+"/arena", func(b *testing.B) {
			benchArena(b, n, true)
		})
		b.Run(sz.name+"/heap", func(b *testing.B) { benchHeap(b, n) })
		b.Run(sz.name+"/clear", func(b *testing.B) { benchClear(b, n) })
	}
}

// BenchmarkAllocFreeTouched is AllocFree with one byte of every page
// written before Free: the case where the next buffer of the size has every
// page to clear again (with only the first byte touched, a reused large
// buffer is cleared in proportion to what was used; see clearTouched).
// clear is the floor: clear of a reused slice plus the same writes.
func BenchmarkAllocFreeTouched(b *testing.B) {
	ctx := context.Background()
	touch := func(p []byte) {
		for i := 0; i < len(p); i += 4096 {
			p[i] = 1
		}
	}
	for _, sz := range allocBenchSizes[1:] {
		n := sz.n
		b.Run(sz.name+"/direct", func(b *testing.B) {
			a := directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(allocBenchBudget)})
			for b.Loop() {
				buf, err := a.AllocateContext(ctx, n)
				touch(allocBenchMust(b, buf, err).Bytes())
				buf.Free()
			}
		})
		b.Run(sz.name+"/explicit", func(b *testing.B) {
			a := directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(allocBenchBudget), NoCleaner: true})
			for b.Loop() {
				buf, err := a.AllocateContext(ctx, n)
				touch(allocBenchMust(b, buf, err).Bytes())
				buf.Free()
			}
		})
		b.Run(sz.name+"/clear", func(b *testing.B) {
			p := make([]byte, n)
			for b.Loop() {
				clear(p)
				touch(p)
			}
		})
	}
}

// benchAllocFree allocates n bytes and frees them at once, from an
// allocator with a cleaner or (noCleaner) without.
func benchAllocFree(b *testing.B, n int, noCleaner bool) {
	ctx := context.Background()
	a := directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(allocBenchBudget), NoCleaner: noCleaner})
	for b.Loop() {
		buf, err := a.AllocateContext(ctx, n)
		allocBenchMust(b, buf, err).Free()
	}
}

// benchArena allocates from arenas of allocBenchArenaBatch buffers, freeing
// each full arena, or dropping it for the garbage collector.
func benchArena(b *testing.B, n int, drop bool) {
	batch := allocBenchArenaBatch(n)
	opts := directmem.Options{Budget: limits.NewBudget(allocBenchBudget)}
	if !drop {
		opts.NoCleaner = true // freed by hand: no registration needed
	}
	ar := directmem.NewArena(opts)
	i := 0
	for b.Loop() {
		buf, err := ar.Allocate(n)
		allocBenchMust(b, buf, err)
		if i++; i == batch {
			if !drop {
				ar.Free()
			}
			ar, i = directmem.NewArena(opts), 0
		}
	}
	if !drop {
		ar.Free()
	}
}

func benchHeap(b *testing.B, n int) {
	i := 0
	for b.Loop() {
		p := make([]byte, n)
		p[0] = 1
		allocBenchRing[i&1023] = p
		i++
	}
	clear(allocBenchRing[:])
}

func benchClear(b *testing.B, n int) {
	p := make([]byte, n)
	for b.Loop() {
		clear(p)
		p[0] = 1
	}
	runtime.KeepAlive(p)
}

// BenchmarkChurn is the JDK's churn anchor: 256 KiB buffers allocated and
// dropped under a 64 MiB budget by 1, 2 and 8 goroutines, so that the
// budget is kept below its limit only by the collector releasing dropped
// buffers. ns/alloc is wall time per allocation over all goroutines (the
// anchor's figure); failures counts allocations that failed with
// ErrOutOfDirectMemory (the JDK: OutOfMemoryError). The benchmark's own
// goroutine allocates once per b.Loop iteration; the others allocate until
// it stops.
func BenchmarkChurn(b *testing.B) {
	for _, g := range []int{1, 2, 8} {
		b.Run("goroutines="+strconv.Itoa(g), func(b *testing.B) {
			budget := limits.NewBudget(64 << 20)
			a := directmem.NewAllocator(directmem.Options{Budget: budget})
			ctx := context.Background()
			var allocs, fails atomic.Int64
			alloc := func() {
				buf, err := a.AllocateContext(ctx, 256<<10)
				if err != nil {
					fails.Add(1)
					return
				}
				buf.PutAt(0, 1)
				allocs.Add(1)
			}
			var stop atomic.Bool
			var wg sync.WaitGroup
			start := time.Now()
			for range g - 1 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						alloc()
					}
				}()
			}
			for b.Loop() {
				alloc()
			}
			stop.Store(true)
			wg.Wait()
			elapsed := time.Since(start)
			total := allocs.Load() + fails.Load()
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(total), "ns/alloc")
			b.ReportMetric(float64(fails.Load()), "failures")
			s := budget.Stats()
			b.ReportMetric(float64(s.ForcedGCs+s.BackgroundGCs), "GCs")
		})
	}
}

// BenchmarkHold4GiB holds 4 GiB in 1 MiB buffers and times forced
// collections: gc-ns/op with the buffers held, beside gc-ns-empty measured
// first with nothing held, and the Go heap (HeapAlloc) while holding them,
// in all and added by the buffers (the test binary holds about 16 MiB of
// other tests' globals).
// The buffers are never touched, so they cost address space, not memory.
func BenchmarkHold4GiB(b *testing.B) {
	empty := medianGC(5)
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	a := directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(8 << 30)})
	bufs := make([]*directmem.Buffer, 4096)
	for i := range bufs {
		buf, err := a.Allocate(1 << 20)
		if err != nil {
			b.Fatal(err)
		}
		bufs[i] = buf
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for b.Loop() {
		runtime.GC()
	}
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(ms0.HeapAlloc))/(1<<20), "heap-MiB-added")
	b.ReportMetric(float64(empty.Nanoseconds()), "gc-ns-empty")
	for _, buf := range bufs {
		buf.Free()
	}
}

func medianGC(n int) time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		t0 := time.Now()
		runtime.GC()
		d[i] = time.Since(t0)
	}
	slices.Sort(d)
	return d[n/2]
}
