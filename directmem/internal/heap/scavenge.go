// The scavenger: idle memory goes back to the system after a collection.
// See heap.go for the overview.

package heap

import (
	"runtime"
	"time"
)

// The scavenger gives idle memory back to the system: the second step of
// the allocator's hysteresis (the first is that the heap keeps back a
// bounded number of bytes of empty slabs and of freed large mappings, and
// a shard at most one empty chunk).
//
// It runs after every garbage collection, on the runtime's cleanup
// goroutine, without a goroutine of its own: a sentinel object, dropped as
// soon as it is made, carries a cleanup that trims the heap and makes the
// next sentinel. Each collection at least minEpoch after the one that last
// did advances the heap's epoch; anything that
// has sat idle through a whole collection cycle (an empty kept or current
// slab, an empty chunk, a cached large mapping, stamped with the epoch when
// it went idle) is given back: slabs with MADV_DONTNEED, chunks and large
// mappings with munmap. Memory in steady use is never idle for a cycle, so
// a busy program keeps its caches; a burst's leftovers go within two
// collections (and the runtime collects at least every two minutes).

// gcTick is the sentinel. It holds a pointer, so that the runtime's tiny
// allocator (which batches small pointer-free objects) never delays it.
type gcTick struct{ _ *byte }

// startScavenger starts the scavenger the first time the heap holds memory
// that may go idle.
func (h *Heap) startScavenger() {
	if h.scavenging.Load() || !h.scavenging.CompareAndSwap(false, true) {
		return
	}
	h.armScavenger()
}

func (h *Heap) armScavenger() {
	runtime.AddCleanup(&gcTick{}, (*Heap).afterGC, h)
}

// minEpoch is the shortest time an epoch lasts: collections that come
// closer together (a budget pacing them on dropped buffers starts one
// every few milliseconds) count as one, so that the caches still hold what
// the next moments reuse instead of unmapping it and faulting it in again.
const minEpoch = time.Second

// afterGC is the sentinel's cleanup.
func (h *Heap) afterGC() {
	h.tick(time.Now().UnixNano())
	h.armScavenger()
}

// tick advances the epoch and trims, unless the epoch last advanced less
// than minEpoch before now (in UnixNano).
func (h *Heap) tick(now int64) {
	if now-h.lastEpoch.Load() < int64(minEpoch) {
		return
	}
	h.lastEpoch.Store(now)
	h.epoch.Add(1)
	h.trim()
}

// idleSince reports whether something stamped with epoch since has been
// idle through a whole collection cycle by epoch now.
func idleSince(since, now uint32) bool { return now-since >= 2 }

// FreeIdle gives every idle byte back to the system now, as
// debug.FreeOSMemory does for the Go heap: it ages everything idle by a
// whole collection cycle, then trims.
func (h *Heap) FreeIdle() {
	h.epoch.Add(2)
	h.trim()
}

// trim gives back what has been idle through a collection cycle.
func (h *Heap) trim() {
	now := h.epoch.Load()
	var unmap []*mapping
	for _, s := range h.shards {
		s.mu.Lock()
		for c := range s.classes {
			cs := &s.classes[c]
			for sl := cs.empty.head; sl != nil; {
				next := sl.next
				if idleSince(sl.since, now) {
					cs.empty.remove(sl)
					h.emptySlabBytes.Add(-slabSize)
					s.releaseSlab(sl, sl.since)
				}
				sl = next
			}
			if sl := cs.cur; sl != nil && sl.inuse == 0 && idleSince(sl.since, now) {
				cs.cur = nil
				s.releaseSlab(sl, sl.since)
			}
		}
		for c, l := range s.large {
			keep := l[:0]
			for _, m := range l {
				if idleSince(m.since, now) {
					unmap = append(unmap, m)
				} else {
					keep = append(keep, m)
				}
			}
			clear(l[len(keep):])
			s.large[c] = keep
		}
		for c := s.avail.head; c != nil; {
			next := c.next
			if c.freeMask == allSlabsFree && idleSince(c.emptySince, now) {
				s.unmapChunk(c)
			}
			c = next
		}
		s.mu.Unlock()
	}
	for _, m := range unmap {
		h.cachedLarge.Add(-int64(m.size()))
		m.unmap()
	}
}
