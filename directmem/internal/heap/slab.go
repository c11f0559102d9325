// Slabs: 256 KiB of a chunk cut into equal slots of one small class.
// See heap.go for the overview.

package heap

// A slab is slabSize bytes of a chunk cut into equal slots of one small
// class. Slots never move and are never split: a slab serves its class
// until every slot is free again, then goes back to its chunk.
//
// All fields are guarded by the lock of the slab's shard, except chunk,
// which never changes once the chunk is mapped.
type slab struct {
	mem   []byte // the slab's bytes inside its chunk
	chunk *chunk
	pos   uint8 // index in chunk.slabs
	where uint8 // slabUnused, slabCurrent, ...: which list of its class holds it
	class uint8
	// fresh says that the slots at and above bump have not been written
	// since the pages were mapped or given back with MADV_DONTNEED, so they
	// are zero and need no clearing.
	fresh  bool
	size   uint32 // slot size: classSizes[class]
	nslots uint32
	// bump is the first slot never handed out since init or reset; slots
	// from bump up are taken in order before the free list is needed.
	bump  uint32
	inuse uint32
	since uint32 // scavenger epoch when it last became empty
	// free holds the indexes of freed slots, last freed on top, so that a
	// hot slot (still in cache) is handed out again first. It lives in the
	// Go heap, not in the slots: a write through a stale Bytes() slice can
	// then spoil data, but not the allocator.
	free       []uint32
	prev, next *slab // in its class's partial list
}

// Where a slab is, for its class.
const (
	slabUnused  uint8 = iota // free in its chunk
	slabCurrent              // the class allocates from it
	slabPartial              // has free slots; in the partial list
	slabFull                 // every slot handed out; in no list
	slabEmpty                // every slot free; kept for reuse in the class's empty list
)

// init readies the slab for class, its memory zero if fresh.
func (sl *slab) init(class int, fresh bool) {
	sl.class = uint8(class)
	sl.size = uint32(classSizes[class])
	sl.nslots = slabSize / sl.size
	sl.bump, sl.inuse = 0, 0
	sl.fresh = fresh
	sl.free = sl.free[:0]
}

// reset empties a slab whose slots are all free, keeping its class. Its
// memory has been used, so nothing in it is known to be zero.
func (sl *slab) reset() {
	sl.bump = 0
	sl.free = sl.free[:0]
	sl.fresh = false
}

func (sl *slab) full() bool { return sl.inuse == sl.nslots }

// take hands out a slot, which must exist, and reports whether its bytes
// are known to be zero.
func (sl *slab) take() (idx uint32, zeroed bool) {
	sl.inuse++
	if n := len(sl.free); n > 0 {
		idx = sl.free[n-1]
		sl.free = sl.free[:n-1]
		return idx, false
	}
	idx = sl.bump
	sl.bump++
	return idx, sl.fresh
}

// put takes back slot idx.
func (sl *slab) put(idx uint32) {
	if sl.inuse == 0 || idx >= sl.bump {
		// The owner's state makes every release run once; a slot coming
		// back twice means the allocator's own bookkeeping is broken.
		panic("heap: slot freed twice or never handed out")
	}
	sl.inuse--
	sl.free = append(sl.free, idx)
}

// slot returns the memory of slot idx, with capacity limited to the slot.
func (sl *slab) slot(idx uint32) []byte {
	off := int(idx) * int(sl.size)
	end := off + int(sl.size)
	return sl.mem[off:end:end]
}

// slabList is a doubly linked list of slabs (a class's partial slabs).
type slabList struct{ head *slab }

func (l *slabList) push(sl *slab) {
	sl.prev, sl.next = nil, l.head
	if l.head != nil {
		l.head.prev = sl
	}
	l.head = sl
}

func (l *slabList) remove(sl *slab) {
	if sl.prev != nil {
		sl.prev.next = sl.next
	} else {
		l.head = sl.next
	}
	if sl.next != nil {
		sl.next.prev = sl.prev
	}
	sl.prev, sl.next = nil, nil
}

// classState is what a shard knows of one small class.
type classState struct {
	cur     *slab    // where slots come from; nil until the first one
	partial slabList // other slabs with free slots
	// empty holds slabs whose slots are all free, kept back from their
	// chunks (dirty, ready to reuse) within the heap's bound, the most
	// recently emptied first; the scavenger gives back those that stay
	// unused through a collection.
	empty slabList
}

// TakeSmall hands out a slot of small class c and reports whether its
// bytes are known to be zero. s must be locked.
func (s *Shard) TakeSmall(c Class) (mem []byte, b Block, zeroed bool, err error) {
	cs := &s.classes[c]
	sl := cs.cur
	if sl == nil || sl.full() {
		if sl, err = s.refill(cs, int(c)); err != nil {
			return nil, Block{}, false, err
		}
	}
	idx, zeroed := sl.take()
	return sl.slot(idx), Block{slab: sl, slot: idx}, zeroed, nil
}

// refill replaces the class's current slab, which is full or missing: by a
// partial slab, else a kept empty one, else a new slab from a chunk.
func (s *Shard) refill(cs *classState, class int) (*slab, error) {
	var sl *slab
	switch {
	case cs.partial.head != nil:
		sl = cs.partial.head
		cs.partial.remove(sl)
	case cs.empty.head != nil:
		sl = cs.empty.head
		cs.empty.remove(sl)
		s.h.emptySlabBytes.Add(-slabSize)
	default:
		var err error
		if sl, err = s.newSlab(class); err != nil {
			return nil, err
		}
	}
	if old := cs.cur; old != nil {
		old.where = slabFull
	}
	sl.where = slabCurrent
	cs.cur = sl
	return sl, nil
}

// putSmall is Put of a small block: it takes back a small block, whose shard (Block.Shard) s is. An
// empty slab that is not the current one is kept in the class's empty
// list while the heap's kept empty slabs stay within its bound, and
// otherwise goes back to its chunk with its pages given back to the
// system: a burst of frees pins a bounded amount of memory, and the
// scavenger returns the rest after a collection. s must be locked.
func (s *Shard) putSmall(b Block) {
	sl, idx := b.slab, b.slot
	sl.put(idx)
	cs := &s.classes[sl.class]
	switch sl.where {
	case slabCurrent:
		// It stays, even empty: the next allocation wants it. The
		// scavenger gives it back if it stays empty for a while.
		if sl.inuse == 0 {
			sl.since = s.h.epoch.Load()
		}
		return
	case slabFull:
		sl.where = slabPartial
		cs.partial.push(sl)
	}
	if sl.inuse > 0 {
		return
	}
	cs.partial.remove(sl)
	if s.h.emptySlabBytes.Add(slabSize) <= s.h.maxEmptySlabBytes.Load() {
		sl.reset()
		sl.where = slabEmpty
		sl.since = s.h.epoch.Load()
		cs.empty.push(sl)
		return
	}
	s.h.emptySlabBytes.Add(-slabSize)
	s.releaseSlab(sl, s.h.epoch.Load())
}
