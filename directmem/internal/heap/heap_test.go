package heap

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine started by them
// outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newHeap returns a heap of its own for one test, without a scavenger:
// only the test advances its epoch (FreeIdle, or epoch.Add and trim), so
// that a garbage collection in the middle of a test changes nothing.
func newHeap(t testing.TB) *Heap {
	t.Helper()
	h := New(2)
	h.scavenging.Store(true) // startScavenger then never arms one
	return h
}

// addrOf is the address of p's first byte, only ever compared.
func addrOf(p []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(p))) }

// fill sets every byte of p to v.
func fill(p []byte, v byte) {
	if len(p) == 0 {
		return
	}
	p[0] = v
	for n := 1; n < len(p); n *= 2 {
		copy(p[n:], p[:n])
	}
}

// firstNot returns the index of the first byte of p that is not v, or -1.
func firstNot(p []byte, v byte) int {
	if bytes.Count(p, []byte{v}) == len(p) {
		return -1
	}
	for i, b := range p {
		if b != v {
			return i
		}
	}
	return -1
}

// takeSmall takes a slot of class c from s, locking it.
func takeSmall(t testing.TB, s *Shard, c Class) ([]byte, Block, bool) {
	t.Helper()
	s.Lock()
	mem, b, zeroed, err := s.TakeSmall(c)
	s.Unlock()
	if err != nil {
		t.Fatalf("TakeSmall(%d): %v", c, err)
	}
	return mem, b, zeroed
}

// takeLarge takes a large block of class c from s.
func takeLarge(t testing.TB, h *Heap, s *Shard, c Class, size int) ([]byte, Block, bool) {
	t.Helper()
	mem, b, zeroed, err := h.TakeLarge(s, c, size)
	if err != nil {
		t.Fatalf("TakeLarge(%d, %d): %v", c, size, err)
	}
	return mem, b, zeroed
}

// give gives b back to its shard with Put, and unmaps it if Put did not
// keep it, as a caller must; it reports whether Put kept it.
func give(h *Heap, b Block) bool {
	s := b.Shard()
	s.Lock()
	kept := s.Put(b)
	s.Unlock()
	if !kept {
		h.Unmap(b)
	}
	return kept
}

// classOfSize returns the class of n bytes, failing the test if it is not
// a class of its own.
func classOfSize(t testing.TB, n int) Class {
	t.Helper()
	c, size, ok := SizeClass(n, 1)
	if !ok || c < 0 || size != n {
		t.Fatalf("SizeClass(%d) = %d, %d, %v: not a class", n, c, size, ok)
	}
	return c
}

// checkAllFreed gives back everything idle and checks that nothing is
// left: the test must have given every block back.
func checkAllFreed(t testing.TB, h *Heap) {
	t.Helper()
	h.FreeIdle()
	if st := h.Stats(); st != (Stats{}) {
		t.Errorf("after giving back every block and FreeIdle: %+v", st)
	}
	if n := h.emptySlabBytes.Load(); n != 0 {
		t.Errorf("after FreeIdle the heap counts %d bytes of empty slabs", n)
	}
	if n := h.cachedLarge.Load(); n != 0 {
		t.Errorf("after FreeIdle the heap counts %d cached large bytes", n)
	}
}

func TestNewShards(t *testing.T) {
	for _, tc := range []struct{ procs, shards int }{
		{0, 4}, {1, 4}, {2, 8}, {3, 16}, {4, 16}, {16, 64}, {17, 64}, {1000, 64},
	} {
		h := New(tc.procs)
		if h.NumShards() != tc.shards {
			t.Errorf("New(%d) has %d shards, want %d", tc.procs, h.NumShards(), tc.shards)
			continue
		}
		for i := range h.NumShards() {
			s := h.Shard(i)
			if s.Index() != i || s.h != h {
				t.Errorf("New(%d): shard %d says index %d", tc.procs, i, s.Index())
			}
		}
		for _, hint := range []uint32{0, 1, 5, 63, 64, 1<<32 - 1} {
			if got, want := h.ShardFor(hint), h.Shard(int(hint%uint32(tc.shards))); got != want {
				t.Errorf("New(%d).ShardFor(%d) is shard %d, want %d", tc.procs, hint, got.Index(), want.Index())
			}
		}
		if h.maxEmptySlabBytes.Load() != defaultMaxEmptySlabBytes {
			t.Errorf("New(%d): bound on empty slabs %d", tc.procs, h.maxEmptySlabBytes.Load())
		}
		if st := h.Stats(); st != (Stats{}) {
			t.Errorf("New(%d).Stats() = %+v", tc.procs, st)
		}
	}
}

func TestShardHintSpreadsGoroutines(t *testing.T) {
	h := New(2)
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := h.ShardFor(Hint()).Index()
			mu.Lock()
			seen[i] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) < 2 {
		t.Errorf("16 goroutines all hashed to shard %v", seen)
	}
	if a, b := Hint(), Hint(); a != b {
		t.Errorf("one goroutine, same depth: hints %d and %d", a, b)
	}
}

func TestZeroBlock(t *testing.T) {
	var b Block
	if b.Shard() != nil {
		t.Errorf("the zero Block's shard is %v", b.Shard())
	}
	h := newHeap(t)
	h.Zero(nil, b) // capacity 0: nothing to clear, no panic
	s := h.Shard(0)
	s.Lock()
	kept := s.Put(b)
	s.Unlock()
	if !kept {
		t.Error("Put of the zero Block did not report it kept: the caller would Unmap nothing")
	}
	if st := h.Stats(); st != (Stats{}) {
		t.Errorf("Put of the zero Block changed the heap: %+v", st)
	}
}

// TestBlocksGoBackToTheirShard has goroutines take small and large blocks
// from shards of their own and hand them to other goroutines, which give
// them back to Block.Shard. A count per shard, kept under that shard's
// lock as directmem keeps its pool counts, must balance, and the race
// detector checks that it is only ever touched under the one lock.
func TestBlocksGoBackToTheirShard(t *testing.T) {
	h := newHeap(t)
	counts := make([]int, h.NumShards())
	const workers = 4
	steps := 2000
	if testing.Short() {
		steps = 500
	}
	large := classOfSize(t, 64<<10)
	chans := make([]chan Block, workers)
	for i := range chans {
		chans[i] = make(chan Block, steps)
	}
	give := func(b Block) {
		s := b.Shard()
		s.Lock()
		counts[s.Index()]--
		kept := s.Put(b)
		s.Unlock()
		if !kept {
			h.Unmap(b)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := h.Shard(2 * w)
			r := rand.New(rand.NewPCG(uint64(w), 7))
			out := chans[(w+1)%workers]
			defer close(out)
			for range steps {
				var b Block
				var err error
				if r.IntN(20) == 0 {
					if _, b, _, err = h.TakeLarge(s, large, 64<<10); err == nil {
						s.Lock()
						counts[s.Index()]++
						s.Unlock()
					}
				} else {
					s.Lock()
					if _, b, _, err = s.TakeSmall(Class(r.IntN(numSmallClasses))); err == nil {
						counts[s.Index()]++
					}
					s.Unlock()
				}
				if err != nil {
					errs <- err.Error()
					return
				}
				if b.Shard() != s {
					errs <- "a block's shard is not the one it was taken from"
					return
				}
				out <- b
				select {
				case in, ok := <-chans[w]:
					if ok {
						give(in)
					}
				default:
				}
			}
		}()
	}
	// Each worker drains its channel once the worker feeding it is done.
	var drain sync.WaitGroup
	for w := range workers {
		drain.Add(1)
		go func() {
			defer drain.Done()
			for b := range chans[w] {
				give(b)
			}
		}()
	}
	wg.Wait()
	drain.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for i, n := range counts {
		if n != 0 {
			t.Errorf("shard %d counts %d blocks after every block came back", i, n)
		}
	}
	checkAllFreed(t, h)
}
