package cleaner_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

func TestWaitPendingIdle(t *testing.T) {
	settle(t)
	// Nothing is pending: it returns nil, long before the deadline (the
	// deadline only guards against a hang).
	for range 3 {
		if err := cleaner.WaitPending(waitCtx(t)); err != nil {
			t.Fatalf("WaitPending with nothing pending: %v", err)
		}
	}
	// A context without a deadline is fine too.
	if err := cleaner.WaitPending(context.Background()); err != nil {
		t.Fatalf("WaitPending(Background): %v", err)
	}
}

func TestWaitPendingCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := cleaner.WaitPending(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitPending(cancelled) = %v, want context.Canceled", err)
	}
	if !strings.HasPrefix(err.Error(), "cleaner: ") {
		t.Errorf("error %q does not say where it comes from", err)
	}
}

func TestWaitPendingWaitsForQueued(t *testing.T) {
	settle(t)
	b := blockCleanupGoroutine(t)

	// Queue a second cleanup. With a single cleanup goroutine it cannot
	// start before the blocked one returns.
	var finished atomic.Bool
	registerDropped(func() { finished.Store(true) })
	runtime.GC()

	// Unblock only once WaitPending is waiting, so it has seen both pending.
	cleaner.ResetProgress()
	go func() {
		for !cleaner.ProgressWaiting() {
			runtime.Gosched()
		}
		b.unblock()
	}()
	if err := cleaner.WaitPending(waitCtx(t)); err != nil {
		t.Fatalf("WaitPending: %v", err)
	}
	select {
	case <-b.done:
	default:
		t.Fatal("WaitPending returned while the blocked release was still running")
	}
	if !finished.Load() {
		t.Fatal("WaitPending returned before the cleanup queued behind the blocked one ran")
	}
}

func TestWaitPendingDeadline(t *testing.T) {
	settle(t)
	b := blockCleanupGoroutine(t)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := cleaner.WaitPending(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitPending with a release blocked = %v, want context.DeadlineExceeded", err)
	}

	// Cancellation while waiting (not only before) is honoured too.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	cleaner.ResetProgress()
	go func() {
		for !cleaner.ProgressWaiting() {
			runtime.Gosched()
		}
		cancel()
	}()
	if err := cleaner.WaitPending(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitPending cancelled while waiting = %v, want context.Canceled", err)
	}

	b.unblock()
	if err := cleaner.WaitPending(waitCtx(t)); err != nil {
		t.Fatalf("WaitPending after unblocking: %v", err)
	}
	select {
	case <-b.done:
	default:
		t.Fatal("WaitPending returned nil before the release finished")
	}
}

func TestWaitForProgressIdle(t *testing.T) {
	// Other packages' cleanups could be queued between settling and the
	// call; try a few times rather than fail on one.
	for range 5 {
		settle(t)
		progressed, err := cleaner.WaitForProgress(waitCtx(t))
		if err != nil {
			t.Fatalf("WaitForProgress: %v", err)
		}
		if !progressed {
			return
		}
	}
	t.Fatal("WaitForProgress() = true every time with nothing pending")
}

func TestWaitForProgressIdleCancelled(t *testing.T) {
	// Idle wins over a cancelled context: there is nothing to wait for.
	settle(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 5 {
		progressed, err := cleaner.WaitForProgress(ctx)
		if !progressed && err == nil {
			return
		}
		settle(t)
	}
	t.Fatal("WaitForProgress(cancelled) did not report idle with nothing pending")
}

func TestWaitForProgressUnblocked(t *testing.T) {
	settle(t)
	b := blockCleanupGoroutine(t)

	// Another goroutine unblocks the release once WaitForProgress has
	// found it pending and started waiting.
	cleaner.ResetProgress()
	go func() {
		for !cleaner.ProgressWaiting() {
			runtime.Gosched()
		}
		b.unblock()
	}()
	progressed, err := cleaner.WaitForProgress(waitCtx(t))
	if err != nil {
		t.Fatalf("WaitForProgress: %v", err)
	}
	if !progressed {
		t.Fatal("WaitForProgress() = false, want true: the blocked cleanup finished")
	}
	select {
	case <-b.done:
	default:
		t.Fatal("WaitForProgress returned true before the release finished")
	}
}

func TestWaitForProgressStalled(t *testing.T) {
	settle(t)
	b := blockCleanupGoroutine(t)

	// The release stays blocked: after 100 ms without progress,
	// WaitForProgress gives up and reports false, well before ctx ends.
	progressed, err := cleaner.WaitForProgress(waitCtx(t))
	if err != nil {
		t.Fatalf("WaitForProgress: %v", err)
	}
	if progressed {
		t.Fatal("WaitForProgress() = true while the only pending cleanup is blocked")
	}
	select {
	case <-b.done:
		t.Fatal("the release finished although it was never unblocked")
	default:
	}
	b.unblock()
	if err := cleaner.WaitPending(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestWaitForProgressCancelled(t *testing.T) {
	settle(t)
	b := blockCleanupGoroutine(t)
	defer b.unblock()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := cleaner.WaitForProgress(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForProgress(cancelled) with a cleanup pending = %v, want context.Canceled", err)
	}
}
