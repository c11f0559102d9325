// Large buffers: one mapping each, cached when freed.
// See heap.go for the overview.

package heap

import (
	"fmt"

	"github.com/offheap-go/offheap/pagealign"
)

// Large buffers (above MaxSmallSize) each get their own anonymous mapping
// of their class's size. A freed one is kept in its home shard's cache and
// handed out again after clearing: clearing touched pages costs less than
// the mmap, munmap and the page faults of fresh memory. The cache is
// bounded in bytes across all shards, and the scavenger unmaps what stays
// unused through a garbage collection, so a burst of large buffers does
// not pin memory.
//
// Buffers above maxClassSize are not cached: they are page-rounded, mapped
// and unmapped each time, and handed out as the kernel zeroed them.

// maxCachedLarge bounds the bytes of freed large mappings kept for reuse,
// all shards together.
const maxCachedLarge = 128 << 20

// mapping is the own mapping of a large buffer.
type mapping struct {
	region *pagealign.Region
	mem    []byte // region's memory: the class's size
	home   *Shard // where it was last handed out from, and goes back to
	class  Class  // a large class, or Uncached
	since  uint32 // scavenger epoch when it was cached
}

func (m *mapping) size() int { return cap(m.mem) }

// TakeLarge returns size bytes for a buffer of large class c (or
// Uncached), handed out from s: a cached mapping, whose bytes are not
// zero, or a fresh one, which is. s's cache is tried first, then the
// others', since buffers go back to the shard they came from. s must not
// be locked.
func (h *Heap) TakeLarge(s *Shard, c Class, size int) (mem []byte, b Block, zeroed bool, err error) {
	var m *mapping
	if c >= 0 {
		if m = s.popLarge(c); m == nil {
			for _, o := range h.shards {
				if o != s {
					if m = o.popLarge(c); m != nil {
						break
					}
				}
			}
		}
		if m != nil {
			h.cachedLarge.Add(-int64(m.size()))
		}
	}
	if m == nil {
		region, err := pagealign.Map(size)
		if err != nil {
			return nil, Block{}, false, fmt.Errorf("directmem: mapping %d bytes: %w", size, err)
		}
		m, zeroed = &mapping{region: region, mem: region.Bytes(), class: c}, true
	}
	m.home = s
	return m.mem[:size], Block{large: m}, zeroed, nil
}

// popLarge takes the most recently freed mapping of class c from the
// shard's cache, or returns nil.
func (s *Shard) popLarge(c Class) *mapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.large[c-numSmallClasses]
	n := len(l)
	if n == 0 {
		return nil
	}
	m := l[n-1]
	l[n-1] = nil
	s.large[c-numSmallClasses] = l[:n-1]
	return m
}

// Put takes back a block, whose shard (Block.Shard) s is, and reports
// whether it kept its memory: a slot always goes back to its slab
// (putSmall); a large mapping goes into s's cache unless it is of no
// class or the cache is full, and then the caller must give the block to
// Heap.Unmap once s is unlocked, since the system call takes
// microseconds. The zero Block is kept: there is nothing to give back.
// s must be locked.
func (s *Shard) Put(b Block) bool {
	if b.slab != nil {
		s.putSmall(b)
		return true
	}
	if b.large == nil {
		return true
	}
	return s.putLarge(b)
}

// putLarge is Put of a large block.
func (s *Shard) putLarge(b Block) bool {
	m := b.large
	if m.class < 0 {
		return false
	}
	n := int64(m.size())
	if s.h.cachedLarge.Add(n) > maxCachedLarge {
		s.h.cachedLarge.Add(-n)
		return false
	}
	m.since = s.h.epoch.Load()
	s.large[m.class-numSmallClasses] = append(s.large[m.class-numSmallClasses], m)
	s.h.startScavenger()
	return true
}

// Unmap unmaps a large block that Put did not keep.
func (h *Heap) Unmap(b Block) { b.large.unmap() }

func (m *mapping) unmap() {
	if err := m.region.Unmap(); err != nil {
		// munmap fails only for a range that is not mapped: one of our own
		// mappings, so the heap lost track of its memory.
		panic(fmt.Sprintf("heap: unmapping a %d-byte buffer: %v", m.size(), err))
	}
	m.mem = nil
}
