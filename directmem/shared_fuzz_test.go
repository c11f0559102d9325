package directmem_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// sharedFuzzPool is the pool of FuzzSharedOps's memory.
var sharedFuzzPool = directmem.NewPool("shared-fuzz")

// FuzzSharedOps decodes its input as memory and a sequence of operations on
// one Shared (buffers made and freed, bytes put and got through them,
// views, Close), applies each to the real thing and to a model (a plain
// []byte for the memory, a position per live buffer), and after every
// operation checks:
//
//   - the memory is released at most once, and has been exactly when Close
//     has been called and no buffer is live; the Release itself checks
//     that Close has been called and the model has no live buffer;
//   - Buffers() is the model's count of live buffers, and the pool counts
//     the memory once (capacity, and Used or the capacity) until it is
//     released, nothing in a nil pool;
//   - every live buffer has the model's position, its limit at capacity and
//     the memory's read-only state, reads the model's bytes, and keeps its
//     BufferWith state; the memory itself holds the model's bytes;
//   - after Close, Buffer and BufferWith return nil;
//   - errors, by sentinel: a put on read-only memory is ErrReadOnly, past
//     the limit ErrBufferOverflow or ErrIndexOutOfRange, a get past it
//     ErrBufferUnderflow, Free of a view ErrNotOwner, a second Free nil, and
//     any access to a freed buffer or to a view of one ErrFreed; a failed
//     operation changes nothing.
//
// At the end every buffer is freed and the Shared closed: the memory must
// have been released once and the pool be back where it started.
//
// Input: byte 0 is the capacity (mod 65), byte 1 the settings (bit 0
// read-only, bit 1 a nil pool, bit 2 Used of 4096); then each operation is
// one byte (mod sfNumOps) and its arguments, one byte each; bytes past the
// end read as 0, and at most 256 operations run:
//
//	0 new k          1 free i      2 put i n v      3 get i n
//	4 putAt i o n v  5 seek i o    6 view i k       7 dead d
//	8 close
//
// k picks Buffer or BufferWith (new) or the kind of view (Slice, Duplicate,
// AsReadOnly), i a live buffer, d a freed buffer or view (0 the latest), o
// an index (mod capacity+2), n a length (mod 17), v the first byte put;
// indexes are taken mod their list's length, and an operation with an
// empty list does nothing. At most 32 buffers are live, and 4 views of
// each are kept. The seeds are in testdata/fuzz/FuzzSharedOps.
func FuzzSharedOps(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		runSharedOps(t, data)
	})
}

// The operations, in the order their numbers decode.
const (
	sfOpNew = iota
	sfOpFree
	sfOpPut
	sfOpGet
	sfOpPutAt
	sfOpSeek
	sfOpView
	sfOpDead
	sfOpClose
	sfNumOps
)

const (
	sfMaxSteps = 256
	sfMaxLive  = 32
	sfMaxViews = 4
)

// sfBuf is a live buffer and its model.
type sfBuf struct {
	b     *directmem.Buffer
	state *uint64 // BufferWith's state, holding tag; nil for Buffer
	tag   uint64
	pos   int
	views []*directmem.Buffer
	name  string
}

// sfDead is a freed buffer or a view of one.
type sfDead struct {
	b    *directmem.Buffer
	view bool
	name string
}

// sfRun is one input's execution.
type sfRun struct {
	t          *testing.T
	s          *directmem.Shared
	mem, model []byte
	readOnly   bool
	pool       poolWatch // zero for a nil pool
	used       int64     // what the pool counts as MemoryUsed
	live       []*sfBuf
	dead       []sfDead
	closed     bool
	released   int
	badRelease string // what was wrong when the Release ran
	ids        int
	step       int
	log        []string
}

func runSharedOps(t *testing.T, data []byte) {
	in := &fuzzIn{p: data}
	n, flags := int(in.byte())%65, in.byte()
	r := &sfRun{t: t, mem: make([]byte, n), model: make([]byte, n), readOnly: flags&1 != 0, used: int64(n)}
	for i := range r.mem {
		r.mem[i] = byte(i)
		r.model[i] = byte(i)
	}
	m := directmem.Memory{Bytes: r.mem, ReadOnly: r.readOnly, Release: r.release}
	if flags&4 != 0 {
		m.Used, r.used = 4096, 4096
	}
	var p *directmem.Pool
	if flags&2 == 0 {
		p = sharedFuzzPool
		r.pool = watchPool(p)
	}
	r.s = p.Share(m)
	r.logf("share(%d, %#x)", n, flags)
	r.check()
	for r.step = 0; in.more() && r.step < sfMaxSteps; r.step++ {
		r.apply(in)
		r.check()
	}
	for len(r.live) > 0 {
		r.free(0)
	}
	r.close()
	r.check()
	if r.released != 1 {
		r.failf("at the end: released %d times, want 1", r.released)
	}
}

// release is the memory's Release.
func (r *sfRun) release() {
	r.released++
	if !r.closed || len(r.live) != 0 {
		r.badRelease = fmt.Sprintf("released with closed %v and %d buffers live", r.closed, len(r.live))
	}
}

func (r *sfRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

func (r *sfRun) failf(format string, args ...any) {
	r.t.Helper()
	log := r.log
	if len(log) > 60 {
		log = append([]string{"..."}, log[len(log)-60:]...)
	}
	r.t.Fatalf("step %d, after %s:\n%s", r.step, strings.Join(log, "; "), fmt.Sprintf(format, args...))
}

func (r *sfRun) wantErr(what string, got, want error) {
	r.t.Helper()
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		r.failf("%s: error %v, want %v", what, got, want)
	}
}

// pick returns the live buffer i names, or nil if there is none.
func (r *sfRun) pick(i byte) *sfBuf {
	if len(r.live) == 0 {
		return nil
	}
	return r.live[int(i)%len(r.live)]
}

// pattern returns n bytes from v on.
func pattern(n int, v byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = v + byte(i)
	}
	return p
}

// apply decodes and applies one operation.
func (r *sfRun) apply(in *fuzzIn) {
	capacity := len(r.mem)
	switch op := int(in.byte()) % sfNumOps; op {
	case sfOpNew:
		r.newBuffer(in.byte()&1 != 0)
	case sfOpFree:
		if i := int(in.byte()); len(r.live) > 0 {
			r.free(i % len(r.live))
		}
	case sfOpPut, sfOpPutAt:
		x := r.pick(in.byte())
		o := 0
		if op == sfOpPutAt {
			o = int(in.byte()) % (capacity + 2)
		}
		src := pattern(int(in.byte())%17, in.byte())
		if x == nil {
			return
		}
		var err, want error
		at := x.pos
		if op == sfOpPut {
			r.logf("put(%s, %d)", x.name, len(src))
			err, want = x.b.PutBytes(src), directmem.ErrBufferOverflow
		} else {
			r.logf("putAt(%s, %d, %d)", x.name, o, len(src))
			err, want, at = x.b.PutBytesAt(o, src), directmem.ErrIndexOutOfRange, o
		}
		switch {
		case r.readOnly:
			want = directmem.ErrReadOnly
		case len(src) <= capacity-at:
			want = nil
			copy(r.model[at:], src)
			if op == sfOpPut {
				x.pos += len(src)
			}
		}
		r.wantErr("put", err, want)
	case sfOpGet:
		x, n := r.pick(in.byte()), int(in.byte())%17
		if x == nil {
			return
		}
		r.logf("get(%s, %d)", x.name, n)
		dst := make([]byte, n)
		err := x.b.GetBytes(dst)
		if n > capacity-x.pos {
			r.wantErr("get", err, directmem.ErrBufferUnderflow)
			return
		}
		r.wantErr("get", err, nil)
		if !bytes.Equal(dst, r.model[x.pos:x.pos+n]) {
			r.failf("get(%s) at %d read %v, want %v", x.name, x.pos, dst, r.model[x.pos:x.pos+n])
		}
		x.pos += n
	case sfOpSeek:
		x, o := r.pick(in.byte()), int(in.byte())%(capacity+2)
		if x == nil {
			return
		}
		r.logf("seek(%s, %d)", x.name, o)
		if o > capacity {
			r.wantErr("seek", x.b.SetPosition(o), directmem.ErrIndexOutOfRange)
			return
		}
		r.wantErr("seek", x.b.SetPosition(o), nil)
		x.pos = o
	case sfOpView:
		x, k := r.pick(in.byte()), in.byte()%3
		if x == nil {
			return
		}
		r.logf("view(%s, %d)", x.name, k)
		v := [...]func() *directmem.Buffer{x.b.Slice, x.b.Duplicate, x.b.AsReadOnly}[k]()
		r.wantErr("Free of a view", v.Free(), directmem.ErrNotOwner)
		if got := v.Bytes(); !bytes.Equal(got, r.model[x.pos:]) {
			r.failf("view of %s reads %v, want %v", x.name, got, r.model[x.pos:])
		}
		if k == 2 || r.readOnly {
			r.wantErr("PutAt on a read-only view", v.PutAt(0, 1), directmem.ErrReadOnly)
		}
		if len(x.views) < sfMaxViews {
			x.views = append(x.views, v)
		}
	case sfOpDead:
		d := int(in.byte())
		if len(r.dead) == 0 {
			return
		}
		x := r.dead[len(r.dead)-1-d%len(r.dead)]
		r.logf("dead(%s)", x.name)
		var want error
		if x.view {
			want = directmem.ErrNotOwner
		}
		r.wantErr("Free of "+x.name, x.b.Free(), want)
		_, err := x.b.GetAt(0)
		r.wantErr("GetAt of "+x.name, err, directmem.ErrFreed)
		r.wantErr("PutAt of "+x.name, x.b.PutAt(0, 1), directmem.ErrFreed)
		if !x.b.IsFreed() || x.b.Bytes() != nil {
			r.failf("%s: IsFreed %v, Bytes %v; want true, nil", x.name, x.b.IsFreed(), x.b.Bytes())
		}
	case sfOpClose:
		r.close()
	}
}

// newBuffer makes a buffer, by BufferWith if with is set.
func (r *sfRun) newBuffer(with bool) {
	if len(r.live) >= sfMaxLive {
		return
	}
	x := &sfBuf{name: fmt.Sprintf("b%d", r.ids), tag: uint64(r.ids) + 1}
	r.ids++
	r.logf("new(%s, with %v)", x.name, with)
	if with {
		x.b, x.state = directmem.BufferWith[uint64](r.s)
	} else {
		x.b = r.s.Buffer()
	}
	if r.closed {
		if x.b != nil || x.state != nil {
			r.failf("new after Close = %v, %v; want nil", x.b, x.state)
		}
		return
	}
	if x.b == nil || with != (x.state != nil) {
		r.failf("new = %v, %v", x.b, x.state)
	}
	if x.state != nil {
		if *x.state != 0 {
			r.failf("BufferWith's state is %d, want 0", *x.state)
		}
		*x.state = x.tag
	}
	r.live = append(r.live, x)
}

// free frees live buffer i, twice, and keeps it and its views as dead.
func (r *sfRun) free(i int) {
	x := r.live[i]
	r.logf("free(%s)", x.name)
	r.live = append(r.live[:i], r.live[i+1:]...) // the Release may run
	r.wantErr("Free of "+x.name, x.b.Free(), nil)
	r.wantErr("second Free of "+x.name, x.b.Free(), nil)
	r.dead = append(r.dead, sfDead{x.b, false, x.name})
	for j, v := range x.views {
		r.dead = append(r.dead, sfDead{v, true, fmt.Sprintf("%s.view%d", x.name, j)})
	}
}

func (r *sfRun) close() {
	r.logf("close")
	r.closed = true // before Close: the Release may run
	r.s.Close()
}

// check checks everything the model says after an operation.
func (r *sfRun) check() {
	r.t.Helper()
	if r.badRelease != "" {
		r.failf("%s", r.badRelease)
	}
	wantReleased := r.closed && len(r.live) == 0
	if r.released != int(b2i(wantReleased)) {
		r.failf("released %d times, closed %v with %d buffers live", r.released, r.closed, len(r.live))
	}
	if n := r.s.Buffers(); n != int64(len(r.live)) {
		r.failf("Buffers() = %d, want %d", n, len(r.live))
	}
	if r.pool.p != nil {
		count, capacity, used := int64(1), int64(len(r.mem)), r.used
		if wantReleased {
			count, capacity, used = 0, 0, 0
		}
		if c, cp, u := r.pool.delta(); c != count || cp != capacity || u != used {
			r.failf("pool moved by %d, %d, %d; want %d, %d, %d", c, cp, u, count, capacity, used)
		}
	}
	if r.closed {
		if b := r.s.Buffer(); b != nil {
			r.failf("Buffer after Close = %v", b)
		}
		if b, x := directmem.BufferWith[uint64](r.s); b != nil || x != nil {
			r.failf("BufferWith after Close = %v, %v", b, x)
		}
	}
	if !bytes.Equal(r.mem, r.model) {
		r.failf("memory holds %v, want %v", r.mem, r.model)
	}
	got := make([]byte, len(r.mem))
	for _, x := range r.live {
		b := x.b
		if b.Position() != x.pos || b.Limit() != len(r.mem) || b.Capacity() != len(r.mem) || b.IsReadOnly() != r.readOnly || b.IsFreed() {
			r.failf("%s: %v read-only %v freed %v; want pos %d, lim and cap %d, read-only %v", x.name, b, b.IsReadOnly(), b.IsFreed(), x.pos, len(r.mem), r.readOnly)
		}
		if err := b.GetBytesAt(0, got); err != nil || !bytes.Equal(got, r.model) {
			r.failf("%s reads %v, %v; want %v", x.name, got, err, r.model)
		}
		if x.state != nil && *x.state != x.tag {
			r.failf("%s: BufferWith's state holds %d, want %d", x.name, *x.state, x.tag)
		}
	}
}
