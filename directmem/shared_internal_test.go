package directmem

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
)

// sharedBuffersOf returns a buffer of s made by Buffer and one made by
// BufferWith.
func sharedBuffersOf(s *Shared) []*Buffer {
	b, _ := BufferWith[int](s)
	return []*Buffer{s.Buffer(), b}
}

// TestSharedMayFaultFlag: the buffers of a Shared, and their views, test
// for faults exactly when the memory says it may fault.
func TestSharedMayFaultFlag(t *testing.T) {
	for _, mayFault := range []bool{false, true} {
		s := (*Pool)(nil).Share(Memory{Bytes: make([]byte, 16), MayFault: mayFault})
		for _, b := range sharedBuffersOf(s) {
			for _, v := range []*Buffer{b, b.Slice(), b.Duplicate(), b.AsReadOnly()} {
				if v.owner.mayFault() != mayFault {
					t.Errorf("MayFault %v: a buffer's owner says %v", mayFault, v.owner.mayFault())
				}
			}
			b.Free()
		}
		s.Close()
	}
}

// TestSharedStripes: a buffer is uncounted in the stripe it was counted
// in, whichever goroutine frees it: no stripe's count goes negative, and
// all are back to zero once every buffer is freed.
func TestSharedStripes(t *testing.T) {
	s := (*Pool)(nil).Share(Memory{Bytes: make([]byte, 8)})
	defer s.Close()
	const n = 64
	made := make(chan *Buffer, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				made <- s.Buffer()
			} else {
				b, _ := BufferWith[[2]int](s)
				made <- b
			}
		}()
	}
	wg.Wait()
	close(made)
	stripes := map[uint32]bool{}
	var bufs []*Buffer
	for b := range made {
		stripes[b.owner.rel.(*sharedBuffer).an.Arg().stripe] = true
		bufs = append(bufs, b)
	}
	if len(stripes) < 2 {
		t.Fatalf("%d goroutines counted in %d stripe(s): the test cannot tell stripes apart", n, len(stripes))
	}
	for _, b := range bufs {
		b.Free()
		for i := range s.counts {
			if c := s.counts[i].n.Load(); c < 0 {
				t.Fatalf("stripe %d counts %d buffers", i, c)
			}
		}
	}
	for i := range s.counts {
		if c := s.counts[i].n.Load(); c != 0 {
			t.Errorf("all buffers freed: stripe %d counts %d", i, c)
		}
	}
}

// TestSharedCountAroundClose replays, step by step, the two ways a Buffer
// call (which counts itself, then checks closed again) can interleave
// with Close: counted after Close released, it gives its count back
// without a second release; counted before Close summed, it holds the
// release back until it gives its count back.
func TestSharedCountAroundClose(t *testing.T) {
	for _, countedFirst := range []bool{false, true} {
		var released atomic.Int32
		s := (*Pool)(nil).Share(Memory{Bytes: make([]byte, 8), Release: func() { released.Add(1) }})
		i := uint32(len(s.counts) - 1)
		if countedFirst {
			s.counts[i].n.Add(1)
		}
		s.Close()
		want := int32(1)
		if countedFirst {
			want = 0
		}
		if got := released.Load(); got != want {
			t.Errorf("counted first %v: Close released %d times, want %d", countedFirst, got, want)
		}
		if !countedFirst {
			s.counts[i].n.Add(1)
		}
		s.uncount(i) // the call sees closed and gives its count back
		if got := released.Load(); got != 1 || s.Buffers() != 0 {
			t.Errorf("counted first %v: released %d times, Buffers() = %d; want 1, 0", countedFirst, got, s.Buffers())
		}
	}
}

// sharedAnchorOf returns the anchor of a buffer of Shared, nil once freed.
func sharedAnchorOf(b *Buffer) *sharedAnchor { return b.owner.rel.(*sharedBuffer).an }

// dropSharedBuffer makes a buffer of s and drops it, returning its anchor.
//
//go:noinline
func dropSharedBuffer(s *Shared) *sharedAnchor { return sharedAnchorOf(s.Buffer()) }

// TestSharedAnchorReuse: a freed buffer of Shared lets go of its anchor
// and the next buffer takes it; a buffer dropped on a reused anchor is
// released by the collector, and the collection of freed ones uncounts
// nothing more.
func TestSharedAnchorReuse(t *testing.T) {
	s := (*Pool)(nil).Share(Memory{Bytes: make([]byte, 8)})
	defer s.Close()
	kept := s.Buffer()
	defer kept.Free()
	// The idle anchors are in a sync.Pool, per P: the goroutine may move,
	// and under the race detector Put drops one anchor in four, so the
	// reuse is looked for in a few rounds.
	for try := 0; ; try++ {
		b := s.Buffer()
		an := sharedAnchorOf(b)
		b.Free()
		if an == nil || sharedAnchorOf(b) != nil {
			t.Fatalf("anchor %p, after Free %p: want one, then none", an, sharedAnchorOf(b))
		}
		if dropSharedBuffer(s) == an {
			break
		}
		if try == 10 {
			t.Fatal("the anchor of a freed buffer is never the next buffer's")
		}
	}
	collectUntil(t, func() bool { return s.Buffers() == 1 })
	for range 2 {
		runtime.GC()
		if err := cleaner.WaitPending(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Buffers(); n != 1 {
		t.Errorf("after the collection of freed and dropped buffers: Buffers() = %d, want 1", n)
	}
}
