package directmem

import (
	"slices"
	"sync"
)

// PoolStats describes the buffers of one pool, as the JVM's
// java.lang.management.BufferPoolMXBean does.
type PoolStats struct {
	Name          string // "direct", or "mapped" for file mappings
	Count         int64  // live buffers (views are not counted)
	TotalCapacity int64  // sum of their capacities
	MemoryUsed    int64  // bytes they take, with rounding and alignment
}

// Stats returns the statistics of the "direct" pool: every buffer from
// Allocate, an Allocator or an Arena that has not been freed or collected.
// Buffers made by Wrap are not counted; their memory is not ours.
//
// The counts are kept where the allocator already holds a lock: per heap
// shard for Allocators' buffers, per arena for arenas' (heap.go). Stats
// adds them up under those locks, so it is exact whenever no allocation or
// release is in progress, and costs a lock per shard and live arena.
func Stats() PoolStats {
	s := PoolStats{Name: "direct"}
	theHeap.addPoolStats(&s)
	return s
}

var (
	poolsMu sync.Mutex
	pools   []func() PoolStats
)

// RegisterPool adds a pool to the list Pools returns. Package mapped
// registers the "mapped" pool this way, so that Pools lists every kind of
// buffer without directmem depending on it. stats must be cheap and safe
// for concurrent use.
func RegisterPool(stats func() PoolStats) {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	pools = append(pools, stats)
}

// Pools returns the statistics of every pool: "direct" first, then those
// added with RegisterPool (ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)).
func Pools() []PoolStats {
	poolsMu.Lock()
	fns := slices.Clone(pools)
	poolsMu.Unlock()
	out := []PoolStats{Stats()}
	for _, f := range fns {
		out = append(out, f())
	}
	return out
}
