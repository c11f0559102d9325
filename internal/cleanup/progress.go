package cleanup

import (
	"sync"
	"sync/atomic"
)

// progress lets waiters block until some release run by RunFromGC finishes.
// A release pays for the broadcast only while someone waits.
var progress struct {
	armed atomic.Bool
	mu    sync.Mutex
	ch    chan struct{}
}

// WaitProgress returns a channel closed when the next release run by
// [RunFromGC] finishes (or at the next [SignalProgress]).
func WaitProgress() <-chan struct{} {
	progress.mu.Lock()
	defer progress.mu.Unlock()
	if progress.ch == nil {
		progress.ch = make(chan struct{})
		progress.armed.Store(true)
	}
	return progress.ch
}

// SignalProgress wakes every waiter of [WaitProgress]. RunFromGC calls it;
// package cleaner's tests call it to clear a stale arming.
func SignalProgress() {
	if !progress.armed.Load() {
		return
	}
	progress.mu.Lock()
	if progress.ch != nil {
		close(progress.ch)
		progress.ch = nil
		progress.armed.Store(false)
	}
	progress.mu.Unlock()
}

// ProgressWaiting reports whether WaitProgress has been called since the
// last signal: package cleaner's tests use it to see a waiter reach its wait.
func ProgressWaiting() bool { return progress.armed.Load() }
