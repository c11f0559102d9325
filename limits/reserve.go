package limits

import (
	"context"
	"fmt"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

// The JVM's back-off: MAX_SLEEPS sleeps starting at 1 ms and doubling, 511 ms
// in all.
const (
	maxSleeps    = 9
	initialSleep = time.Millisecond
)

// reserveSlow is the part of Bits.reserveMemory after the optimistic
// attempt has failed.
func (b *Budget) reserveSlow(ctx context.Context, size, capacity int64) error {
	b.waits.Add(1)
	// WaitForProgress does not look at ctx when nothing is pending, so a
	// context that is already done must stop us here, before a collection.
	if err := ctx.Err(); err != nil {
		return b.interrupted(ctx, size, err)
	}

	// Retry while cleanups are releasing memory, as soon as they have
	// released enough.
	if ok, err := b.reserveWhileProgress(ctx, size, capacity); err != nil {
		return b.interrupted(ctx, size, err)
	} else if ok {
		return nil
	}

	// Find the buffers that are unreachable but not yet freed; their
	// cleanups are what the loop below waits for. (forceGC may reserve
	// instead, after waiting out a collection already under way.)
	if ok, err := b.forceGC(ctx, size, capacity); err != nil {
		return b.interrupted(ctx, size, err)
	} else if ok {
		return nil
	}

	// Retry with exponential back-off, not counting the rounds in which
	// cleanups made progress: with many goroutines competing for memory this
	// gives each of them more chances than giving up at the first idle
	// moment would.
	delay := initialSleep
	for sleeps := 0; ; {
		if b.retry(size, capacity) {
			return nil
		}
		if sleeps >= maxSleeps {
			break
		}
		ok, waited, err := b.progressOrReserve(ctx, size, capacity)
		if err != nil {
			return b.interrupted(ctx, size, err)
		}
		if ok {
			return nil
		}
		if !waited {
			ok, err := b.backOff(ctx, delay, size, capacity)
			if err != nil {
				return b.interrupted(ctx, size, err)
			}
			if ok {
				return nil
			}
			b.sleeps.Add(1)
			delay <<= 1
			sleeps++
		}
	}

	b.failures.Add(1)
	return &OutOfMemoryError{Requested: size, Allocated: b.Stats().Reserved, Limit: b.max}
}

// reserveWhileProgress retries the reservation for as long as cleanups are
// releasing memory (the JVM's loop around waitForReferenceProcessing) and
// reports whether it reserved.
func (b *Budget) reserveWhileProgress(ctx context.Context, size, capacity int64) (bool, error) {
	for {
		ok, waited, err := b.progressOrReserve(ctx, size, capacity)
		if ok || err != nil {
			return ok, err
		}
		if b.retry(size, capacity) {
			return true, nil
		}
		if !waited {
			return false, nil
		}
	}
}

// progressOrReserve is waitForProgress that also tries to reserve whenever
// memory is released meanwhile, and returns as soon as it has; reserved
// reports whether it did, and waited and err are waitForProgress's results
// otherwise. WaitForProgress returns only when every cleanup queued before
// it has run: after a collection that found most of the budget unreachable
// that is hundreds of cleanups, and the first few are enough for this
// reservation. It runs in its own goroutine, stopped (and waited for) once
// we have reserved, because it can be ended only through its context.
func (b *Budget) progressOrReserve(ctx context.Context, size, capacity int64) (reserved, waited bool, err error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		waited bool
		err    error
	}
	res := make(chan result, 1)
	go func() {
		w, err := b.waitForProgress(pctx)
		res <- result{w, err}
	}()
	b.released.sleepers.Add(1)
	defer b.released.sleepers.Add(-1)
	for {
		wake := b.released.wait()
		if b.retry(size, capacity) {
			cancel()
			<-res
			return true, true, nil
		}
		select {
		case r := <-res:
			return false, r.waited, r.err
		case <-wake:
		}
	}
}

// interrupted is the error of a reservation abandoned because ctx ended.
func (b *Budget) interrupted(ctx context.Context, size int64, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr
	}
	return fmt.Errorf("limits: reserving %d bytes of direct memory: %w", size, err)
}

func (b *Budget) waitForProgress(ctx context.Context) (bool, error) {
	if h := b.hooks.waitForProgress; h != nil {
		return h(ctx)
	}
	return cleaner.WaitForProgress(ctx)
}

// sleepContext sleeps for d or until ctx ends, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
