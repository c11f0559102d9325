package directmem

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/limits"
	"github.com/offheap-go/offheap/pagealign"
)

// FuzzAllocatorOps decodes its input as a sequence of allocations, frees,
// views, writes and arena operations on a few Allocators and Arenas with
// different Options, applies each to the real thing and to a model (a
// []byte per live buffer and the sums the counters should show), and after
// every operation checks:
//
//   - contents: every live buffer holds what the model says was written
//     (a pattern written at allocation, and writes at offsets since).
//     To keep a step cheap, buffers are compared in full in turn, at least
//     one and up to 128 KiB a step, and the others at their first and last
//     64 bytes and 16 bytes in between; a new buffer is compared in full, a
//     write around what it wrote, and every buffer in full before it is
//     freed and at the end of the input;
//   - a new buffer is all zero (unless its Options.NoZero), has the
//     capacity asked for, and its first byte honours the alignment;
//   - an Allocator's buffer reserves what the size classes say
//     (owner.rel.size), and no two live buffers share a byte of what they
//     reserve: an Allocator's whole slot or mapping, an arena buffer's
//     capacity rounded up to the alignment or its class;
//   - live views are not freed and alias their root's memory at their
//     offset; freed buffers and views (and buffers of freed arenas) report
//     IsFreed, Bytes() nil, and ErrFreed from Get, GetAt and PutAt;
//   - the input's own budget has Count, TotalCapacity and Reserved equal
//     to the model's sums over live buffers (an arena's count until the
//     arena is freed), and the "direct" pool's Count, TotalCapacity and
//     MemoryUsed have moved from their values at the start of the input by
//     exactly the same amounts;
//   - errors, by sentinel: Free of a view or of an arena's buffer is
//     ErrNotOwner, a second Free nil, Allocate with capacity -1
//     ErrInvalidCapacity, Allocate on a freed arena ErrFreed, a write past
//     the capacity ErrIndexOutOfRange, a write to a read-only view
//     ErrReadOnly; none of them changes anything the checks see.
//
// At the end every buffer and arena is freed, and the budget and the pool
// must be back where they started.
//
// Input: each operation is one byte (mod 8) and its arguments, one byte
// each; bytes past the end read as 0, and at most 256 operations run:
//
//	0 alloc a s     1 free i          2 freeAgain d        3 view i k o n
//	4 write i o n v 5 arenaNew a      6 arenaAlloc j s     7 arenaFree j
//
// a picks the Options (afOptions), i a live buffer (allocation order), d a
// freed buffer or view (0 is the latest), j an arena, k the kind of view
// (Slice, Duplicate, AsReadOnly, SliceAt), o an offset as o/256 of the
// capacity, n a length, v a pattern byte; indexes are taken mod their list's
// length, and an operation with an empty list does nothing. A size byte s
// maps to a capacity (afCapacity): 0 -> 0, 1 -> -1, [2,128) -> 1..2048,
// [128,248) -> a small class's size -1, +0 or +1, [248,256) -> 40 KiB..300 KiB.
// Allocations beyond 64 live buffers or 8 MiB live are skipped, and at
// most 24 arenas are made (enough for a large mapping to pass through more
// arenas than zeroLarge's skip count). The seeds are in
// testdata/fuzz/FuzzAllocatorOps.
func FuzzAllocatorOps(f *testing.F) {
	// The pool's counters are the whole process's: buffers dropped by
	// earlier tests must be released before an input counts from them.
	drainGC(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		runAllocatorOps(t, data)
	})
}

// The operations, in the order their numbers decode.
const (
	afOpAlloc = iota
	afOpFree
	afOpFreeAgain
	afOpView
	afOpWrite
	afOpArenaNew
	afOpArenaAlloc
	afOpArenaFree
	afNumOps
)

// Bounds that keep an input to a few milliseconds.
const (
	afMaxSteps     = 256
	afMaxLive      = 64
	afMaxLiveBytes = 8 << 20
	afMaxArenas    = 24
	afMaxViews     = 16
	afMaxDead      = 64
	// afCheckBytes is how many bytes of live buffers are compared in full
	// after an operation; the others are sampled (checkSampled), and take
	// their turn.
	afCheckBytes = 128 << 10
	// afSamples is how many bytes checkSampled reads besides the ends.
	afSamples = 16
)

// afOptions are the allocators' (and arenas') options; Budget is set to
// the input's budget.
var afOptions = []Options{
	{}, // 16-byte aligned, zeroed, with a cleaner
	{Alignment: 1, NoCleaner: true},
	{Alignment: 64},
	{Alignment: 4096, NoCleaner: true},
	{NoZero: true, NoCleaner: true},
	{NoZero: true, Alignment: 64},
}

func afAlign(o Options) int {
	if o.Alignment == 0 {
		return DefaultAlignment
	}
	return o.Alignment
}

// afLarge are the large capacities: above the small classes, one byte over
// a class, and one byte over a power of two.
var afLarge = [8]int{40 << 10, 64 << 10, 64<<10 + 1, 100000, 128 << 10, 200 << 10, 256<<10 + 1, 300 << 10}

// afCapacity maps a size byte to a capacity; see FuzzAllocatorOps.
func afCapacity(s byte) int {
	switch {
	case s == 0:
		return 0
	case s == 1:
		return -1
	case s < 128:
		return 1 + (int(s)-2)*2047/125
	case s < 248:
		i := int(s) - 128
		return max(classSizes[i%numSmallClasses]+i/numSmallClasses-1, 1)
	}
	return afLarge[s-248]
}

// afReserved is what a buffer of capacity bytes reserves from its budget
// and counts in the pool's MemoryUsed: at least one byte; otherwise the
// capacity rounded up to the alignment, and then, except for an arena
// buffer that fits a bump block, to the first class whose size is a
// multiple of the alignment.
func afReserved(capacity, align int, arena bool) int64 {
	if capacity == 0 {
		return 1
	}
	n := (capacity + align - 1) &^ (align - 1)
	if arena && n <= arenaBumpMax {
		return int64(n)
	}
	for _, s := range classSizes {
		if s >= n && s%align == 0 {
			return int64(s)
		}
	}
	ps := pagealign.PageSize()
	return int64((n + ps - 1) &^ (ps - 1))
}

// afPattern fills p with seed+7i (mod 256): each buffer's bytes depend on
// their position and on the buffer, so a shifted or foreign byte shows.
func afPattern(p []byte, seed byte) {
	for i := range min(len(p), 256) {
		p[i] = seed + byte(i)*7
	}
	for n := 256; n < len(p); n *= 2 {
		copy(p[n:], p[:n])
	}
}

// afNonZero returns the index of the first byte of p that is not zero, or -1.
func afNonZero(p []byte) int {
	var zeros [4096]byte
	for off := 0; off < len(p); off += len(zeros) {
		if q := p[off:min(off+len(zeros), len(p))]; !bytes.Equal(q, zeros[:len(q)]) {
			return off + bytes.IndexFunc(q, func(c rune) bool { return c != 0 })
		}
	}
	return -1
}

// afIn reads the fuzz input; past its end it reads zeros.
type afIn struct{ p []byte }

func (in *afIn) byte() byte {
	if len(in.p) == 0 {
		return 0
	}
	c := in.p[0]
	in.p = in.p[1:]
	return c
}

// afBuf is a live buffer and its model.
type afBuf struct {
	b     *Buffer
	model []byte
	size  int64    // what it reserves (afReserved)
	arena *afArena // nil for a buffer of an Allocator
	name  string
}

// afView is a live view of a live buffer: off is where its first byte is
// in the root.
type afView struct {
	v        *Buffer
	root     *afBuf
	off      int
	readOnly bool
	name     string
}

type afArena struct {
	ar    *Arena
	opt   int
	freed bool
	bufs  []*afBuf
	name  string
}

// What a freed buffer is, which decides its second Free's answer.
const (
	afDeadRoot  = iota // a buffer of an Allocator: nil
	afDeadView         // a view: ErrNotOwner
	afDeadArena        // a buffer of a freed arena: ErrNotOwner
)

type afDead struct {
	b    *Buffer
	kind int
	name string
}

// afRun is one input's execution.
type afRun struct {
	t      *testing.T
	budget *limits.Budget
	allocs []*Allocator
	arenas []*afArena
	live   []*afBuf
	views  []*afView
	dead   []afDead
	pool0  PoolStats
	count  int64 // the model's sums over live buffers
	cap    int64
	used   int64
	ids    int
	step   int
	turn   int // where check starts comparing buffers in full
	log    []string
	done   bool
}

func runAllocatorOps(t *testing.T, data []byte) {
	r := &afRun{t: t, budget: limits.NewBudget(1 << 40), pool0: Stats()}
	for _, o := range afOptions {
		o.Budget = r.budget
		r.allocs = append(r.allocs, NewAllocator(o))
	}
	defer func() {
		// A failed check frees what is left, so that nothing is left to the
		// collector; a panic may have left a shard locked, so it frees nothing.
		if p := recover(); p != nil {
			panic(p)
		}
		r.releaseAll()
	}()
	in := &afIn{p: data}
	r.check()
	for r.step = 0; len(in.p) > 0 && r.step < afMaxSteps; r.step++ {
		r.apply(in)
		r.check()
	}
	r.finish()
}

func (r *afRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

func (r *afRun) failf(format string, args ...any) {
	r.t.Helper()
	log := r.log
	if len(log) > 60 {
		log = append([]string{"..."}, log[len(log)-60:]...)
	}
	r.t.Fatalf("step %d, after %s:\n%s", r.step, strings.Join(log, "; "), fmt.Sprintf(format, args...))
}

func (r *afRun) wantErr(what string, got, want error) {
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		r.failf("%s: error %v, want %v", what, got, want)
	}
}

// apply decodes and applies one operation.
func (r *afRun) apply(in *afIn) {
	switch op := int(in.byte()) % afNumOps; op {
	case afOpAlloc:
		opt, n := int(in.byte())%len(r.allocs), afCapacity(in.byte())
		r.allocate(opt, nil, n)
	case afOpFree:
		i := int(in.byte())
		if len(r.live) == 0 {
			r.logf("free: none")
			return
		}
		r.free(r.live[i%len(r.live)])
	case afOpFreeAgain:
		i := int(in.byte())
		if len(r.dead) == 0 {
			r.logf("freeAgain: none")
			return
		}
		d := r.dead[len(r.dead)-1-i%len(r.dead)]
		r.logf("freeAgain(%s)", d.name)
		var want error
		if d.kind != afDeadRoot {
			want = ErrNotOwner
		}
		r.wantErr("second Free of "+d.name, d.b.Free(), want)
	case afOpView:
		i, k, o, n := int(in.byte()), in.byte(), in.byte(), in.byte()
		if len(r.live) == 0 {
			r.logf("view: none")
			return
		}
		r.view(r.live[i%len(r.live)], k, o, n)
	case afOpWrite:
		i, o, n, v := int(in.byte()), in.byte(), in.byte(), in.byte()
		if len(r.live) == 0 {
			r.logf("write: none")
			return
		}
		r.write(r.live[i%len(r.live)], o, n, v)
	case afOpArenaNew:
		opt := int(in.byte()) % len(afOptions)
		if len(r.arenas) >= afMaxArenas {
			r.logf("arenaNew: enough")
			return
		}
		o := afOptions[opt]
		o.Budget = r.budget
		ar := &afArena{ar: NewArena(o), opt: opt, name: fmt.Sprintf("arena%d(opt%d)", len(r.arenas), opt)}
		r.logf("new %s", ar.name)
		if ar.ar.IsFreed() {
			r.failf("new %s is freed", ar.name)
		}
		r.arenas = append(r.arenas, ar)
	case afOpArenaAlloc:
		j, n := int(in.byte()), afCapacity(in.byte())
		if len(r.arenas) == 0 {
			r.logf("arenaAlloc: none")
			return
		}
		ar := r.arenas[j%len(r.arenas)]
		r.allocate(ar.opt, ar, n)
	case afOpArenaFree:
		j := int(in.byte())
		if len(r.arenas) == 0 {
			r.logf("arenaFree: none")
			return
		}
		r.freeArena(r.arenas[j%len(r.arenas)])
	default:
		panic("unreachable")
	}
}

// allocate allocates n bytes from allocator opt, or from ar if not nil.
func (r *afRun) allocate(opt int, ar *afArena, n int) {
	from := fmt.Sprintf("alloc%d", opt)
	if ar != nil {
		from = ar.name
	}
	get := func() (*Buffer, error) {
		if ar != nil {
			return ar.ar.Allocate(n)
		}
		return r.allocs[opt].Allocate(n)
	}
	switch {
	case n < 0:
		r.logf("%s.Allocate(%d)", from, n)
		b, err := get()
		r.wantErr(from+".Allocate(-1)", err, ErrInvalidCapacity)
		if b != nil {
			r.failf("%s.Allocate(%d) returned a buffer with its error", from, n)
		}
		return
	case ar != nil && ar.freed:
		r.logf("%s.Allocate(%d) after Free", from, n)
		b, err := get()
		r.wantErr(from+".Allocate after Free", err, ErrFreed)
		if b != nil {
			r.failf("%s.Allocate(%d) after Free returned a buffer", from, n)
		}
		return
	case len(r.live) >= afMaxLive || r.cap+int64(n) > afMaxLiveBytes:
		r.logf("%s.Allocate(%d): skipped", from, n)
		return
	}
	r.ids++
	name := fmt.Sprintf("b%d(%s,%d)", r.ids, from, n)
	r.logf("%s", name)
	b, err := get()
	if err != nil {
		r.failf("%s: %v", name, err)
	}
	opts := afOptions[opt]
	align := afAlign(opts)
	if b.Capacity() != n || b.Position() != 0 || b.Limit() != n || b.IsReadOnly() || b.IsFreed() {
		r.failf("%s: new buffer %v, read-only %v, freed %v", name, b, b.IsReadOnly(), b.IsFreed())
	}
	if n > 0 && addrOf(b)%uintptr(align) != 0 {
		r.failf("%s: first byte at %#x, not %d-aligned", name, addrOf(b), align)
	}
	if !opts.NoZero {
		if i := afNonZero(b.Bytes()); i >= 0 {
			r.failf("%s: new buffer has %#x at %d (at %#x)", name, b.Bytes()[i], i, addrOf(b))
		}
	}
	size := afReserved(n, align, ar != nil)
	if ar == nil && heapRel(b).size != size {
		r.failf("%s: reserves %d bytes, want %d", name, heapRel(b).size, size)
	}
	if ar != nil && !b.owner.arena {
		r.failf("%s: an arena's buffer whose owner is not the arena's", name)
	}
	buf := &afBuf{b: b, model: make([]byte, n), size: size, arena: ar, name: name}
	afPattern(buf.model, byte(r.ids*37+1))
	if err := b.PutBytesAt(0, buf.model); err != nil {
		r.failf("%s: writing the pattern: %v", name, err)
	}
	r.live = append(r.live, buf)
	if ar != nil {
		ar.bufs = append(ar.bufs, buf)
	}
	r.count++
	r.cap += int64(n)
	r.used += size
	r.checkFull(buf)
}

// free frees a live buffer: an Allocator's is released, an arena's is not
// the caller's to free.
func (r *afRun) free(buf *afBuf) {
	r.logf("free(%s)", buf.name)
	if buf.arena != nil {
		r.wantErr("Free of "+buf.name, buf.b.Free(), ErrNotOwner)
		if buf.b.IsFreed() {
			r.failf("%s: freed by a Free that returned ErrNotOwner", buf.name)
		}
		return
	}
	r.checkFull(buf)
	r.wantErr("Free of "+buf.name, buf.b.Free(), nil)
	r.kill(buf, afDeadRoot)
}

// freeArena frees an arena, or frees it again.
func (r *afRun) freeArena(ar *afArena) {
	r.logf("free(%s)", ar.name)
	if ar.freed {
		r.wantErr("second Free of "+ar.name, ar.ar.Free(), nil)
		return
	}
	for _, buf := range ar.bufs {
		r.checkFull(buf)
	}
	r.wantErr("Free of "+ar.name, ar.ar.Free(), nil)
	ar.freed = true
	for _, buf := range ar.bufs {
		r.kill(buf, afDeadArena)
	}
	ar.bufs = nil
}

// kill moves a freed buffer and its views from the live lists to the dead.
func (r *afRun) kill(buf *afBuf, kind int) {
	i := slices.Index(r.live, buf)
	r.live = slices.Delete(r.live, i, i+1)
	r.count--
	r.cap -= int64(len(buf.model))
	r.used -= buf.size
	r.views = slices.DeleteFunc(r.views, func(v *afView) bool {
		if v.root == buf {
			r.bury(afDead{b: v.v, kind: afDeadView, name: v.name})
			return true
		}
		return false
	})
	r.bury(afDead{b: buf.b, kind: kind, name: buf.name})
}

func (r *afRun) bury(d afDead) {
	if len(r.dead) == afMaxDead {
		r.dead = slices.Delete(r.dead, 0, 1)
	}
	r.dead = append(r.dead, d)
}

// view makes a view of root and tries to free it.
func (r *afRun) view(root *afBuf, k, o, nb byte) {
	c := root.b.Capacity()
	v := &afView{root: root}
	n := c
	switch k % 4 {
	case 0:
		v.v, v.name = root.b.Slice(), "Slice"
	case 1:
		v.v, v.name = root.b.Duplicate(), "Duplicate"
	case 2:
		v.v, v.name, v.readOnly = root.b.AsReadOnly(), "AsReadOnly", true
	case 3:
		v.off = int(o) * c / 256
		n = (c - v.off) * int(nb) / 255
		v.name = fmt.Sprintf("SliceAt(%d, %d)", v.off, n)
		var err error
		if v.v, err = root.b.SliceAt(v.off, n); err != nil {
			r.failf("%s of %s: %v", v.name, root.name, err)
		}
	}
	v.name += " of " + root.name
	r.logf("%s", v.name)
	if v.v.Capacity() != n || v.v.IsReadOnly() != v.readOnly {
		r.failf("%s: %v, read-only %v", v.name, v.v, v.v.IsReadOnly())
	}
	r.wantErr("Free of "+v.name, v.v.Free(), ErrNotOwner)
	if v.readOnly && n > 0 {
		r.wantErr("PutAt on "+v.name, v.v.PutAt(0, ^root.model[v.off]), ErrReadOnly)
	}
	if len(r.views) == afMaxViews {
		r.views = slices.Delete(r.views, 0, 1)
	}
	r.views = append(r.views, v)
}

// write writes n%128 bytes of a pattern at o/256 of buf's capacity; past
// the capacity it must fail and write nothing.
func (r *afRun) write(buf *afBuf, o, nb, v byte) {
	c := len(buf.model)
	off, n := int(o)*c/256, int(nb)%128
	p := make([]byte, n)
	for i := range p {
		p[i] = v ^ byte(i)
	}
	r.logf("write(%s, %d, %d)", buf.name, off, n)
	var want error
	if off+n > c {
		want = ErrIndexOutOfRange
	} else {
		copy(buf.model[off:], p)
	}
	r.wantErr(fmt.Sprintf("PutBytesAt(%d, %d bytes) on %s", off, n, buf.name), buf.b.PutBytesAt(off, p), want)
	// The bytes written and their surroundings; the rest of the buffer
	// takes its turn in check.
	lo, hi := max(off-64, 0), min(off+n+64, c)
	if got := buf.b.Bytes(); !bytes.Equal(got[lo:hi], buf.model[lo:hi]) {
		r.checkFull(buf)
	}
}

// checkFull compares all of a live buffer with its model.
func (r *afRun) checkFull(buf *afBuf) {
	got := buf.b.Bytes()
	if bytes.Equal(got, buf.model) {
		return
	}
	if len(got) != len(buf.model) {
		r.failf("%s: Bytes() has %d bytes, want %d (freed %v)", buf.name, len(got), len(buf.model), buf.b.IsFreed())
	}
	i := 0
	for got[i] == buf.model[i] {
		i++
	}
	j := len(got) - 1
	for got[j] == buf.model[j] {
		j--
	}
	r.failf("%s at %#x: bytes [%d, %d] differ from the model: %#x..., want %#x...",
		buf.name, addrOf(buf.b), i, j, got[i:min(i+16, j+1)], buf.model[i:min(i+16, j+1)])
}

// checkSampled compares a live buffer's first and last 64 bytes, and
// afSamples bytes spread over it, at offsets that change with the step.
func (r *afRun) checkSampled(buf *afBuf) {
	got, m := buf.b.Bytes(), buf.model
	if len(got) != len(m) {
		r.failf("%s: Bytes() has %d bytes, want %d", buf.name, len(got), len(m))
	}
	ends := min(len(m), 64)
	if !bytes.Equal(got[:ends], m[:ends]) || !bytes.Equal(got[len(m)-ends:], m[len(m)-ends:]) {
		r.checkFull(buf)
	}
	stride := len(m)/afSamples + 1
	for i := (r.step * 397) % stride; i < len(m); i += stride {
		if got[i] != m[i] {
			r.checkFull(buf)
		}
	}
}

// check runs the checks that follow every operation.
func (r *afRun) check() {
	// Contents: buffers in full, in turn, the first whatever its size and
	// the next while they add up to afCheckBytes; the rest sampled.
	left := afCheckBytes
	for k := range r.live {
		buf := r.live[(r.turn+k)%len(r.live)]
		if buf.b.IsFreed() {
			r.failf("live %s is freed", buf.name)
		}
		if k == 0 || len(buf.model) <= left {
			left -= len(buf.model)
			r.checkFull(buf)
			r.turn++
		} else {
			r.checkSampled(buf)
		}
	}
	for _, v := range r.views {
		r.checkView(v)
	}
	for _, d := range r.dead {
		r.checkDead(d)
	}
	for _, ar := range r.arenas {
		if ar.ar.IsFreed() != ar.freed {
			r.failf("%s: IsFreed %v, want %v", ar.name, ar.ar.IsFreed(), ar.freed)
		}
	}
	r.checkCounters()
	r.checkSpans()
}

// checkView checks that a live view is live and aliases its root.
func (r *afRun) checkView(v *afView) {
	n := v.v.Capacity()
	if v.v.IsFreed() || v.v.Position() != 0 || v.v.Limit() != n {
		r.failf("%s: %v, freed %v", v.name, v.v, v.v.IsFreed())
	}
	if n == 0 {
		return
	}
	if at, want := addrOf(v.v), addrOf(v.root.b)+uintptr(v.off); at != want {
		r.failf("%s: first byte at %#x, want %#x", v.name, at, want)
	}
	for _, i := range []int{0, n - 1} {
		if got, err := v.v.GetAt(i); err != nil || got != v.root.model[v.off+i] {
			r.failf("%s: GetAt(%d) = %#x, %v; want %#x", v.name, i, got, err, v.root.model[v.off+i])
		}
	}
}

// checkDead checks that a freed buffer or view says so and refuses access.
func (r *afRun) checkDead(d afDead) {
	if !d.b.IsFreed() {
		r.failf("freed %s: IsFreed false", d.name)
	}
	if d.b.Bytes() != nil {
		r.failf("freed %s: Bytes() not nil", d.name)
	}
	if _, err := d.b.Get(); !errors.Is(err, ErrFreed) {
		r.failf("Get on freed %s: %v, want ErrFreed", d.name, err)
	}
	if _, err := d.b.GetAt(0); !errors.Is(err, ErrFreed) {
		r.failf("GetAt(0) on freed %s: %v, want ErrFreed", d.name, err)
	}
	if err := d.b.PutAt(0, 1); !errors.Is(err, ErrFreed) {
		r.failf("PutAt(0) on freed %s: %v, want ErrFreed", d.name, err)
	}
}

// checkCounters compares the budget's counters and the pool's movement
// with the model's sums.
func (r *afRun) checkCounters() {
	if s := r.budget.Stats(); s.Count != r.count || s.TotalCapacity != r.cap || s.Reserved != r.used {
		r.failf("budget: count %d, capacity %d, reserved %d; want %d, %d, %d",
			s.Count, s.TotalCapacity, s.Reserved, r.count, r.cap, r.used)
	}
	p := Stats()
	if d := (PoolStats{Count: p.Count - r.pool0.Count, TotalCapacity: p.TotalCapacity - r.pool0.TotalCapacity,
		MemoryUsed: p.MemoryUsed - r.pool0.MemoryUsed}); d.Count != r.count || d.TotalCapacity != r.cap || d.MemoryUsed != r.used {
		r.failf("pool moved by count %+d, capacity %+d, used %+d (from %+v); want %+d, %+d, %+d",
			d.Count, d.TotalCapacity, d.MemoryUsed, r.pool0, r.count, r.cap, r.used)
	}
}

// checkSpans is checkNoOverlap over what each live buffer reserves, not
// only its capacity: an Allocator's slot or mapping, an arena buffer's
// bump space or class.
func (r *afRun) checkSpans() {
	type span struct {
		lo, hi uintptr
		name   string
	}
	var spans []span
	for _, buf := range r.live {
		if len(buf.model) > 0 {
			lo := addrOf(buf.b)
			spans = append(spans, span{lo, lo + uintptr(buf.size), buf.name})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for i := 1; i < len(spans); i++ {
		if a, b := spans[i-1], spans[i]; b.lo < a.hi {
			r.failf("%s [%#x, %#x) and %s [%#x, %#x) overlap", a.name, a.lo, a.hi, b.name, b.lo, b.hi)
		}
	}
}

// finish frees everything and checks that the budget and the pool are
// back where they started.
func (r *afRun) finish() {
	r.logf("end")
	for _, buf := range r.live {
		r.checkFull(buf)
	}
	for _, buf := range slices.Clone(r.live) {
		if buf.arena == nil {
			r.free(buf)
		}
	}
	for _, ar := range r.arenas {
		r.freeArena(ar)
	}
	r.check()
	if len(r.live) != 0 || len(r.views) != 0 {
		r.failf("%d buffers and %d views left", len(r.live), len(r.views))
	}
	if s := r.budget.Stats(); s.Count != 0 || s.TotalCapacity != 0 || s.Reserved != 0 {
		r.failf("budget after freeing everything: %+v", s)
	}
	if p := Stats(); p != r.pool0 {
		r.failf("pool after freeing everything: %+v, want %+v", p, r.pool0)
	}
	r.done = true
}

// releaseAll frees whatever a failed check left live, so that nothing is
// left for the collector or, for NoCleaner, lost.
func (r *afRun) releaseAll() {
	if r.done {
		return
	}
	for _, buf := range r.live {
		if buf.arena == nil {
			buf.b.Free()
		}
	}
	for _, ar := range r.arenas {
		ar.ar.Free()
	}
}
