package directmem

import (
	"fmt"

	"github.com/offheap-go/offheap/pagealign"
)

// Large buffers (above maxSmallSize) each get their own anonymous mapping
// of their class's size. A freed one is kept in a cache, per class and
// shard, and handed out again after clearing: clearing touched pages costs
// less than the mmap, munmap and the page faults of fresh memory (about
// 1.2 µs a page here). The cache is bounded in bytes across all shards,
// and the scavenger unmaps what stays unused through a garbage collection,
// so a burst of large buffers does not pin memory.
//
// Buffers above maxClassSize are not cached: they are page-rounded, mapped
// and unmapped each time, and handed out as the kernel zeroed them.

// maxCachedLarge bounds the bytes of freed large mappings kept for reuse,
// all shards together.
const maxCachedLarge = 128 << 20

// largeEntry is a freed large mapping in a shard's cache.
type largeEntry struct {
	mem   []byte // the whole mapping
	since uint32 // scavenger epoch when it was freed
}

// takeLarge returns size bytes for a large buffer of class (or
// classUncached): a cached mapping, whose bytes are not zero, or a fresh
// one, which is. The cache of the caller's shard, home, is tried first,
// then those of the others, since the garbage collector's cleanup
// goroutine may have freed buffers into its own.
func (h *heap) takeLarge(home *shard, class, size int) (mem []byte, zeroed bool, err error) {
	if class >= 0 {
		if mem = home.popLarge(class); mem == nil {
			for _, s := range h.shards {
				if s != home {
					if mem = s.popLarge(class); mem != nil {
						break
					}
				}
			}
		}
		if mem != nil {
			h.cachedLarge.Add(-int64(len(mem)))
			return mem[:size], false, nil
		}
	}
	mem, err = pagealign.Map(size)
	if err != nil {
		return nil, false, fmt.Errorf("directmem: mapping %d bytes: %w", size, err)
	}
	return mem, true, nil
}

// popLarge takes the most recently freed mapping of class from the shard's
// cache, or returns nil.
func (s *shard) popLarge(class int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.large[class-numSmallClasses]
	n := len(l)
	if n == 0 {
		return nil
	}
	mem := l[n-1].mem
	l[n-1] = largeEntry{}
	s.large[class-numSmallClasses] = l[:n-1]
	return mem
}

// cacheLarge keeps a freed large mapping in s's cache and reports true, or
// reports false if it is not to be cached (uncached class, cache full):
// the caller then unmaps it, outside the lock. s.mu must be held.
func (h *heap) cacheLarge(s *shard, mem []byte, class int) bool {
	if class < 0 {
		return false
	}
	mem = mem[:cap(mem)]
	n := int64(len(mem))
	if h.cachedLarge.Add(n) > maxCachedLarge {
		h.cachedLarge.Add(-n)
		return false
	}
	s.large[class-numSmallClasses] = append(s.large[class-numSmallClasses], largeEntry{mem: mem, since: h.epoch.Load()})
	h.startScavenger()
	return true
}

func unmapLarge(mem []byte) {
	if err := pagealign.Unmap(mem); err != nil {
		// Unmap fails only for a slice that is not a region: one of our
		// own mappings, so the allocator lost track of its memory.
		panic(fmt.Sprintf("directmem: unmapping a %d-byte buffer: %v", len(mem), err))
	}
}
