// Package lease lets an owner that already serialises its work under a
// lock of its own (an allocator's heap shard, an arena) reserve direct
// memory under that lock, with plain arithmetic instead of the budget's
// atomic counters: a small buffer's reservation would otherwise cost more
// than the rest of its allocation (docs/BENCHMARKS.md). A [Lease] takes
// capacity from its budget in grants and hands it out to reservations of at
// most one grant; bigger ones, and any that find the budget too full for a
// grant, are the caller's to make on the budget (limits.Budget.Reserve).
//
// Accounting is strict: a lease takes back only reservations made through
// it, and refuses (panics, changing nothing) to take back more than it
// holds. The budget's counters stay exact: the budget adds each lease's
// part under the lease's lock, and takes unused credit back before a
// reservation that does not fit waits, so idle credit never makes one fail.
//
// Locks: the budget's lease-set lock ([Set.Lock]) comes before the owner's
// lock that guards a lease; the whole order, with the owners' own locks, is
// written once, in the doc of directmem's memory type (directmem/memory.go).
//
// Package limits implements the budget side and registers it with
// [Register]; this package cannot import limits, which imports it.
package lease

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/offheap-go/offheap/internal/pacing"
)

// ErrInvalid is wrapped by the error of [Open] for a missing budget or lock.
var ErrInvalid = errors.New("lease: invalid argument")

// MaxRounding is how far a reservation's size (what the memory really
// takes) may exceed its capacity (what the caller asked for): more than any
// page size or alignment. A larger difference is a caller bug, and
// rejecting it keeps the reserved-bytes counters far from overflow.
const MaxRounding = 1 << 30

// SizesOK reports whether size and capacity can be one reservation:
// 0 <= capacity <= size <= capacity+MaxRounding.
func SizesOK(size, capacity int64) bool {
	return capacity >= 0 && size >= capacity && size-capacity <= MaxRounding
}

// Budget is what a lease needs from its budget, outside its hot path.
// Package limits implements it with an unexported type.
type Budget interface {
	// Take counts n bytes of capacity against the limit as a grant, if
	// they fit, and reports whether it did.
	Take(n int64) bool
	// GiveBack returns n bytes of unused credit to the limit and wakes
	// reservations waiting for memory.
	GiveBack(n int64)
	// Fold adds a closing lease's live reservations (count, bytes and
	// capacity) to the budget's own counters and returns its unused credit
	// to the limit. It is called with the set locked.
	Fold(count, reserved, capacity, credit int64)
}

// Set is the budget's side of its leases: the live ones, whose parts of the
// counters the budget adds up, and what a new lease gets. A budget holds
// one, initialised with [Set.Init]; it must not be copied.
type Set struct {
	mu       sync.Mutex // taken before any lease's lock
	leases   map[*Lease]struct{}
	budget   Budget
	sleepers *atomic.Int32
	grant    int64
	pacer    *pacing.Pacer
}

// Init prepares s for leases on b that take grants of grant bytes (0: every
// Lease.TryReserve reports false) and count managed bytes for pacer.
// sleepers counts the reservations waiting for memory; while it is above
// zero, leases return all their unused credit at once.
func (s *Set) Init(b Budget, sleepers *atomic.Int32, grant int64, pacer *pacing.Pacer) {
	s.budget, s.sleepers, s.grant, s.pacer = b, sleepers, grant, pacer
}

// Lock locks the set: no lease opens or closes until Unlock.
func (s *Set) Lock() { s.mu.Lock() }

// Unlock unlocks the set.
func (s *Set) Unlock() { s.mu.Unlock() }

// Len returns the number of live leases. The set must be locked.
func (s *Set) Len() int { return len(s.leases) }

// SumLocked returns what the live leases hold: the count, bytes and
// capacity of their reservations, each read under the lease's lock. The set
// must be locked.
func (s *Set) SumLocked() (count, reserved, capacity int64) {
	s.eachLocked(func(l *Lease) {
		count += l.count
		reserved += l.reserved
		capacity += l.capacity
	})
	return count, reserved, capacity
}

// eachLocked calls f for every live lease with the lease's lock held. The
// set must be locked.
func (s *Set) eachLocked(f func(l *Lease)) {
	for l := range s.leases {
		l.mu.Lock()
		f(l)
		l.mu.Unlock()
	}
}

// SumManaged returns the managed bytes the live leases' owners hold (see
// [Lease.Managed]), each read under the lease's lock. It locks the set, so
// it must not be called with the set or a lease's lock held.
func (s *Set) SumManaged() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	s.eachLocked(func(l *Lease) { n += l.managed })
	return n
}

// Reclaim takes the unused credit of every lease back into the limit and
// reports whether there was any. It locks the set and each lease's lock, so
// it must not be called with either held.
func (s *Set) Reclaim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	s.eachLocked(func(l *Lease) {
		n += l.credit
		l.credit = 0
	})
	if n != 0 {
		s.budget.GiveBack(n)
	}
	return n != 0
}

// opener finds the Set of a budget; see Register.
var opener func(budget any) (*Set, error)

// Register makes f the way [Open] finds the Set of the budget it is given.
// Package limits calls it once, at init; a second call panics.
func Register(f func(budget any) (*Set, error)) {
	if opener != nil {
		panic("lease: Register called twice")
	}
	opener = f
}

// Open returns a lease on budget (a *limits.Budget) whose owner guards it
// with mu: every method but Close must be called with mu held, and Close
// without. The budget locks mu itself, briefly, to read the lease's part of
// its counters or take unused credit back, so the owner must not call into
// the budget with mu held, and must Close the lease when done with it, or
// the budget keeps it (and its credit) for good. The error wraps
// [ErrInvalid] for a nil budget or lock, or a budget of another type.
func Open(budget any, mu sync.Locker) (*Lease, error) {
	if budget == nil || mu == nil || opener == nil {
		return nil, fmt.Errorf("%w: Open(%v, %v): want a budget and a lock", ErrInvalid, budget, mu)
	}
	s, err := opener(budget)
	if err != nil {
		return nil, err
	}
	return open(s, mu), nil
}

// open adds a lease guarded by mu to s.
func open(s *Set, mu sync.Locker) *Lease {
	l := &Lease{set: s, mu: mu, sleepers: s.sleepers, grant: s.grant, pacer: s.pacer}
	s.mu.Lock()
	if s.leases == nil {
		s.leases = make(map[*Lease]struct{})
	}
	s.leases[l] = struct{}{}
	s.mu.Unlock()
	return l
}

// Lease is a share of a budget's limit held by one owner; see the package
// documentation. The budget counts a grant against its limit from the
// moment the lease takes it, so the limit always holds.
type Lease struct {
	set      *Set
	mu       sync.Locker   // the owner's lock; guards everything below
	sleepers *atomic.Int32 // the budget's waiting reservations
	grant    int64
	// credit is capacity counted against the budget's limit that no
	// reservation holds; count, reserved and capacity are what the
	// reservations made through the lease hold, never below zero.
	credit, count, reserved, capacity int64
	closed                            bool

	pacer *pacing.Pacer
	// managed is the bytes of the owner's live managed buffers, whether
	// reserved through the lease or on the budget; pending, the net managed
	// bytes allocated in the pacer's current epoch not yet added to it.
	managed, pending int64
}

// TryReserve reserves size bytes for a buffer of the given capacity from
// the lease's credit, taking a grant from the budget if the credit is
// short, and reports whether it did. It never waits. It reports false,
// reserving nothing, when capacity exceeds the grant, the budget has no
// room for a grant or has an error, the lease is closed, or the sizes are
// not one reservation ([SizesOK]) or would overflow the lease's count of
// bytes; the caller then reserves on the budget, which reports why.
// Capacity 0 always fits. The owner's lock must be held.
func (l *Lease) TryReserve(size, capacity int64) bool {
	if capacity > l.grant || l.grant == 0 || l.closed || !SizesOK(size, capacity) || size > math.MaxInt64-l.reserved {
		return false
	}
	if l.credit < capacity {
		if !l.set.budget.Take(l.grant) {
			return false
		}
		l.credit += l.grant
	}
	l.credit -= capacity
	l.count++
	l.reserved += size
	l.capacity += capacity
	return true
}

// Unreserve returns a reservation of size and capacity made through this
// lease. The owner's lock must be held. See UnreserveN for when it panics.
func (l *Lease) Unreserve(size, capacity int64) { l.UnreserveN(1, size, capacity) }

// UnreserveN returns n reservations made through this lease at once; size
// and capacity are their sums (an arena gives back all its buffers this
// way). Credit above two grants goes back to the budget, and all of it
// while a reservation is waiting for memory. The owner's lock must be held.
//
// Returning more than the lease holds (count, bytes or capacity would go
// below zero), negative or inconsistent values (bytes without a
// reservation, or all reservations but not all their bytes), or using a
// closed lease is
// a caller bug that would corrupt the budget for everyone, so UnreserveN
// panics and changes nothing.
func (l *Lease) UnreserveN(n, size, capacity int64) {
	if n < 0 || capacity < 0 || size < capacity || n > l.count || size > l.reserved || capacity > l.capacity || l.closed ||
		(n == 0 && size != 0) || (n == l.count && (size != l.reserved || capacity != l.capacity)) {
		l.refuse(n, size, capacity)
	}
	l.count -= n
	l.reserved -= size
	l.capacity -= capacity
	l.credit += capacity
	if l.credit > 2*l.grant {
		l.set.budget.GiveBack(l.credit - l.grant)
		l.credit = l.grant
	} else if l.credit > 0 && l.sleepers.Load() > 0 {
		l.set.budget.GiveBack(l.credit)
		l.credit = 0
	}
}

// refuse panics for UnreserveN, out of line to keep UnreserveN small.
func (l *Lease) refuse(n, size, capacity int64) {
	panic(fmt.Sprintf("lease: UnreserveN(%d, %d, %d) on a lease holding count %d, reserved %d, capacity %d (closed %t): "+
		"returns what the lease does not hold", n, size, capacity, l.count, l.reserved, l.capacity, l.closed))
}

// Managed counts a buffer of size bytes that the garbage collector
// releases if it is dropped (pacing), and returns the pacing epoch to hand
// back with it to [Lease.Unmanaged]. If wait is true, the owner should call
// [Lease.WaitCollection] once it has let go of its lock. It costs no atomic
// operation but one per [pacing.Batch] bytes. The owner's lock must be
// held.
func (l *Lease) Managed(size int64) (epoch uint32, wait bool) {
	l.managed += size
	l.pending += size
	if l.pending >= pacing.Batch {
		wait = l.pacer.Add(l.pending)
		l.pending = 0
	}
	return l.pacer.Epoch(), wait
}

// WaitCollection waits, if managed buffers are allocated faster than the
// collector releases them, for the collection in flight to end, or for ctx
// to end. The owner's lock must not be held.
func (l *Lease) WaitCollection(ctx context.Context) { l.pacer.Wait(ctx) }

// Unmanaged uncounts a buffer counted by [Lease.Managed] in epoch, released
// by hand or, if byGC, by the collector. A buffer freed by hand in its own
// epoch never waited for a collection and is taken off the pacer's count
// of allocated bytes; one from an earlier epoch was live when the epoch
// began and is taken off that. The owner's lock must be held.
func (l *Lease) Unmanaged(size int64, epoch uint32, byGC bool) {
	l.managed -= size
	if byGC {
		l.pacer.Collected(size, epoch)
	}
	if epoch != l.pacer.Epoch() {
		l.pacer.Gone(size)
		return
	}
	if !byGC {
		l.pending -= size
		if l.pending <= -pacing.Batch {
			l.pacer.Add(l.pending)
			l.pending = 0
		}
	}
}

// Close hands what the lease holds to the budget and forgets the lease:
// its unused credit returns to the limit, and its live reservations, if
// any, become the budget's own (returned from then on with
// limits.Budget.Unreserve). The owner's lock must not be held; the lease
// must not be used afterwards (TryReserve reports false, UnreserveN
// panics). Close is idempotent.
//
// The lease leaves the set and its counts join the budget's under the set's
// lock, which the budget holds while it adds up, so a sum never sees the
// lease gone and its counts not yet folded in.
func (l *Lease) Close() {
	s := l.set
	s.mu.Lock()
	defer s.mu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	count, reserved, capacity, credit := l.count, l.reserved, l.capacity, l.credit
	l.count, l.reserved, l.capacity, l.credit = 0, 0, 0, 0
	l.mu.Unlock()
	delete(s.leases, l)
	s.budget.Fold(count, reserved, capacity, credit)
}
