package limits

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// releaseSignal wakes reservations waiting in steps 4 to 6 of
// [Budget.Reserve] when memory is given back. The JVM's sleepers only look
// again when their sleep ends, and meanwhile goroutines on the fast path
// can take every byte the cleanups release, so a sleeper could lose all
// its retries while the budget churns. A wake that wins no memory goes
// back to the same sleep, so the back-off's schedule is unchanged.
type releaseSignal struct {
	sleepers atomic.Int32 // waiters; Unreserve pays for the broadcast only when >0
	mu       sync.Mutex
	ch       chan struct{}
}

// wait returns a channel closed by the next release.
func (s *releaseSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *releaseSignal) broadcast() {
	if s.sleepers.Load() == 0 {
		return
	}
	s.mu.Lock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.mu.Unlock()
}

// backOff is one sleep of the back-off: it waits d, trying to reserve
// whenever memory is released meanwhile. It reports whether it reserved.
func (b *Budget) backOff(ctx context.Context, d time.Duration, size, capacity int64) (bool, error) {
	if h := b.hooks.sleep; h != nil {
		return false, h(ctx, d)
	}
	b.released.sleepers.Add(1)
	defer b.released.sleepers.Add(-1)
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		wake := b.released.wait()
		// Memory released between the last attempt and wait() would not
		// wake us; look once more now that we are registered.
		if b.retry(size, capacity) {
			return true, nil
		}
		select {
		case <-t.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-wake:
		}
	}
}
