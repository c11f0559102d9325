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

	// Retry while cleanups are releasing memory.
	for {
		waited, err := b.waitForProgress(ctx)
		if err != nil {
			return b.interrupted(ctx, size, err)
		}
		if b.retry(size, capacity) {
			return nil
		}
		if !waited {
			break
		}
	}

	// Find the buffers that are unreachable but not yet freed; their
	// cleanups are what the loop below waits for.
	if err := b.forceGC(ctx); err != nil {
		return b.interrupted(ctx, size, err)
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
		waited, err := b.waitForProgress(ctx)
		if err != nil {
			return b.interrupted(ctx, size, err)
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
