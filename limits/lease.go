package limits

import (
	"fmt"

	"github.com/offheap-go/offheap/internal/lease"
)

// The budget side of leases (package internal/lease, whose documentation
// explains them; the lock order is in directmem/memory.go).

func init() { lease.Register(leaseSet) }

// leaseSet is how lease.Open finds the lease set of a *Budget.
func leaseSet(budget any) (*lease.Set, error) {
	b, ok := budget.(*Budget)
	if !ok || b == nil {
		return nil, fmt.Errorf("%w: a lease needs a non-nil *limits.Budget, not %T(%v)", lease.ErrInvalid, budget, budget)
	}
	return &b.leases, nil
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

// leaseGrant is the grant of the leases on a budget of limit bytes.
func leaseGrant(limit int64) int64 { return min(max(limit/1024, minGrant), maxGrant) }

// leaseSide is a Budget as its leases see it: the lease.Budget interface,
// kept off the Budget's exported method set.
type leaseSide Budget

// Take counts n bytes of capacity for a grant if they fit under the limit,
// crossing the high-water mark as a reservation would.
func (s *leaseSide) Take(n int64) bool {
	b := (*Budget)(s)
	for {
		total := b.totalCapacity.Load()
		if n > b.max-total {
			return false
		}
		if b.totalCapacity.CompareAndSwap(total, total+n) {
			if mark := b.highWater.Load(); total < mark && total+n >= mark {
				b.collectInBackground(&b.backgroundGCs)
			}
			return true
		}
	}
}

// GiveBack returns n bytes of unused credit to the limit and wakes
// reservations waiting for memory.
func (s *leaseSide) GiveBack(n int64) {
	b := (*Budget)(s)
	b.totalCapacity.Add(-n)
	b.released.broadcast()
}

// Fold makes a closing lease's live reservations the budget's own and
// returns its credit; the lease set is locked, so Stats sees the counts
// either in the lease or here.
func (s *leaseSide) Fold(count, reserved, capacity, credit int64) {
	b := (*Budget)(s)
	b.count.Add(count)
	b.reserved.Add(reserved)
	b.capacity.Add(capacity)
	if credit != 0 {
		s.GiveBack(credit)
	}
}
