package limits

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
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

	// The JVM's TOTAL_CAPACITY, RESERVED_MEMORY and COUNT. The limit is
	// enforced on totalCapacity alone, by compare-and-swap; the other two
	// follow it and are exact only when no reservation is in progress.
	totalCapacity atomic.Int64
	reserved      atomic.Int64
	count         atomic.Int64

	// highWater is the total capacity in bytes whose crossing starts a
	// background collection; 0 disables it.
	highWater atomic.Int64

	waits, forcedGCs, backgroundGCs, sleeps, failures atomic.Int64

	// gcDone is non-nil while a collection started by this budget runs and
	// is closed when it ends; reservations that need one join it.
	gcMu   sync.Mutex
	gcDone chan struct{}
	// gcGen counts the collections started by this budget; see forceGC.
	gcGen uint64

	// released wakes reservations sleeping in the back-off (wake.go).
	released releaseSignal

	// leases are the live Leases on the budget (lease.go), whose parts of
	// the counters Stats adds. leaseMu is taken before any lease's lock.
	leaseMu sync.Mutex
	leases  map[*Lease]struct{}

	hooks hooks
}

// hooks replace the runtime, the clock and the cleaner in tests; nil means
// the real one.
type hooks struct {
	gc              func()
	sleep           func(context.Context, time.Duration) error
	waitForProgress func(context.Context) (bool, error)
	gcJoined        func() // called once a forced collection has been started or joined
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
	return b
}

// newInvalidBudget returns a budget on which every reservation fails with
// err, so that a bad configuration surfaces where memory is asked for
// instead of being replaced by a guess.
func newInvalidBudget(err error) *Budget { return &Budget{err: err} }

// Max returns the limit on total capacity in bytes; 0 for a budget whose
// limit is invalid (see [Budget.Err]).
func (b *Budget) Max() int64 { return b.max }

// Err returns why the budget's limit could not be determined, wrapping
// [ErrInvalidLimit], or nil. Every reservation on a budget with an error
// fails with that error.
func (b *Budget) Err() error { return b.err }

// TryReserve reserves size bytes of memory for a buffer of the given
// capacity if the capacity fits under the limit now, without waiting, and
// reports whether it did. size is what the buffer really takes (capacity plus
// any rounding or alignment) and must be at least capacity; the limit
// applies to capacity. Capacity 0 always fits. Unused credit held by
// Leases is taken back if that makes it fit, so the caller must not hold
// the lock of a lease of b. TryReserve reports false, reserving nothing,
// for a negative size or capacity, a size smaller than the capacity, or a
// budget with an error.
func (b *Budget) TryReserve(size, capacity int64) bool {
	if b.err != nil || checkSizes(size, capacity) != nil {
		return false
	}
	return b.retry(size, capacity)
}

// tryReserve is the JVM's tryReserveMemory.
func (b *Budget) tryReserve(size, capacity int64) bool {
	for {
		total := b.totalCapacity.Load()
		if capacity > b.max-total {
			return false
		}
		if b.totalCapacity.CompareAndSwap(total, total+capacity) {
			b.reserved.Add(size)
			b.count.Add(1)
			if mark := b.highWater.Load(); total < mark && total+capacity >= mark {
				b.collectInBackground()
			}
			return true
		}
	}
}

// retry is the slow path's attempt to reserve: tryReserve, and if that
// fails and leases hold unused credit, once more after taking it back.
func (b *Budget) retry(size, capacity int64) bool {
	return b.tryReserve(size, capacity) || (b.reclaim() && b.tryReserve(size, capacity))
}

// Reserve reserves size bytes of memory for a buffer of the given capacity,
// waiting for memory to come back if it does not fit: the JVM's
// Bits.reserveMemory. See the package documentation for the retry loop.
//
// The error is an [*OutOfMemoryError] (errors.Is [ErrOutOfDirectMemory]) if
// the reservation still does not fit after the loop; it wraps ctx.Err() if
// ctx ends while Reserve waits; it wraps [ErrInvalidSize] for the arguments
// [Budget.TryReserve] rejects; and it is [Budget.Err] for a budget with an
// error. Nothing is reserved when Reserve returns an error. ctx is consulted
// only once the reservation has to wait, so a reservation that fits succeeds
// even with a context that is already done.
func (b *Budget) Reserve(ctx context.Context, size, capacity int64) error {
	if b.err != nil {
		return b.err
	}
	if err := checkSizes(size, capacity); err != nil {
		return err
	}
	if b.tryReserve(size, capacity) {
		return nil
	}
	return b.reserveSlow(ctx, size, capacity)
}

// Unreserve returns what a successful reservation of size and capacity took:
// the JVM's Bits.unreserveMemory. The reservation may have been made on b
// or through any Lease of b; the caller must not hold the lock of a lease
// of b. Returning more than is reserved, or sizes that no reservation
// could have had, is a programming error that would corrupt the budget for
// every later caller, so Unreserve panics; the counters are left as they
// were.
func (b *Budget) Unreserve(size, capacity int64) {
	if err := checkSizes(size, capacity); err != nil {
		panic(fmt.Sprintf("limits: Unreserve: %v", err))
	}
	count := b.count.Add(-1)
	reserved := b.reserved.Add(-size)
	total := b.totalCapacity.Add(-capacity)
	if count < 0 || reserved < 0 || total < 0 {
		// Reservations made through leases are in the leases' counts until
		// they close, so b's own count and bytes may go below zero when
		// one is returned here; only the sums must not.
		_, leaseCount, leaseReserved := b.leaseCounts()
		if total < 0 || count+leaseCount < 0 || reserved+leaseReserved < 0 {
			b.totalCapacity.Add(capacity)
			b.reserved.Add(size)
			b.count.Add(1)
			panic(fmt.Sprintf("limits: Unreserve(%d, %d) releases more than is reserved (count %d, reserved %d, total capacity %d)",
				size, capacity, count+1+leaseCount, reserved+size+leaseReserved, total+capacity))
		}
	}
	b.released.broadcast()
}

// checkSizes rejects what no buffer can be: a negative capacity, or a size
// (capacity plus rounding) smaller than the capacity.
func checkSizes(size, capacity int64) error {
	if capacity < 0 || size < capacity {
		return fmt.Errorf("%w: size %d, capacity %d (want 0 <= capacity <= size)", ErrInvalidSize, size, capacity)
	}
	return nil
}
