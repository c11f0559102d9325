package limits

// Stats is a budget's counters: the JVM's Bits counters (which
// BufferPoolMXBean "direct" reports) and what its retry loop did.
type Stats struct {
	Count         int64 // reservations held
	TotalCapacity int64 // sum of their capacities; what the limit applies to
	Reserved      int64 // sum of their sizes, including rounding
	Max           int64 // the limit on TotalCapacity
	HighWater     int64 // total capacity whose crossing starts a background collection; 0 if off

	Waits         int64 // reservations that did not fit at once and entered the retry loop
	ForcedGCs     int64 // collections the retry loop started (joined ones are not counted)
	BackgroundGCs int64 // collections started by crossing the high-water mark
	PacedGCs      int64 // collections started by pacing (Budget.SetGCPercent)

	PaceGoal      int64 // managed bytes whose allocation since the last GC cycle starts a paced collection; 0 if off
	PaceAllocated int64 // managed bytes allocated since the last GC cycle, less those freed by hand, as counted so far
	Sleeps        int64 // back-off sleeps completed
	Failures      int64 // reservations that failed with ErrOutOfDirectMemory
}

// Stats returns the budget's counters, its reservations and those made
// through its leases. They are exact whenever no reservation is in
// progress; while some are, Count, TotalCapacity and Reserved may disagree
// by the reservations under way. Stats locks each lease's owner's lock
// briefly, so it must not be called with one held.
func (b *Budget) Stats() Stats {
	// The budget's own counters are read under the lease set's lock too: a
	// lease's Close moves its counts to the budget under it, and must not
	// land between the two reads.
	b.leases.Lock()
	count, reserved, capacity := b.leases.SumLocked()
	count += b.count.Load()
	reserved += b.reserved.Load()
	capacity += b.capacity.Load()
	b.leases.Unlock()
	return Stats{
		Count:         count,
		TotalCapacity: capacity,
		Reserved:      reserved,
		Max:           b.max,
		HighWater:     b.highWater.Load(),
		Waits:         b.waits.Load(),
		ForcedGCs:     b.forcedGCs.Load(),
		BackgroundGCs: b.backgroundGCs.Load(),
		PacedGCs:      b.pacedGCs.Load(),
		PaceGoal:      b.pacer.Goal(),
		PaceAllocated: b.pacer.Allocated(),
		Sleeps:        b.sleeps.Load(),
		Failures:      b.failures.Load(),
	}
}
