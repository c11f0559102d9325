package limits

import (
	"context"
	"runtime"
	"sync/atomic"
)

// forceGC is step 5 of [Budget.Reserve] (which states the rules): the
// JVM's System.gc() in the slow path, shared, so that a crowd of
// reservations hitting the limit at once costs one collection, not one
// each. It returns once a collection that started after the caller arrived
// has ended, or, without one, once it has reserved size bytes for capacity;
// reserved reports which. Retrying after waiting out an earlier collection
// before starting another matters under churn: that collection frees most
// of the budget, and a second one would make every waiter sit through it
// while the memory it needs is already free.
//
// The collection runs in its own goroutine because runtime.GC cannot be
// interrupted and the caller must be free to leave when ctx ends.
func (b *Budget) forceGC(ctx context.Context, size, capacity int64) (reserved bool, err error) {
	b.gcMu.Lock()
	arrival := b.gcGen
	var done chan struct{}
	for {
		if b.gcDone == nil {
			if b.gcGen > arrival {
				b.gcMu.Unlock()
				return false, nil
			}
			// A caller that is leaving starts no collection (waiting for
			// progress does not look at ctx when nothing is pending).
			if err := ctx.Err(); err != nil {
				b.gcMu.Unlock()
				return false, err
			}
			b.forcedGCs.Add(1)
			done = b.startCollectionLocked()
			break
		}
		if b.gcGen > arrival {
			done = b.gcDone
			break
		}
		// At most once: every collection after this one began after the
		// caller arrived.
		earlier := b.gcDone
		b.gcMu.Unlock()
		if h := b.hooks.gcOutwaiting; h != nil {
			h()
		}
		select {
		case <-earlier:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		if ok, err := b.reserveWhileProgress(ctx, size, capacity); ok || err != nil {
			return ok, err
		}
		b.gcMu.Lock()
	}
	b.gcMu.Unlock()
	if h := b.hooks.gcJoined; h != nil {
		h()
	}
	select {
	case <-done:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// collectInBackground starts a collection unless one is already running,
// counts it in started, and reports whether it started one: at most one
// is in flight, whichever trigger asks (pacing, the high-water mark, a
// forced collection) and however often.
func (b *Budget) collectInBackground(started *atomic.Int64) bool {
	b.gcMu.Lock()
	defer b.gcMu.Unlock()
	if b.gcDone != nil {
		return false
	}
	started.Add(1)
	b.startCollectionLocked()
	return true
}

// startCollectionLocked starts a collection in a new goroutine, which ends
// when the collection does, and returns the channel closed then. b.gcMu must
// be held.
func (b *Budget) startCollectionLocked() chan struct{} {
	done := make(chan struct{})
	b.gcDone = done
	b.gcGen++
	b.pacer.CollectionStarting()
	gc := b.hooks.gc
	if gc == nil {
		gc = runtime.GC
	}
	go func() {
		gc()
		// The pacer starts counting afresh before another collection can
		// start, so that it does not ask again for the one just done.
		b.pacer.CycleEnded()
		b.gcMu.Lock()
		b.gcDone = nil
		b.gcMu.Unlock()
		close(done)
	}()
	return done
}
