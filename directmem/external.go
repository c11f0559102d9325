package directmem

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/offheap-go/offheap/internal/cleanup"
	"github.com/offheap-go/offheap/internal/stripe"
)

// Pool is a named pool of buffers over memory this package did not
// allocate: file mappings (package mapped's "mapped" pool, the JVM's
// "mapped" BufferPoolMXBean), memory from C or from a device. Its buffers
// are full Buffers, with everything a direct buffer has: the cursor, typed
// access, views, the io interfaces, ErrFreed after Free, and a release
// that runs exactly once, by Free or by the garbage collector. The pool
// counts them (Pools lists it after "direct"), and leak detection tracks
// them as the pool's (Live, LeaksSince, and so package directmemtest).
//
// Memory in a pool is not reserved from any budget: as in the JVM, mapped
// memory does not count against MaxDirectMemorySize. A Pool is safe for
// concurrent use.
type Pool struct {
	name string
	// shards split the pool's counts and idle anchors, each under a lock
	// of its own, so that goroutines wrapping and freeing at once do not
	// all take one lock: a goroutine wraps in the shard of its stripe.Hint,
	// and a buffer is uncounted in the shard it was counted in.
	shards []poolShard
	mask   uint32
}

// poolShard is a part of a Pool's counts and idle anchors.
type poolShard struct {
	mu sync.Mutex
	// pool is the Pool counting its buffers here; nil in unpooledAnchors.
	pool *Pool
	counts
	anchors extAnchors
	_       [stripe.Pad]byte // neighbours are written under other locks
}

// newPool returns a pool, or with counted unset unpooledAnchors.
func newPool(name string, counted bool) *Pool {
	n := stripe.Count(runtime.GOMAXPROCS(0))
	p := &Pool{name: name, shards: make([]poolShard, n), mask: uint32(n - 1)}
	if counted {
		for i := range p.shards {
			p.shards[i].pool = p
		}
	}
	return p
}

// shard returns the shard the calling goroutine wraps in.
func (p *Pool) shard() *poolShard { return &p.shards[stripe.Hint()&p.mask] }

// Memory describes memory given to Pool.Wrap.
type Memory struct {
	// Bytes is the memory: the buffer's capacity is len(Bytes).
	Bytes []byte
	// Used is what the memory takes, counted in the pool's MemoryUsed:
	// more than len(Bytes) when it comes in larger units (a mapping's
	// whole pages, from the page boundary before Bytes). 0 means len(Bytes).
	Used int64
	// Release gives the memory back (munmap, C's free). It runs exactly
	// once: when the root buffer is freed or, if it never is, after it and
	// all its views have become unreachable. It must not refer to the
	// buffer (or it would keep it reachable forever) and must not call
	// runtime.Goexit; a panic in it is reported to cleaner's panic handler.
	// Nil means there is nothing to run.
	Release func()
	// MayFault says that touching the memory may raise a memory fault: a
	// mapping of a file that can be truncated under it, or a sparse file
	// on a full disk (SIGBUS). Every data method of the buffer and of its
	// views then returns an error matching ErrFault instead of crashing
	// the process. Bytes stays a raw slice: read it under Guard.
	MayFault bool
	// ReadOnly makes the buffer read-only, as a read-only mapping must be.
	ReadOnly bool
	// Detail describes the memory in leak reports and in Live, for
	// example the file, offset and mode of a mapping.
	Detail string
}

var (
	poolsMu sync.Mutex
	pools   []*Pool
)

// NewPool returns a new, empty pool, listed by Pools after "direct" and
// the pools made before it. Pools live as long as the process, like the
// JVM's BufferPoolMXBeans: make one per kind of memory, not per buffer.
// NewPool panics if name is empty, "direct", or the name of a pool
// already made, as expvar.Publish does for a name in use.
func NewPool(name string) *Pool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	if name == "" || name == poolDirect || slices.ContainsFunc(pools, func(p *Pool) bool { return p.name == name }) {
		panic(fmt.Sprintf("directmem.NewPool: pool name %q is empty or in use", name))
	}
	p := newPool(name, true)
	pools = append(pools, p)
	return p
}

// Name returns the pool's name.
func (p *Pool) Name() string { return p.name }

// Stats returns the pool's statistics: the buffers of Wrap not yet
// released. It adds up the pool's shards one after another, as Stats does
// the "direct" pool's: exact when no Wrap or release runs meanwhile, and
// otherwise never negative and never counting a buffer that was not live
// at some moment during the call.
func (p *Pool) Stats() PoolStats {
	ps := PoolStats{Name: p.name}
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		ps.Count += s.count
		ps.TotalCapacity += s.capacity
		ps.MemoryUsed += s.used
		s.mu.Unlock()
	}
	return ps
}

// Wrap returns a buffer over m.Bytes, counted in the pool until it is
// released: position 0, limit at capacity, big-endian, read-only if
// m.ReadOnly. The buffer owns the memory: Free runs m.Release, and so
// does the garbage collector if Free never comes. Views of it (Slice,
// Duplicate, AsReadOnly) keep the memory alive and cannot free it.
//
// On a nil *Pool, Wrap makes a buffer in no pool, neither counted nor
// tracked, as the package-level Wrap does, with m's other settings.
func (p *Pool) Wrap(m Memory) *Buffer {
	return wrap(p, m)
}

// Wrap returns a Buffer over memory this package did not allocate, in no
// pool: memory from C, from a device, or from another allocator. release,
// if not nil, runs exactly once, when the buffer is freed or, failing that,
// after it and all its views become unreachable; it must not refer to the
// buffer. A wrapped buffer is not counted in any pool or budget, nor
// tracked by leak detection; Pool.Wrap is the way to have all three.
func Wrap(mem []byte, release func()) *Buffer {
	return wrap(nil, Memory{Bytes: mem, Release: release})
}

// wrapped is everything a buffer of Wrap needs in the Go heap, in one
// object, as an Allocator's allocation is: views point at own, inside it,
// which keeps the whole object (and so the anchor) alive.
type wrapped struct {
	buf Buffer
	own owner
	rel extRelease
	// an is the armed anchor (extAnchor); nil once freed.
	an *extAnchor
}

// extRelease is what giving back memory given to Wrap takes. The buffer's
// anchor is armed with a copy of it, so it must never refer to the anchor
// or to the wrapped object holding both (Memory.Release must not refer to
// the buffer, as its documentation says).
type extRelease struct {
	// shard is where the buffer is counted (if it is in a pool) and where
	// its anchor goes back to.
	shard          *poolShard
	capacity, used int64
	fn             func()
	track          *allocRecord
}

// extAnchor is the garbage collector's path of a buffer of Wrap: a
// reusable anchor, as an Allocator's buffers have (anchor.go), so that a
// wrapped buffer costs no runtime.AddCleanup once its pool has idle
// anchors.
type extAnchor = cleanup.Reusable[extRelease]

// extAnchors keeps idle anchors for reuse, guarded by its poolShard's mu:
// each Pool's shards have their own, and buffers of Wrap in no pool share
// unpooledAnchors'.
type extAnchors = idleAnchors[extRelease]

// unpooledAnchors is where buffers of Wrap in no pool keep their idle
// anchors. It is not a pool: nothing is counted in it, and Pools does not
// list it.
var unpooledAnchors = newPool("", false)

// anchorsOf returns the Pool whose shards keep the anchors of buffers of p.
func anchorsOf(p *Pool) *Pool {
	if p == nil {
		return unpooledAnchors
	}
	return p
}

func newExtAnchor() *extAnchor { return cleanup.NewReusable(releaseWrapCollected) }

// releaseWrapCollected is an anchor's release: the buffer of Wrap it
// guarded became unreachable without Free. It runs on the runtime's
// cleanup goroutine, which contains a panic of the release (RunFromGC).
func releaseWrapCollected(r extRelease) { r.giveBack(false, nil) }

func wrap(p *Pool, m Memory) *Buffer {
	if p == nil && m.Release == nil {
		// Nothing to count, track or release: a buffer and its owner.
		o := &owner{}
		if m.MayFault {
			o.flags = flagMayFault
		}
		b := newBuffer(m.Bytes[:len(m.Bytes):len(m.Bytes)], o)
		b.readOnly = m.ReadOnly
		return b
	}
	return wrapInto(new(wrapped), p, m)
}

// wrapInto makes x, newly allocated, the buffer of Wrap over m.
func wrapInto(x *wrapped, p *Pool, m Memory) *Buffer {
	mem := m.Bytes[:len(m.Bytes):len(m.Bytes)]
	if m.MayFault {
		x.own.flags = flagMayFault
	}
	used := m.Used
	if used == 0 {
		used = int64(len(mem))
	}
	r := &x.rel
	r.capacity, r.used, r.fn = int64(len(mem)), used, m.Release
	x.own.rel = x
	s := anchorsOf(p).shard()
	r.shard = s
	s.mu.Lock()
	if p != nil {
		s.add(r.capacity, r.used)
	}
	an := s.anchors.take()
	s.mu.Unlock()
	if p != nil {
		r.track = track(&x.own, p.name, m.Detail, r.capacity, false)
	}
	initBuffer(&x.buf, mem, &x.own)
	x.buf.readOnly = m.ReadOnly
	if an == nil {
		an = newExtAnchor()
	}
	an.Arm(*r) // a copy: the anchor's argument must not lead back to it
	x.an = an
	return &x.buf
}

// release is Free's release of the buffer: the anchor, disarmed, is kept
// for the next buffer.
func (x *wrapped) release(byHand bool) {
	x.rel.giveBack(byHand, disarm(&x.an))
}

func (x *wrapped) record() *allocRecord { return x.rel.track }

// giveBack uncounts the buffer, keeps an idle anchor (or nil) for reuse
// and runs the memory's release: by Free, or by the garbage collector
// (releaseWrapCollected, on a copy).
func (r *extRelease) giveBack(byHand bool, an *extAnchor) {
	if r.track != nil {
		r.track.released(byHand)
	}
	s := r.shard
	s.mu.Lock()
	if s.pool != nil {
		s.count--
		s.capacity -= r.capacity
		s.used -= r.used
	}
	an = s.anchors.keep(an)
	s.mu.Unlock()
	if an != nil {
		an.Close() // the pool has enough idle anchors
	}
	if fn := r.fn; fn != nil {
		r.fn = nil
		if byHand {
			// The collector's path contains a panic on its own (RunFromGC).
			cleanup.RunContained(fn)
		} else {
			fn()
		}
	}
}
