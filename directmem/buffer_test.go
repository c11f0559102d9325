package directmem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

// testAllocator serves the tests that do not look at budget counters. Its
// own budget keeps them independent of the process-wide default (which
// DIRECTMEM_MAX or GOMEMLIMIT may have set small).
var testAllocator = directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(1 << 30)})

// privateAllocator returns an allocator with a budget of its own, so that a
// test can check the budget's counters without other tests moving them.
func privateAllocator(max int64) (*directmem.Allocator, *limits.Budget) {
	budget := limits.NewBudget(max)
	return directmem.NewAllocator(directmem.Options{Budget: budget}), budget
}

// newTestBuffer allocates a zeroed buffer of n bytes from testAllocator and
// frees it when the test ends.
func newTestBuffer(tb testing.TB, n int) *directmem.Buffer {
	tb.Helper()
	b, err := testAllocator.AllocateContext(tb.Context(), n)
	if err != nil {
		tb.Fatalf("Allocate(%d): %v", n, err)
	}
	tb.Cleanup(func() {
		if err := b.Free(); err != nil {
			tb.Errorf("Free: %v", err)
		}
	})
	return b
}

// newFilledBuffer is newTestBuffer with byte i holding byte(i).
func newFilledBuffer(tb testing.TB, n int) *directmem.Buffer {
	tb.Helper()
	b := newTestBuffer(tb, n)
	for i := range n {
		if err := b.PutAt(i, byte(i)); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

// cursor is a buffer's indexes; mark is -1 when none is set.
type cursor struct{ pos, lim, mark int }

func (c cursor) String() string { return fmt.Sprintf("{pos=%d lim=%d mark=%d}", c.pos, c.lim, c.mark) }

// markOf returns b's mark, or -1, without changing b: a Duplicate has the
// same mark, and resetting it moves only the duplicate.
func markOf(b *directmem.Buffer) int {
	d := b.Duplicate()
	if err := d.Reset(); err != nil {
		return -1
	}
	return d.Position()
}

func cursorOf(b *directmem.Buffer) cursor {
	return cursor{b.Position(), b.Limit(), markOf(b)}
}

// setCursor puts b in state c through the public methods.
func setCursor(tb testing.TB, b *directmem.Buffer, c cursor) {
	tb.Helper()
	b.Clear()
	if err := b.SetLimit(c.lim); err != nil {
		tb.Fatal(err)
	}
	if c.mark >= 0 {
		if err := b.SetPosition(c.mark); err != nil {
			tb.Fatal(err)
		}
		b.Mark()
	}
	if err := b.SetPosition(c.pos); err != nil {
		tb.Fatal(err)
	}
	if got := cursorOf(b); got != c {
		tb.Fatalf("setCursor(%v) gave %v", c, got)
	}
}

// checkInvariants checks java.nio.Buffer's invariant
// -1 <= mark <= position <= limit <= capacity, and what follows from it.
func checkInvariants(tb testing.TB, b *directmem.Buffer) {
	tb.Helper()
	c := cursorOf(b)
	if c.mark < -1 || c.mark > c.pos || c.pos < 0 || c.pos > c.lim || c.lim > b.Capacity() {
		tb.Errorf("invariant broken: %v cap=%d", c, b.Capacity())
	}
	if b.Remaining() != c.lim-c.pos {
		tb.Errorf("Remaining() = %d, want %d", b.Remaining(), c.lim-c.pos)
	}
	if b.HasRemaining() != (c.pos < c.lim) {
		tb.Errorf("HasRemaining() = %v at %v", b.HasRemaining(), c)
	}
}

// wantErr fails the test unless err matches target (nil meaning no error).
func wantErr(tb testing.TB, what string, err, target error) {
	tb.Helper()
	switch {
	case target == nil && err != nil:
		tb.Errorf("%s: unexpected error %v", what, err)
	case target != nil && !errors.Is(err, target):
		tb.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// snapshot returns a copy of all of b's bytes, whatever its indexes.
func snapshot(tb testing.TB, b *directmem.Buffer) []byte {
	tb.Helper()
	d := b.Duplicate()
	d.Clear()
	out := make([]byte, d.Capacity())
	if err := d.GetBytes(out); err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	return out
}

// TestCursor checks each cursor method against java.nio.Buffer's rules:
// the resulting indexes, the error, and that a failed call changes nothing.
func TestCursor(t *testing.T) {
	const capacity = 16
	type op struct {
		name string
		do   func(*directmem.Buffer) error
	}
	setPos := func(p int) op {
		return op{fmt.Sprintf("SetPosition(%d)", p), func(b *directmem.Buffer) error { return b.SetPosition(p) }}
	}
	setLim := func(l int) op {
		return op{fmt.Sprintf("SetLimit(%d)", l), func(b *directmem.Buffer) error { return b.SetLimit(l) }}
	}
	mark := op{"Mark", func(b *directmem.Buffer) error { b.Mark(); return nil }}
	reset := op{"Reset", func(b *directmem.Buffer) error { return b.Reset() }}
	clear := op{"Clear", func(b *directmem.Buffer) error { b.Clear(); return nil }}
	flip := op{"Flip", func(b *directmem.Buffer) error { b.Flip(); return nil }}
	rewind := op{"Rewind", func(b *directmem.Buffer) error { b.Rewind(); return nil }}
	compact := op{"Compact", func(b *directmem.Buffer) error { return b.Compact() }}

	tests := []struct {
		from cursor
		op   op
		want cursor
		err  error
	}{
		{cursor{0, 16, -1}, setPos(5), cursor{5, 16, -1}, nil},
		{cursor{0, 16, -1}, setPos(16), cursor{16, 16, -1}, nil},
		{cursor{3, 10, 2}, setPos(10), cursor{10, 10, 2}, nil},
		{cursor{3, 10, 2}, setPos(11), cursor{3, 10, 2}, directmem.ErrIndexOutOfRange},
		{cursor{3, 10, 2}, setPos(16), cursor{3, 10, 2}, directmem.ErrIndexOutOfRange},
		{cursor{3, 10, 2}, setPos(-1), cursor{3, 10, 2}, directmem.ErrIndexOutOfRange},
		{cursor{3, 10, 2}, setPos(math.MinInt), cursor{3, 10, 2}, directmem.ErrIndexOutOfRange},
		{cursor{3, 10, 2}, setPos(math.MaxInt), cursor{3, 10, 2}, directmem.ErrIndexOutOfRange},
		{cursor{5, 10, 3}, setPos(3), cursor{3, 10, 3}, nil},  // mark at the position stays
		{cursor{5, 10, 3}, setPos(2), cursor{2, 10, -1}, nil}, // mark beyond it goes
		{cursor{5, 10, 3}, setPos(0), cursor{0, 10, -1}, nil}, // mark beyond it goes
		{cursor{5, 10, 3}, setPos(9), cursor{9, 10, 3}, nil},  // moving up keeps it
		{cursor{5, 10, 3}, setLim(8), cursor{5, 8, 3}, nil},   // position below: unchanged
		{cursor{5, 10, 3}, setLim(5), cursor{5, 5, 3}, nil},   // limit at the position
		{cursor{5, 10, 3}, setLim(4), cursor{4, 4, 3}, nil},   // position moves down to it
		{cursor{5, 10, 3}, setLim(3), cursor{3, 3, 3}, nil},   // mark at the limit stays
		{cursor{5, 10, 3}, setLim(2), cursor{2, 2, -1}, nil},  // mark beyond it goes
		{cursor{5, 10, 3}, setLim(0), cursor{0, 0, -1}, nil},  //
		{cursor{5, 10, 3}, setLim(16), cursor{5, 16, 3}, nil}, // up to the capacity
		{cursor{5, 10, 3}, setLim(17), cursor{5, 10, 3}, directmem.ErrIndexOutOfRange},
		{cursor{5, 10, 3}, setLim(-1), cursor{5, 10, 3}, directmem.ErrIndexOutOfRange},
		{cursor{5, 10, 3}, setLim(math.MinInt), cursor{5, 10, 3}, directmem.ErrIndexOutOfRange},
		{cursor{5, 10, 3}, setLim(math.MaxInt), cursor{5, 10, 3}, directmem.ErrIndexOutOfRange},
		{cursor{5, 10, -1}, mark, cursor{5, 10, 5}, nil},
		{cursor{5, 10, 1}, mark, cursor{5, 10, 5}, nil},
		{cursor{7, 10, 3}, reset, cursor{3, 10, 3}, nil},
		{cursor{3, 10, 3}, reset, cursor{3, 10, 3}, nil},
		{cursor{7, 10, -1}, reset, cursor{7, 10, -1}, directmem.ErrInvalidMark},
		{cursor{5, 10, 3}, clear, cursor{0, 16, -1}, nil},
		{cursor{5, 10, 3}, flip, cursor{0, 5, -1}, nil},
		{cursor{0, 10, 0}, flip, cursor{0, 0, -1}, nil},
		{cursor{5, 10, 3}, rewind, cursor{0, 10, -1}, nil},
		{cursor{5, 10, 3}, compact, cursor{5, 16, -1}, nil},
		{cursor{10, 10, -1}, compact, cursor{0, 16, -1}, nil},
		{cursor{0, 16, 0}, compact, cursor{16, 16, -1}, nil},
		{cursor{13, 16, 13}, compact, cursor{3, 16, -1}, nil},
	}
	b := newTestBuffer(t, capacity)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s_from_%v", tt.op.name, tt.from), func(t *testing.T) {
			setCursor(t, b, tt.from)
			err := tt.op.do(b)
			wantErr(t, tt.op.name, err, tt.err)
			if got := cursorOf(b); got != tt.want {
				t.Errorf("%s from %v: got %v, want %v", tt.op.name, tt.from, got, tt.want)
			}
			if b.Capacity() != capacity {
				t.Errorf("Capacity() = %d, want %d", b.Capacity(), capacity)
			}
			checkInvariants(t, b)
		})
	}
}

// TestCursorErrorMessages checks that the index errors say what was wrong,
// as the JVM's IllegalArgumentException messages do.
func TestCursorErrorMessages(t *testing.T) {
	b := newTestBuffer(t, 16)
	if err := b.SetLimit(8); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{b.SetPosition(9), "9 > 8"},
		{b.SetPosition(-1), "-1 < 0"},
		{b.SetLimit(17), "17 > 16"},
		{b.SetLimit(-2), "-2 < 0"},
	} {
		if !errors.Is(tt.err, directmem.ErrIndexOutOfRange) || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("error %q: want ErrIndexOutOfRange mentioning %q", tt.err, tt.want)
		}
	}
}

// TestCompactBytes checks what Compact does to the bytes: those between
// the position and the limit move to the start, the rest stay.
func TestCompactBytes(t *testing.T) {
	b := newFilledBuffer(t, 16)
	setCursor(t, b, cursor{13, 15, 13})
	if err := b.Compact(); err != nil {
		t.Fatal(err)
	}
	if got, want := cursorOf(b), (cursor{2, 16, -1}); got != want {
		t.Errorf("after Compact: %v, want %v", got, want)
	}
	want := []byte{13, 14, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if got := snapshot(t, b); !bytes.Equal(got, want) {
		t.Errorf("bytes after Compact = %v, want %v", got, want)
	}
	// Overlapping move: everything but the first byte shifts down by one.
	b.Clear()
	if err := b.SetPosition(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Compact(); err != nil {
		t.Fatal(err)
	}
	want = []byte{14, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15}
	if got := snapshot(t, b); !bytes.Equal(got, want) {
		t.Errorf("bytes after overlapping Compact = %v, want %v", got, want)
	}
}

func TestStringAndDirect(t *testing.T) {
	b := newTestBuffer(t, 16)
	setCursor(t, b, cursor{3, 9, -1})
	if got, want := b.String(), "directmem.Buffer[pos=3 lim=9 cap=16]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !b.IsDirect() || b.IsReadOnly() || b.IsFreed() {
		t.Errorf("IsDirect/IsReadOnly/IsFreed = %v/%v/%v, want true/false/false", b.IsDirect(), b.IsReadOnly(), b.IsFreed())
	}
}

// TestViews checks that Slice, SliceAt, Duplicate and AsReadOnly share the
// bytes but not the indexes, start big-endian, and keep read-only-ness.
func TestViews(t *testing.T) {
	root := newFilledBuffer(t, 16)
	root.SetOrder(binary.LittleEndian)
	setCursor(t, root, cursor{4, 12, 2})

	type viewCase struct {
		name     string
		view     *directmem.Buffer
		want     cursor
		capacity int
		offset   int // index in root of the view's byte 0
		readOnly bool
	}
	sliceAt, err := root.SliceAt(2, 5)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := root.SliceAt(12, 0) // at the limit: empty but valid
	if err != nil {
		t.Fatal(err)
	}
	ro := root.AsReadOnly()
	views := []viewCase{
		{"Slice", root.Slice(), cursor{0, 8, -1}, 8, 4, false},
		{"SliceAt", sliceAt, cursor{0, 5, -1}, 5, 2, false},
		{"SliceAtEmpty", empty, cursor{0, 0, -1}, 0, 12, false},
		{"Duplicate", root.Duplicate(), cursor{4, 12, 2}, 16, 0, false},
		{"AsReadOnly", ro, cursor{4, 12, 2}, 16, 0, true},
		{"ReadOnlySlice", ro.Slice(), cursor{0, 8, -1}, 8, 4, true},
		{"ReadOnlyDuplicate", ro.Duplicate(), cursor{4, 12, 2}, 16, 0, true},
		{"SliceOfSlice", root.Slice().Slice(), cursor{0, 8, -1}, 8, 4, false},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			if got := cursorOf(v.view); got != v.want {
				t.Errorf("indexes %v, want %v", got, v.want)
			}
			if v.view.Capacity() != v.capacity {
				t.Errorf("Capacity() = %d, want %d", v.view.Capacity(), v.capacity)
			}
			if v.view.IsReadOnly() != v.readOnly {
				t.Errorf("IsReadOnly() = %v, want %v", v.view.IsReadOnly(), v.readOnly)
			}
			if v.view.Order() != binary.BigEndian {
				t.Errorf("Order() = %v, want big-endian", v.view.Order())
			}
			if !v.view.IsDirect() {
				t.Error("IsDirect() = false")
			}
			checkInvariants(t, v.view)
			// The view sees the root's bytes...
			for i := range v.view.Limit() {
				got, err := v.view.GetAt(i)
				if err != nil || got != byte(v.offset+i) {
					t.Errorf("GetAt(%d) = %d, %v; want %d", i, got, err, v.offset+i)
				}
			}
			if v.capacity == 0 {
				return
			}
			// ...and the root sees the view's writes, unless it is read-only.
			err := v.view.PutAt(0, 0xEE)
			if v.readOnly {
				wantErr(t, "PutAt on read-only view", err, directmem.ErrReadOnly)
				if got, _ := root.GetAt(v.offset); got != byte(v.offset) {
					t.Errorf("read-only view changed root byte %d to %d", v.offset, got)
				}
			} else {
				wantErr(t, "PutAt", err, nil)
				if got, _ := root.GetAt(v.offset); got != 0xEE {
					t.Errorf("root byte %d = %#x after view write, want 0xee", v.offset, got)
				}
			}
			if err := root.PutAt(v.offset, 0xDD); err != nil {
				t.Fatal(err)
			}
			if got, _ := v.view.GetAt(0); got != 0xDD {
				t.Errorf("view byte 0 = %#x after root write, want 0xdd", got)
			}
			if err := root.PutAt(v.offset, byte(v.offset)); err != nil {
				t.Fatal(err)
			}
			// Moving the view's indexes leaves the root's alone.
			v.view.Clear()
			if err := v.view.SetPosition(1); err != nil {
				t.Fatal(err)
			}
			if got, want := cursorOf(root), (cursor{4, 12, 2}); got != want {
				t.Errorf("root indexes moved to %v, want %v", got, want)
			}
			// Free on a view is refused and frees nothing.
			if err := v.view.Free(); !errors.Is(err, directmem.ErrNotOwner) {
				t.Errorf("Free on a view: %v, want ErrNotOwner", err)
			}
			if root.IsFreed() || v.view.IsFreed() {
				t.Error("Free on a view released the memory")
			}
			if _, err := v.view.GetAt(0); err != nil {
				t.Errorf("GetAt after refused Free: %v", err)
			}
		})
	}
	if root.Order() != binary.LittleEndian {
		t.Errorf("root order changed to %v", root.Order())
	}
}

// TestSliceAtOutOfRange checks that SliceAt stays below the limit, not the
// capacity, and rejects negative and overflowing arguments.
func TestSliceAtOutOfRange(t *testing.T) {
	b := newTestBuffer(t, 16)
	setCursor(t, b, cursor{0, 10, -1})
	for _, tt := range []struct{ index, length int }{
		{-1, 1}, {-1, 0}, {0, -1}, {5, -1}, {0, 11}, {10, 1}, {11, 0}, {16, 0}, {4, 7},
		{math.MaxInt, 1}, {1, math.MaxInt}, {math.MaxInt, math.MaxInt}, {math.MinInt, 0}, {0, math.MinInt},
	} {
		v, err := b.SliceAt(tt.index, tt.length)
		if !errors.Is(err, directmem.ErrIndexOutOfRange) || v != nil {
			t.Errorf("SliceAt(%d, %d) = %v, %v; want nil, ErrIndexOutOfRange", tt.index, tt.length, v, err)
		}
	}
	for _, tt := range []struct{ index, length int }{{0, 10}, {10, 0}, {3, 7}, {0, 0}} {
		v, err := b.SliceAt(tt.index, tt.length)
		if err != nil || v.Capacity() != tt.length {
			t.Errorf("SliceAt(%d, %d) = %v, %v; want a view of %d bytes", tt.index, tt.length, v, err, tt.length)
		}
	}
}

func TestFreeTwiceAndOnViews(t *testing.T) {
	a, budget := privateAllocator(1 << 20)
	b, err := a.AllocateContext(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	views := []*directmem.Buffer{b.Slice(), b.Duplicate(), b.AsReadOnly(), b.Slice().Duplicate()}
	for i, v := range views {
		if err := v.Free(); !errors.Is(err, directmem.ErrNotOwner) {
			t.Errorf("view %d: Free = %v, want ErrNotOwner", i, err)
		}
	}
	if got := budget.Stats().Count; got != 1 {
		t.Fatalf("budget count %d after Free on views, want 1", got)
	}
	if err := b.Free(); err != nil {
		t.Fatalf("Free: %v", err)
	}
	if err := b.Free(); err != nil {
		t.Fatalf("second Free: %v", err)
	}
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 || s.TotalCapacity != 0 {
		t.Errorf("budget after Free twice: %+v, want all zero", s)
	}
	for i, v := range views {
		if !v.IsFreed() {
			t.Errorf("view %d: IsFreed() = false after root Free", i)
		}
		if err := v.Free(); !errors.Is(err, directmem.ErrNotOwner) {
			t.Errorf("view %d after root Free: Free = %v, want ErrNotOwner", i, err)
		}
	}
}

// dataOp is one Buffer method that touches memory, reduced to its error.
type dataOp struct {
	name string
	do   func(b *directmem.Buffer) error
}

// dataOps lists every method that reads or writes the bytes, with
// arguments that would succeed on a 16-byte buffer at position 0, limit 16.
func dataOps() []dataOp {
	ops := []dataOp{
		{"Get", func(b *directmem.Buffer) error { _, err := b.Get(); return err }},
		{"Put", func(b *directmem.Buffer) error { return b.Put(1) }},
		{"GetAt", func(b *directmem.Buffer) error { _, err := b.GetAt(0); return err }},
		{"PutAt", func(b *directmem.Buffer) error { return b.PutAt(0, 1) }},
		{"GetBytes", func(b *directmem.Buffer) error { return b.GetBytes(make([]byte, 4)) }},
		{"GetBytesEmpty", func(b *directmem.Buffer) error { return b.GetBytes(nil) }},
		{"PutBytes", func(b *directmem.Buffer) error { return b.PutBytes([]byte{1, 2, 3}) }},
		{"PutBytesEmpty", func(b *directmem.Buffer) error { return b.PutBytes(nil) }},
		{"GetBytesAt", func(b *directmem.Buffer) error { return b.GetBytesAt(2, make([]byte, 4)) }},
		{"PutBytesAt", func(b *directmem.Buffer) error { return b.PutBytesAt(2, []byte{1, 2}) }},
		{"PutBufferInto", func(b *directmem.Buffer) error {
			src := directmem.Wrap([]byte{1, 2, 3}, nil)
			return b.PutBuffer(src)
		}},
		{"PutBufferFrom", func(b *directmem.Buffer) error {
			dst := directmem.Wrap(make([]byte, 32), nil)
			return dst.PutBuffer(b)
		}},
		{"Compact", func(b *directmem.Buffer) error { return b.Compact() }},
		{"Read", func(b *directmem.Buffer) error { _, err := b.Read(make([]byte, 4)); return err }},
		{"ReadEmpty", func(b *directmem.Buffer) error { _, err := b.Read(nil); return err }},
		{"Write", func(b *directmem.Buffer) error { _, err := b.Write([]byte{1, 2}); return err }},
		{"WriteEmpty", func(b *directmem.Buffer) error { _, err := b.Write(nil); return err }},
		{"WriteString", func(b *directmem.Buffer) error { _, err := b.WriteString("ab"); return err }},
		{"ReadAt", func(b *directmem.Buffer) error { _, err := b.ReadAt(make([]byte, 4), 1); return err }},
		{"WriteAt", func(b *directmem.Buffer) error { _, err := b.WriteAt([]byte{1}, 1); return err }},
		{"ReadFrom", func(b *directmem.Buffer) error { _, err := b.ReadFrom(strings.NewReader("abc")); return err }},
		{"WriteTo", func(b *directmem.Buffer) error { _, err := b.WriteTo(io.Discard); return err }},
		{"ReadByte", func(b *directmem.Buffer) error { _, err := b.ReadByte(); return err }},
		{"WriteByte", func(b *directmem.Buffer) error { return b.WriteByte(1) }},
	}
	for _, tc := range typedCases {
		ops = append(ops,
			dataOp{"Get" + tc.name, func(b *directmem.Buffer) error { _, err := tc.get(b); return err }},
			dataOp{"Put" + tc.name, func(b *directmem.Buffer) error { return tc.put(b, 1) }},
			dataOp{"Get" + tc.name + "At", func(b *directmem.Buffer) error { _, err := tc.getAt(b, 0); return err }},
			dataOp{"Put" + tc.name + "At", func(b *directmem.Buffer) error { return tc.putAt(b, 0, 1) }},
		)
	}
	return ops
}

// TestUseAfterFree checks that after Free every data method of the buffer
// and of each view returns ErrFreed, Bytes returns nil, and the cursor
// methods keep working.
func TestUseAfterFree(t *testing.T) {
	newFreed := func(t *testing.T) map[string]*directmem.Buffer {
		b, err := testAllocator.AllocateContext(t.Context(), 16)
		if err != nil {
			t.Fatal(err)
		}
		before := map[string]*directmem.Buffer{
			"root":      b,
			"slice":     b.Slice(),
			"duplicate": b.Duplicate(),
			"readOnly":  b.AsReadOnly(),
		}
		if err := b.Free(); err != nil {
			t.Fatal(err)
		}
		before["sliceAfterFree"] = b.Slice()
		before["readOnlyAfterFree"] = b.AsReadOnly()
		return before
	}
	for _, op := range dataOps() {
		t.Run(op.name, func(t *testing.T) {
			for name, b := range newFreed(t) {
				if err := op.do(b); !errors.Is(err, directmem.ErrFreed) {
					t.Errorf("%s on freed %s: %v, want ErrFreed", op.name, name, err)
				}
			}
		})
	}
	t.Run("Bytes", func(t *testing.T) {
		for name, b := range newFreed(t) {
			if got := b.Bytes(); got != nil {
				t.Errorf("Bytes() of freed %s = %v, want nil", name, got)
			}
		}
	})
	t.Run("EqualCompare", func(t *testing.T) {
		live := newTestBuffer(t, 16)
		for name, b := range newFreed(t) {
			if b.Equal(live) || live.Equal(b) {
				t.Errorf("freed %s equals a live buffer", name)
			}
			if b.Compare(live) >= 0 || live.Compare(b) <= 0 {
				t.Errorf("freed %s does not sort before a live buffer", name)
			}
		}
	})
	t.Run("CursorMethods", func(t *testing.T) {
		for name, b := range newFreed(t) {
			if !b.IsFreed() {
				t.Errorf("%s: IsFreed() = false", name)
			}
			b.Clear()
			if err := b.SetLimit(b.Capacity() - 1); err != nil {
				t.Errorf("%s: SetLimit: %v", name, err)
			}
			if err := b.SetPosition(2); err != nil {
				t.Errorf("%s: SetPosition: %v", name, err)
			}
			b.Mark()
			if err := b.SetPosition(5); err != nil {
				t.Errorf("%s: SetPosition: %v", name, err)
			}
			if err := b.Reset(); err != nil || b.Position() != 2 {
				t.Errorf("%s: Reset = %v, position %d; want nil, 2", name, err, b.Position())
			}
			b.Flip()
			b.Rewind()
			b.SetOrder(binary.LittleEndian)
			if b.Order() != binary.LittleEndian {
				t.Errorf("%s: SetOrder had no effect", name)
			}
			if got := cursorOf(b); got != (cursor{0, 2, -1}) {
				t.Errorf("%s: indexes %v, want {0 2 -1}", name, got)
			}
			if _, err := b.SliceAt(0, 1); err != nil {
				t.Errorf("%s: SliceAt: %v", name, err)
			}
			if d := b.Duplicate(); !d.IsFreed() {
				t.Errorf("%s: Duplicate of freed buffer is not freed", name)
			}
			checkInvariants(t, b)
		}
	})
}

// TestReadOnlyBeforeBounds checks that a write to a read-only buffer is
// ErrReadOnly even where it would also be out of bounds (the JVM checks
// isReadOnly first), and that it changes nothing.
func TestReadOnlyBeforeBounds(t *testing.T) {
	root := newFilledBuffer(t, 16)
	big := make([]byte, 32)
	ops := []dataOp{
		{"Put", func(b *directmem.Buffer) error { return b.Put(1) }},
		{"PutAtLimit", func(b *directmem.Buffer) error { return b.PutAt(b.Limit(), 1) }},
		{"PutAtNegative", func(b *directmem.Buffer) error { return b.PutAt(-1, 1) }},
		{"PutBytes", func(b *directmem.Buffer) error { return b.PutBytes(big) }},
		{"PutBytesAt", func(b *directmem.Buffer) error { return b.PutBytesAt(-1, big) }},
		{"PutBuffer", func(b *directmem.Buffer) error { return b.PutBuffer(directmem.Wrap(big, nil)) }},
		{"Compact", func(b *directmem.Buffer) error { return b.Compact() }},
		{"Write", func(b *directmem.Buffer) error { _, err := b.Write(big); return err }},
		{"WriteString", func(b *directmem.Buffer) error { _, err := b.WriteString("x"); return err }},
		{"WriteAtNegative", func(b *directmem.Buffer) error { _, err := b.WriteAt(big, -1); return err }},
		{"WriteAtPastLimit", func(b *directmem.Buffer) error { _, err := b.WriteAt(big, 100); return err }},
		{"WriteByte", func(b *directmem.Buffer) error { return b.WriteByte(1) }},
		{"ReadFrom", func(b *directmem.Buffer) error { _, err := b.ReadFrom(bytes.NewReader(big)); return err }},
	}
	for _, tc := range typedCases {
		ops = append(ops,
			dataOp{"Put" + tc.name, func(b *directmem.Buffer) error { return tc.put(b, 1) }},
			dataOp{"Put" + tc.name + "AtLimit", func(b *directmem.Buffer) error { return tc.putAt(b, b.Limit(), 1) }},
			dataOp{"Put" + tc.name + "AtNegative", func(b *directmem.Buffer) error { return tc.putAt(b, -1, 1) }},
		)
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			ro := root.AsReadOnly()
			setCursor(t, ro, cursor{10, 10, 4}) // nothing remains: bounds fail too
			if err := op.do(ro); !errors.Is(err, directmem.ErrReadOnly) {
				t.Errorf("%s on read-only buffer at its limit: %v, want ErrReadOnly", op.name, err)
			}
			if got := cursorOf(ro); got != (cursor{10, 10, 4}) {
				t.Errorf("indexes moved to %v", got)
			}
			for i, v := range snapshot(t, root) {
				if v != byte(i) {
					t.Fatalf("byte %d changed to %d", i, v)
				}
			}
		})
	}
}

// TestBulkAllOrNothing checks that relative bulk and multi-byte operations
// that do not fit move nothing and copy nothing.
func TestBulkAllOrNothing(t *testing.T) {
	b := newFilledBuffer(t, 16)
	const sentinel = 0xA5
	check := func(t *testing.T, what string, err, target error, dst []byte) {
		t.Helper()
		wantErr(t, what, err, target)
		if got := cursorOf(b); got != (cursor{12, 15, 3}) {
			t.Errorf("%s moved the indexes to %v", what, got)
		}
		for i, v := range snapshot(t, b) {
			if v != byte(i) {
				t.Errorf("%s changed byte %d to %d", what, i, v)
			}
		}
		for i, v := range dst {
			if v != sentinel {
				t.Errorf("%s copied into dst[%d]", what, i)
				break
			}
		}
	}
	fresh := func(n int) []byte { return bytes.Repeat([]byte{sentinel}, n) }
	reset := func(t *testing.T) { setCursor(t, b, cursor{12, 15, 3}) } // 3 bytes remain

	t.Run("GetBytes", func(t *testing.T) {
		reset(t)
		dst := fresh(4)
		check(t, "GetBytes(4)", b.GetBytes(dst), directmem.ErrBufferUnderflow, dst)
	})
	t.Run("PutBytes", func(t *testing.T) {
		reset(t)
		check(t, "PutBytes(4)", b.PutBytes([]byte{9, 9, 9, 9}), directmem.ErrBufferOverflow, nil)
	})
	t.Run("PutBuffer", func(t *testing.T) {
		reset(t)
		src := directmem.Wrap([]byte{9, 9, 9, 9, 9}, nil)
		if err := src.SetPosition(1); err != nil {
			t.Fatal(err)
		}
		check(t, "PutBuffer(4 remaining)", b.PutBuffer(src), directmem.ErrBufferOverflow, nil)
		if src.Position() != 1 {
			t.Errorf("source position moved to %d", src.Position())
		}
	})
	t.Run("GetBytesAt", func(t *testing.T) {
		for _, tt := range []struct{ i, n int }{{12, 4}, {-1, 1}, {15, 1}, {16, 0}, {math.MaxInt, 1}, {math.MinInt, 1}} {
			reset(t)
			dst := fresh(tt.n)
			check(t, fmt.Sprintf("GetBytesAt(%d, %d)", tt.i, tt.n), b.GetBytesAt(tt.i, dst), directmem.ErrIndexOutOfRange, dst)
		}
	})
	t.Run("PutBytesAt", func(t *testing.T) {
		for _, tt := range []struct{ i, n int }{{12, 4}, {-1, 1}, {15, 1}, {16, 0}, {math.MaxInt, 1}, {math.MinInt, 1}} {
			reset(t)
			check(t, fmt.Sprintf("PutBytesAt(%d, %d)", tt.i, tt.n), b.PutBytesAt(tt.i, fresh(tt.n)), directmem.ErrIndexOutOfRange, nil)
		}
	})
	t.Run("Typed", func(t *testing.T) {
		for _, tc := range typedCases {
			if tc.size <= 3 {
				continue
			}
			reset(t)
			_, err := tc.get(b)
			check(t, "Get"+tc.name, err, directmem.ErrBufferUnderflow, nil)
			check(t, "Put"+tc.name, tc.put(b, math.MaxUint64), directmem.ErrBufferOverflow, nil)
		}
	})
	t.Run("Fits", func(t *testing.T) {
		reset(t)
		dst := fresh(3)
		if err := b.GetBytes(dst); err != nil || !bytes.Equal(dst, []byte{12, 13, 14}) {
			t.Errorf("GetBytes(3) = %v, %v", dst, err)
		}
		if b.Position() != 15 {
			t.Errorf("position %d, want 15", b.Position())
		}
	})
}

// TestPutBuffer checks the relative bulk copy between buffers: both
// positions advance, overlapping views copy as if through a temporary, and
// a buffer cannot be put into itself.
func TestPutBuffer(t *testing.T) {
	t.Run("Advances", func(t *testing.T) {
		dst := newTestBuffer(t, 8)
		src := newFilledBuffer(t, 8)
		setCursor(t, src, cursor{2, 6, -1})
		if err := dst.SetPosition(1); err != nil {
			t.Fatal(err)
		}
		if err := dst.PutBuffer(src); err != nil {
			t.Fatal(err)
		}
		if dst.Position() != 5 || src.Position() != 6 {
			t.Errorf("positions dst %d src %d, want 5 and 6", dst.Position(), src.Position())
		}
		if got, want := snapshot(t, dst), []byte{0, 2, 3, 4, 5, 0, 0, 0}; !bytes.Equal(got, want) {
			t.Errorf("dst = %v, want %v", got, want)
		}
	})
	t.Run("OverlapForward", func(t *testing.T) {
		root := newFilledBuffer(t, 16)
		src, err := root.SliceAt(0, 10)
		if err != nil {
			t.Fatal(err)
		}
		dst := root.Duplicate()
		if err := dst.SetPosition(2); err != nil {
			t.Fatal(err)
		}
		if err := dst.PutBuffer(src); err != nil {
			t.Fatal(err)
		}
		want := []byte{0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15}
		if got := snapshot(t, root); !bytes.Equal(got, want) {
			t.Errorf("after overlapping PutBuffer: %v, want %v", got, want)
		}
	})
	t.Run("OverlapBackward", func(t *testing.T) {
		root := newFilledBuffer(t, 16)
		src, err := root.SliceAt(3, 10)
		if err != nil {
			t.Fatal(err)
		}
		dst := root.Duplicate()
		if err := dst.PutBuffer(src); err != nil {
			t.Fatal(err)
		}
		want := []byte{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 10, 11, 12, 13, 14, 15}
		if got := snapshot(t, root); !bytes.Equal(got, want) {
			t.Errorf("after overlapping PutBuffer: %v, want %v", got, want)
		}
	})
	t.Run("Self", func(t *testing.T) {
		b := newFilledBuffer(t, 8)
		if err := b.PutBuffer(b); !errors.Is(err, directmem.ErrSameBuffer) {
			t.Errorf("PutBuffer(self) = %v, want ErrSameBuffer", err)
		}
		if b.Position() != 0 {
			t.Errorf("position moved to %d", b.Position())
		}
		// A duplicate is another buffer, even over the same bytes.
		if err := b.PutBuffer(b.Duplicate()); err != nil {
			t.Errorf("PutBuffer(duplicate) = %v", err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		dst := newTestBuffer(t, 4)
		setCursor(t, dst, cursor{4, 4, -1})
		src := directmem.Wrap([]byte{}, nil)
		if err := dst.PutBuffer(src); err != nil {
			t.Errorf("PutBuffer of nothing into a full buffer: %v", err)
		}
	})
}

// TestBytes checks that Bytes is the window between position and limit,
// shares memory, and cannot be appended past the limit.
func TestBytes(t *testing.T) {
	b := newFilledBuffer(t, 16)
	setCursor(t, b, cursor{3, 7, -1})
	p := b.Bytes()
	if !bytes.Equal(p, []byte{3, 4, 5, 6}) || cap(p) != 4 {
		t.Fatalf("Bytes() = %v (cap %d), want [3 4 5 6] (cap 4)", p, cap(p))
	}
	p[0] = 99
	if v, _ := b.GetAt(3); v != 99 {
		t.Errorf("write through Bytes not seen: %d", v)
	}
	_ = append(p, 1) // must reallocate, not overwrite byte 7
	if v := snapshot(t, b)[7]; v != 7 {
		t.Errorf("append to Bytes() overwrote byte 7 with %d", v)
	}
	if b.Position() != 3 {
		t.Errorf("Bytes moved the position to %d", b.Position())
	}
}
