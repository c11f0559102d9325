package directmem

import "slices"

// PoolStats describes the buffers of one pool, as the JVM's
// java.lang.management.BufferPoolMXBean does.
type PoolStats struct {
	Name          string // "direct", or a Pool's name ("mapped" for file mappings)
	Count         int64  // live buffers (views are not counted)
	TotalCapacity int64  // sum of their capacities
	MemoryUsed    int64  // bytes they take, with rounding and alignment
}

// Stats returns the statistics of the "direct" pool: every buffer from
// Allocate, an Allocator or an Arena that has not been freed or collected.
// Buffers made by Wrap or a Pool are not counted here.
//
// The counts are kept in parts, each under a lock the allocator holds
// anyway (a heap shard's, an arena's), and a buffer is counted and
// uncounted in the same part. Stats adds the parts up one after another:
// it is exact when no allocation or release runs meanwhile, and otherwise
// never negative and never counts a buffer that was not live at some
// moment during the call.
func Stats() PoolStats {
	s := PoolStats{Name: poolDirect}
	procMemory.addPoolStats(&s)
	return s
}

// Pools returns the statistics of every pool: "direct" first, then those
// made with NewPool, in the order they were made
// (ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)).
func Pools() []PoolStats {
	poolsMu.Lock()
	ps := slices.Clone(pools)
	poolsMu.Unlock()
	out := []PoolStats{Stats()}
	for _, p := range ps {
		out = append(out, p.Stats())
	}
	return out
}
