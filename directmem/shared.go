package directmem

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/offheap-go/offheap/internal/cleanup"
	"github.com/offheap-go/offheap/internal/stripe"
)

// Shared is memory that many buffers use at once, each a buffer of its own
// with its own cursor, its own Free and its own leak record: the leases of
// a cached file mapping. The memory is released once, when Close has been
// called and every buffer of it has been freed or collected.
//
// The pool counts the memory once, however many buffers use it; each
// buffer is tracked by leak detection as the pool's (a buffer dropped
// without Free is reported, as any buffer of the pool would be). A buffer
// costs one allocation and no lock, and goroutines making buffers of one
// Shared at once do not write one cache line: the buffers are counted in
// stripes. A Shared is safe for concurrent use.
type Shared struct {
	// counts holds the live buffers, spread over stripes picked by
	// stripe.Hint; a buffer is uncounted in the stripe it was counted in.
	// Only their sum means anything, and only once closed is set: no
	// buffer is made after that, so the sum can only fall, and it is the
	// last to see it at zero that releases the memory.
	counts   []sharedCount
	mask     uint32
	closed   atomic.Bool
	released atomic.Bool
	root     *Buffer // the memory, in its pool; freed on release
	pool     string  // the pool's name, for leak records
	// detail describes the buffers in leak records: "share of", then
	// the memory's Detail.
	detail   string
	mayFault bool
	readOnly bool
}

// sharedCount is a stripe of a Shared's count of live buffers: on a cache
// line of its own, as in stripe; one line, not stripe.Pad's two, since a
// Shared has a set of them per mapping, not per process.
type sharedCount struct {
	n atomic.Int64
	_ [56]byte
}

// maxSharedStripes bounds the stripes of a Shared (and so its size, 512
// bytes at most): it is made per mapping, and only a mapping many
// goroutines lease at once needs many.
const maxSharedStripes = 8

// Share returns m as Shared memory in the pool: the pool counts it once,
// as a buffer of Wrap, until it is released; m.Release runs exactly once,
// when Close has been called and the last buffer of it is freed or
// collected, or when the garbage collector finds the Shared and all its
// buffers unreachable without Close (m.Release must not refer to the
// Shared, as it must not refer to a buffer). Leak reports describe a
// buffer of it as "share of" m.Detail; the memory itself is tracked as a
// buffer of the pool with m.Detail, so a Shared dropped without Close is
// reported as that buffer collected without Free. A nil p is as for
// Pool.Wrap: nothing is counted and nothing is tracked.
func (p *Pool) Share(m Memory) *Shared {
	n := min(stripe.Count(runtime.GOMAXPROCS(0)), maxSharedStripes)
	s := &Shared{
		counts:   make([]sharedCount, n),
		mask:     uint32(n - 1),
		root:     wrap(p, m),
		detail:   "share of " + m.Detail,
		mayFault: m.MayFault,
		readOnly: m.ReadOnly,
	}
	if p != nil {
		s.pool = p.name
	}
	return s
}

// Buffer returns a new buffer over the whole memory, position 0, limit at
// capacity, big-endian, read-only if the memory is. It is a root buffer:
// its Free gives back its share of the memory, which is released if the
// Shared is closed and this was its last buffer; views of it keep the
// share. After Close, Buffer returns nil: memory on its way out is not
// shared any further.
func (s *Shared) Buffer() *Buffer {
	x := new(sharedBuffer)
	if !s.use(x) {
		return nil
	}
	return &x.buf
}

// BufferWith is s.Buffer() with a zero T made in the same allocation as
// the buffer, for the caller's own state of each buffer (package mapped's
// Lease): one allocation per buffer on a path that makes them by the
// million. The T keeps the buffer reachable, and the buffer and its views
// keep the T. After Close it returns nil, nil.
func BufferWith[T any](s *Shared) (*Buffer, *T) {
	x := new(sharedBufferWith[T])
	if !s.use(&x.sharedBuffer) {
		return nil, nil
	}
	return &x.buf, &x.extra
}

// Buffers returns how many buffers of s are live: made and not yet freed
// or collected. It adds the stripes up one after another: exact when no
// Buffer or Free runs meanwhile, an estimate otherwise.
func (s *Shared) Buffers() int64 {
	var n int64
	for i := range s.counts {
		n += s.counts[i].n.Load()
	}
	return n
}

// Close ends the sharing: Buffer returns nil from now on, and the memory
// is released now if no buffer of it is live, or else when the last one
// is freed or collected. Close is idempotent.
func (s *Shared) Close() {
	if s.closed.CompareAndSwap(false, true) {
		s.releaseIfUnused()
	}
}

// releaseIfUnused releases the memory if s is closed and no buffer is
// live. Each count that falls after Close calls it: one of them, or Close,
// sees the sum at zero.
func (s *Shared) releaseIfUnused() {
	if s.Buffers() == 0 && s.released.CompareAndSwap(false, true) {
		s.root.Free()
	}
}

// uncount gives back a buffer's count in stripe i.
func (s *Shared) uncount(i uint32) {
	s.counts[i].n.Add(-1)
	if s.closed.Load() {
		s.releaseIfUnused()
	}
}

// sharedBuffer is everything a buffer of Shared needs in the Go heap, in
// one object, as a buffer of Wrap is (wrapped). Its release state (the
// Shared, the stripe, the leak record) is kept only in its armed anchor,
// which holds a copy anyway: a lease is then 128 bytes, not 144.
type sharedBuffer struct {
	buf Buffer
	own owner
	an  *sharedAnchor // armed while the buffer is live; nil once freed
}

// sharedBufferWith is a sharedBuffer and a caller's T, in one object.
type sharedBufferWith[T any] struct {
	sharedBuffer
	extra T
}

// sharedRelease is what a buffer of Shared gives back: its count, and its
// leak record. The anchor is armed with it; it refers to the Shared,
// never to the buffer's object.
type sharedRelease struct {
	s      *Shared
	track  *allocRecord
	stripe uint32 // where the buffer is counted
}

func (r sharedRelease) giveBack(byHand bool) {
	if r.track != nil {
		r.track.released(byHand)
	}
	r.s.uncount(r.stripe)
}

// sharedAnchor is the garbage collector's path of a buffer of Shared, as
// for an Allocator's buffers (anchor.go).
type sharedAnchor = cleanup.Reusable[sharedRelease]

// idleSharedAnchors keeps disarmed anchors for the next buffer. A
// sync.Pool, not a list under a lock: a buffer of Shared takes no lock,
// and an idle anchor the pool drops at a collection is harmless (dropping
// an idle Reusable is correct), only an AddCleanup to make again.
var idleSharedAnchors sync.Pool

func releaseSharedCollected(r sharedRelease) { r.giveBack(false) }

// use makes x, newly allocated, a buffer of s, or reports false if s is
// closed.
func (s *Shared) use(x *sharedBuffer) bool {
	if s.closed.Load() {
		return false
	}
	// Counted, then checked again: a Close that sets closed after the
	// check below sees this count in its sum (Go's atomics are
	// sequentially consistent), and one before it makes us give it back.
	i := stripe.Hint() & s.mask
	s.counts[i].n.Add(1)
	if s.closed.Load() {
		s.uncount(i)
		return false
	}
	mem := s.root.bytes()
	x.own.rel = x
	if s.mayFault {
		x.own.flags = flagMayFault
	}
	r := sharedRelease{s: s, stripe: i}
	if s.pool != "" {
		r.track = track(&x.own, s.pool, s.detail, int64(len(mem)), false)
	}
	initBuffer(&x.buf, mem, &x.own)
	x.buf.readOnly = s.readOnly
	an, _ := idleSharedAnchors.Get().(*sharedAnchor)
	if an == nil {
		an = cleanup.NewReusable(releaseSharedCollected)
	}
	an.Arm(r)
	x.an = an
	return true
}

// release is Free's release of a buffer of Shared.
func (x *sharedBuffer) release(byHand bool) {
	r := x.an.Arg()
	if an := disarm(&x.an); an != nil {
		idleSharedAnchors.Put(an)
	}
	r.giveBack(byHand)
}

func (x *sharedBuffer) record() *allocRecord {
	if x.an == nil {
		return nil
	}
	return x.an.Arg().track
}
