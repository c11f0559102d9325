package limits

import (
	"context"
	"time"
)

// Test-only helpers on the package's internals.

// tryReserveNow reserves if the reservation fits now, taking idle lease
// credit back if that makes it fit, and reports whether it did: Reserve
// without waiting, for tests that fill or probe a budget.
func (b *Budget) tryReserveNow(size, capacity int64) bool {
	if b.err != nil || checkSizes(size, capacity) != nil {
		return false
	}
	return b.retry(size, capacity)
}

// sleepContext sleeps for d or until ctx ends, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitCollections returns once no collection started by b is running, for
// the tests of package limits_test.
func WaitCollections(b *Budget) { waitCollections(b) }
