package directmem

import "github.com/offheap-go/offheap/internal/cleanup"

// An Allocator's buffers with a cleaner (the default) are released by the
// garbage collector through an anchor: a cleanup.Reusable that the
// buffer's allocation refers to while it is live. runtime.AddCleanup plus
// Cleanup.Stop cost more than the JDK's whole allocateDirect+free of a
// small buffer (docs/allocator.md); an anchor pays AddCleanup once and is
// then armed and disarmed with a few plain stores. Free disarms the anchor
// and keeps it in its shard for the next buffer; a dropped buffer takes
// its anchor down with it, and the anchor's cleanup releases the buffer.
//
// The anchor is watched by the runtime, so its cleanup's argument must not
// lead back to it: it is a copy of the buffer's heapRelease, which never
// refers to the anchor or to the allocation holding both.
type anchor = cleanup.Reusable[heapRelease]

func newAnchor() *anchor { return cleanup.NewReusable(releaseCollected) }

// releaseCollected is an anchor's release: the buffer it guarded became
// unreachable without Free. It runs on the runtime's cleanup goroutine.
func releaseCollected(r heapRelease) { r.giveBack(false, nil) }

// idleAnchors keeps idle anchors for reuse, under a lock of its holder's
// (a heap shard's for an Allocator's buffers, a Pool's for its own), at
// most maxIdleAnchors: each holds Go heap and a runtime special while it
// waits for the next buffer.
type idleAnchors[A any] struct {
	idle []*cleanup.Reusable[A]
}

const maxIdleAnchors = 256

// take returns an idle anchor, or nil if there is none.
func (c *idleAnchors[A]) take() *cleanup.Reusable[A] {
	n := len(c.idle)
	if n == 0 {
		return nil
	}
	an := c.idle[n-1]
	c.idle[n-1] = nil
	c.idle = c.idle[:n-1]
	return an
}

// keep keeps an idle anchor for reuse and returns nil, or returns it if
// there are enough, for the caller to Close outside the lock.
func (c *idleAnchors[A]) keep(an *cleanup.Reusable[A]) *cleanup.Reusable[A] {
	if an == nil || len(c.idle) >= maxIdleAnchors {
		return an
	}
	c.idle = append(c.idle, an)
	return nil
}

// disarm takes the anchor of a buffer being freed, *an, and returns it
// disarmed, for reuse, or nil if there was none or it was not armed (then
// it must never be handed out again). *an is cleared: a freed buffer that
// is still referenced must not keep an anchor that will guard another.
func disarm[A any](an **cleanup.Reusable[A]) *cleanup.Reusable[A] {
	a := *an
	*an = nil
	if a != nil && !a.Disarm() {
		return nil
	}
	return a
}
