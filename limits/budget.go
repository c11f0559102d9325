package limits

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offheap-go/offheap/internal/lease"
	"github.com/offheap-go/offheap/internal/pacing"
)

// Budget is a limit on the total capacity of direct memory and the counters
// of what is reserved against it: the JVM's java.nio.Bits with its
// MAX_MEMORY. Create one with [NewBudget] or use the process-wide [Default].
// A Budget is safe for concurrent use and must not be copied.
type Budget struct {
	max int64
	// err, when set, is why the limit could not be determined; every
	// reservation fails with it.
	err error

	// totalCapacity is what the limit is enforced on, by compare-and-swap:
	// the capacity of the reservations made on the budget plus the grants
	// its leases hold.
	totalCapacity atomic.Int64
	// The JVM's TOTAL_CAPACITY, RESERVED_MEMORY and COUNT for the
	// reservations made on the budget itself (the leases keep their own):
	// what Unreserve may take back. They follow totalCapacity and are exact
	// only when no reservation is in progress.
	capacity atomic.Int64
	reserved atomic.Int64
	count    atomic.Int64

	// highWater is the total capacity in bytes whose crossing starts a
	// background collection; 0 disables it.
	highWater atomic.Int64

	waits, forcedGCs, backgroundGCs, pacedGCs, sleeps, failures atomic.Int64

	// pacer starts collections on the managed bytes allocated since the
	// last cycle (pacing.go).
	pacer *pacing.Pacer

	// gcDone is non-nil while a collection started by this budget runs and
	// is closed when it ends; reservations that need one join it.
	gcMu   sync.Mutex
	gcDone chan struct{}
	// gcGen counts the collections started by this budget; see forceGC.
	gcGen uint64

	// released wakes reservations sleeping in the back-off (wake.go).
	released releaseSignal

	// leases are the live leases on the budget (lease.go), whose parts of
	// the counters Stats adds.
	leases lease.Set

	hooks hooks
}

// hooks replace the runtime, the clock and the cleaner in tests (set in
// export_test.go's helpers); nil means the real one. They stay in the
// production type because the slow path must call through them, and a nil
// check there costs nothing next to a collection or a sleep.
type hooks struct {
	gc              func()
	sleep           func(context.Context, time.Duration) error
	waitForProgress func(context.Context) (bool, error)
	gcJoined        func() // called once a forced collection, or one a paced allocation waits for, has been started or joined
	gcOutwaiting    func() // called when forceGC waits out a collection that began before it
}

// DefaultHighWater is the fraction of the limit whose crossing starts a
// background garbage collection in a new Budget.
const DefaultHighWater = 0.85

// NewBudget returns a budget that lets total capacity grow to max bytes,
// inclusively, with the high-water mark at [DefaultHighWater]. A max of 0
// allows only reservations of capacity 0. NewBudget panics if max is
// negative: a limit is a quantity, and a negative one is a programming
// error rather than a condition to handle (parse untrusted input with
// [ParseSize] first).
func NewBudget(max int64) *Budget {
	if max < 0 {
		panic(fmt.Sprintf("limits.NewBudget: negative limit %d", max))
	}
	b := &Budget{max: max}
	b.highWater.Store(highWaterMark(DefaultHighWater, max))
	b.pacer = newPacer(b)
	b.leases.Init((*leaseSide)(b), &b.released.sleepers, leaseGrant(max), b.pacer)
	return b
}

// newInvalidBudget returns a budget on which every reservation fails with
// err, so that a bad configuration surfaces where memory is asked for
// instead of being replaced by a guess.
func newInvalidBudget(err error) *Budget {
	b := &Budget{err: err}
	b.pacer = newPacer(b)
	b.pacer.Set(pacing.Off)                                          // it holds no memory to pace
	b.leases.Init((*leaseSide)(b), &b.released.sleepers, 0, b.pacer) // no grants: reservations go to Reserve, which fails
	return b
}

// Max returns the limit on total capacity in bytes; 0 for a budget whose
// limit is invalid (see [Budget.Err]).
func (b *Budget) Max() int64 { return b.max }

// Err returns why the budget's limit could not be determined, wrapping
// [ErrInvalidLimit], or nil. Every reservation on a budget with an error
// fails with that error.
func (b *Budget) Err() error { return b.err }

// tryReserve is the JVM's tryReserveMemory: it reserves if capacity fits
// under the limit now and the reserved bytes cannot overflow, and reports
// whether it did. The sizes must have passed checkSizes.
func (b *Budget) tryReserve(size, capacity int64) bool {
	var total int64
	for {
		total = b.totalCapacity.Load()
		if capacity > b.max-total {
			return false
		}
		if b.totalCapacity.CompareAndSwap(total, total+capacity) {
			break
		}
	}
	for {
		r := b.reserved.Load()
		if size > math.MaxInt64-r {
			b.totalCapacity.Add(-capacity)
			return false
		}
		if b.reserved.CompareAndSwap(r, r+size) {
			break
		}
	}
	b.capacity.Add(capacity)
	b.count.Add(1)
	if mark := b.highWater.Load(); total < mark && total+capacity >= mark {
		b.collectInBackground(&b.backgroundGCs)
	}
	return true
}

// retry is the slow path's attempt to reserve: tryReserve, and if that
// fails and leases hold unused credit, once more after taking it back.
func (b *Budget) retry(size, capacity int64) bool {
	return b.tryReserve(size, capacity) || (b.leases.Reclaim() && b.tryReserve(size, capacity))
}

// Unreserve returns what a successful [Budget.Reserve] of size and capacity
// took: the JVM's Bits.unreserveMemory. Only reservations made on b
// itself come back here (and those of leases closed while they held them);
// a reservation made through a lease goes back through that lease.
// Returning more than b holds (its count, reserved bytes or capacity would
// go below zero), or sizes that no reservation could have had, is a
// programming error that would corrupt the budget for every later caller,
// so Unreserve panics and leaves the counters as they were.
func (b *Budget) Unreserve(size, capacity int64) {
	if err := checkSizes(size, capacity); err != nil {
		panic(fmt.Sprintf("limits: Unreserve: %v", err))
	}
	count := b.count.Add(-1)
	reserved := b.reserved.Add(-size)
	held := b.capacity.Add(-capacity)
	if count < 0 || reserved < 0 || held < 0 {
		b.capacity.Add(capacity)
		b.reserved.Add(size)
		b.count.Add(1)
		panic(fmt.Sprintf("limits: Unreserve(%d, %d) returns more than the budget holds (count %d, reserved %d, capacity %d)",
			size, capacity, count+1, reserved+size, held+capacity))
	}
	b.totalCapacity.Add(-capacity)
	b.released.broadcast()
}

// checkSizes rejects what no buffer can be (see [lease.SizesOK]): a
// negative capacity, a size (capacity plus rounding) smaller than the
// capacity, or one larger by more than any rounding.
func checkSizes(size, capacity int64) error {
	if !lease.SizesOK(size, capacity) {
		return fmt.Errorf("%w: size %d, capacity %d (want 0 <= capacity <= size <= capacity+%d)",
			ErrInvalidSize, size, capacity, int64(lease.MaxRounding))
	}
	return nil
}
