package cleanup

import "errors"

// RunFromGC runs a release on the garbage collector's path: counted as
// running while it runs, and waking the waiters of [WaitProgress] when it is
// done. Panics and runtime.Goexit are contained as in [RunContained].
func RunFromGC(release func()) {
	stats.running.Add(1)
	stats.cleanedByGC.Add(1)
	defer func() {
		stats.running.Add(-1)
		SignalProgress()
	}()
	RunContained(release)
}

// RunContained calls f, containing a panic or runtime.Goexit, so that a bad
// release function cannot take down the caller, or the runtime's cleanup
// goroutine, silently.
func RunContained(f func()) {
	returned := false
	defer func() {
		if v := recover(); v != nil {
			stats.panics.Add(1)
			reportPanic(v)
		} else if !returned {
			// runtime.Goexit (t.FailNow, log.Fatal's cousins in test
			// helpers): it cannot be stopped, and on the GC path it ends
			// the runtime's cleanup goroutine, which can stall every
			// cleanup in the process. Say so rather than fail silently.
			stats.panics.Add(1)
			reportPanic(errGoexit)
		}
	}()
	f()
	returned = true
}

// errGoexit is what the panic handler receives for a release function that
// called runtime.Goexit. It names package cleaner, which is what users see.
var errGoexit = errors.New("cleaner: release function called runtime.Goexit; if the garbage collector ran it, the runtime's cleanup goroutine exited and other cleanups may never run")
