package limits

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

// The JVM's back-off: MAX_SLEEPS sleeps starting at 1 ms and doubling, 511 ms
// in all.
const (
	maxSleeps    = 9
	initialSleep = time.Millisecond
)

// Reserve reserves size bytes of memory for a buffer of the given capacity,
// waiting for memory to come back if it does not fit: the JVM's
// Bits.reserveMemory. size is what the buffer really takes (capacity plus
// rounding or alignment); the limit applies to capacity, inclusively, and
// capacity 0 always fits. The caller must not hold the lock of a lease on
// b. This is the one description of the algorithm; the rest of the package
// refers to it.
//
//  1. Try to reserve without waiting: a compare-and-swap of the total
//     capacity (tryReserve). A reservation that takes it across the
//     high-water mark starts one background collection (highwater.go).
//  2. A capacity larger than the whole limit can never fit: fail at once,
//     without collecting or sleeping (the JVM would go through all of it).
//  3. Take back the unused credit of the budget's leases, so idle credit
//     never makes a reservation wait; every retry below does this first.
//  4. While cleanups of collected buffers are running (cleaner's
//     WaitForProgress, the JVM's waitForReferenceProcessing), wait and
//     retry, as soon as any memory is released.
//  5. Force one garbage collection, shared with every reservation waiting
//     at the same time (forceGC). One counts only if it started after the
//     reservation arrived (HotSpot's System.gc() rule: a collection already
//     marking treats buffers allocated meanwhile as live); a reservation
//     that finds an earlier one running waits for it, retries as in step 4
//     once its cleanups have run, and forces a new one only if that fails.
//  6. Retry up to nine more times, sleeping 1, 2, 4 ... 256 ms (511 ms in
//     all) before each, not counting rounds in which cleanups made progress;
//     a sleeper retries at once whenever memory is released (wake.go).
//  7. Fail with an [*OutOfMemoryError] (errors.Is [ErrOutOfDirectMemory])
//     whose message is the JVM's: "cannot reserve N bytes of direct buffer
//     memory (allocated: A, limit: L)".
//
// ctx is consulted only once the reservation has to wait, so one that fits
// succeeds even with a context that is already done (the JVM's interrupts
// likewise only affect waiting); if ctx ends while Reserve waits, the error
// wraps ctx.Err(). The error wraps [ErrInvalidSize] for sizes that are not
// one reservation: a negative capacity, a size below the capacity, or above
// it by more than 1 GiB of rounding. It is [Budget.Err] for a budget with
// an error. Nothing is reserved when Reserve returns an error.
func (b *Budget) Reserve(ctx context.Context, size, capacity int64) error {
	if b.err != nil {
		return b.err
	}
	if err := checkSizes(size, capacity); err != nil {
		return err
	}
	if b.tryReserve(size, capacity) {
		return nil
	}
	// Step 2; bytes that int64 cannot count cannot come back either.
	if capacity > b.max || size > math.MaxInt64-b.reserved.Load() {
		b.failures.Add(1)
		return b.outOfMemory(size)
	}
	return b.reserveSlow(ctx, size, capacity)
}

// outOfMemory is the error of a reservation of size bytes that failed.
func (b *Budget) outOfMemory(size int64) error {
	return &OutOfMemoryError{Requested: size, Allocated: b.Stats().Reserved, Limit: b.max}
}

// reserveSlow is steps 3 to 7 of [Budget.Reserve], the part of
// Bits.reserveMemory after the optimistic attempt has failed.
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
	return b.outOfMemory(size)
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
