package cleaner

import (
	"context"
	"fmt"
	"runtime/metrics"
	"time"

	"github.com/offheap-go/offheap/internal/cleanup"
)

// The runtime counts every cleanup it queues and every one it has finished
// executing (runtime/metrics, Go 1.26+). A cleanup is pending from the
// sweep that queues it until its block of cleanups has executed; those two
// counters are the only way to see cleanups that are queued but not started.
const (
	metricQueued   = "/gc/cleanups/queued:cleanups"
	metricExecuted = "/gc/cleanups/executed:cleanups"
)

// runtimeQueue reads the runtime's cumulative cleanup counters. ok is false on
// toolchains that do not publish them; callers then fall back to the
// cleaner's own count of running cleanups.
func runtimeQueue() (queued, executed uint64, ok bool) {
	s := [2]metrics.Sample{{Name: metricQueued}, {Name: metricExecuted}}
	metrics.Read(s[:])
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0, 0, false
	}
	return s[0].Value.Uint64(), s[1].Value.Uint64(), true
}

// stallTimeout is how long WaitForProgress waits without seeing a single
// queued cleanup finish before it concludes that processing is stuck (a
// cleanup of some other package blocking its goroutine) and stops waiting.
const stallTimeout = 100 * time.Millisecond

// WaitPending returns when every cleanup the runtime had queued before the
// call has finished running, or with an error wrapping ctx.Err() when ctx
// ends first. It is how to wait for the cleanups a runtime.GC() queued,
// which runtime.GC does not do.
//
// A cleanup is queued when a garbage collection cycle finds its owner
// unreachable, so to collect everything unreachable now, call runtime.GC()
// first. Cleanups of all packages count, not only this package's: a
// cleanup elsewhere that never returns makes WaitPending wait for ctx.
//
// The runtime counts executed cleanups per block, and with several cleanup
// goroutines (GOMAXPROCS of 8 and more) a block queued after the call may
// finish before one queued earlier: so WaitPending also waits until none
// of this package's releases is running, which may make it wait for some
// queued after the call too. Another package's cleanup queued before the
// call may still be running when it returns.
func WaitPending(ctx context.Context) error {
	queued, _, ok := runtimeQueue()
	return waitUntil(ctx, func() bool {
		if cleanup.Running() != 0 {
			return false
		}
		if !ok {
			return true
		}
		_, executed, _ := runtimeQueue()
		return executed >= queued
	})
}

// WaitForProgress is the JVM's waitForReferenceProcessing. If no cleanup is
// queued or running it returns false at once. Otherwise it waits until the
// cleanups queued before the call have finished and returns true, so that a
// caller short of a resource knows to try again. It returns false without
// waiting further when no queued cleanup finishes for 100 ms (processing is
// stuck), and an error wrapping ctx.Err() if ctx ends first. A release of
// this package finishing counts as progress too: the runtime counts its
// cleanups as executed only once a whole block of them (up to a few dozen)
// has run. With several cleanup goroutines, "the cleanups queued before
// the call" is approximate, as in WaitPending.
func WaitForProgress(ctx context.Context) (bool, error) {
	queued, executed, ok := runtimeQueue()
	if !ok {
		if cleanup.Running() == 0 {
			return false, nil
		}
	} else if executed >= queued && cleanup.Running() == 0 {
		return false, nil
	}
	last, lastOurs := executed, cleanup.CleanedByGC()
	lastChange := time.Now()
	stalled := false
	err := waitUntil(ctx, func() bool {
		if !ok {
			return cleanup.Running() == 0
		}
		_, e, _ := runtimeQueue()
		if ours := cleanup.CleanedByGC(); e != last || ours != lastOurs {
			last, lastOurs, lastChange = e, ours, time.Now()
		} else if time.Since(lastChange) > stallTimeout {
			stalled = true
			return true
		}
		return e >= queued
	})
	if err != nil {
		return true, err
	}
	return !stalled, nil
}

// waitUntil polls done until it reports true or ctx ends. Between polls it
// blocks until one of this package's cleanups finishes or a short timer
// fires: the timer (50 µs, doubling to 5 ms) covers cleanups of other
// packages and the moment between a cleanup finishing and the runtime
// counting its block as executed.
func waitUntil(ctx context.Context, done func() bool) error {
	backoff := 50 * time.Microsecond
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cleaner: waiting for pending cleanups: %w", err)
		}
		wake := cleanup.WaitProgress()
		if done() {
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(backoff)
		} else {
			timer.Reset(backoff)
		}
		select {
		case <-wake:
		case <-timer.C:
			backoff = min(2*backoff, 5*time.Millisecond)
		case <-ctx.Done():
			return fmt.Errorf("cleaner: waiting for pending cleanups: %w", ctx.Err())
		}
	}
}
