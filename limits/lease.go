package limits

import (
	"fmt"
	"sync"
)

// A Lease is a share of a Budget's limit taken ahead of need by one owner
// that already serialises its work under a lock of its own: a shard of an
// allocator, an arena. Reserving and unreserving through the lease happen
// under that lock and touch no shared counter, which on a small buffer is
// most of the cost of the budget (each atomic read-modify-write of the
// budget's counters costs 10-15 ns, and a reservation and its release
// make six of them).
//
// The lease takes capacity from the budget in grants (the budget's own
// total, which the limit and the high-water mark test, counts a grant from
// the moment it is taken, so the limit always holds; Stats().TotalCapacity
// counts only reservations) and
// hands it out to reservations of at most one grant; bigger ones, and any
// that find the budget too full for a grant, are the caller's to make with
// [Budget.Reserve], the JVM's path. Nothing is lost by mixing the two: a
// reservation made on the budget may be returned through a lease and the
// other way round.
//
// The budget's counters stay exact. [Budget.Stats] adds each lease's part
// under the lease's lock, and a reservation that does not fit takes the
// leases' unused credit back before it waits, so credit held by idle
// leases never makes a reservation fail that fits under the limit.
type Lease struct {
	b  *Budget
	mu sync.Locker // the owner's lock; guards everything below
	// credit is capacity counted in b.totalCapacity that no reservation
	// holds; count and reserved are what reservations through the lease
	// added to the budget's Count and Reserved, not yet in b's counters.
	// Both may be negative: a reservation made on the budget and returned
	// through the lease is subtracted here.
	credit, count, reserved int64
	grant                   int64
	closed                  bool
}

// minGrant and maxGrant bound a lease's grant, which is otherwise a
// thousandth of the limit: big enough that a lease goes to the budget once
// per few hundred small buffers, small enough that the credit idle leases
// hold is a small part of the limit (and the slow path takes it back
// anyway).
const (
	minGrant = 4 << 10
	maxGrant = 1 << 20
)

// NewLease returns a lease on b whose owner guards it with mu: every
// method but Close must be called with mu held, and Close without. The
// budget locks mu itself, briefly, when it reads its counters or takes
// unused credit back, so mu must not be held while calling into b, and
// the owner must Close the lease when it is done with it, or the budget
// keeps it (and its credit) for good.
func (b *Budget) NewLease(mu sync.Locker) *Lease {
	l := &Lease{b: b, mu: mu, grant: min(max(b.max/1024, minGrant), maxGrant)}
	if b.err != nil {
		l.grant = 0 // every reservation goes to the budget, which fails it
	}
	b.leaseMu.Lock()
	if b.leases == nil {
		b.leases = make(map[*Lease]struct{})
	}
	b.leases[l] = struct{}{}
	b.leaseMu.Unlock()
	return l
}

// Grant returns the largest capacity the lease reserves by itself.
func (l *Lease) Grant() int64 { return l.grant }

// TryReserve reserves size bytes for a buffer of the given capacity from
// the lease's credit, taking a grant from the budget if the credit is
// short, and reports whether it did. It never waits: it reports false when
// capacity exceeds the grant or the budget has no room for a grant, and
// the caller then reserves with [Budget.Reserve]. The arguments are
// checked as TryReserve's are. l's lock must be held.
func (l *Lease) TryReserve(size, capacity int64) bool {
	if capacity > l.grant || l.grant == 0 || l.closed || checkSizes(size, capacity) != nil {
		return false
	}
	if l.credit < capacity {
		if !l.b.tryTake(l.grant) {
			return false
		}
		l.credit += l.grant
	}
	l.credit -= capacity
	l.count++
	l.reserved += size
	return true
}

// Unreserve returns a reservation of size and capacity, made through any
// lease of the same budget or on the budget itself, to the lease's credit.
// Credit above two grants goes back to the budget, and so does all of it
// while a reservation is waiting for memory. It panics on sizes that no
// reservation could have had, as Budget.Unreserve does. l's lock must be
// held.
func (l *Lease) Unreserve(size, capacity int64) { l.UnreserveN(1, size, capacity) }

// UnreserveN is n calls of Unreserve at once: size and capacity are the
// sums over the n reservations returned. An arena gives back all its
// buffers this way.
func (l *Lease) UnreserveN(n, size, capacity int64) {
	if err := checkSizes(size, capacity); err != nil || n < 0 || l.closed {
		panic(fmt.Sprintf("limits: Lease.UnreserveN(%d, %d, %d): %v (closed %t)", n, size, capacity, err, l.closed))
	}
	l.credit += capacity
	l.count -= n
	l.reserved -= size
	if l.credit > 2*l.grant {
		l.b.giveBack(l.credit - l.grant)
		l.credit = l.grant
	} else if l.credit > 0 && l.b.released.sleepers.Load() > 0 {
		l.b.giveBack(l.credit)
		l.credit = 0
	}
}

// Close folds what the lease holds into the budget and forgets it. The
// owner's lock must not be held; the lease must not be used afterwards.
//
// The lease leaves the budget's set and its counts join the budget's under
// leaseMu, which Stats holds while it adds up: so Stats never sees the
// lease gone and its counts not yet folded in.
func (l *Lease) Close() {
	b := l.b
	b.leaseMu.Lock()
	l.mu.Lock()
	l.closed = true
	credit, count, reserved := l.credit, l.count, l.reserved
	l.credit, l.count, l.reserved = 0, 0, 0
	l.mu.Unlock()
	delete(b.leases, l)
	b.count.Add(count)
	b.reserved.Add(reserved)
	b.totalCapacity.Add(-credit)
	b.leaseMu.Unlock()
	if credit != 0 {
		b.released.broadcast()
	}
}

// tryTake counts n bytes of capacity for a grant if they fit under the
// limit, crossing the high-water mark as a reservation would.
func (b *Budget) tryTake(n int64) bool {
	for {
		total := b.totalCapacity.Load()
		if n > b.max-total {
			return false
		}
		if b.totalCapacity.CompareAndSwap(total, total+n) {
			if mark := b.highWater.Load(); total < mark && total+n >= mark {
				b.collectInBackground()
			}
			return true
		}
	}
}

// giveBack returns n bytes of unused credit to the limit and wakes
// reservations waiting for memory.
func (b *Budget) giveBack(n int64) {
	b.totalCapacity.Add(-n)
	b.released.broadcast()
}

// reclaim takes the unused credit of every lease back into the limit, and
// reports whether there was any: the first thing a reservation that does
// not fit does, so that credit idle leases hold never makes it wait.
func (b *Budget) reclaim() bool {
	b.leaseMu.Lock()
	defer b.leaseMu.Unlock()
	var n int64
	for l := range b.leases {
		l.mu.Lock()
		n += l.credit
		l.credit = 0
		l.mu.Unlock()
	}
	if n != 0 {
		// Room came back: reservations asleep in the slow path may fit now.
		b.giveBack(n)
	}
	return n != 0
}

// leaseCounts returns what the leases add to the budget's counters: the
// unused credit counted in TotalCapacity, and their reservations' count
// and bytes.
func (b *Budget) leaseCounts() (credit, count, reserved int64) {
	b.leaseMu.Lock()
	defer b.leaseMu.Unlock()
	return b.leaseCountsLocked()
}

// leaseCountsLocked is leaseCounts with b.leaseMu held.
func (b *Budget) leaseCountsLocked() (credit, count, reserved int64) {
	for l := range b.leases {
		l.mu.Lock()
		credit += l.credit
		count += l.count
		reserved += l.reserved
		l.mu.Unlock()
	}
	return credit, count, reserved
}
