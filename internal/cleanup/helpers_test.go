package cleanup_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

// These tests count and wait through package cleaner, the layer users see,
// so they also check that it sees what a Reusable does.

// patience bounds every wait of these tests. It is only a guard against a
// hung test, never a measure of speed: nothing waits for it to pass.
const patience = 30 * time.Second

// waitCtx is a context that ends after patience or with the test.
func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// collect runs garbage collections and waits for the cleanups they queue
// until done reports true, failing the test after a few rounds. One round is
// normally enough; the loop only absorbs a collection that found an owner
// still referenced from a stale stack slot.
func collect(t testing.TB, done func() bool) {
	t.Helper()
	ctx := waitCtx(t)
	for range 10 {
		if done() {
			return
		}
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			t.Fatalf("WaitPending: %v", err)
		}
	}
	if !done() {
		t.Fatal("condition still false after 10 rounds of runtime.GC + WaitPending")
	}
}

// settle waits for every cleanup queued so far, so that a test starts with
// nothing pending and counter deltas are its own.
func settle(t testing.TB) {
	t.Helper()
	runtime.GC()
	if err := cleaner.WaitPending(waitCtx(t)); err != nil {
		t.Fatalf("WaitPending: %v", err)
	}
}

// mustPanic calls f and returns what it panicked with, failing if it did not.
func mustPanic(t *testing.T, f func()) (v any) {
	t.Helper()
	defer func() { v = recover() }()
	f()
	t.Fatal("did not panic")
	return nil
}
