package cleanup

import (
	"runtime"
	"sync/atomic"

	"github.com/offheap-go/offheap/internal/stripe"
)

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
	cleanedByGC atomic.Int64
	panics      atomic.Int64
	running     atomic.Int64
}

// hot are the counters every buffer of directmem writes twice (a Reusable
// armed and disarmed), in stripes (stripe.Hint) so that goroutines
// allocating and freeing at once do not all write one cache line.
var (
	hot     = make([]hotStripe, stripe.Count(runtime.GOMAXPROCS(0)))
	hotMask = uint32(len(hot) - 1)
)

type hotStripe struct {
	registered        atomic.Int64
	cleanedExplicitly atomic.Int64
	_                 [stripe.Pad]byte
}

func hotStripeOf() *hotStripe { return &hot[stripe.Hint()&hotMask] }

// Stats returns the current counters. Each is read atomically; the set is
// not a snapshot. Releases are read before registrations (each follows its
// registration), so that Live is never negative.
func Stats() Counters {
	var c Counters
	c.CleanedByGC = stats.cleanedByGC.Load()
	for i := range hot {
		c.CleanedExplicitly += hot[i].cleanedExplicitly.Load()
	}
	for i := range hot {
		c.Registered += hot[i].registered.Load()
	}
	c.Panics = stats.panics.Load()
	c.Running = stats.running.Load()
	return c
}

// CountRegistered counts one registration (cleaner.Register).
func CountRegistered() { hotStripeOf().registered.Add(1) }

// CountCleanedExplicitly counts one release by the owner's code
// (cleaner.Cleanable.Clean), as opposed to one by the garbage collector.
func CountCleanedExplicitly() { hotStripeOf().cleanedExplicitly.Add(1) }

// Running is the number of releases that RunFromGC is running now.
func Running() int64 { return stats.running.Load() }

// CleanedByGC is the number of releases RunFromGC has started so far.
func CleanedByGC() int64 { return stats.cleanedByGC.Load() }
