//go:build unix

package mapped_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/directmemtest"
	"github.com/offheap-go/offheap/mapped"
)

// Helpers shared by the package's tests. The tests do not run in parallel:
// several compare the "mapped" pool's Stats before and after.

// writeFile creates a file in t's temporary directory with data and
// returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sizedFile creates a (sparse) file of size zero bytes and returns its
// path.
func sizedFile(t *testing.T, name string, size int64) string {
	t.Helper()
	path := writeFile(t, name, nil)
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	return path
}

// pattern returns n bytes of a pattern that differs at every offset of a
// page.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// open opens path with flag; the file is closed when the test ends.
func open(t *testing.T, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// mustMap maps f and fails the test if it cannot. The caller frees.
func mustMap(t *testing.T, f *os.File, mode mapped.Mode, offset, size int64) *mapped.Buffer {
	t.Helper()
	b, err := mapped.Map(f, mode, offset, size)
	if err != nil {
		t.Fatalf("Map(%s, %v, %d, %d): %v", f.Name(), mode, offset, size, err)
	}
	return b
}

// free frees b and fails the test if that fails.
func free(t *testing.T, b *mapped.Buffer) {
	t.Helper()
	if err := b.Free(); err != nil {
		t.Errorf("Free: %v", err)
	}
}

// fileSize returns the size of the file at path.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// wantPathError checks that err is a *fs.PathError naming path and
// matching target.
func wantPathError(t *testing.T, err error, path string, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one matching %v", target)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("error %q (%T) is not a *fs.PathError", err, err)
	} else if pe.Path != path {
		t.Errorf("error %q names %q, want %q", err, pe.Path, path)
	}
	if !errors.Is(err, target) {
		t.Errorf("error %q does not match %v", err, target)
	}
}

// wantStats fails the test if the "mapped" pool's Stats are not want.
func wantStats(t *testing.T, want directmem.PoolStats) {
	t.Helper()
	if got := mapped.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

// plus returns s with count, capacity and used added.
func plus(s directmem.PoolStats, count, capacity, used int64) directmem.PoolStats {
	s.Count += count
	s.TotalCapacity += capacity
	s.MemoryUsed += used
	return s
}

// collect runs the garbage collector and waits for the cleanups it
// queued until the pool's count is at most want (or ten rounds pass), and
// returns the count.
func collect(t *testing.T, want int64) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 10 {
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			t.Fatalf("WaitPending: %v", err)
		}
		if n := mapped.Stats().Count; n <= want {
			return n
		}
	}
	return mapped.Stats().Count
}

// drainCollected marks the leak reports of mappings the test let the
// collector unmap on purpose as checked, so that VerifyTestMain does not
// fail the run for them. Nothing else may be live: the tests are serial.
func drainCollected(t *testing.T) {
	t.Helper()
	directmemtest.VerifyNone(t, directmemtest.IgnoreCollected())
}

// countingMmap replaces mmap(2) for the test with one that counts its
// calls, and fails with errs[i] on the i-th call while there are errs.
func countingMmap(t *testing.T, errs ...error) *int {
	t.Helper()
	calls := new(int)
	var real mapped.MmapFunc
	real = mapped.SwapMmap(func(fd int, offset int64, addr unsafe.Pointer, length uintptr, prot, flags int) (unsafe.Pointer, error) {
		*calls++
		if i := *calls - 1; i < len(errs) && errs[i] != nil {
			return nil, errs[i]
		}
		return real(fd, offset, addr, length, prot, flags)
	})
	t.Cleanup(func() { mapped.SwapMmap(real) })
	return calls
}

// recordSleeps replaces the retry's time.Sleep for the test with one that
// only records its argument.
func recordSleeps(t *testing.T) *[]time.Duration {
	t.Helper()
	slept := new([]time.Duration)
	old := mapped.SwapSleep(func(d time.Duration) { *slept = append(*slept, d) })
	t.Cleanup(func() { mapped.SwapSleep(old) })
	return slept
}

func TestModeString(t *testing.T) {
	for m, want := range map[mapped.Mode]string{
		mapped.ReadOnly: "READ_ONLY", mapped.ReadWrite: "READ_WRITE", mapped.Private: "PRIVATE", mapped.Mode(7): "Mode(7)",
	} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}

// TestMapArgumentOrder: FileChannelImpl.map checks the position, the
// size, their sum and then the mode, in that order, before touching the
// file. Every case here fails on more than one count; the error must be
// the first, match fs.ErrInvalid, and come before any system call: mmap is
// never called, the file never grows, nothing is counted.
func TestMapArgumentOrder(t *testing.T) {
	path := writeFile(t, "args", pattern(100))
	calls := countingMmap(t)
	before := mapped.Stats()
	cases := []struct {
		mode         mapped.Mode
		offset, size int64
		want         string
	}{
		{mapped.Mode(9), -1, -1, "negative offset -1"},
		{mapped.Mode(-1), -5, math.MaxInt64, "negative offset -5"},
		{mapped.Mode(9), 0, -1, "negative size -1"},
		{mapped.Mode(3), 3, math.MinInt64, "negative size"},
		{mapped.Mode(9), math.MaxInt64, 1, "overflows"},
		{mapped.Mode(9), 1, math.MaxInt64, "overflows"},
		{mapped.Mode(9), 0, 10, "unknown mode 9"},
		{mapped.Mode(-1), 0, 0, "unknown mode -1"},
		{mapped.ReadOnly, -1, 10, "negative offset"},
		{mapped.ReadWrite, 10, -1, "negative size"},
		{mapped.Private, math.MaxInt64 - 1, 2, "overflows"},
	}
	// A file open for writing only and one already closed: the argument
	// checks come before the access mode and before the descriptor is
	// looked at.
	wronly := open(t, path, os.O_WRONLY)
	closed, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	files := []*os.File{open(t, path, os.O_RDONLY), open(t, path, os.O_RDWR), wronly, closed}
	for _, c := range cases {
		for _, f := range files {
			b, err := mapped.Map(f, c.mode, c.offset, c.size)
			if b != nil {
				t.Errorf("Map(%v, %d, %d) returned a buffer", c.mode, c.offset, c.size)
			}
			wantPathError(t, err, path, fs.ErrInvalid)
			if err != nil && !strings.Contains(err.Error(), c.want) {
				t.Errorf("Map(%v, %d, %d) = %q, want the error to say %q", c.mode, c.offset, c.size, err, c.want)
			}
		}
		// MapFile checks before it opens: a missing file is not the error.
		missing := filepath.Join(t.TempDir(), "missing")
		_, err := mapped.MapFile(missing, c.mode, c.offset, c.size)
		wantPathError(t, err, missing, fs.ErrInvalid)
		if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("MapFile created %s: %v", missing, err)
		}
	}
	if *calls != 0 {
		t.Errorf("mmap called %d times for invalid arguments", *calls)
	}
	if n := fileSize(t, path); n != 100 {
		t.Errorf("file size %d after invalid maps, want 100", n)
	}
	wantStats(t, before)
}

// TestMapModeAccess: every mode needs the file open for reading, and
// ReadWrite and Private need it open for writing (NonReadableChannel and
// NonWritableChannelException): fs.ErrPermission, before any mapping and
// before the file is extended.
func TestMapModeAccess(t *testing.T) {
	path := writeFile(t, "access", pattern(100))
	calls := countingMmap(t)
	before := mapped.Stats()
	cases := []struct {
		flag int
		mode mapped.Mode
	}{
		{os.O_WRONLY, mapped.ReadOnly},
		{os.O_WRONLY, mapped.ReadWrite},
		{os.O_WRONLY, mapped.Private},
		{os.O_RDONLY, mapped.ReadWrite},
		{os.O_RDONLY, mapped.Private},
		{os.O_WRONLY | os.O_APPEND, mapped.ReadWrite},
	}
	for _, c := range cases {
		f := open(t, path, c.flag)
		for _, size := range []int64{0, 10, 100, 5000} { // 5000 is past EOF
			b, err := mapped.Map(f, c.mode, 0, size)
			if b != nil {
				t.Errorf("flag %#x, %v: Map returned a buffer", c.flag, c.mode)
			}
			wantPathError(t, err, path, fs.ErrPermission)
		}
	}
	if *calls != 0 {
		t.Errorf("mmap called %d times", *calls)
	}
	if n := fileSize(t, path); n != 100 {
		t.Errorf("file size %d, want 100: a refused mapping extended it", n)
	}
	wantStats(t, before)
}

// TestMapExtends: ReadWrite and Private mappings past the end of the file
// extend it to offset+size with zeros (FileChannelImpl.map's truncate);
// a ReadOnly one fails with an error naming the file's size, and the file
// is left alone, even when it is open for writing.
func TestMapExtends(t *testing.T) {
	data := pattern(100)
	for _, mode := range []mapped.Mode{mapped.ReadWrite, mapped.Private} {
		t.Run(mode.String(), func(t *testing.T) {
			path := writeFile(t, "short", data)
			f := open(t, path, os.O_RDWR)
			b := mustMap(t, f, mode, 50, 5000)
			defer free(t, b)
			if n := fileSize(t, path); n != 5050 {
				t.Errorf("file size %d after mapping [50, 5050), want 5050", n)
			}
			got := make([]byte, 5000)
			if err := b.GetBytesAt(0, got); err != nil {
				t.Fatal(err)
			}
			want := append(slices.Clone(data[50:]), make([]byte, 4950)...)
			if !bytes.Equal(got, want) {
				t.Errorf("mapping of the extended file does not read the old bytes then zeros")
			}
			// Size 0 past the end extends too: the JVM extends before it
			// looks at the size.
			e := mustMap(t, f, mode, 9000, 0)
			defer e.Free()
			if n := fileSize(t, path); n != 9000 {
				t.Errorf("file size %d after an empty mapping at 9000, want 9000", n)
			}
		})
	}
	t.Run("READ_ONLY", func(t *testing.T) {
		path := writeFile(t, "short", data)
		calls := countingMmap(t)
		before := mapped.Stats()
		for _, flag := range []int{os.O_RDONLY, os.O_RDWR} {
			f := open(t, path, flag)
			for _, c := range [][2]int64{{0, 101}, {100, 1}, {50, 5000}, {101, 0}, {math.MaxInt32, 1}} {
				b, err := mapped.Map(f, mapped.ReadOnly, c[0], c[1])
				if b != nil {
					t.Errorf("Map(ReadOnly, %d, %d) of a 100-byte file returned a buffer", c[0], c[1])
				}
				wantPathError(t, err, path, fs.ErrInvalid)
				if err != nil && !strings.Contains(err.Error(), "100 bytes") {
					t.Errorf("error %q does not name the file size, 100 bytes", err)
				}
			}
		}
		if n := fileSize(t, path); n != 100 {
			t.Errorf("a ReadOnly mapping changed the file size to %d", n)
		}
		if *calls != 0 {
			t.Errorf("mmap called %d times", *calls)
		}
		wantStats(t, before)
		// Up to the end exactly is fine.
		b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 60, 40)
		defer free(t, b)
		if v, err := b.GetAt(39); err != nil || v != data[99] {
			t.Errorf("GetAt(39) = %d, %v, want %d", v, err, data[99])
		}
	})
}

// TestMapSizeZero: a mapping of size 0 maps nothing (no mmap call) and is
// not counted; it is empty, loaded, and Force and Load do nothing.
func TestMapSizeZero(t *testing.T) {
	path := writeFile(t, "zero", pattern(10000))
	calls := countingMmap(t)
	before := mapped.Stats()
	for _, mode := range []mapped.Mode{mapped.ReadOnly, mapped.ReadWrite, mapped.Private} {
		flag := os.O_RDWR
		if mode == mapped.ReadOnly {
			flag = os.O_RDONLY
		}
		for _, off := range []int64{0, 1, 4096, 9999, 10000} {
			b := mustMap(t, open(t, path, flag), mode, off, 0)
			if b.Capacity() != 0 || b.Limit() != 0 || b.Position() != 0 {
				t.Errorf("%v at %d: %v, want an empty buffer", mode, off, b)
			}
			if b.Mode() != mode || b.IsReadOnly() != (mode == mapped.ReadOnly) {
				t.Errorf("%v at %d: Mode %v, IsReadOnly %v", mode, off, b.Mode(), b.IsReadOnly())
			}
			if ok, err := b.IsLoaded(); !ok || err != nil {
				t.Errorf("%v at %d: IsLoaded() = %v, %v, want true", mode, off, ok, err)
			}
			for name, f := range map[string]func() error{"Load": b.Load, "Force": b.Force, "ForceRange(0, 0)": func() error { return b.ForceRange(0, 0) }, "Advise": func() error { return b.Advise(mapped.AdviseWillNeed) }} {
				if err := f(); err != nil {
					t.Errorf("%v at %d: %s: %v", mode, off, name, err)
				}
			}
			if _, err := b.GetAt(0); !errors.Is(err, directmem.ErrIndexOutOfRange) {
				t.Errorf("%v: GetAt(0) = %v, want ErrIndexOutOfRange", mode, err)
			}
			wantStats(t, before)
			if mode != mapped.ReadOnly {
				free(t, b)
			}
		}
	}
	if *calls != 0 {
		t.Errorf("mmap called %d times for empty mappings", *calls)
	}
	wantStats(t, before)
}

// TestMapSizeZeroReadOnlyFree: the empty buffer of a ReadOnly mapping is a
// buffer the caller owns, as every result of Map is: Free succeeds (the
// JVM's invokeCleaner does nothing on a buffer without a cleaner) and the
// buffer is then freed.
func TestMapSizeZeroReadOnlyFree(t *testing.T) {
	path := writeFile(t, "zero", pattern(10))
	b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 0, 0)
	if !b.IsReadOnly() {
		t.Error("size-0 READ_ONLY mapping is not read-only")
	}
	if err := b.Free(); err != nil {
		t.Fatalf("Free of a size-0 READ_ONLY mapping = %v", err)
	}
	if err := b.Force(); !errors.Is(err, directmem.ErrFreed) {
		t.Errorf("Force after Free = %v, want ErrFreed", err)
	}
}

// TestMapUnalignedOffset: the mapping starts at the page boundary below
// the offset; the buffer starts at the offset, and the pool counts the
// capacity asked for and the memory from the boundary.
func TestMapUnalignedOffset(t *testing.T) {
	ps := int64(os.Getpagesize())
	data := pattern(int(4 * ps))
	path := writeFile(t, "unaligned", data)
	f := open(t, path, os.O_RDWR)
	for _, c := range [][2]int64{{1, 10}, {100, 5000}, {ps - 1, 2}, {ps + 7, ps}, {2*ps + 3, 2*ps - 3}, {ps, ps}} {
		off, size := c[0], c[1]
		before := mapped.Stats()
		b := mustMap(t, f, mapped.ReadWrite, off, size)
		wantStats(t, plus(before, 1, size, size+off%ps))
		if b.Capacity() != int(size) {
			t.Errorf("offset %d: capacity %d, want %d", off, b.Capacity(), size)
		}
		got := make([]byte, size)
		if err := b.GetBytesAt(0, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[off:off+size]) {
			t.Errorf("offset %d: the buffer does not start at the offset", off)
		}
		if err := b.PutAt(0, ^data[off]); err != nil {
			t.Fatal(err)
		}
		if err := b.Force(); err != nil {
			t.Errorf("offset %d: Force: %v", off, err)
		}
		if err := b.Load(); err != nil {
			t.Errorf("offset %d: Load: %v", off, err)
		}
		if _, err := b.IsLoaded(); err != nil {
			t.Errorf("offset %d: IsLoaded: %v", off, err)
		}
		free(t, b)
		wantStats(t, before)
		var one [1]byte
		if _, err := f.ReadAt(one[:], off); err != nil || one[0] != ^data[off] {
			t.Errorf("offset %d: the file has %d, want the byte written through the mapping, %d", off, one[0], ^data[off])
		}
		data[off] = ^data[off]
	}
}

// TestMapOutlivesClose: the buffer stays valid, readable and writable,
// after the *os.File it was mapped from is closed; so is MapFile's.
func TestMapOutlivesClose(t *testing.T) {
	data := pattern(3000)
	path := writeFile(t, "close", data)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := mustMap(t, f, mapped.ReadWrite, 1000, 2000)
	defer free(t, b)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.GC() // the *os.File's own cleanup closes nothing more
	if v, err := b.GetInt64At(8); err != nil || v != int64(beUint64(data[1008:])) {
		t.Errorf("GetInt64At(8) after Close = %d, %v", v, err)
	}
	if err := b.PutUint32At(4, 0xdeadbeef); err != nil {
		t.Fatal(err)
	}
	if err := b.Force(); err != nil {
		t.Fatalf("Force after Close: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[1004:1008], []byte{0xde, 0xad, 0xbe, 0xef}) {
		t.Errorf("file has % x at 1004, want de ad be ef", got[1004:1008])
	}

	m, err := mapped.MapFile(path, mapped.ReadOnly, 1004, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer free(t, m)
	if v, err := m.GetUint32At(0); err != nil || v != 0xdeadbeef {
		t.Errorf("MapFile: GetUint32At(0) = %#x, %v", v, err)
	}
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

// TestMapFile: MapFile opens the file with the access the mode needs,
// does not create it, and its errors name it.
func TestMapFile(t *testing.T) {
	path := writeFile(t, "mapfile", pattern(200))
	for _, mode := range []mapped.Mode{mapped.ReadOnly, mapped.ReadWrite, mapped.Private} {
		b, err := mapped.MapFile(path, mode, 10, 100)
		if err != nil {
			t.Fatalf("MapFile(%v): %v", mode, err)
		}
		if b.Mode() != mode || b.IsReadOnly() != (mode == mapped.ReadOnly) {
			t.Errorf("MapFile(%v): Mode %v, IsReadOnly %v", mode, b.Mode(), b.IsReadOnly())
		}
		free(t, b)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root opens it for writing anyway
		_, err := mapped.MapFile(path, mapped.ReadWrite, 0, 10)
		wantPathError(t, err, path, fs.ErrPermission)
	}
	b, err := mapped.MapFile(path, mapped.ReadOnly, 0, 10)
	if err != nil {
		t.Fatalf("MapFile(ReadOnly) of a read-only file: %v", err)
	}
	free(t, b)

	missing := filepath.Join(t.TempDir(), "missing")
	for _, mode := range []mapped.Mode{mapped.ReadOnly, mapped.ReadWrite} {
		_, err := mapped.MapFile(missing, mode, 0, 10)
		wantPathError(t, err, missing, fs.ErrNotExist)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("MapFile created the file: %v", err)
	}
}

// TestMapBadFiles: a directory, a pipe, a closed file and a nil *os.File
// cannot be mapped; the error says why and names the file, and nothing is
// mapped or counted.
func TestMapBadFiles(t *testing.T) {
	calls := countingMmap(t)
	before := mapped.Stats()
	live := len(directmem.Live())

	dir := t.TempDir()
	d := open(t, dir, os.O_RDONLY)
	_, err := mapped.Map(d, mapped.ReadOnly, 0, 10)
	wantPathError(t, err, dir, fs.ErrInvalid)
	if err != nil && !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %q does not say it is one", err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	_, err = mapped.Map(r, mapped.ReadOnly, 0, 10)
	wantPathError(t, err, r.Name(), fs.ErrInvalid)
	if err != nil && !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("pipe: %q does not say it is not a regular file", err)
	}
	_, err = mapped.Map(r, mapped.ReadOnly, 0, 0)
	wantPathError(t, err, r.Name(), fs.ErrInvalid)
	_, err = mapped.Map(w, mapped.ReadOnly, 0, 10) // write end: not readable
	wantPathError(t, err, w.Name(), fs.ErrPermission)

	path := writeFile(t, "closed", pattern(100))
	c, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, size := range []int64{0, 10} {
		_, err = mapped.Map(c, mapped.ReadOnly, 0, size)
		wantPathError(t, err, path, os.ErrClosed)
	}

	b, err := mapped.Map(nil, mapped.ReadOnly, 0, 10)
	if b != nil || !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Map(nil) = %v, %v, want an error matching fs.ErrInvalid", b, err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("Map(nil): %T is not a *fs.PathError", err)
	}

	if *calls != 0 {
		t.Errorf("mmap called %d times", *calls)
	}
	wantStats(t, before)
	if n := len(directmem.Live()); n != live {
		t.Errorf("Live has %d allocations, %d before", n, live)
	}
}

// TestMapENOMEMRetry: mmap's ENOMEM gets one garbage collection, a 100 ms
// pause and one more try (FileChannelImpl.map's OutOfMemoryError path).
func TestMapENOMEMRetry(t *testing.T) {
	data := pattern(5000)
	path := writeFile(t, "enomem", data)
	f := open(t, path, os.O_RDWR)
	calls := countingMmap(t, unix.ENOMEM)
	slept := recordSleeps(t)
	before := mapped.Stats()
	b, err := mapped.Map(f, mapped.ReadWrite, 100, 1000)
	if err != nil {
		t.Fatalf("Map with one ENOMEM: %v", err)
	}
	defer free(t, b)
	if *calls != 2 {
		t.Errorf("mmap called %d times, want 2", *calls)
	}
	if !slices.Equal(*slept, []time.Duration{100 * time.Millisecond}) {
		t.Errorf("slept %v, want [100ms]", *slept)
	}
	if v, err := b.GetAt(5); err != nil || v != data[105] {
		t.Errorf("GetAt(5) = %d, %v, want %d", v, err, data[105])
	}
	wantStats(t, plus(before, 1, 1000, 1100))
}

// TestMapENOMEMFails: ENOMEM twice is ErrMapFailed (the JVM's "Map
// failed" OutOfMemoryError), still matching unix.ENOMEM and naming the
// file; nothing is counted.
func TestMapENOMEMFails(t *testing.T) {
	path := writeFile(t, "enomem", pattern(5000))
	f := open(t, path, os.O_RDONLY)
	calls := countingMmap(t, unix.ENOMEM, unix.ENOMEM, unix.ENOMEM)
	slept := recordSleeps(t)
	before := mapped.Stats()
	b, err := mapped.Map(f, mapped.ReadOnly, 0, 1000)
	if b != nil {
		t.Error("Map returned a buffer")
	}
	wantPathError(t, err, path, mapped.ErrMapFailed)
	if !errors.Is(err, unix.ENOMEM) {
		t.Errorf("%q does not match ENOMEM", err)
	}
	if *calls != 2 {
		t.Errorf("mmap called %d times, want 2", *calls)
	}
	if !slices.Equal(*slept, []time.Duration{100 * time.Millisecond}) {
		t.Errorf("slept %v, want [100ms]", *slept)
	}
	wantStats(t, before)
}

// TestMapOtherErrorNoRetry: an mmap error other than ENOMEM is returned
// at once, as it is, without a collection, a pause or ErrMapFailed.
func TestMapOtherErrorNoRetry(t *testing.T) {
	path := writeFile(t, "eacces", pattern(5000))
	f := open(t, path, os.O_RDONLY)
	calls := countingMmap(t, unix.EACCES)
	slept := recordSleeps(t)
	before := mapped.Stats()
	_, err := mapped.Map(f, mapped.ReadOnly, 0, 1000)
	wantPathError(t, err, path, unix.EACCES)
	if errors.Is(err, mapped.ErrMapFailed) {
		t.Errorf("%q matches ErrMapFailed", err)
	}
	if *calls != 1 || len(*slept) != 0 {
		t.Errorf("mmap called %d times, slept %v; want 1 call, no sleep", *calls, *slept)
	}
	wantStats(t, before)
}

// TestMapLiveAndPools: a live mapping is in directmem.Live (pool "mapped",
// the file, offset and mode in Detail, the capacity, the stack of the
// test) and in directmem.Pools; Free takes it out of both.
func TestMapLiveAndPools(t *testing.T) {
	path := writeFile(t, "live", pattern(9000))
	before := mapped.Stats()
	b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 4097, 3001)
	find := func() *directmem.Allocation {
		for _, a := range directmem.Live() {
			if a.Pool == "mapped" && strings.Contains(a.Detail, path) {
				return &a
			}
		}
		return nil
	}
	a := find()
	if a == nil {
		t.Fatalf("directmem.Live() = %v: no mapping of %s", directmem.Live(), path)
	}
	if a.Capacity != 3001 || !strings.Contains(a.Detail, "4097") || !strings.Contains(a.Detail, "READ_ONLY") {
		t.Errorf("Live: %+v, want capacity 3001 and the offset and mode in Detail", *a)
	}
	if !slices.ContainsFunc(a.Stack, func(f directmem.Frame) bool { return strings.HasSuffix(f.Function, ".TestMapLiveAndPools") }) {
		t.Errorf("Live: stack %v does not name the test", a.Stack)
	}
	want := plus(before, 1, 3001, 3001+4097%int64(os.Getpagesize()))
	wantStats(t, want)
	if !slices.Contains(directmem.Pools(), want) {
		t.Errorf("directmem.Pools() = %+v, want %+v in it", directmem.Pools(), want)
	}
	free(t, b)
	if find() != nil {
		t.Error("the mapping is still in Live after Free")
	}
	if !slices.Contains(directmem.Pools(), before) {
		t.Errorf("directmem.Pools() = %+v after Free, want %+v in it", directmem.Pools(), before)
	}
}
