package cleaner

import "github.com/offheap-go/offheap/internal/cleanup"

// ResetProgress wakes and disarms the progress signal, so that a stale arming
// left by an earlier, finished waiter cannot be mistaken for a live one.
// Call it only while no WaitPending or WaitForProgress call is running.
func ResetProgress() { cleanup.SignalProgress() }

// ProgressWaiting reports whether a WaitPending or WaitForProgress call
// (started after ResetProgress) has reached its wait loop: for
// WaitForProgress, that it found cleanups pending and did not return at once.
func ProgressWaiting() bool { return cleanup.ProgressWaiting() }

// CleanByGC is what the runtime calls once the owner is unreachable; tests
// call it directly to drive the losing side of the race with Clean.
func (c *Cleanable) CleanByGC() { c.cleanByGC() }

// HasRelease reports whether c still holds its release function.
func (c *Cleanable) HasRelease() bool { return c.release != nil }
