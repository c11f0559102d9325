package cleaner_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

// WaitPending compares the runtime's executed count with the queued count
// read at the call. With more than one cleanup goroutine (GOMAXPROCS >= 8),
// a cleanup queued after the call can finish first and make executed reach
// that count while one of this package's, queued before the call, is still
// running: WaitPending must keep waiting for it.
//
// It runs in a child process, because the second cleanup goroutine, once
// created, outlives the GOMAXPROCS change and would break the
// single-goroutine assumption (singleCleanupGoroutine) of other tests.
func TestWaitPendingWaitsForEarlierCleanup(t *testing.T) {
	if os.Getenv("CLEANER_WAITPENDING_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWaitPendingWaitsForEarlierCleanup$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "CLEANER_WAITPENDING_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child failed: %v\n%s", err, out)
		}
		if bytes.Contains(out, []byte("--- SKIP")) {
			t.Skipf("the child skipped:\n%s", out)
		}
		t.Logf("child:\n%s", out)
		return
	}
	runtime.GOMAXPROCS(8) // max(8/4, 1) = 2 cleanup goroutines
	settle(t)
	b := blockCleanupGoroutine(t) // queued before the call, still running

	cleaner.ResetProgress()
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(waitCtx(t))
	defer cancel()
	go func() { errc <- cleaner.WaitPending(ctx) }()
	for !cleaner.ProgressWaiting() {
		runtime.Gosched()
	}

	// Queued after WaitPending read its target; it runs on the second
	// cleanup goroutine while the first is still blocked.
	later := make(chan struct{})
	registerDropped(func() { close(later) })
	runtime.GC()
	// The runtime creates an extra cleanup goroutine only inside a later
	// runtime.AddCleanup, once the scheduler has seen the queued work.
	bound := time.After(2 * time.Second) // bound only
wait:
	for {
		c := cleaner.Register(&owner{name: "spawn"}, func() {})
		c.Clean()
		select {
		case <-later:
			break wait
		case <-bound:
			break wait
		default:
			runtime.Gosched()
		}
	}
	select {
	case <-later:
	default:
		t.Skip("the later cleanup did not run in parallel (one cleanup goroutine)")
	}

	select {
	case err := <-errc:
		select {
		case <-b.done:
		default:
			t.Errorf("WaitPending returned %v while a cleanup queued before the call was still running", err)
		}
	// Bound only: the correct behaviour is to keep waiting, and a wrong
	// return comes as soon as the later cleanup's progress wakes the waiter.
	case <-time.After(200 * time.Millisecond):
		cancel()
		<-errc
	}
	b.unblock()
}

// WaitForProgress declares processing stuck when nothing has moved for
// 100 ms. The runtime's executed counter moves once per block of cleanups
// (up to ~20), so this package's releases finishing must count too, or a
// block of releases that each finish well within 100 ms is reported as a
// stall while they are finishing.
func TestWaitForProgressSeesReleasesFinish(t *testing.T) {
	settle(t)
	const n = 12
	var finished atomic.Int64
	for range n {
		registerDropped(func() {
			time.Sleep(20 * time.Millisecond) // workload: a slow release, not synchronisation
			finished.Add(1)
		})
	}
	runtime.GC()
	progressed, err := cleaner.WaitForProgress(waitCtx(t))
	got := finished.Load()
	if err := cleaner.WaitPending(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !progressed && got > 0 {
		t.Errorf("WaitForProgress = false (stalled) while %d of this package's releases had finished, one every 20 ms", got)
	}
}
