package directmem

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/limits"
)

// TestStatsNeverNegative is the adversarial case of a snapshot read in
// parts: buffers allocated on some goroutines and freed on another, while
// Stats samples. Each part must count a buffer where it uncounts it, so no
// sample is negative or counts more buffers than were allocated.
func TestStatsNeverNegative(t *testing.T) {
	drainGC(t)
	base := Stats()
	a := NewAllocator(Options{Budget: limits.NewBudget(1 << 40), NoCleaner: true})
	const producers, each = 3, 2000
	var allocated atomic.Int64
	ch := make(chan *Buffer, 64)
	var prod, cons sync.WaitGroup
	for range producers {
		prod.Add(1)
		go func() {
			defer prod.Done()
			for range each {
				// Counted before: a sample may see the buffer as soon as
				// Allocate has counted it, before Allocate returns.
				allocated.Add(1)
				b, err := a.Allocate(65536)
				if err != nil {
					t.Error(err)
					return
				}
				ch <- b
			}
		}()
	}
	cons.Add(1)
	go func() {
		defer cons.Done()
		for b := range ch {
			b.Free()
		}
	}()
	done := make(chan struct{})
	go func() { prod.Wait(); close(ch); cons.Wait(); close(done) }()
	samples := 0
	for {
		select {
		case <-done:
		default:
			s := Stats()
			n := s.Count - base.Count
			if n < 0 || s.TotalCapacity-base.TotalCapacity < 0 || s.MemoryUsed-base.MemoryUsed < 0 {
				t.Fatalf("sample %d: %+v (from %+v): negative", samples, s, base)
			}
			if max := allocated.Load(); n > max {
				t.Fatalf("sample %d: %d buffers counted, only %d allocations begun", samples, n, max)
			}
			if s.TotalCapacity-base.TotalCapacity != n*65536 {
				t.Fatalf("sample %d: %d buffers with %d bytes of capacity", samples, n, s.TotalCapacity-base.TotalCapacity)
			}
			samples++
			continue
		}
		break
	}
	if s := Stats(); s != base {
		t.Errorf("after freeing everything: %+v, want %+v", s, base)
	}
	t.Logf("%d samples", samples)
}
