package directmem

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem/internal/heap"
	"github.com/offheap-go/offheap/limits"
	"github.com/offheap-go/offheap/pagealign"
)

// drainGC collects and waits for the cleanups that queues, so that buffers
// dropped earlier (by this test or an earlier one) are released before the
// test counts anything.
func drainGC(tb testing.TB) {
	tb.Helper()
	for range 2 {
		runtime.GC()
		if err := cleaner.WaitPending(tb.Context()); err != nil {
			tb.Fatal(err)
		}
	}
}

// collectBudget collects until the budget's count is want, failing after a
// bounded number of rounds (each one waits for the cleanups it queued, so
// no sleep decides anything).
func collectBudget(tb testing.TB, budget *limits.Budget, want int64) {
	tb.Helper()
	for range 20 {
		if budget.Stats().Count == want {
			return
		}
		drainGC(tb)
	}
	tb.Fatalf("budget %+v, want count %d after collections", budget.Stats(), want)
}

// allocDropped allocates a buffer and drops it before returning.
//
//go:noinline
func allocDropped(tb testing.TB, a *Allocator, n int) {
	b, err := a.Allocate(n)
	if err != nil {
		tb.Fatal(err)
	}
	b.PutAt(0, 1)
}

func TestInitBufferIsNewBuffer(t *testing.T) {
	mem := make([]byte, 8)
	o := new(owner)
	var b Buffer
	initBuffer(&b, mem, o)
	if want := newBuffer(mem, o); !reflect.DeepEqual(&b, want) {
		t.Errorf("initBuffer made %+v, newBuffer %+v", b, *want)
	}
}

func TestDroppedBufferIsReleased(t *testing.T) {
	drainGC(t)
	for _, n := range []int{0, 64, 5000, 100 << 10} {
		budget := limits.NewBudget(1 << 30)
		a := NewAllocator(Options{Budget: budget})
		before := cleaner.Stats()
		for range 10 {
			allocDropped(t, a, n)
		}
		collectBudget(t, budget, 0)
		if s := budget.Stats(); s.Reserved != 0 || s.TotalCapacity != 0 {
			t.Errorf("%d bytes: budget after GC %+v", n, s)
		}
		after := cleaner.Stats()
		if got := after.CleanedByGC - before.CleanedByGC; got < 10 {
			t.Errorf("%d bytes: %d releases by the GC, want 10", n, got)
		}
	}
}

// TestFreeRecyclesAnchor checks the anchor cycle: Free returns the buffer's
// anchor to its shard's cache, and the next buffer takes it.
func TestFreeRecyclesAnchor(t *testing.T) {
	drainGC(t) // cleaner.Stats is process-wide: nothing else may move it
	ctx := context.Background()
	a := NewAllocator(Options{Budget: limits.NewBudget(1 << 30)})
	b, err := a.AllocateContext(ctx, 64)
	if err != nil {
		t.Fatal(err)
	}
	an := anchorOf(b)
	if an == nil {
		t.Fatal("managed buffer without an anchor")
	}
	live0 := cleaner.Stats().Live()
	b.Free()
	if anchorOf(b) != nil {
		t.Error("freed buffer still refers to its anchor")
	}
	if got := cleaner.Stats().Live(); got != live0-1 {
		t.Errorf("cleaner Live %d after Free, want %d", got, live0-1)
	}
	// The next buffer of the same shard takes the anchor. The shard hint
	// follows the stack, which may move, so the anchor just freed is the
	// one to look for in a few more rounds.
	for try := 0; ; try++ {
		b2, err := a.AllocateContext(ctx, 64)
		if err != nil {
			t.Fatal(err)
		}
		got := anchorOf(b2)
		b2.Free()
		if got == an {
			return
		}
		if try == 10 {
			t.Fatal("no later buffer took the anchor that Free had just returned")
		}
		an = got
	}
}

// TestFreedBufferDoesNotPinAnchor is the reason Free clears the anchor: a
// freed buffer that the program keeps must not keep alive the anchor that
// now guards another buffer, or that buffer could never be collected.
func TestFreedBufferDoesNotPinAnchor(t *testing.T) {
	drainGC(t)
	budget := limits.NewBudget(1 << 30)
	a := NewAllocator(Options{Budget: budget})
	kept := make([]*Buffer, 0, 100)
	for range 100 {
		b, err := a.Allocate(64)
		if err != nil {
			t.Fatal(err)
		}
		b.Free()
		kept = append(kept, b) // freed, still referenced
		allocDropped(t, a, 64) // likely takes b's anchor
	}
	collectBudget(t, budget, 0)
	for _, b := range kept {
		if !b.IsFreed() {
			t.Fatal("kept buffer not freed")
		}
	}
	runtime.KeepAlive(kept)
}

// TestNoCleanerBuffer: no registration with the cleaner; Free releases; a
// dropped one keeps its memory (by design).
func TestNoCleanerBuffer(t *testing.T) {
	drainGC(t)
	budget := limits.NewBudget(1 << 30)
	a := NewAllocator(Options{Budget: budget, NoCleaner: true})
	reg := cleaner.Stats().Registered
	b, err := a.Allocate(100)
	if err != nil {
		t.Fatal(err)
	}
	if got := cleaner.Stats().Registered; got != reg {
		t.Errorf("explicit-only allocation registered %d cleanups", got-reg)
	}
	if b.owner.cl != nil || anchorOf(b) != nil {
		t.Error("explicit-only buffer has a GC path")
	}
	if err := b.Free(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetAt(0); !errors.Is(err, ErrFreed) {
		t.Errorf("GetAt after Free: %v", err)
	}
	if s := budget.Stats(); s.Count != 0 {
		t.Errorf("after Free: %+v", s)
	}

	// Dropped: the collector must not release it. Keep a copy of its
	// release to clean up behind the test.
	b, err = a.Allocate(100)
	if err != nil {
		t.Fatal(err)
	}
	rel := *heapRel(b) // a copy: it does not keep the buffer reachable
	b = nil
	drainGC(t)
	if s := budget.Stats(); s.Count != 1 {
		t.Errorf("dropped explicit-only buffer: budget %+v, want it still reserved", s)
	}
	rel.giveBack(true, nil)
	if s := budget.Stats(); s.Count != 0 {
		t.Errorf("after cleaning up: %+v", s)
	}
}

func TestAllocatorAlignment(t *testing.T) {
	budget := limits.NewBudget(1 << 30)
	for align := 1; align <= 4096; align *= 2 {
		a := NewAllocator(Options{Budget: budget, Alignment: align, NoCleaner: true})
		var bufs []*Buffer
		for _, n := range []int{1, 17, 100, 1000, 4096, 5000, 40000, 1 << 20} {
			b, err := a.Allocate(n)
			if err != nil {
				t.Fatal(err)
			}
			if addrOf(b)%uintptr(align) != 0 {
				t.Errorf("Alignment %d, %d bytes: address %#x", align, n, addrOf(b))
			}
			bufs = append(bufs, b)
		}
		for _, b := range bufs {
			b.Free()
		}
	}
	for _, bad := range []int{3, 12, -16, 8192} {
		a := NewAllocator(Options{Budget: budget, Alignment: bad})
		if _, err := a.Allocate(8); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("Alignment %d: %v", bad, err)
		}
	}
}

// TestAllocStress allocates, writes, checks and frees from many goroutines
// at once, handing some buffers to other goroutines to free, with managed
// and explicit-only buffers mixed; run it under -race. At the end the
// budget must be back to zero.
func TestAllocStress(t *testing.T) {
	drainGC(t)
	budget := limits.NewBudget(1 << 40)
	allocs := []*Allocator{
		NewAllocator(Options{Budget: budget}),
		NewAllocator(Options{Budget: budget, NoCleaner: true}),
		NewAllocator(Options{Budget: budget, Alignment: 256}),
	}
	workers := max(8, 2*runtime.GOMAXPROCS(0))
	iters := 4000
	if testing.Short() || raceEnabled {
		iters = 1000
	}
	handoff := make(chan *Buffer, 64)
	var wg, freers sync.WaitGroup
	var bad atomic.Int64
	stopStats := statsReader()
	defer stopStats()
	for range 2 {
		freers.Add(1)
		go func() {
			defer freers.Done()
			for b := range handoff {
				if p := b.Bytes(); len(p) > 0 && bytes.Count(p, p[:1]) != len(p) {
					bad.Add(1)
				}
				b.Free()
			}
		}()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			var mine []*Buffer
			for i := range iters {
				n := 1 + r.IntN(3000)
				if r.IntN(50) == 0 {
					n = 40 << 10
				}
				b, err := allocs[r.IntN(len(allocs))].Allocate(n)
				if err != nil {
					t.Error(err)
					return
				}
				p := b.Bytes()
				if bytes.Count(p, []byte{0}) != len(p) {
					bad.Add(1)
				}
				v := byte(w*31 + i)
				for j := range p {
					p[j] = v
				}
				switch r.IntN(4) {
				case 0:
					handoff <- b
				default:
					mine = append(mine, b)
				}
				if len(mine) > 32 || (len(mine) > 0 && r.IntN(3) == 0) {
					k := r.IntN(len(mine))
					b := mine[k]
					if p := b.Bytes(); bytes.Count(p, p[:1]) != len(p) {
						bad.Add(1)
					}
					b.Free()
					mine[k] = mine[len(mine)-1]
					mine = mine[:len(mine)-1]
				}
			}
			for _, b := range mine {
				b.Free()
			}
		}()
	}
	wg.Wait()
	close(handoff)
	freers.Wait()
	if n := bad.Load(); n != 0 {
		t.Errorf("%d buffers were not zero when handed out or lost their contents", n)
	}
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 || s.TotalCapacity != 0 {
		t.Errorf("budget after the stress: %+v", s)
	}
}

// statsReader reads Stats in a loop on another goroutine, as a monitoring
// thread would while allocations run, until the returned function is
// called: for the race detector and the lock order between shards and
// arenas. The counts are exact only when nothing runs, so they are not
// checked here.
func statsReader() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			Stats()
			runtime.Gosched()
		}
	}()
	return func() { close(done); wg.Wait() }
}

// TestStressWithGC mixes dropped buffers (released by the garbage
// collector's cleanup goroutine) with explicit frees of buffers of the same
// slabs, and checks the budget is exactly empty once everything is
// collected.
func TestStressWithGC(t *testing.T) {
	drainGC(t)
	budget := limits.NewBudget(1 << 40)
	a := NewAllocator(Options{Budget: budget})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				b, err := a.Allocate(1 + (w*977+i*131)%5000)
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					b.Free()
				}
				if i%500 == 0 {
					runtime.GC()
				}
			}
		}()
	}
	wg.Wait()
	collectBudget(t, budget, 0)
	if s := budget.Stats(); s.Reserved != 0 || s.TotalCapacity != 0 {
		t.Errorf("budget %+v", s)
	}
}

// churn is the churn workload: goroutines allocate buffers of size and
// drop them under a budget of max bytes, perG each. It returns the
// allocations that failed.
func churn(ctx context.Context, a *Allocator, goroutines, perG, size int) (failures int64, firstErr error) {
	var wg sync.WaitGroup
	var fails atomic.Int64
	var once sync.Once
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perG {
				b, err := a.AllocateContext(ctx, size)
				if err != nil {
					fails.Add(1)
					once.Do(func() { firstErr = err })
					continue
				}
				b.PutAt(0, 1)
			}
		}()
	}
	wg.Wait()
	return fails.Load(), firstErr
}

// TestChurn is the JDK's churn anchor: 256 KiB buffers dropped under a
// 64 MiB budget from 1, 2 and 8 goroutines. The collector has to keep up;
// no allocation may fail.
func TestChurn(t *testing.T) {
	per := 1000
	if testing.Short() || raceEnabled {
		per = 200
	}
	for _, g := range []int{1, 2, 8} {
		budget := limits.NewBudget(64 << 20)
		a := NewAllocator(Options{Budget: budget})
		fails, err := churn(t.Context(), a, g, per/g*2, 256<<10)
		if fails != 0 {
			t.Errorf("%d goroutines: %d of %d allocations failed (first: %v); budget %+v", g, fails, per/g*2*g, err, budget.Stats())
		}
		collectBudget(t, budget, 0)
	}
}

// mapCount is the number of the process's memory mappings.
func mapCount(tb testing.TB) int {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		tb.Skipf("no /proc/self/maps: %v", err)
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		n++
	}
	return n
}

// TestMillionBuffers holds a million live 64-byte buffers at once, checks
// that the process's mapping count stays far below vm.max_map_count (the
// target: under 1,000), then frees them all.
func TestMillionBuffers(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a million buffers: skipped with -short and -race")
	}
	drainGC(t)
	const n = 1_000_000
	budget := limits.NewBudget(1 << 30)
	a := NewAllocator(Options{Budget: budget})
	maps0 := mapCount(t)
	start := time.Now()
	bufs := make([]*Buffer, n)
	for i := range bufs {
		b, err := a.Allocate(64)
		if err != nil {
			t.Fatalf("buffer %d: %v", i, err)
		}
		b.PutAt(63, byte(i))
		bufs[i] = b
	}
	maps := mapCount(t)
	t.Logf("%d live 64-byte buffers in %v: %d mappings (%d before), budget %+v, heap %+v", n, time.Since(start), maps, maps0, budget.Stats(), theHeap.Stats())
	if maps >= 1000 {
		t.Errorf("%d mappings with a million live buffers, want under 1,000", maps)
	}
	if s := budget.Stats(); s.Count != n || s.TotalCapacity != 64*n || s.Reserved != 64*n {
		t.Errorf("budget %+v", s)
	}
	for i, b := range bufs {
		if v, _ := b.GetAt(63); v != byte(i) {
			t.Fatalf("buffer %d holds %d", i, v)
		}
	}
	for _, b := range bufs {
		b.Free()
	}
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 {
		t.Errorf("budget after freeing: %+v", s)
	}
	t.Logf("freed; %d mappings, heap %+v", mapCount(t), theHeap.Stats())
}

// TestHold4GiB holds 4 GiB in 1 MiB buffers and checks that the Go heap
// stays under 64 MiB; it logs the time of a forced GC with and without them
// (compared in BenchmarkHold4GiB; timings are never asserted).
func TestHold4GiB(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("4 GiB of buffers: skipped with -short and -race")
	}
	drainGC(t)
	empty := gcTime()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	budget := limits.NewBudget(8 << 30)
	a := NewAllocator(Options{Budget: budget})
	bufs := make([]*Buffer, 4096)
	for i := range bufs {
		b, err := a.Allocate(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		bufs[i] = b
	}
	held := gcTime()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("holding 4 GiB in 4096 buffers: HeapAlloc %.1f MiB (%.1f MiB added), forced GC %v (%v with nothing held), %d mappings",
		float64(ms.HeapAlloc)/(1<<20), float64(int64(ms.HeapAlloc)-int64(ms0.HeapAlloc))/(1<<20), held, empty, mapCount(t))
	if ms.HeapAlloc >= 64<<20 {
		t.Errorf("Go heap %d bytes while holding 4 GiB, want under 64 MiB", ms.HeapAlloc)
	}
	for _, b := range bufs {
		b.Free()
	}
	theHeap.FreeIdle()
}

// gcTime is the median of 5 forced collections.
func gcTime() time.Duration {
	var d [5]time.Duration
	for i := range d {
		t0 := time.Now()
		runtime.GC()
		d[i] = time.Since(t0)
	}
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if d[j] < d[i] {
				d[i], d[j] = d[j], d[i]
			}
		}
	}
	return d[len(d)/2]
}

// The budget's counters equal the sum over the live buffers at every
// quiescent point, however the reservations were made (through the
// allocators' per-shard leases, an arena's lease, or the budget itself for
// large buffers) and from whatever goroutine they are freed.
func TestBudgetCountersMatchLiveBuffers(t *testing.T) {
	budget := limits.NewBudget(256 << 20)
	managed := NewAllocator(Options{Budget: budget})
	explicit := NewAllocator(Options{Budget: budget, NoCleaner: true, Alignment: 64})
	sizes := []int{0, 1, 64, 100, 4096, 5000, 32 << 10, 40 << 10, 300 << 10}
	type live struct {
		b             *Buffer
		cap, reserved int64
	}
	const goroutines = 4
	held := make([][]live, goroutines)
	arenas := make([]*Arena, goroutines)
	for round := range 6 {
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				if arenas[g] == nil || r.IntN(2) == 0 {
					if arenas[g] != nil {
						arenas[g].Free()
						held[g] = slices.DeleteFunc(held[g], func(l live) bool { return l.b.owner.arena })
					}
					arenas[g] = NewArena(Options{Budget: budget})
				}
				for range 300 {
					n := sizes[r.IntN(len(sizes))]
					var l live
					var err error
					switch r.IntN(3) {
					case 0:
						l.b, err = managed.AllocateContext(t.Context(), n)
						_, size, _ := sizeClass(n, DefaultAlignment)
						l.reserved = int64(max(size, 1))
					case 1:
						l.b, err = explicit.AllocateContext(t.Context(), n)
						_, size, _ := sizeClass(n, 64)
						l.reserved = int64(max(size, 1))
					default:
						l.b, err = arenas[g].Allocate(n)
						_, size, _ := arenaSize(n, DefaultAlignment)
						l.reserved = int64(max(size, 1))
					}
					if err != nil {
						t.Error(err)
						return
					}
					l.cap = int64(n)
					held[g] = append(held[g], l)
					// Free some, often on another goroutine's shard.
					if k := r.IntN(len(held[g])); r.IntN(2) == 0 && !held[g][k].b.owner.arena {
						held[g][k].b.Free()
						held[g] = slices.Delete(held[g], k, k+1)
					}
				}
			}()
		}
		wg.Wait()
		var count, capacity, reserved int64
		for _, h := range held {
			for _, l := range h {
				count++
				capacity += l.cap
				reserved += l.reserved
			}
		}
		if s := budget.Stats(); s.Count != count || s.TotalCapacity != capacity || s.Reserved != reserved {
			t.Fatalf("round %d: budget count, capacity, reserved = %d, %d, %d; live buffers: %d, %d, %d",
				round, s.Count, s.TotalCapacity, s.Reserved, count, capacity, reserved)
		}
	}
	for g := range goroutines {
		for _, l := range held[g] {
			if !l.b.owner.arena {
				l.b.Free()
			}
		}
		arenas[g].Free()
	}
	if s := budget.Stats(); s.Count != 0 || s.TotalCapacity != 0 || s.Reserved != 0 {
		t.Fatalf("after freeing everything: %+v", s)
	}
}

// A Buffer is one cache line and an allocation fits the runtime's
// 192-byte size class: Allocate makes one allocation per buffer and an
// Arena one Buffer, and their size is most of the cost in the Go heap.
func TestGoSideSizes(t *testing.T) {
	if n := unsafe.Sizeof(Buffer{}); n != 64 {
		t.Errorf("Buffer is %d bytes, want 64", n)
	}
	if n := unsafe.Sizeof(allocation{}); n > 192 {
		t.Errorf("allocation is %d bytes, want at most 192", n)
	}
	// An anchor is padded to 64 bytes so that the runtime's list of a
	// span's cleanups, which AddCleanup walks, stays short (reusable.go).
	if n := unsafe.Sizeof(anchor{}); n != 64 {
		t.Errorf("anchor is %d bytes, want 64", n)
	}
}

// addrOf is the address of a buffer's first byte, for overlap and alignment
// checks. The buffer must be live; the address is only compared.
func addrOf(b *Buffer) uintptr { return uintptr(b.ptr) }

// live is a buffer of the property test and what it must hold.
type live struct {
	b    *Buffer
	fill byte
}

// checkNoOverlap fails if any two live buffers share a byte of memory,
// counting each slot as its whole class size.
func checkNoOverlap(t *testing.T, bufs []live) {
	t.Helper()
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, l := range bufs {
		if n := l.b.n; n > 0 {
			spans = append(spans, span{addrOf(l.b), addrOf(l.b) + uintptr(n)})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for i := 1; i < len(spans); i++ {
		if spans[i].lo < spans[i-1].hi {
			t.Fatalf("live buffers overlap: [%#x, %#x) and [%#x, %#x)", spans[i-1].lo, spans[i-1].hi, spans[i].lo, spans[i].hi)
		}
	}
}

// TestSlabProperties allocates and frees buffers of random sizes and
// alignments in random order and checks, at every step: each new buffer is
// zero, aligned and disjoint from every live one; every live buffer still
// holds what was written to it; and the budget's and pool's counters are
// exactly the sums over the live buffers.
func TestSlabProperties(t *testing.T) {
	drainGC(t)
	r := rand.New(rand.NewPCG(3, 4))
	budget := limits.NewBudget(1 << 40)
	pool0 := Stats()
	var allocs []*Allocator
	for align := 1; align <= pagealign.PageSize(); align *= 2 {
		allocs = append(allocs, NewAllocator(Options{Budget: budget, Alignment: align}))
	}
	allocs = append(allocs, NewAllocator(Options{Budget: budget, NoCleaner: true}))

	var bufs []live
	var count, capacity, used int64
	steps := 3000
	if testing.Short() {
		steps = 500
	}
	for step := range steps {
		if len(bufs) > 0 && r.IntN(3) == 0 {
			i := r.IntN(len(bufs))
			l := bufs[i]
			if got := l.b.Bytes(); !bytes.Equal(got, bytes.Repeat([]byte{l.fill}, len(got))) {
				t.Fatalf("step %d: buffer of %d bytes lost its contents", step, l.b.Capacity())
			}
			count--
			capacity -= int64(l.b.Capacity())
			used -= heapRel(l.b).size
			if err := l.b.Free(); err != nil {
				t.Fatal(err)
			}
			bufs[i] = bufs[len(bufs)-1]
			bufs = bufs[:len(bufs)-1]
		} else {
			a := allocs[r.IntN(len(allocs))]
			var n int
			switch r.IntN(10) {
			case 0:
				n = 0
			case 1, 2:
				n = heap.MaxSmallSize/2 + r.IntN(3*heap.MaxSmallSize)
			default:
				n = 1 + r.IntN(2048)
			}
			b, err := a.Allocate(n)
			if err != nil {
				t.Fatal(err)
			}
			if addrOf(b)%uintptr(a.align) != 0 && n > 0 {
				t.Fatalf("step %d: %d bytes at %#x, not %d-aligned", step, n, addrOf(b), a.align)
			}
			for i, v := range b.Bytes() {
				if v != 0 {
					t.Fatalf("step %d: new buffer of %d bytes has %#x at %d", step, n, v, i)
				}
			}
			fill := byte(1 + r.IntN(255))
			p := b.Bytes()
			for i := range p {
				p[i] = fill
			}
			bufs = append(bufs, live{b, fill})
			count++
			capacity += int64(n)
			used += heapRel(b).size
			if c, size, _ := sizeClass(n, a.align); int64(max(size, 1)) != heapRel(b).size || (c >= 0 && size != classSizes[c]) {
				t.Fatalf("step %d: %d bytes reserved %d, want the class size %d", step, n, heapRel(b).size, size)
			}
		}
		s := budget.Stats()
		if s.Count != count || s.TotalCapacity != capacity || s.Reserved != used {
			t.Fatalf("step %d: budget %+v, want count %d, capacity %d, reserved %d", step, s, count, capacity, used)
		}
		p := Stats()
		if p.Count-pool0.Count != count || p.TotalCapacity-pool0.TotalCapacity != capacity || p.MemoryUsed-pool0.MemoryUsed != used {
			t.Fatalf("step %d: pool %+v (from %+v), want +%d buffers, +%d capacity, +%d used", step, p, pool0, count, capacity, used)
		}
		if step%100 == 0 {
			checkNoOverlap(t, bufs)
		}
	}
	checkNoOverlap(t, bufs)
	for _, l := range bufs {
		l.b.Free()
	}
	if s := budget.Stats(); s.Count != 0 || s.TotalCapacity != 0 || s.Reserved != 0 {
		t.Fatalf("budget after freeing everything: %+v", s)
	}
}

// TestSlotReuseIsZeroed frees a dirty slot and checks that the next buffer
// of the class, which is handed that slot first, is zeroed; and that with
// NoZero it is not cleared (the option's point).
func TestSlotReuseIsZeroed(t *testing.T) {
	budget := limits.NewBudget(1 << 30)
	for _, n := range []int{64, 4000, 100 << 10} {
		for _, noZero := range []bool{false, true} {
			a := NewAllocator(Options{Budget: budget, NoZero: noZero, NoCleaner: true})
			b1, err := a.Allocate(n)
			if err != nil {
				t.Fatal(err)
			}
			p := b1.Bytes()
			for i := range p {
				p[i] = 0xA5
			}
			at := addrOf(b1)
			b1.Free()
			b2, err := a.Allocate(n)
			if err != nil {
				t.Fatal(err)
			}
			if addrOf(b2) != at {
				// Another goroutine's hint or a test running in parallel
				// took the slot; nothing to check.
				b2.Free()
				continue
			}
			zero := bytes.Count(b2.Bytes(), []byte{0}) == n
			if zero == noZero {
				t.Errorf("reused %d-byte slot with NoZero=%v: zeroed=%v", n, noZero, zero)
			}
			b2.Free()
		}
	}
}
