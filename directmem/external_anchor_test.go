package directmem

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
)

// wrapAnchorOf returns the anchor of a buffer of Wrap, nil if it has none.
func wrapAnchorOf(b *Buffer) *extAnchor {
	if x, ok := b.owner.rel.(*wrapped); ok {
		return x.an
	}
	return nil
}

var wrapAnchorPool = NewPool("wrap-anchor-test")

//go:noinline
func wrapDropped(p *Pool, released *atomic.Int32) *extAnchor {
	b := p.Wrap(Memory{Bytes: make([]byte, 16), Release: func() { released.Add(1) }})
	return wrapAnchorOf(b)
}

// TestWrapAnchorReuse: a freed buffer of Wrap gives its anchor to the
// next, the release runs once whichever path runs it, a dropped buffer on
// a reused anchor is released by the collector, and the pool keeps no
// more idle anchors than its bound.
func TestWrapAnchorReuse(t *testing.T) {
	p := wrapAnchorPool
	for range 3 { // idle anchors of an earlier run (-count) must not count
		runtime.GC()
		if err := cleaner.WaitPending(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		for an := s.anchors.take(); an != nil; an = s.anchors.take() {
			an.Close()
		}
		s.mu.Unlock()
	}
	var released atomic.Int32
	wrapFn := func() *Buffer {
		return p.Wrap(Memory{Bytes: make([]byte, 16), Release: func() { released.Add(1) }})
	}
	b := wrapFn()
	an := wrapAnchorOf(b)
	if an == nil {
		t.Fatal("buffer of Pool.Wrap has no anchor")
	}
	b.Free()
	b.Free()
	if wrapAnchorOf(b) != nil {
		t.Error("freed buffer still holds its anchor")
	}
	// The next buffer of the same shard takes the anchor. The shard hint
	// follows the stack, which may move, so the anchor just freed is the
	// one to look for in a few more rounds.
	frees := int32(1)
	for try := 0; ; try++ {
		b2 := wrapFn()
		got := wrapAnchorOf(b2)
		b2.Free()
		frees++
		if got == an {
			break
		}
		if try == 10 {
			t.Fatal("anchor of a freed buffer not reused")
		}
		an = got
	}
	if n := released.Load(); n != frees {
		t.Fatalf("released %d times, want %d", n, frees)
	}
	// A later buffer takes the same anchor and is dropped.
	for try := 0; ; try++ {
		got := wrapDropped(p, &released)
		if got == an {
			break
		}
		if try == 10 {
			t.Fatal("anchor not reused for the dropped buffer")
		}
		an = got
	}
	// Every buffer is released: those freed, and the dropped ones (one per
	// round of the loop above) by the collector.
	want := frees + 1
	for range 5 {
		runtime.GC()
		if err := cleaner.WaitPending(t.Context()); err != nil {
			t.Fatal(err)
		}
		if released.Load() >= want && p.Stats().Count == 0 {
			break
		}
	}
	if s := p.Stats(); s.Count != 0 || s.TotalCapacity != 0 || s.MemoryUsed != 0 {
		t.Fatalf("after the collection: released %d (want at least %d), pool %+v", released.Load(), want, s)
	}
	want = released.Load()
	// Bounded: many buffers freed at once keep at most maxIdleAnchors a
	// shard.
	bufs := make([]*Buffer, 2*maxIdleAnchors)
	for i := range bufs {
		bufs[i] = wrapFn()
	}
	for _, b := range bufs {
		b.Free()
	}
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		idle := len(s.anchors.idle)
		s.mu.Unlock()
		if idle > maxIdleAnchors {
			t.Errorf("shard %d: %d idle anchors, want at most %d", i, idle, maxIdleAnchors)
		}
	}
	if n := released.Load(); n != want+int32(len(bufs)) {
		t.Errorf("released %d times, want %d", n, want+int32(len(bufs)))
	}
	// A buffer of the package-level Wrap has an anchor too, from no pool.
	var once atomic.Int32
	w := Wrap(make([]byte, 8), func() { once.Add(1) })
	if wrapAnchorOf(w) == nil {
		t.Error("buffer of Wrap with a release has no anchor")
	}
	w.Free()
	if once.Load() != 1 {
		t.Errorf("Wrap's release ran %d times, want 1", once.Load())
	}
	if _, ok := Wrap(make([]byte, 8), nil).owner.rel.(*wrapped); ok {
		t.Error("buffer of Wrap without a release has a releaser")
	}
}
