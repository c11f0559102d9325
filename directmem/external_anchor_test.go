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
	p.mu.Lock()
	for an := p.anchors.take(); an != nil; an = p.anchors.take() {
		an.Close()
	}
	p.mu.Unlock()
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
	b2 := wrapFn()
	if wrapAnchorOf(b2) != an {
		t.Error("anchor of a freed buffer not reused")
	}
	b2.Free()
	if n := released.Load(); n != 2 {
		t.Fatalf("released %d times, want 2", n)
	}
	// The next buffer takes the same anchor and is dropped.
	if wrapDropped(p, &released) != an {
		t.Error("anchor not reused for the dropped buffer")
	}
	for range 5 {
		runtime.GC()
		if err := cleaner.WaitPending(t.Context()); err != nil {
			t.Fatal(err)
		}
		if released.Load() == 3 {
			break
		}
	}
	if n, s := released.Load(), p.Stats(); n != 3 || s.Count != 0 || s.TotalCapacity != 0 || s.MemoryUsed != 0 {
		t.Fatalf("after the collection: released %d (want 3), pool %+v", n, s)
	}
	// Bounded: many buffers freed at once keep at most maxIdleAnchors.
	bufs := make([]*Buffer, 2*maxIdleAnchors)
	for i := range bufs {
		bufs[i] = wrapFn()
	}
	for _, b := range bufs {
		b.Free()
	}
	p.mu.Lock()
	idle := len(p.anchors.idle)
	p.mu.Unlock()
	if idle > maxIdleAnchors {
		t.Errorf("%d idle anchors, want at most %d", idle, maxIdleAnchors)
	}
	if n := released.Load(); n != 3+int32(len(bufs)) {
		t.Errorf("released %d times, want %d", n, 3+len(bufs))
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
