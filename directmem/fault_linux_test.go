package directmem

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mappedTruncated maps a file of four pages and truncates it to one: the
// first page works, the other three fault.
func mappedTruncated(t *testing.T) (*Buffer, int) {
	t.Helper()
	mem, page := mapTruncated(t)
	return wrapMayFault(mem, nil), page
}

// mapTruncated is the memory of mappedTruncated, unmapped when the test ends.
func mapTruncated(t *testing.T) ([]byte, int) {
	t.Helper()
	page := os.Getpagesize()
	f, err := os.Create(filepath.Join(t.TempDir(), "m"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(4 * page)); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, 4*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	if err := f.Truncate(int64(page)); err != nil {
		t.Fatal(err)
	}
	return mem, page
}

var faultSink byte

type faultWriter struct{ panicWith any }

func (w faultWriter) Write(p []byte) (int, error) {
	if w.panicWith != nil {
		panic(w.panicWith)
	}
	for _, c := range p {
		faultSink += c
	}
	return len(p), nil
}

type faultReader struct{}

func (faultReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 1
	}
	return len(p), nil
}

// faultCases is every data method, at a place of b that faults: at the
// position for relative ones (set to at), at index at for absolute ones.
func faultCases(at int) map[string]func(b *Buffer) error {
	dst := make([]byte, 16)
	c := map[string]func(b *Buffer) error{
		"Get":        func(b *Buffer) error { _, err := b.Get(); return err },
		"Put":        func(b *Buffer) error { return b.Put(1) },
		"GetAt":      func(b *Buffer) error { _, err := b.GetAt(at); return err },
		"PutAt":      func(b *Buffer) error { return b.PutAt(at, 1) },
		"GetBytes":   func(b *Buffer) error { return b.GetBytes(dst) },
		"PutBytes":   func(b *Buffer) error { return b.PutBytes(dst) },
		"GetBytesAt": func(b *Buffer) error { return b.GetBytesAt(at, dst) },
		"PutBytesAt": func(b *Buffer) error { return b.PutBytesAt(at, dst) },
		"PutBuffer-dst": func(b *Buffer) error {
			src := wrapMayFault(make([]byte, 16), nil)
			return b.PutBuffer(src)
		},
		"PutBuffer-src": func(b *Buffer) error {
			return wrapMayFault(make([]byte, 1<<16), nil).PutBuffer(b)
		},
		"Compact":     func(b *Buffer) error { return b.Compact() },
		"Read":        func(b *Buffer) error { _, err := b.Read(dst); return err },
		"Write":       func(b *Buffer) error { _, err := b.Write(dst); return err },
		"WriteString": func(b *Buffer) error { _, err := b.WriteString("abc"); return err },
		"ReadByte":    func(b *Buffer) error { _, err := b.ReadByte(); return err },
		"WriteByte":   func(b *Buffer) error { return b.WriteByte(1) },
		"ReadAt":      func(b *Buffer) error { _, err := b.ReadAt(dst, int64(at)); return err },
		"WriteAt":     func(b *Buffer) error { _, err := b.WriteAt(dst, int64(at)); return err },
		"ReadFrom":    func(b *Buffer) error { _, err := b.ReadFrom(faultReader{}); return err },
		"WriteTo":     func(b *Buffer) error { _, err := b.WriteTo(faultWriter{}); return err },
	}
	for _, k := range []string{"Int16", "Uint16", "Int32", "Uint32", "Int64", "Uint64", "Float32", "Float64"} {
		c["Get"+k] = func(b *Buffer) error { return callErrOut(reflect.ValueOf(b).MethodByName("Get" + k).Call(nil)) }
		c["Get"+k+"At"] = func(b *Buffer) error {
			return callErrOut(reflect.ValueOf(b).MethodByName("Get" + k + "At").Call([]reflect.Value{reflect.ValueOf(at)}))
		}
		c["Put"+k] = func(b *Buffer) error {
			m := reflect.ValueOf(b).MethodByName("Put" + k)
			return callErrOut(m.Call([]reflect.Value{reflect.Zero(m.Type().In(0))}))
		}
		c["Put"+k+"At"] = func(b *Buffer) error {
			m := reflect.ValueOf(b).MethodByName("Put" + k + "At")
			return callErrOut(m.Call([]reflect.Value{reflect.ValueOf(at), reflect.Zero(m.Type().In(1))}))
		}
	}
	return c
}

func callErrOut(out []reflect.Value) error {
	err, _ := out[len(out)-1].Interface().(error)
	return err
}

func TestMayFaultTruncatedFile(t *testing.T) {
	root, page := mappedTruncated(t)
	views := map[string]func() (*Buffer, int){
		"root": func() (*Buffer, int) { root.Clear(); root.SetPosition(2 * page); return root, 2 * page },
		"slice": func() (*Buffer, int) {
			root.Clear()
			root.SetPosition(page)
			s := root.Slice()
			s.SetPosition(page)
			return s, page
		},
		"duplicate": func() (*Buffer, int) {
			root.Clear()
			d := root.Duplicate()
			d.SetPosition(3 * page)
			return d, 3 * page
		},
	}
	for vn, view := range views {
		_, at := view()
		for name, f := range faultCases(at) {
			b, _ := view()
			pos, lim := b.Position(), b.Limit()
			err := f(b)
			if !errors.Is(err, ErrFault) {
				t.Errorf("%s %s = %v, want ErrFault", vn, name, err)
			} else if !strings.Contains(err.Error(), "0x") {
				t.Errorf("%s %s: error %q does not name the address", vn, name, err)
			}
			if b.Position() != pos || b.Limit() != lim {
				t.Errorf("%s %s moved position/limit %d/%d -> %d/%d", vn, name, pos, lim, b.Position(), b.Limit())
			}
		}
	}
	// Equal and Compare have no error: a faulting buffer equals nothing
	// and sorts first.
	root.Clear()
	root.SetPosition(page)
	other := wrapMayFault(make([]byte, 3*page), nil)
	if root.Equal(other) || other.Equal(root) {
		t.Error("a faulting buffer is Equal")
	}
	if root.Compare(other) != -1 || other.Compare(root) != 1 {
		t.Errorf("Compare = %d, %d, want -1, 1", root.Compare(other), other.Compare(root))
	}
	// The first page is still in the file.
	root.Clear()
	for name, f := range faultCases(0) {
		if name == "Compact" || name == "ReadFrom" || name == "WriteTo" || strings.HasPrefix(name, "PutBuffer") {
			continue // these reach the pages that fault
		}
		root.Clear()
		if err := f(root); err != nil {
			t.Errorf("first page %s = %v", name, err)
		}
	}
	root.SetLimit(page)
	if _, err := root.WriteTo(faultWriter{}); err != nil {
		t.Errorf("WriteTo of the first page = %v", err)
	}
	// Guard and Bytes.
	root.Clear()
	raw := root.Bytes()
	if err := Guard(func() { faultSink += raw[0] }); err != nil {
		t.Errorf("Guard(first page) = %v", err)
	}
	if err := Guard(func() { faultSink += raw[2*page] }); !errors.Is(err, ErrFault) {
		t.Errorf("Guard(truncated page) = %v", err)
	}
	// SetPanicOnFault is restored either way.
	for _, want := range []bool{false, true} {
		old := debug.SetPanicOnFault(want)
		root.GetInt64At(2 * page)
		root.GetInt64At(0)
		root.ReadAt(make([]byte, 8), int64(2*page))
		if got := debug.SetPanicOnFault(old); got != want {
			t.Errorf("SetPanicOnFault was %v, want %v", got, want)
		}
	}
}

func TestMayFaultWriterPanicPropagates(t *testing.T) {
	root, page := mappedTruncated(t)
	root.SetLimit(page)
	type mine struct{}
	defer func() {
		if r := recover(); r != (mine{}) {
			t.Errorf("recovered %v, want the writer's own panic", r)
		}
		if root.Position() != 0 {
			t.Errorf("position moved to %d", root.Position())
		}
	}()
	root.WriteTo(faultWriter{panicWith: mine{}})
	t.Error("WriteTo returned")
}

// TestSharedMayFault: a buffer of Shared memory that may fault, and its
// views, return ErrFault from every data method where the memory faults
// (not a crash), and work where it does not.
func TestSharedMayFault(t *testing.T) {
	mem, page := mapTruncated(t)
	s := faultPool.Share(Memory{Bytes: mem, MayFault: true})
	defer s.Close()
	for _, b := range sharedBuffersOf(s) {
		// A view of the buffer past its first page, where all faults.
		slice, err := b.SliceAt(page, 3*page)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			name string
			b    *Buffer
			at   int
		}{{"buffer", b, 2 * page}, {"slice", slice, page}} {
			for name, f := range faultCases(v.at) {
				v.b.Clear()
				v.b.SetPosition(v.at)
				if err := f(v.b); !errors.Is(err, ErrFault) {
					t.Errorf("%s of a %s = %v, want ErrFault", name, v.name, err)
				}
			}
		}
		if err := b.PutInt64At(8, 7); err != nil {
			t.Errorf("first page: %v", err)
		}
		b.Free()
	}
}
