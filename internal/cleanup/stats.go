package cleanup

import "sync/atomic"

// Counters is what cleaner.Stats reports; package cleaner converts it to
// its own cleaner.Counters, which has the same fields.
type Counters struct {
	Registered        int64 // registrations, and armings of a Reusable
	CleanedExplicitly int64 // explicit releases, and Reusable disarms
	CleanedByGC       int64 // release functions run after the owner became unreachable
	Panics            int64 // release functions that panicked (recovered)
	Running           int64 // GC-triggered release functions running now
}

var stats struct {
	registered        atomic.Int64
	cleanedExplicitly atomic.Int64
	cleanedByGC       atomic.Int64
	panics            atomic.Int64
	running           atomic.Int64
}

// Stats returns the current counters, each read atomically (not a snapshot).
func Stats() Counters {
	return Counters{
		Registered:        stats.registered.Load(),
		CleanedExplicitly: stats.cleanedExplicitly.Load(),
		CleanedByGC:       stats.cleanedByGC.Load(),
		Panics:            stats.panics.Load(),
		Running:           stats.running.Load(),
	}
}

// CountRegistered counts one registration (cleaner.Register).
func CountRegistered() { stats.registered.Add(1) }

// CountCleanedExplicitly counts one release by the owner's code
// (cleaner.Cleanable.Clean), as opposed to one by the garbage collector.
func CountCleanedExplicitly() { stats.cleanedExplicitly.Add(1) }

// Running is the number of releases that RunFromGC is running now.
func Running() int64 { return stats.running.Load() }

// CleanedByGC is the number of releases RunFromGC has started so far.
func CleanedByGC() int64 { return stats.cleanedByGC.Load() }
