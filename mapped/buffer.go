package mapped

import (
	"fmt"
	"runtime"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/pagealign"
)

// Buffer is a mapped region of a file: the Go form of a
// MappedByteBuffer. It has every method of directmem.Buffer, through the
// embedded one, plus Force, ForceRange, Load, IsLoaded and Advise. Its
// views (Slice, SliceAt, Duplicate, AsReadOnly) are mapped Buffers too, as
// a slice of a MappedByteBuffer is one in the JVM.
//
// Every data method turns a memory fault (the file truncated under the
// mapping) into an error matching ErrFault. Free unmaps the file at once;
// the garbage collector unmaps a mapping that is never freed. A Buffer is
// not safe for concurrent use, except that Free may be called from any
// goroutine once no other goroutine is using the buffer or its views.
type Buffer struct {
	*directmem.Buffer
	m *mapping
	// off is where this buffer's memory starts in m.mem.
	off int
}

// mapping is what the views of one mapping share. It does not keep the
// memory mapped; the directmem owner does.
type mapping struct {
	mem    []byte // the whole mapping, from the page boundary below the offset
	mode   Mode
	detail string // the file, offset and mode, for leak reports
}

// Mode returns how the buffer's file was mapped.
func (b *Buffer) Mode() Mode { return b.m.mode }

// Slice returns a view of the bytes between the position and the limit,
// as directmem.Buffer.Slice does.
func (b *Buffer) Slice() *Buffer {
	return &Buffer{Buffer: b.Buffer.Slice(), m: b.m, off: b.off + b.Position()}
}

// SliceAt returns a view of length bytes from index, as
// directmem.Buffer.SliceAt does.
func (b *Buffer) SliceAt(index, length int) (*Buffer, error) {
	v, err := b.Buffer.SliceAt(index, length)
	if err != nil {
		return nil, err
	}
	return &Buffer{Buffer: v, m: b.m, off: b.off + index}, nil
}

// Duplicate returns a view of the whole buffer with the same indexes, as
// directmem.Buffer.Duplicate does.
func (b *Buffer) Duplicate() *Buffer {
	return &Buffer{Buffer: b.Buffer.Duplicate(), m: b.m, off: b.off}
}

// AsReadOnly returns a read-only Duplicate.
func (b *Buffer) AsReadOnly() *Buffer {
	return &Buffer{Buffer: b.Buffer.AsReadOnly(), m: b.m, off: b.off}
}

// String describes the buffer's indexes and mode.
func (b *Buffer) String() string {
	return fmt.Sprintf("mapped.Buffer[pos=%d lim=%d cap=%d %v]", b.Position(), b.Limit(), b.Capacity(), b.m.mode)
}

// Force writes the buffer's changes to the storage device holding the file
// (msync(2) with MS_SYNC): MappedByteBuffer.force. It covers the whole
// capacity, whatever the position and limit. On ReadOnly and Private
// mappings, which the file never sees written, it does nothing. After Free
// it returns directmem.ErrFreed.
func (b *Buffer) Force() error { return b.force(0, b.Capacity()) }

// ForceRange is Force of the length bytes from index, which must lie below
// the limit (MappedByteBuffer.force(index, length)); otherwise it returns
// directmem.ErrIndexOutOfRange and syncs nothing. After Free it returns
// directmem.ErrFreed, whatever the bounds, as every access does.
func (b *Buffer) ForceRange(index, length int) error {
	if b.IsFreed() {
		return directmem.ErrFreed
	}
	if index < 0 || length < 0 || length > b.Limit()-index {
		return fmt.Errorf("%w: force range [%d, %d + %d) out of bounds for limit %d", directmem.ErrIndexOutOfRange, index, index, length, b.Limit())
	}
	return b.force(index, length)
}

func (b *Buffer) force(index, length int) error {
	if b.IsFreed() {
		return directmem.ErrFreed
	}
	if b.m.mode != ReadWrite || length == 0 {
		return nil
	}
	err := pagealign.Sync(b.pages(index, length))
	runtime.KeepAlive(b)
	return err
}

// pages returns the bytes [index, index+length) of the buffer, extended
// down to the page boundary below them, which msync, madvise and mincore
// need.
func (b *Buffer) pages(index, length int) []byte {
	start := b.off + index
	ps := pagealign.PageSize()
	return b.m.mem[start-start%ps : start+length]
}

// Load asks the system to read the buffer's pages into memory
// (madvise(2) with MADV_WILLNEED) and touches one byte of each, so that
// they are resident when it returns, as far as memory allows:
// MappedByteBuffer.load. A page past the end of a truncated file returns
// ErrFault.
func (b *Buffer) Load() error {
	if b.IsFreed() {
		return directmem.ErrFreed
	}
	n := b.Capacity()
	if n == 0 {
		return nil
	}
	pages := b.pages(0, n)
	// The advice is only a hint: touching the pages is what loads them.
	_ = pagealign.Advise(pages, pagealign.AdviseWillNeed)
	ps := pagealign.PageSize()
	var sum byte
	err := directmem.Guard(func() {
		for i := 0; i < len(pages); i += ps {
			sum += pages[i]
		}
	})
	loadSink = sum
	runtime.KeepAlive(b)
	return err
}

// loadSink keeps Load's reads from being optimised away.
var loadSink byte

// IsLoaded reports whether every page of the buffer is resident in
// memory (mincore(2)): MappedByteBuffer.isLoaded. It is only a snapshot
// (the system may evict a page the next moment), and true for capacity 0.
func (b *Buffer) IsLoaded() (bool, error) {
	if b.IsFreed() {
		return false, directmem.ErrFreed
	}
	n := b.Capacity()
	if n == 0 {
		return true, nil
	}
	pages := b.pages(0, n)
	ps := pagealign.PageSize()
	vec := make([]byte, (len(pages)+ps-1)/ps)
	err := pagealign.Resident(pages, vec)
	runtime.KeepAlive(b)
	if err != nil {
		return false, err
	}
	for _, v := range vec {
		if v&1 == 0 {
			return false, nil
		}
	}
	return true, nil
}

// Advice is a hint about how a mapping will be read, for Advise.
type Advice = pagealign.Advice

// The hints of Advise (madvise(2)).
const (
	// AdviseNormal undoes earlier advice.
	AdviseNormal = pagealign.AdviseNormal
	// AdviseSequential expects reads in order: the system reads ahead more.
	AdviseSequential = pagealign.AdviseSequential
	// AdviseRandom expects reads in no order: the system reads ahead less.
	AdviseRandom = pagealign.AdviseRandom
	// AdviseWillNeed expects reads soon: the system may start reading.
	AdviseWillNeed = pagealign.AdviseWillNeed
	// AdviseDontNeed lets the system drop the pages from memory. Pages of a
	// ReadOnly or ReadWrite mapping are read again from the file when next
	// touched; a Private mapping loses its unsaved changes.
	AdviseDontNeed = pagealign.AdviseDontNeed
)

// Advise passes a hint about how the buffer's pages will be used
// (madvise(2)). It changes no byte of a shared mapping.
func (b *Buffer) Advise(hint Advice) error {
	if b.IsFreed() {
		return directmem.ErrFreed
	}
	n := b.Capacity()
	if n == 0 {
		return nil
	}
	err := pagealign.Advise(b.pages(0, n), hint)
	runtime.KeepAlive(b)
	return err
}
