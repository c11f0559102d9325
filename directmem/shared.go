package directmem

import (
	"fmt"
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
// costs one allocation and no lock: the memory's reference count, not the
// pool's counts, is what it changes. A Shared is safe for concurrent use.
type Shared struct {
	// refs is twice the number of live buffers, plus one until Close:
	// one word, so that Buffers reads the count in one load and the
	// release is decided by one atomic operation, whichever comes last.
	refs atomic.Int64
	// The rest is read by every Buffer: on lines of their own, not the
	// one every Buffer and Free writes (refs).
	_    [stripe.Pad - 8]byte
	root *Buffer // the memory, in its pool; freed when refs reaches 0
	pool string  // the pool's name, for leak records
	// detail describes the buffers in leak records: "share of", then
	// the memory's Detail.
	detail   string
	mayFault bool
	readOnly bool
	closed   atomic.Bool
}

// Share returns m as Shared memory in the pool: the pool counts it once,
// as a buffer of Wrap, until it is released; m.Release runs exactly once,
// when Close has been called and the last buffer of it is freed or
// collected, or when the garbage collector finds the Shared and all its
// buffers unreachable without Close. Leak reports describe a buffer of it
// as "share of" m.Detail. A nil p is as for Pool.Wrap: nothing is counted and
// the buffers are not tracked.
func (p *Pool) Share(m Memory) *Shared {
	s := &Shared{
		root:     wrap(p, m),
		detail:   "share of " + m.Detail,
		mayFault: m.MayFault,
		readOnly: m.ReadOnly,
	}
	if p != nil {
		s.pool = p.name
	}
	s.refs.Store(1)
	return s
}

// Buffer returns a new buffer over the whole memory, position 0, limit at
// capacity, big-endian, read-only if the memory is. It is a root buffer:
// its Free gives back its reference (and releases the memory if the
// Shared is closed and this was the last buffer); views of it keep that
// reference. Buffer returns nil once the memory is released: a Shared
// whose count has reached zero is never revived.
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
// keep the T. It returns nil, nil once the memory is released.
func BufferWith[T any](s *Shared) (*Buffer, *T) {
	x := new(sharedBufferWith[T])
	if !s.use(&x.sharedBuffer) {
		return nil, nil
	}
	return &x.buf, &x.extra
}

// Buffers returns how many buffers of s are live: made and not yet freed
// or collected.
func (s *Shared) Buffers() int64 { return s.refs.Load() >> 1 }

// Close gives back the reference the Shared holds on its own: the memory
// is released now if no buffer of it is live, or else when the last one
// is freed or collected. Buffer returns nil afterwards only once the
// memory is released; a buffer made between Close and then still holds
// the memory. Close is idempotent.
func (s *Shared) Close() {
	if s.closed.CompareAndSwap(false, true) {
		s.unref(1)
	}
}

// unref drops n from refs, releasing the memory when none is left.
func (s *Shared) unref(n int64) {
	switch r := s.refs.Add(-n); {
	case r == 0:
		s.root.Free()
	case r < 0:
		panic(fmt.Sprintf("directmem: Shared memory (%s) released more often than referenced", s.detail))
	}
}

// sharedBuffer is everything a buffer of Shared needs in the Go heap, in
// one object, as a buffer of Wrap is (wrapped). Its release state (the
// Shared, the leak record) is kept only in its armed anchor, which holds
// a copy anyway: a lease is then 128 bytes, not 144.
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

// sharedRelease is what a buffer of Shared gives back: its reference, and
// its leak record. The anchor is armed with a copy; it refers to the
// Shared, never to the buffer's object.
type sharedRelease struct {
	s     *Shared
	track *allocRecord
}

func (r sharedRelease) giveBack(byHand bool) {
	if r.track != nil {
		r.track.released(byHand)
	}
	r.s.unref(2)
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

// use makes x, newly allocated, a buffer of s, or reports false if the
// memory is released.
func (s *Shared) use(x *sharedBuffer) bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+2) {
			break
		}
	}
	mem := s.root.bytes()
	x.own.rel = x
	if s.mayFault {
		x.own.flags = flagMayFault
	}
	r := sharedRelease{s: s}
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
