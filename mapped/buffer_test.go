//go:build unix

package mapped_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/mapped"
)

// TestPrivateWritesNeverReachFile: writes through a Private mapping are
// its own: neither the file nor a shared mapping of it sees them, Force
// included.
func TestPrivateWritesNeverReachFile(t *testing.T) {
	data := pattern(10000)
	path := writeFile(t, "private", data)
	f := open(t, path, os.O_RDWR)
	p := mustMap(t, f, mapped.Private, 0, 10000)
	defer free(t, p)
	shared := mustMap(t, f, mapped.ReadWrite, 0, 10000)
	defer free(t, shared)
	if _, err := p.Write(bytes.Repeat([]byte{0xAA}, 5000)); err != nil {
		t.Fatal(err)
	}
	if err := p.PutInt64At(8000, -1); err != nil {
		t.Fatal(err)
	}
	for name, force := range map[string]func() error{"Force": p.Force, "ForceRange": func() error { return p.ForceRange(0, 10000) }} {
		if err := force(); err != nil {
			t.Errorf("%s on a Private mapping: %v", name, err)
		}
	}
	if v, err := p.GetAt(10); err != nil || v != 0xAA {
		t.Errorf("the Private mapping reads %d, %v at 10, want its own write", v, err)
	}
	if v, err := shared.GetAt(10); err != nil || v != data[10] {
		t.Errorf("a shared mapping reads %d, %v at 10, want the file's %d", v, err, data[10])
	}
	free(t, p)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Error("the file changed after writes through a Private mapping")
	}
}

// TestReadOnlyWrites: every write through a ReadOnly mapping or a
// read-only view is directmem.ErrReadOnly, checked before bounds, and
// changes nothing; Force and ForceRange do nothing and succeed.
func TestReadOnlyWrites(t *testing.T) {
	data := pattern(300)
	path := writeFile(t, "ro", data)
	b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 0, 300)
	defer free(t, b)
	rw := mustMap(t, open(t, path, os.O_RDWR), mapped.ReadWrite, 0, 300)
	defer free(t, rw)
	for _, v := range []*mapped.Buffer{b, b.Slice(), b.Duplicate(), rw.AsReadOnly()} {
		if !v.IsReadOnly() {
			t.Errorf("%v is not read-only", v)
		}
		writes := map[string]func() error{
			"PutAt":        func() error { return v.PutAt(0, 1) },
			"PutAt(out)":   func() error { return v.PutAt(1000, 1) },
			"Put":          func() error { return v.Put(1) },
			"PutInt64":     func() error { return v.PutInt64(1) },
			"PutUint32At":  func() error { return v.PutUint32At(4, 1) },
			"PutFloat64At": func() error { return v.PutFloat64At(8, 1) },
			"PutBytes":     func() error { return v.PutBytes([]byte{1, 2}) },
			"PutBytesAt":   func() error { return v.PutBytesAt(3, []byte{1, 2}) },
			"Write":        func() error { _, err := v.Write([]byte{1}); return err },
			"WriteAt":      func() error { _, err := v.WriteAt([]byte{1}, 2); return err },
			"WriteByte":    func() error { return v.WriteByte(1) },
			"WriteString":  func() error { _, err := v.WriteString("x"); return err },
			"ReadFrom":     func() error { _, err := v.ReadFrom(strings.NewReader("xyz")); return err },
			"Compact":      v.Compact,
		}
		for name, w := range writes {
			if err := w(); !errors.Is(err, directmem.ErrReadOnly) {
				t.Errorf("%s on %v = %v, want ErrReadOnly", name, v, err)
			}
		}
		if v.Position() != 0 {
			t.Errorf("refused writes moved the position to %d", v.Position())
		}
		if err := v.Force(); err != nil {
			t.Errorf("Force on %v: %v", v, err)
		}
		if err := v.ForceRange(0, 10); err != nil {
			t.Errorf("ForceRange on %v: %v", v, err)
		}
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Error("the file changed")
	}
}

// TestForceRangeBounds: ForceRange's range must lie below the limit
// (MappedByteBuffer.force(index, length)'s Objects.checkFromIndexSize),
// whatever the capacity; an empty range at the limit is fine.
func TestForceRangeBounds(t *testing.T) {
	path := writeFile(t, "force", pattern(1000))
	b := mustMap(t, open(t, path, os.O_RDWR), mapped.ReadWrite, 0, 1000)
	defer free(t, b)
	if err := b.SetLimit(600); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]int{{0, 600}, {599, 1}, {600, 0}, {0, 0}, {300, 300}} {
		if err := b.ForceRange(c[0], c[1]); err != nil {
			t.Errorf("ForceRange(%d, %d) with limit 600: %v", c[0], c[1], err)
		}
	}
	for _, c := range [][2]int{{-1, 1}, {0, -1}, {0, 601}, {600, 1}, {601, 0}, {0, 1000}, {1, math.MaxInt}, {math.MaxInt, 1}, {math.MinInt, 2}} {
		if err := b.ForceRange(c[0], c[1]); !errors.Is(err, directmem.ErrIndexOutOfRange) {
			t.Errorf("ForceRange(%d, %d) with limit 600 = %v, want ErrIndexOutOfRange", c[0], c[1], err)
		}
	}
	if err := b.Force(); err != nil { // the whole capacity, whatever the limit
		t.Errorf("Force: %v", err)
	}
}

// TestFree: after Free every method of the buffer and of its views
// returns ErrFreed, Force and Load too, and the pool drops the mapping; a
// second Free does nothing more.
func TestFree(t *testing.T) {
	path := writeFile(t, "free", pattern(9000))
	before := mapped.Stats()
	b := mustMap(t, open(t, path, os.O_RDWR), mapped.ReadWrite, 100, 8000)
	wantStats(t, plus(before, 1, 8000, 8100))
	slice, err := b.SliceAt(10, 100)
	if err != nil {
		t.Fatal(err)
	}
	views := []*mapped.Buffer{b, slice, b.Duplicate(), b.AsReadOnly(), b.Slice()}
	free(t, b)
	wantStats(t, before)
	for _, v := range views {
		if !v.IsFreed() {
			t.Errorf("%v: IsFreed false after Free", v)
		}
		calls := map[string]func() error{
			"GetAt":       func() error { _, err := v.GetAt(0); return err },
			"Get":         func() error { _, err := v.Get(); return err },
			"GetInt64At":  func() error { _, err := v.GetInt64At(0); return err },
			"GetBytes":    func() error { return v.GetBytes(make([]byte, 4)) },
			"Read":        func() error { _, err := v.Read(make([]byte, 4)); return err },
			"ReadAt":      func() error { _, err := v.ReadAt(make([]byte, 4), 0); return err },
			"WriteTo":     func() error { _, err := v.WriteTo(io.Discard); return err },
			"Force":       v.Force,
			"ForceRange":  func() error { return v.ForceRange(0, 1) },
			"Load":        v.Load,
			"IsLoaded":    func() error { _, err := v.IsLoaded(); return err },
			"Advise":      func() error { return v.Advise(mapped.AdviseRandom) },
			"PutAt":       func() error { return v.PutAt(0, 1) },
			"PutInt32":    func() error { return v.PutInt32(1) },
			"Write":       func() error { _, err := v.Write([]byte{1}); return err },
			"WriteString": func() error { _, err := v.WriteString("x"); return err },
		}
		for name, c := range calls {
			err := c()
			if v.IsReadOnly() && errors.Is(err, directmem.ErrReadOnly) {
				continue // read-only is checked first
			}
			if !errors.Is(err, directmem.ErrFreed) {
				t.Errorf("%s on %v after Free = %v, want ErrFreed", name, v, err)
			}
		}
	}
	if err := b.Free(); err != nil {
		t.Errorf("second Free: %v", err)
	}
	wantStats(t, before)
}

// TestFreeView: Free on a view is ErrNotOwner (invokeCleaner's "duplicate
// or slice") and leaves the mapping alone.
func TestFreeView(t *testing.T) {
	data := pattern(5000)
	path := writeFile(t, "view", data)
	before := mapped.Stats()
	b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 0, 5000)
	defer free(t, b)
	s, err := b.SliceAt(4000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*mapped.Buffer{b.Slice(), s, b.Duplicate(), b.AsReadOnly(), s.Duplicate()} {
		if err := v.Free(); !errors.Is(err, directmem.ErrNotOwner) {
			t.Errorf("Free on %v = %v, want ErrNotOwner", v, err)
		}
	}
	wantStats(t, plus(before, 1, 5000, 5000))
	if v, err := s.GetAt(1); err != nil || v != data[4001] {
		t.Errorf("after Free on views: GetAt = %d, %v", v, err)
	}
}

// TestViews: Slice, SliceAt, Duplicate and AsReadOnly return mapped
// Buffers over the same mapping, with the mode, and Force, ForceRange,
// Load, IsLoaded and Advise working on their own bytes.
func TestViews(t *testing.T) {
	ps := os.Getpagesize()
	data := pattern(6 * ps)
	path := writeFile(t, "views", data)
	f := open(t, path, os.O_RDWR)
	const off = 333
	b := mustMap(t, f, mapped.ReadWrite, off, int64(5*ps))
	defer free(t, b)
	if err := b.SetPosition(ps + 5); err != nil {
		t.Fatal(err)
	}
	slice := b.Slice()
	at, err := b.SliceAt(2*ps-1, ps+2)
	if err != nil {
		t.Fatal(err)
	}
	nested, err := at.SliceAt(1, 10)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		v     *mapped.Buffer
		start int // in the mapping
	}{
		{"Slice", slice, ps + 5},
		{"SliceAt", at, 2*ps - 1},
		{"SliceAt of SliceAt", nested, 2 * ps},
		{"Duplicate", b.Duplicate(), 0},
		{"AsReadOnly", b.AsReadOnly(), 0},
	}
	for i, c := range cases {
		v := c.v
		if v.Mode() != mapped.ReadWrite {
			t.Errorf("%s: Mode %v", c.name, v.Mode())
		}
		if !strings.Contains(v.String(), "READ_WRITE") || !strings.HasPrefix(v.String(), "mapped.Buffer[") {
			t.Errorf("%s: String() = %q", c.name, v.String())
		}
		if got, err := v.GetAt(0); err != nil || got != data[off+c.start] {
			t.Errorf("%s: GetAt(0) = %d, %v, want %d", c.name, got, err, data[off+c.start])
		}
		if err := v.Load(); err != nil {
			t.Errorf("%s: Load: %v", c.name, err)
		}
		if _, err := v.IsLoaded(); err != nil {
			t.Errorf("%s: IsLoaded: %v", c.name, err)
		}
		if err := v.Advise(mapped.AdviseSequential); err != nil {
			t.Errorf("%s: Advise: %v", c.name, err)
		}
		if err := v.Force(); err != nil {
			t.Errorf("%s: Force: %v", c.name, err)
		}
		if v.IsReadOnly() {
			continue
		}
		// A write at the end of the view, then ForceRange over it: the
		// file has it (MAP_SHARED writes reach the page cache anyway; this
		// checks that the range is the view's and is accepted).
		last := v.Limit() - 1
		val := byte(0xF0 + i)
		if err := v.PutAt(last, val); err != nil {
			t.Fatal(err)
		}
		if err := v.ForceRange(last, 1); err != nil {
			t.Errorf("%s: ForceRange(%d, 1): %v", c.name, last, err)
		}
		if err := v.ForceRange(last, 2); !errors.Is(err, directmem.ErrIndexOutOfRange) {
			t.Errorf("%s: ForceRange(%d, 2) past the view's limit = %v", c.name, last, err)
		}
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if pos := off + c.start + last; file[pos] != val {
			t.Errorf("%s: the file has %#x at %d, want %#x", c.name, file[pos], pos, val)
		}
	}
}

// TestViewKeepsMappingAlive: a view alone keeps the mapping mapped: drop
// the buffer Map returned, keep a slice, collect, and the slice still
// reads the file. Once the slice goes too, the collector unmaps.
func TestViewKeepsMappingAlive(t *testing.T) {
	data := pattern(20000)
	path := writeFile(t, "alive", data)
	old := directmem.SetLeakHandler(func(directmem.Leak) {}) // the report is expected
	defer directmem.SetLeakHandler(old)
	before := mapped.Stats()
	v := sliceOfDropped(t, path)
	if n := collect(t, before.Count); n != before.Count+1 {
		t.Fatalf("pool count %d after GC with a view live, want %d", n, before.Count+1)
	}
	got := make([]byte, 1000)
	if err := v.GetBytesAt(0, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[12000:13000]) {
		t.Error("the view reads wrong bytes after its root was collected")
	}
	if err := v.Load(); err != nil {
		t.Errorf("Load: %v", err)
	}
	runtime.KeepAlive(v)
	v = nil
	if n := collect(t, before.Count); n != before.Count {
		t.Errorf("pool count %d after the view was dropped, want %d", n, before.Count)
	}
	drainCollected(t)
}

//go:noinline
func sliceOfDropped(t *testing.T, path string) *mapped.Buffer {
	b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 2000, 18000)
	s, err := b.SliceAt(10000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGCUnmapsDropped: a mapping dropped without Free is unmapped by its
// cleanup, once: the pool count falls by one and stays there, and leak
// detection reports it as collected, naming the pool, the file, the
// capacity and the test that mapped it.
func TestGCUnmapsDropped(t *testing.T) {
	path := writeFile(t, "dropped", pattern(7000))
	var mu sync.Mutex
	var reports []directmem.Leak
	level := directmem.LeakDetection()
	directmem.SetLeakDetection(directmem.LeakParanoid)
	old := directmem.SetLeakHandler(func(l directmem.Leak) {
		mu.Lock()
		reports = append(reports, l)
		mu.Unlock()
	})
	defer func() {
		directmem.SetLeakHandler(old)
		directmem.SetLeakDetection(level)
	}()
	_, seq := directmem.LeaksSince(math.MaxUint64)
	before := mapped.Stats()

	mapAndDrop(t, path)
	wantStats(t, plus(before, 1, 6000, 6000+1000%int64(os.Getpagesize())))
	if n := collect(t, before.Count); n != before.Count {
		t.Fatalf("pool count %d after GC, want %d", n, before.Count)
	}
	wantStats(t, before)
	collect(t, before.Count-1) // more rounds: nothing more is released
	wantStats(t, before)

	logged, _ := directmem.LeaksSince(seq)
	var ours []directmem.Leak
	for _, l := range logged {
		if strings.Contains(l.Detail, path) {
			ours = append(ours, l)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("%d leak reports name %s, want 1: %v", len(ours), path, logged)
	}
	l := ours[0]
	if l.Kind != directmem.LeakCollected || l.Pool != "mapped" || l.Capacity != 6000 || !strings.Contains(l.Detail, "offset 1000") {
		t.Errorf("report %+v, want a collected mapped buffer of 6000 bytes at offset 1000", l)
	}
	if !strings.Contains(l.Stack.String(), "TestGCUnmapsDropped") {
		t.Errorf("report stack does not name the test:\n%v", l.Stack)
	}
	mu.Lock()
	delivered := len(reports)
	if delivered > 0 && reports[0].ID != l.ID {
		t.Errorf("handler got %v, LeaksSince %v", reports[0], l)
	}
	mu.Unlock()
	if delivered != 1 {
		t.Errorf("handler called %d times, want 1", delivered)
	}
	drainCollected(t)
}

//go:noinline
func mapAndDrop(t *testing.T, path string) {
	b := mustMap(t, open(t, path, os.O_RDWR), mapped.ReadWrite, 1000, 6000)
	if err := b.PutAt(0, 1); err != nil {
		t.Fatal(err)
	}
}

// TestFreeThenGC: Free then the collector releases once: no report, and
// the pool count falls by exactly one.
func TestFreeThenGC(t *testing.T) {
	path := writeFile(t, "freed", pattern(7000))
	_, seq := directmem.LeaksSince(math.MaxUint64)
	before := mapped.Stats()
	func() {
		b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 0, 7000)
		free(t, b)
	}()
	collect(t, before.Count-1)
	wantStats(t, before)
	if logged, _ := directmem.LeaksSince(seq); len(logged) != 0 {
		t.Errorf("leak reports after Free: %v", logged)
	}
}

// truncated maps a ReadWrite file of four pages and truncates it to one
// page and a bit: the first two pages work, the last two fault.
func truncated(t *testing.T) (*mapped.Buffer, int) {
	t.Helper()
	ps := os.Getpagesize()
	path := writeFile(t, "trunc", pattern(4*ps))
	f := open(t, path, os.O_RDWR)
	b := mustMap(t, f, mapped.ReadWrite, 0, int64(4*ps))
	if err := f.Truncate(int64(ps + 10)); err != nil {
		t.Fatal(err)
	}
	return b, ps
}

func wantFault(t *testing.T, what string, err error) {
	t.Helper()
	var fe *directmem.FaultError
	if !errors.Is(err, mapped.ErrFault) || !errors.As(err, &fe) {
		t.Errorf("%s = %v, want a *FaultError matching ErrFault", what, err)
	}
}

// TestFaultAfterTruncate: reading or writing a page past the end of a
// truncated file is ErrFault through the buffer and its views, by every
// family of accessor, and the cursor does not move; pages before the cut
// still work.
func TestFaultAfterTruncate(t *testing.T) {
	b, ps := truncated(t)
	defer free(t, b)
	cut := 2 * ps
	if v, err := b.GetAt(ps + 9); err != nil || v != pattern(ps + 10)[ps+9] {
		t.Errorf("GetAt below the cut = %d, %v", v, err)
	}
	if err := b.PutInt64At(ps+100, 5); err != nil { // past EOF, same page: zeros, no fault
		t.Errorf("PutInt64At in the last page: %v", err)
	}
	views := map[string]*mapped.Buffer{"root": b, "Duplicate": b.Duplicate(), "AsReadOnly": b.AsReadOnly()}
	if s, err := b.SliceAt(cut-8, 2*ps+8); err == nil {
		views["SliceAt"] = s // index 8 is the cut
	} else {
		t.Fatal(err)
	}
	for name, v := range views {
		i := cut
		if name == "SliceAt" {
			i = 8
		}
		_, err := v.GetAt(i)
		wantFault(t, name+".GetAt", err)
		_, err = v.GetInt64At(i + 16)
		wantFault(t, name+".GetInt64At", err)
		_, err = v.GetFloat32At(i + ps)
		wantFault(t, name+".GetFloat32At", err)
		wantFault(t, name+".GetBytesAt", v.GetBytesAt(i-4, make([]byte, 100)))
		_, err = v.ReadAt(make([]byte, 10), int64(i))
		wantFault(t, name+".ReadAt", err)
		if err := v.SetPosition(i - 2); err != nil {
			t.Fatal(err)
		}
		_, err = v.GetInt32() // straddles the cut
		wantFault(t, name+".GetInt32", err)
		wantFault(t, name+".GetBytes", v.GetBytes(make([]byte, 50)))
		_, err = v.Read(make([]byte, 50))
		wantFault(t, name+".Read", err)
		_, err = v.WriteTo(new(bytes.Buffer)) // io.Discard would not read the bytes
		wantFault(t, name+".WriteTo", err)
		if v.Position() != i-2 {
			t.Errorf("%s: faults moved the position to %d, want %d", name, v.Position(), i-2)
		}
		wantFault(t, name+".Load", v.Load())
		if v.IsReadOnly() {
			continue
		}
		wantFault(t, name+".PutAt", v.PutAt(i, 1))
		wantFault(t, name+".PutUint16At", v.PutUint16At(i+ps-1, 1))
		wantFault(t, name+".PutInt64", v.PutInt64(1))
		_, err = v.Write([]byte("hello"))
		wantFault(t, name+".Write", err)
		_, err = v.ReadFrom(strings.NewReader("hello"))
		wantFault(t, name+".ReadFrom", err)
		if v.Position() != i-2 {
			t.Errorf("%s: faulting writes moved the position to %d", name, v.Position())
		}
	}
	// Views below the cut are unaffected.
	low, err := b.SliceAt(0, cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := low.Load(); err != nil {
		t.Errorf("Load of the pages before the cut: %v", err)
	}
	if _, err := low.GetInt64At(cut - 8); err != nil {
		t.Errorf("GetInt64At just below the cut: %v", err)
	}
}
