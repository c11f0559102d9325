package directmem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// sharedPool is the pool of the Shared tests, made once per process: pool
// names are process-wide, and tests may run more than once (-count).
var sharedPool = directmem.NewPool("shared-test")

// share shares m in p with a Release that counts its calls.
func share(p *directmem.Pool, m directmem.Memory) (*directmem.Shared, *atomic.Int32) {
	released := new(atomic.Int32)
	m.Release = func() { released.Add(1) }
	return p.Share(m), released
}

// sharedState is the caller's state BufferWith makes with each buffer.
type sharedState struct {
	tag  uint64
	note string
}

// sharedMakers are the two ways of making a buffer of a Shared. The one of
// BufferWith also checks that the state comes zero, and with the buffer or
// not at all.
var sharedMakers = []struct {
	name string
	make func(testing.TB, *directmem.Shared) *directmem.Buffer
}{
	{"Buffer", func(_ testing.TB, s *directmem.Shared) *directmem.Buffer { return s.Buffer() }},
	{"BufferWith", func(tb testing.TB, s *directmem.Shared) *directmem.Buffer {
		b, x := directmem.BufferWith[sharedState](s)
		if (b == nil) != (x == nil) {
			tb.Errorf("BufferWith = %p, %p: want both or neither", b, x)
		}
		if x != nil && *x != (sharedState{}) {
			tb.Errorf("BufferWith's state is %+v, want zero", *x)
		}
		return b
	}},
}

// poolWatch reads a pool's statistics as changes since it was made, so
// that what other tests leave to the collector does not count.
type poolWatch struct {
	p    *directmem.Pool
	base directmem.PoolStats
}

func watchPool(p *directmem.Pool) poolWatch { return poolWatch{p, p.Stats()} }

func (w poolWatch) delta() (count, capacity, used int64) {
	s := w.p.Stats()
	return s.Count - w.base.Count, s.TotalCapacity - w.base.TotalCapacity, s.MemoryUsed - w.base.MemoryUsed
}

// check fails the test unless the pool has moved by exactly what is given.
func (w poolWatch) check(tb testing.TB, when string, count, capacity, used int64) {
	tb.Helper()
	if c, cp, u := w.delta(); c != count || cp != capacity || u != used {
		tb.Errorf("%s: pool moved by count %d, capacity %d, used %d; want %d, %d, %d", when, c, cp, u, count, capacity, used)
	}
}

// collectFor runs the collector and waits for the cleanups it queues until
// done reports true, failing the test after ten rounds.
func collectFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	for range 10 {
		if done() {
			return
		}
		drainCleanups(t)
	}
	if !done() {
		t.Fatalf("%s: still not so after 10 rounds of runtime.GC + WaitPending", what)
	}
}

// b2i is 1 for true.
func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// TestSharedCountsOnce: the pool counts the memory of a Shared once,
// whatever the number of its buffers, with MemoryUsed from Memory.Used (or
// the length), until it is released.
func TestSharedCountsOnce(t *testing.T) {
	for _, tc := range []struct {
		used, wantUsed int64
	}{{0, 30}, {4096, 4096}} {
		t.Run(fmt.Sprint(tc.used), func(t *testing.T) {
			w := watchPool(sharedPool)
			s, released := share(sharedPool, directmem.Memory{Bytes: make([]byte, 30), Used: tc.used})
			w.check(t, "no buffer", 1, 30, tc.wantUsed)
			var bufs []*directmem.Buffer
			for i := range 5 {
				bufs = append(bufs, sharedMakers[i%2].make(t, s))
			}
			w.check(t, "five buffers", 1, 30, tc.wantUsed)
			s.Close()
			for _, b := range bufs {
				b.Free()
			}
			w.check(t, "released", 0, 0, 0)
			if n := released.Load(); n != 1 {
				t.Errorf("released %d times, want 1", n)
			}
		})
	}
}

// TestSharedBuffer: each buffer of a Shared is a root buffer over the
// memory itself with a cursor of its own, fresh (position 0, limit at
// capacity, big-endian, writable); writes through one show in the memory
// and in the others. BufferWith's state is the buffer's own.
func TestSharedBuffer(t *testing.T) {
	for _, mk := range sharedMakers {
		t.Run(mk.name, func(t *testing.T) {
			mem := make([]byte, 24)
			s, released := share(sharedPool, directmem.Memory{Bytes: mem})
			b1, b2 := mk.make(t, s), mk.make(t, s)
			if b1 == nil || b2 == nil || b1 == b2 {
				t.Fatalf("buffers %p, %p: want two", b1, b2)
			}
			for _, b := range []*directmem.Buffer{b1, b2} {
				if c := cursorOf(b); c != (cursor{0, 24, -1}) || b.Capacity() != 24 || b.Order() != binary.BigEndian || b.IsReadOnly() || b.IsFreed() {
					t.Errorf("new buffer: %v cap %d, %v, read-only %v, freed %v", c, b.Capacity(), b.Order(), b.IsReadOnly(), b.IsFreed())
				}
			}
			if n := s.Buffers(); n != 2 {
				t.Errorf("Buffers() = %d, want 2", n)
			}
			if err := b1.PutUint32(0x01020304); err != nil {
				t.Fatal(err)
			}
			if b1.Position() != 4 || b2.Position() != 0 {
				t.Errorf("positions %d, %d after a put through the first: want 4, 0", b1.Position(), b2.Position())
			}
			b2.SetOrder(binary.LittleEndian)
			if v, err := b2.GetUint32(); v != 0x04030201 || err != nil || b1.Order() != binary.BigEndian {
				t.Errorf("second reads %#x, %v (first's order %v); want 0x4030201, nil, big-endian", v, err, b1.Order())
			}
			mem[23] = 0xEE
			if v, err := b1.GetAt(23); v != 0xEE || err != nil || !bytes.Equal(mem[:4], []byte{1, 2, 3, 4}) {
				t.Errorf("memory and buffer disagree: GetAt(23) = %#x, %v; memory %v", v, err, mem[:4])
			}
			b1.Free()
			b2.Free()
			s.Close()
			if n := released.Load(); n != 1 {
				t.Errorf("released %d times, want 1", n)
			}
		})
	}
	t.Run("State", func(t *testing.T) {
		s, _ := share(sharedPool, directmem.Memory{Bytes: make([]byte, 8)})
		defer s.Close()
		b1, x1 := directmem.BufferWith[sharedState](s)
		b2, x2 := directmem.BufferWith[sharedState](s)
		defer b1.Free()
		defer b2.Free()
		x1.tag = 7
		if x1 == x2 || *x2 != (sharedState{}) {
			t.Errorf("two buffers share their state: %p %p, second %+v", x1, x2, *x2)
		}
	})
}

// TestSharedFree: Free of one buffer of a Shared frees it and its views
// (every data method returns ErrFreed) while another buffer of it works;
// Free is idempotent, Free of a view is ErrNotOwner and uncounts nothing,
// and nothing is released while the Shared is open.
func TestSharedFree(t *testing.T) {
	w := watchPool(sharedPool)
	s, released := share(sharedPool, directmem.Memory{Bytes: make([]byte, 16)})
	for i, op := range dataOps() {
		freed, other := sharedMakers[i%2].make(t, s), sharedMakers[(i+1)%2].make(t, s)
		views := map[string]*directmem.Buffer{"slice": freed.Slice(), "duplicate": freed.Duplicate(), "readOnly": freed.AsReadOnly()}
		for name, v := range views {
			if err := v.Free(); !errors.Is(err, directmem.ErrNotOwner) {
				t.Errorf("Free of a %s view: %v, want ErrNotOwner", name, err)
			}
		}
		if n := s.Buffers(); n != 2 {
			t.Fatalf("Buffers() = %d after Free of views, want 2", n)
		}
		for range 2 {
			if err := freed.Free(); err != nil {
				t.Errorf("Free: %v", err)
			}
		}
		if n := s.Buffers(); n != 1 {
			t.Errorf("Buffers() = %d after Free of one of two, want 1", n)
		}
		views["buffer"] = freed
		for name, v := range views {
			if err := op.do(v); !errors.Is(err, directmem.ErrFreed) {
				t.Errorf("%s on freed %s: %v, want ErrFreed", op.name, name, err)
			}
		}
		if err := op.do(other); err != nil {
			t.Errorf("%s on the other buffer: %v", op.name, err)
		}
		other.Free()
	}
	if n, r := s.Buffers(), released.Load(); n != 0 || r != 0 {
		t.Errorf("all buffers freed, Shared open: Buffers() = %d, released %d times; want 0, 0", n, r)
	}
	w.check(t, "open", 1, 16, 16)
	s.Close()
	if n := released.Load(); n != 1 {
		t.Errorf("released %d times, want 1", n)
	}
}

// TestSharedClose: the memory is released exactly once, by Close if no
// buffer is live and otherwise by the last Free; Close and Free are
// idempotent, and after Close Buffer and BufferWith return nil.
func TestSharedClose(t *testing.T) {
	for _, live := range []int{0, 1, 3} {
		t.Run(fmt.Sprint(live), func(t *testing.T) {
			w := watchPool(sharedPool)
			s, released := share(sharedPool, directmem.Memory{Bytes: make([]byte, 8), Used: 4096})
			check := func(when string, buffers int, rel bool) {
				t.Helper()
				if n, r := s.Buffers(), released.Load(); n != int64(buffers) || r != b2i(rel) {
					t.Errorf("%s: Buffers() = %d, released %d times; want %d, %d", when, n, r, buffers, b2i(rel))
				}
				if rel {
					w.check(t, when, 0, 0, 0)
				} else {
					w.check(t, when, 1, 8, 4096)
				}
			}
			bufs := make([]*directmem.Buffer, live)
			for i := range bufs {
				bufs[i] = sharedMakers[i%2].make(t, s)
			}
			check("before Close", live, false)
			for i := range 2 {
				s.Close()
				check(fmt.Sprintf("after Close %d", i+1), live, live == 0)
				for _, mk := range sharedMakers {
					if b := mk.make(t, s); b != nil {
						t.Errorf("%s after Close = %v, want nil", mk.name, b)
					}
				}
			}
			for i, b := range bufs {
				for range 2 {
					if err := b.Free(); err != nil {
						t.Errorf("Free: %v", err)
					}
					check(fmt.Sprintf("after Free of buffer %d", i), live-i-1, i == live-1)
				}
				if _, err := b.GetAt(0); !errors.Is(err, directmem.ErrFreed) {
					t.Errorf("freed buffer: GetAt = %v, want ErrFreed", err)
				}
			}
			s.Close()
			check("after a last Close", 0, true)
		})
	}
}

// TestSharedEdges: zero-length memory (empty or nil Bytes) and a nil pool
// share and release as any other; a nil pool counts nothing in any pool
// and its buffers are not tracked by leak detection; memory without a
// Release is fine too.
func TestSharedEdges(t *testing.T) {
	setLeakDetection(t, directmem.LeakParanoid)
	const huge = 1 << 50 // Used that no pool could count unnoticed
	for _, tc := range []struct {
		name    string
		pool    *directmem.Pool
		bytes   []byte
		release bool
	}{
		{"empty", sharedPool, []byte{}, true},
		{"nilBytes", sharedPool, nil, true},
		{"nilPool", nil, make([]byte, 8), true},
		{"nilPoolEmpty", nil, []byte{}, true},
		{"nilPoolNoRelease", nil, make([]byte, 8), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := watchPool(sharedPool)
			detail := "shared-edges-" + tc.name
			m := directmem.Memory{Bytes: tc.bytes, Detail: detail}
			if tc.pool == nil {
				m.Used = huge
			}
			var released atomic.Int32
			if tc.release {
				m.Release = func() { released.Add(1) }
			}
			s := tc.pool.Share(m)
			var bufs []*directmem.Buffer
			for _, mk := range sharedMakers {
				b := mk.make(t, s)
				if b == nil {
					t.Fatalf("%s = nil", mk.name)
				}
				n := len(tc.bytes)
				if c := cursorOf(b); c != (cursor{0, n, -1}) || b.Capacity() != n {
					t.Errorf("%s: %v cap %d, want pos 0, lim and cap %d", mk.name, c, b.Capacity(), n)
				}
				if n == 0 {
					if _, err := b.Get(); !errors.Is(err, directmem.ErrBufferUnderflow) {
						t.Errorf("Get = %v, want ErrBufferUnderflow", err)
					}
					if err := b.PutAt(0, 1); !errors.Is(err, directmem.ErrIndexOutOfRange) {
						t.Errorf("PutAt(0) = %v, want ErrIndexOutOfRange", err)
					}
				} else if err := b.PutAt(n-1, 5); err != nil || tc.bytes[n-1] != 5 {
					t.Errorf("PutAt(%d) = %v, memory holds %d; want nil, 5", n-1, err, tc.bytes[n-1])
				}
				if v := b.Slice(); v.Capacity() != n || !errors.Is(v.Free(), directmem.ErrNotOwner) {
					t.Errorf("Slice: capacity %d, want %d, and Free ErrNotOwner", v.Capacity(), n)
				}
				bufs = append(bufs, b)
			}
			for _, ps := range directmem.Pools() {
				if ps.MemoryUsed >= huge {
					t.Errorf("pool %q counts memory of a nil pool: %+v", ps.Name, ps)
				}
			}
			tracked := 0
			for _, a := range directmem.Live() {
				if a.Detail == "share of "+detail {
					tracked++
				}
			}
			if want := 2 * int(b2i(tc.pool != nil)); tracked != want {
				t.Errorf("Live lists %d buffers, want %d", tracked, want)
			}
			if tc.pool != nil {
				w.check(t, "open", 1, 0, 0)
			}
			s.Close()
			for _, b := range bufs {
				if r := released.Load(); r != 0 {
					t.Errorf("released %d times while a buffer is live", r)
				}
				b.Free()
			}
			if r := released.Load(); r != b2i(tc.release) || s.Buffers() != 0 {
				t.Errorf("released %d times, Buffers() = %d; want %d, 0", r, s.Buffers(), b2i(tc.release))
			}
			w.check(t, "released", 0, 0, 0)
		})
	}
}

// TestSharedReadOnly: the buffers of read-only memory are read-only, as
// are their views: every write is ErrReadOnly and changes nothing, and
// reads see the memory.
func TestSharedReadOnly(t *testing.T) {
	mem := []byte("0123456789abcdef")
	s, released := share(sharedPool, directmem.Memory{Bytes: mem, ReadOnly: true})
	writes := []dataOp{
		{"Put", func(b *directmem.Buffer) error { return b.Put(1) }},
		{"PutAt", func(b *directmem.Buffer) error { return b.PutAt(0, 1) }},
		{"PutBytes", func(b *directmem.Buffer) error { return b.PutBytes([]byte{1, 2}) }},
		{"PutBytesAt", func(b *directmem.Buffer) error { return b.PutBytesAt(2, []byte{1, 2}) }},
		{"PutUint64At", func(b *directmem.Buffer) error { return b.PutUint64At(8, 1) }},
		{"PutBuffer", func(b *directmem.Buffer) error { return b.PutBuffer(directmem.Wrap([]byte{1}, nil)) }},
		{"Compact", func(b *directmem.Buffer) error { return b.Compact() }},
		{"Write", func(b *directmem.Buffer) error { _, err := b.Write([]byte{1}); return err }},
		{"WriteAt", func(b *directmem.Buffer) error { _, err := b.WriteAt([]byte{1}, 3); return err }},
		{"ReadFrom", func(b *directmem.Buffer) error { _, err := b.ReadFrom(strings.NewReader("x")); return err }},
	}
	for _, mk := range sharedMakers {
		b := mk.make(t, s)
		for name, v := range map[string]*directmem.Buffer{"buffer": b, "slice": b.Slice(), "duplicate": b.Duplicate()} {
			if !v.IsReadOnly() {
				t.Errorf("%s %s is not read-only", mk.name, name)
			}
			for _, op := range writes {
				if err := op.do(v); !errors.Is(err, directmem.ErrReadOnly) {
					t.Errorf("%s on %s %s: %v, want ErrReadOnly", op.name, mk.name, name, err)
				}
			}
			if c, err := v.GetAt(10); c != 'a' || err != nil {
				t.Errorf("%s %s: GetAt(10) = %q, %v", mk.name, name, c, err)
			}
		}
		if string(mem) != "0123456789abcdef" {
			t.Fatalf("a refused write changed the memory: %q", mem)
		}
		b.Free()
	}
	s.Close()
	if n := released.Load(); n != 1 {
		t.Errorf("released %d times, want 1", n)
	}
}

// setLeakDetection sets the leak detection level for the test, with a
// handler that drops the reports (the tests read them from LeaksSince).
func setLeakDetection(t *testing.T, level directmem.LeakLevel) {
	prev := directmem.LeakDetection()
	prevHandler := directmem.SetLeakHandler(func(directmem.Leak) {})
	directmem.SetLeakDetection(level)
	t.Cleanup(func() {
		directmem.SetLeakDetection(prev)
		directmem.SetLeakHandler(prevHandler)
	})
}

// shareHere makes a buffer of s, by BufferWith if with is set, and
// returns it with the line of the call.
//
//go:noinline
func shareHere(s *directmem.Shared, with bool) (*directmem.Buffer, int) {
	_, _, line, _ := runtime.Caller(0)
	if with {
		b, _ := directmem.BufferWith[sharedState](s)
		return b, line + 2
	}
	return s.Buffer(), line + 5
}

// dropShare makes a buffer of s, uses it and drops it without Free.
//
//go:noinline
func dropShare(t *testing.T, mk func(testing.TB, *directmem.Shared) *directmem.Buffer, s *directmem.Shared) {
	if err := mk(t, s).PutAt(0, 1); err != nil {
		t.Error(err)
	}
}

// sharedLeaks returns the leak reports since seq about memory of detail.
func sharedLeaks(seq uint64, detail string) []directmem.Leak {
	var out []directmem.Leak
	leaks, _ := directmem.LeaksSince(seq)
	for _, l := range leaks {
		if strings.Contains(l.Detail, detail) {
			out = append(out, l)
		}
	}
	return out
}

// TestSharedLeakReport: with leak detection on, each live buffer of a
// Shared is tracked as its pool's, with Detail "share of" the memory's and
// the stack of its making; a freed one is not, and one dropped without
// Free is released by the collector and reported as LeakCollected.
func TestSharedLeakReport(t *testing.T) {
	setLeakDetection(t, directmem.LeakParanoid)
	const detail = "shared-leak-test"
	s, released := share(sharedPool, directmem.Memory{Bytes: make([]byte, 40), Detail: detail})
	shares := func() []directmem.Allocation {
		var out []directmem.Allocation
		for _, a := range directmem.Live() {
			if a.Detail == "share of "+detail {
				out = append(out, a)
			}
		}
		return out
	}
	for _, mk := range sharedMakers {
		b, line := shareHere(s, mk.name == "BufferWith")
		got := shares()
		if len(got) != 1 || got[0].Pool != "shared-test" || got[0].Capacity != 40 || len(got[0].Stack) == 0 ||
			!strings.HasSuffix(got[0].Stack[0].Function, "directmem_test.shareHere") || got[0].Stack[0].Line != line {
			t.Errorf("%s: Live lists %v; want one buffer of shared-test, 40 bytes, made in shareHere at line %d", mk.name, got, line)
		}
		b.Free()
		if got := shares(); len(got) != 0 {
			t.Errorf("%s: Live lists a freed buffer: %v", mk.name, got)
		}
		_, seq := directmem.LeaksSince(math.MaxUint64)
		dropShare(t, mk.make, s)
		collectFor(t, "dropped buffer collected", func() bool { return s.Buffers() == 0 })
		leaks := sharedLeaks(seq, detail)
		if len(leaks) != 1 {
			t.Fatalf("%s: %d reports for a dropped buffer, want 1: %v", mk.name, len(leaks), leaks)
		}
		if l := leaks[0]; l.Kind != directmem.LeakCollected || l.Pool != "shared-test" || l.Capacity != 40 ||
			l.Detail != "share of "+detail || !strings.Contains(l.Message(), "share of "+detail) {
			t.Errorf("%s: report %v: want a collected buffer of shared-test, share of %s", mk.name, l, detail)
		}
	}
	if r := released.Load(); r != 0 {
		t.Errorf("released %d times while the Shared is open", r)
	}
	_, seq := directmem.LeaksSince(math.MaxUint64)
	s.Close()
	drainCleanups(t)
	if r, leaks := released.Load(), sharedLeaks(seq, detail); r != 1 || len(leaks) != 0 {
		t.Errorf("Close: released %d times, reports %v; want once, none", r, leaks)
	}
}

// shareAndDrop shares 32 bytes in p and drops the Shared without Close,
// with a freed buffer and a buffer of each kind dropped without Free, but
// for a view of one of them, which it returns.
//
//go:noinline
func shareAndDrop(t *testing.T, p *directmem.Pool, released *atomic.Int32) *directmem.Buffer {
	s := p.Share(directmem.Memory{Bytes: make([]byte, 32), Release: func() { released.Add(1) }})
	s.Buffer().Free()
	dropShare(t, sharedMakers[0].make, s)
	return liveView(t, sharedMakers[1].make(t, s))
}

// TestSharedDroppedWithoutClose: a Shared dropped without Close is
// released by the collector, once, when it and its buffers are all
// unreachable; a view of one of its buffers keeps the memory until then.
func TestSharedDroppedWithoutClose(t *testing.T) {
	w := watchPool(sharedPool)
	var released atomic.Int32
	view := shareAndDrop(t, sharedPool, &released)
	for range 3 {
		drainCleanups(t)
	}
	if r := released.Load(); r != 0 || !bytes.Equal(view.Bytes(), []byte("live")) {
		t.Fatalf("with a view live: released %d times, view reads %q; want 0, \"live\"", r, view.Bytes())
	}
	w.check(t, "view live", 1, 32, 32)
	runtime.KeepAlive(view)
	collectFor(t, "Shared released", func() bool { return released.Load() != 0 })
	drainCleanups(t)
	if r := released.Load(); r != 1 {
		t.Errorf("released %d times, want 1", r)
	}
	w.check(t, "released", 0, 0, 0)
}

// TestSharedCloseThenCollect: after Close, a buffer the collector releases
// gives its share back as Free would: the memory goes with the last
// buffer, whether the collector or Free takes it.
func TestSharedCloseThenCollect(t *testing.T) {
	for _, lastFreed := range []bool{false, true} {
		t.Run(fmt.Sprint("lastFreed=", lastFreed), func(t *testing.T) {
			w := watchPool(sharedPool)
			s, released := share(sharedPool, directmem.Memory{Bytes: make([]byte, 32)})
			dropShare(t, sharedMakers[1].make, s)
			var kept *directmem.Buffer
			if lastFreed {
				kept = s.Buffer()
			}
			s.Close()
			if r := released.Load(); r != 0 {
				t.Fatalf("released %d times by Close with buffers live", r)
			}
			collectFor(t, "dropped buffer collected", func() bool {
				return s.Buffers() == int64(b2i(lastFreed)) && released.Load() == b2i(!lastFreed)
			})
			if lastFreed {
				w.check(t, "one buffer live", 1, 32, 32)
				kept.Free()
			}
			if r := released.Load(); r != 1 {
				t.Errorf("released %d times, want 1", r)
			}
			w.check(t, "released", 0, 0, 0)
		})
	}
}

// TestSharedConcurrentClose: goroutines make, use and free buffers of one
// Shared while two others Close it: the memory is released exactly once,
// never while a buffer is live, and no Buffer succeeds after Close has
// returned. Meant for -race as much as for its checks.
func TestSharedConcurrentClose(t *testing.T) {
	const workers, rounds = 8, 40
	w := watchPool(sharedPool)
	for round := range rounds {
		var (
			live, made      atomic.Int64 // buffers got and not yet freed; got
			released        atomic.Int32
			closing, closed atomic.Bool // Close called; Close returned
		)
		s := sharedPool.Share(directmem.Memory{Bytes: make([]byte, 64), Release: func() {
			if n := live.Load(); n != 0 {
				t.Errorf("round %d: released with %d buffers live", round, n)
			}
			released.Add(1)
		}})
		free := func(b *directmem.Buffer) {
			if released.Load() != 0 {
				t.Errorf("round %d: released while a buffer is live", round)
			}
			live.Add(-1)
			if err := b.Free(); err != nil {
				t.Error(err)
			}
		}
		var wg sync.WaitGroup
		wg.Add(workers + 2)
		for g := range workers {
			go func() {
				defer wg.Done()
				var held []*directmem.Buffer
				for i := 0; ; i++ {
					after := closed.Load()
					b := sharedMakers[i%2].make(t, s)
					if b == nil {
						if !closing.Load() {
							t.Errorf("round %d: Buffer = nil before Close", round)
						}
						break
					}
					live.Add(1)
					if after {
						t.Errorf("round %d: Buffer succeeded after Close returned", round)
						free(b)
						break
					}
					made.Add(1)
					if err := b.PutAt(g, byte(i)); err != nil {
						t.Error(err)
					}
					if held = append(held, b); len(held) > (g+i)%4 {
						free(held[0])
						held = held[1:]
					}
				}
				for _, b := range held {
					free(b)
				}
			}()
		}
		// Close at a different point of each round, from no buffer made
		// to hundreds.
		closeAfter := int64(round * 37 % 500)
		for range 2 {
			go func() {
				defer wg.Done()
				for made.Load() < closeAfter {
					runtime.Gosched()
				}
				closing.Store(true)
				s.Close()
				closed.Store(true)
			}()
		}
		wg.Wait()
		if r, n := released.Load(), s.Buffers(); r != 1 || n != 0 {
			t.Fatalf("round %d: released %d times, Buffers() = %d; want 1, 0", round, r, n)
		}
	}
	w.check(t, "all released", 0, 0, 0)
}
