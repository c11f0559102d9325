package directmem

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/limits"
)

// arenaSizes mixes buffers cut from blocks, empty ones, and ones too big
// for a block (a slab slot and a large mapping).
var arenaSizes = []int{1, 64, 100, 0, 4096, 3000, 5000, 40 << 10, 1 << 20, 17}

func TestArenaLifetime(t *testing.T) {
	drainGC(t)
	budget := limits.NewBudget(1 << 30)
	pool0 := Stats()
	ar := NewArena(Options{Budget: budget})
	var bufs []*Buffer
	var capacity int64
	for i, n := range arenaSizes {
		b, err := ar.Allocate(n)
		if err != nil {
			t.Fatal(err)
		}
		if p := b.Bytes(); bytes.Count(p, []byte{0}) != n {
			t.Fatalf("buffer %d of %d bytes not zero", i, n)
		}
		p := b.Bytes()
		for j := range p {
			p[j] = byte(i + 1)
		}
		bufs = append(bufs, b)
		capacity += int64(n)
		if s := budget.Stats(); s.Count != int64(i+1) || s.TotalCapacity != capacity {
			t.Fatalf("after %d buffers: budget %+v, want capacity %d", i+1, s, capacity)
		}
		if p := Stats(); p.Count-pool0.Count != int64(i+1) || p.TotalCapacity-pool0.TotalCapacity != capacity {
			t.Fatalf("after %d buffers: pool %+v from %+v", i+1, p, pool0)
		}
	}
	lives := make([]live, len(bufs))
	for i, b := range bufs {
		lives[i] = live{b: b}
		if p := b.Bytes(); bytes.Count(p, []byte{byte(i + 1)}) != len(p) {
			t.Fatalf("buffer %d was overwritten", i)
		}
	}
	checkNoOverlap(t, lives)

	if err := bufs[1].Free(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Free of an arena's buffer: %v, want ErrNotOwner", err)
	}
	if err := ar.Free(); err != nil {
		t.Fatal(err)
	}
	if !ar.IsFreed() {
		t.Error("IsFreed false after Free")
	}
	for i, b := range bufs {
		if _, err := b.GetAt(0); !errors.Is(err, ErrFreed) && b.Capacity() > 0 {
			t.Errorf("buffer %d after the arena's Free: %v, want ErrFreed", i, err)
		}
		if !b.IsFreed() {
			t.Errorf("buffer %d: IsFreed false", i)
		}
	}
	if _, err := ar.Allocate(8); !errors.Is(err, ErrFreed) {
		t.Errorf("Allocate after Free: %v, want ErrFreed", err)
	}
	if s := budget.Stats(); s.Count != 0 || s.TotalCapacity != 0 || s.Reserved != 0 {
		t.Errorf("budget after Free: %+v", s)
	}
	if p := Stats(); p != pool0 {
		t.Errorf("pool after Free: %+v, want %+v", p, pool0)
	}
	if err := ar.Free(); err != nil {
		t.Errorf("second Free: %v", err)
	}
}

// dropArena fills an arena and drops it with all its buffers.
//
//go:noinline
func dropArena(tb testing.TB, opts Options) {
	ar := NewArena(opts)
	for _, n := range arenaSizes {
		if _, err := ar.Allocate(n); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestArenaCollected(t *testing.T) {
	drainGC(t)
	budget := limits.NewBudget(1 << 30)
	before := cleaner.Stats().CleanedByGC
	dropArena(t, Options{Budget: budget})
	collectBudget(t, budget, 0)
	if got := cleaner.Stats().CleanedByGC - before; got < 1 {
		t.Errorf("arena released without the collector's cleanup (%d)", got)
	}
}

// TestArenaKeptAliveByBuffer: a buffer keeps its arena's memory, as a
// segment keeps its JDK arena alive.
func TestArenaKeptAliveByBuffer(t *testing.T) {
	drainGC(t)
	budget := limits.NewBudget(1 << 30)
	b := func() *Buffer {
		ar := NewArena(Options{Budget: budget})
		ar.Allocate(100)
		b, err := ar.Allocate(64)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	drainGC(t)
	if s := budget.Stats(); s.Count != 2 {
		t.Fatalf("arena released while a buffer of it is reachable: %+v", s)
	}
	if err := b.PutInt64At(8, 42); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(b)
	b = nil
	collectBudget(t, budget, 0)
}

func TestArenaNoCleaner(t *testing.T) {
	budget := limits.NewBudget(1 << 30)
	reg := cleaner.Stats().Registered
	ar := NewArena(Options{Budget: budget, NoCleaner: true})
	for _, n := range arenaSizes {
		if _, err := ar.Allocate(n); err != nil {
			t.Fatal(err)
		}
	}
	if got := cleaner.Stats().Registered; got != reg {
		t.Errorf("explicit-only arena registered %d cleanups", got-reg)
	}
	ar.Free()
	if s := budget.Stats(); s.Count != 0 {
		t.Errorf("budget after Free: %+v", s)
	}
}

func TestArenaOptions(t *testing.T) {
	budget := limits.NewBudget(1 << 30)
	for align := 1; align <= 4096; align *= 4 {
		ar := NewArena(Options{Budget: budget, Alignment: align})
		for _, n := range arenaSizes {
			b, err := ar.Allocate(n)
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 && addrOf(b)%uintptr(align) != 0 {
				t.Errorf("Alignment %d: %d bytes at %#x", align, n, addrOf(b))
			}
		}
		ar.Free()
	}
	bad := NewArena(Options{Alignment: 3})
	if _, err := bad.Allocate(1); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("bad alignment: %v", err)
	}
	if err := bad.Free(); err != nil || !bad.IsFreed() {
		t.Errorf("Free of an arena with bad options = %v, freed %t", err, bad.IsFreed())
	}
	if _, err := NewArena(Options{Budget: budget}).Allocate(-1); !errors.Is(err, ErrInvalidCapacity) {
		t.Errorf("negative capacity: %v", err)
	}
	small := limits.NewBudget(100)
	ar := NewArena(Options{Budget: small})
	defer ar.Free()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ar.AllocateContext(ctx, 200); !errors.Is(err, limits.ErrOutOfDirectMemory) {
		t.Errorf("larger than the whole budget: %v, want ErrOutOfDirectMemory at once", err)
	}
	if _, err := ar.Allocate(60); err != nil {
		t.Fatal(err)
	}
	if _, err := ar.AllocateContext(ctx, 60); !errors.Is(err, context.Canceled) {
		t.Errorf("over budget with a cancelled context: %v", err)
	}
	if s := small.Stats(); s.Count != 1 || s.TotalCapacity != 60 {
		t.Errorf("failed allocations left a reservation: %+v", s)
	}
}

// TestArenaConcurrent allocates from one arena on many goroutines, one of
// which frees the arena midway; run it under -race. Every allocation
// either succeeds or fails with ErrFreed, and the budget ends empty.
func TestArenaConcurrent(t *testing.T) {
	budget := limits.NewBudget(1 << 30)
	ar := NewArena(Options{Budget: budget})
	stopStats := statsReader()
	defer stopStats()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				b, err := ar.Allocate(1 + (w*131+i*17)%2000)
				if err != nil {
					if !errors.Is(err, ErrFreed) {
						t.Error(err)
					}
					return
				}
				if w == 0 && i == 250 {
					ar.Free()
				}
				_ = b
			}
		}()
	}
	wg.Wait()
	ar.Free()
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 {
		t.Errorf("budget after the arena: %+v", s)
	}
}

// TestArenaReusesLargeMappingOfOddCapacity is the fuzzer's find
// (testdata/fuzz/FuzzAllocatorOps/crash_arena_large_reuse): an arena
// buffer of a large class whose capacity is not whole pages, on a reused
// mapping, must be cleared through the mapping's whole pages, not its
// capacity (zeroing it once panicked with the arena's lock held). More
// rounds than the heap's denseRescan (15) make sure a residency scan
// happens.
func TestArenaReusesLargeMappingOfOddCapacity(t *testing.T) {
	const n = 64<<10 + 1
	budget := limits.NewBudget(1 << 30)
	for round := range 20 {
		ar := NewArena(Options{Budget: budget, NoCleaner: true})
		b, err := ar.Allocate(n)
		if err != nil {
			t.Fatal(err)
		}
		p := b.Bytes()
		if len(p) != n || bytes.Count(p, []byte{0}) != n {
			t.Fatalf("round %d: %d bytes, %d of them zero; want %d zero bytes", round, len(p), bytes.Count(p, []byte{0}), n)
		}
		for i := range p {
			p[i] = 0xA5
		}
		if err := ar.Free(); err != nil {
			t.Fatal(err)
		}
	}
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 {
		t.Errorf("budget after the arenas: %+v, want nothing reserved", s)
	}
}
