// Chunks: 4 MiB anonymous mappings, each cut into 16 slabs.
// See heap.go for the overview.

package heap

import (
	"fmt"
	"math/bits"

	"github.com/offheap-go/offheap/pagealign"
)

// A chunk is one anonymous mapping of chunkSize bytes, cut into
// slabsPerChunk slabs of slabSize. Small buffers cost no mapping of their
// own: a million 64-byte buffers are 16 chunks, 16 entries of the
// process's 65,530-entry vm.max_map_count.
//
// A chunk belongs to one shard, and its fields are guarded by that shard's
// lock (shard, mem and slabs[i].chunk never change).
type chunk struct {
	region *pagealign.Region
	mem    []byte // region's memory
	shard  *Shard
	slabs  [slabsPerChunk]slab
	// freeMask has bit i set when slabs[i] is unused.
	freeMask uint16
	// dirty has bit i set when slabs[i]'s pages may hold non-zero bytes:
	// they were used since the chunk was mapped, and not given back since.
	dirty      uint16
	emptySince uint32 // scavenger epoch when the last slab came back
	prev, next *chunk // in the shard's list of chunks with unused slabs
}

const (
	slabSize      = 256 << 10
	chunkSize     = 4 << 20
	slabsPerChunk = chunkSize / slabSize
	allSlabsFree  = 1<<slabsPerChunk - 1

	// maxEmptyChunks is how many chunks without a used slab a shard keeps
	// mapped, so that a class coming and going does not map and unmap a
	// chunk each time. Their slabs' pages are given back to the system, so
	// they cost an entry of vm.max_map_count and no memory. The scavenger
	// unmaps them once they stay empty through a garbage collection.
	maxEmptyChunks = 1
)

// defaultMaxEmptySlabBytes bounds the bytes of empty slabs the heap keeps
// back from their chunks, all shards together. Keeping them spares a
// workload that frees in bursts (buffers released by the garbage
// collector) from giving pages back and faulting them in again each
// cycle; the bound and the scavenger keep a burst from pinning memory.
const defaultMaxEmptySlabBytes = 128 << 20

// chunkList is a doubly linked list of chunks.
type chunkList struct{ head, tail *chunk }

func (l *chunkList) pushFront(c *chunk) {
	c.prev, c.next = nil, l.head
	if l.head != nil {
		l.head.prev = c
	} else {
		l.tail = c
	}
	l.head = c
}

func (l *chunkList) pushBack(c *chunk) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *chunkList) remove(c *chunk) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// newSlab takes an unused slab from the shard's chunks, mapping a chunk if
// none has one, and readies it for class. Chunks with used slabs are
// preferred to empty ones (which sit at the back of the list), so that
// empty chunks stay empty and can be unmapped. s.mu must be held.
func (s *Shard) newSlab(class int) (*slab, error) {
	c := s.avail.head
	if c == nil {
		var err error
		if c, err = s.mapChunk(); err != nil {
			return nil, err
		}
	}
	if c.freeMask == allSlabsFree {
		s.emptyChunks--
	}
	i := bits.TrailingZeros16(c.freeMask)
	c.freeMask &^= 1 << i
	if c.freeMask == 0 {
		s.avail.remove(c)
	}
	fresh := c.dirty&(1<<i) == 0
	c.dirty |= 1 << i
	sl := &c.slabs[i]
	sl.init(class, fresh)
	return sl, nil
}

// mapChunk maps a new chunk and puts it at the front of the shard's list.
func (s *Shard) mapChunk() (*chunk, error) {
	region, err := pagealign.Map(chunkSize)
	if err != nil {
		return nil, fmt.Errorf("directmem: mapping a %d-byte chunk for small buffers: %w", chunkSize, err)
	}
	s.h.startScavenger()
	mem := region.Bytes()
	c := &chunk{region: region, mem: mem, shard: s, freeMask: allSlabsFree}
	for i := range c.slabs {
		sl := &c.slabs[i]
		sl.chunk, sl.pos = c, uint8(i)
		sl.mem = mem[i*slabSize : (i+1)*slabSize : (i+1)*slabSize]
	}
	s.nchunks++
	s.emptyChunks++
	s.avail.pushFront(c)
	return c, nil
}

// releaseSlab gives an empty slab's pages back to the system and the slab
// back to its chunk. A chunk left empty beyond maxEmptyChunks is unmapped.
// idle is the epoch since which the slab has been empty: a chunk it leaves
// empty counts as idle since then. s.mu must be held: the system calls
// take microseconds, but this path is taken only beyond maxEmptySlabBytes
// and by the scavenger.
func (s *Shard) releaseSlab(sl *slab, idle uint32) {
	c := sl.chunk
	bit := uint16(1) << sl.pos
	if err := pagealign.Advise(sl.mem, pagealign.AdviseDontNeed); err == nil && dontNeedZeroes {
		c.dirty &^= bit
	}
	sl.where = slabUnused
	sl.free = nil // its Go memory is not needed while unused
	wasFull := c.freeMask == 0
	c.freeMask |= bit
	if wasFull {
		s.avail.pushFront(c)
	}
	if c.freeMask != allSlabsFree {
		return
	}
	s.emptyChunks++
	c.emptySince = idle
	if s.emptyChunks > maxEmptyChunks {
		s.unmapChunk(c)
		return
	}
	s.avail.remove(c)
	s.avail.pushBack(c)
}

// unmapChunk unmaps an empty chunk. s.mu must be held.
func (s *Shard) unmapChunk(c *chunk) {
	s.avail.remove(c)
	s.emptyChunks--
	s.nchunks--
	if err := c.region.Unmap(); err != nil {
		// munmap fails only for a range that is not mapped: the chunk's
		// own mapping, so the heap lost track of its memory.
		panic(fmt.Sprintf("heap: unmapping a chunk: %v", err))
	}
	c.mem = nil
}
