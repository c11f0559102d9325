package cleaner

import "github.com/offheap-go/offheap/internal/cleanup"

// Counters counts what the cleaner has done since the process started.
type Counters struct {
	Registered        int64 // calls to Register, and guardings of a buffer by directmem's own registrations
	CleanedExplicitly int64 // release functions run by Cleanable.Clean, and such buffers freed explicitly
	CleanedByGC       int64 // release functions run after the owner became unreachable
	Panics            int64 // release functions that panicked (recovered)
	Running           int64 // GC-triggered release functions running now
}

// Live is the number of registered release functions that have not run yet.
func (s Counters) Live() int64 { return s.Registered - s.CleanedExplicitly - s.CleanedByGC }

// Stats returns the current counters. Each is read atomically; the set is
// not a snapshot, so read it when the cleaner is quiescent for exact sums.
func Stats() Counters { return Counters(cleanup.Stats()) }
