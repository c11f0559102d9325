package limits

import (
	"context"
	"runtime"
)

// forceGC is the JVM's System.gc() in the slow path, shared: if a collection
// started by this budget (forced or background) is running, it waits for
// that one rather than starting another, so that a crowd of reservations
// hitting the limit at once costs one collection, not one each. The
// collection runs in its own goroutine because runtime.GC cannot be
// interrupted and the caller must be free to leave when ctx ends.
func (b *Budget) forceGC(ctx context.Context) error {
	b.gcMu.Lock()
	done := b.gcDone
	if done == nil {
		b.forcedGCs.Add(1)
		done = b.startCollectionLocked()
	}
	b.gcMu.Unlock()
	if h := b.hooks.gcJoined; h != nil {
		h()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// collectInBackground starts a collection unless one is already running:
// at most one is in flight, however many reservations cross the mark.
func (b *Budget) collectInBackground() {
	b.gcMu.Lock()
	defer b.gcMu.Unlock()
	if b.gcDone == nil {
		b.backgroundGCs.Add(1)
		b.startCollectionLocked()
	}
}

// startCollectionLocked starts a collection in a new goroutine, which ends
// when the collection does, and returns the channel closed then. b.gcMu must
// be held.
func (b *Budget) startCollectionLocked() chan struct{} {
	done := make(chan struct{})
	b.gcDone = done
	gc := b.hooks.gc
	if gc == nil {
		gc = runtime.GC
	}
	go func() {
		gc()
		b.gcMu.Lock()
		b.gcDone = nil
		b.gcMu.Unlock()
		close(done)
	}()
	return done
}
