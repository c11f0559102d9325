//go:build unix

package mapped_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/mapped"
	"github.com/offheap-go/offheap/pagealign"
)

// FuzzMappedOps decodes its input as a file and a sequence of operations
// on mappings of it (Map in every mode, views, typed and bulk reads and
// writes, Force, Load, truncation under live mappings, writes through the
// file, Free) and checks each result against a model: a plain []byte of the
// file's page cache, plus, for each Private mapping, the pages it has
// copied on write. The model follows Linux: a Private page not yet written
// shows the file's current bytes; a shrink zeroes the tail of the new last
// page and drops every page past it (copies of Private mappings included),
// so touching one faults (ErrFault); a grow brings pages back as zeros.
// Bytes the model cannot know (written past EOF before a grow, or by a
// write that faulted half way) are masked, not compared.
//
// Input: bytes 0-1 are the file's size (little-endian, < 64 KiB), byte 2
// the seed of its content; then each operation is one byte (mod fzNumOps)
// followed by its arguments (bytes, or 2-byte little-endian numbers; a
// missing byte reads as 0). At most fzMaxOps operations run.
func FuzzMappedOps(f *testing.F) {
	for _, s := range fzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fzRun(t, data)
	})
}

const (
	fzOpMap = iota
	fzOpView
	fzOpRead
	fzOpWrite
	fzOpForce
	fzOpTruncate
	fzOpFree
	fzOpOrder
	fzOpLoad
	fzOpFileWrite
	fzNumOps

	fzMaxOps  = 200
	fzMaxBufs = 32
	fzModelSz = 1 << 17
)

// fzSeeds are in-code seeds; testdata/fuzz/FuzzMappedOps holds more.
var fzSeeds = [][]byte{
	// 10000-byte file; RW map [0, 8192), put, read back, free.
	{0x10, 0x27, 7, fzOpMap, 1 | 4, 0, 0x00, 0x20, fzOpWrite, 0, 1, 0x10, 0, 9, fzOpRead, 0, 1, 0x10, 0, fzOpFree, 0},
	// Empty file; ReadOnly map past EOF fails, RW map extends.
	{0, 0, 1, fzOpMap, 0, 0x10, 0x10, 0, fzOpMap, 2 | 4, 0x10, 0x10, 0, fzOpRead, 0, 0, 0x05, 0},
}

type fzIn struct {
	d []byte
	i int
}

func (r *fzIn) more() bool { return r.i < len(r.d) }

func (r *fzIn) u8() int {
	if r.i >= len(r.d) {
		return 0
	}
	r.i++
	return int(r.d[r.i-1])
}

func (r *fzIn) u16() int { return r.u8() | r.u8()<<8 }

// fzMapping is the model of one mapping (a root buffer and its views).
type fzMapping struct {
	mode  mapped.Mode
	freed bool
	// Private mappings: the pages copied on write (file page index ->
	// content and unknown mask), and pages whose state is unknown (a
	// write faulted across them).
	cow      map[int][]byte
	cowUnk   map[int][]bool
	unkPages map[int]bool
}

// fzBuf is the model of one buffer: a root or a view.
type fzBuf struct {
	b    *mapped.Buffer
	m    *fzMapping
	off  int // file position of index 0
	cap  int
	ro   bool
	view bool
	le   bool
	name string
}

type fzModel struct {
	t     *testing.T
	ps    int
	f     *os.File
	path  string
	size  int
	data  []byte // the page cache: the file, and the tail of its last page
	unk   []bool
	bufs  []*fzBuf
	roots []*fzBuf
	log   []string
	stats bool // the pool was empty at the start: check its counts exactly
	base  directmem.PoolStats
}

func (m *fzModel) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf(format, args...))
}

func (m *fzModel) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("%s\nops:\n  %s", fmt.Sprintf(format, args...), strings.Join(m.log, "\n  "))
}

func (m *fzModel) errorf(format string, args ...any) {
	m.t.Helper()
	m.t.Errorf("%s\nops:\n  %s", fmt.Sprintf(format, args...), strings.Join(m.log, "\n  "))
}

// pageEnd is the end of the file's last page: bytes from it on fault.
func (m *fzModel) pageEnd() int { return (m.size + m.ps - 1) / m.ps * m.ps }

// faults reports whether touching file positions [a, b) faults.
func (m *fzModel) faults(a, b int) bool { return b > a && b-1 >= m.pageEnd() }

// resize models ftruncate to n.
func (m *fzModel) resize(n int) {
	old, oldEnd := m.size, m.pageEnd()
	switch {
	case n < old:
		// The tail of the new last page is zeroed; the pages past it are
		// dropped (and come back as zeros).
		clear(m.data[n:])
		clear(m.unk[n:])
	case n == old:
		// The tail may or may not be zeroed again.
		for p := n; p < oldEnd; p++ {
			if m.data[p] != 0 {
				m.unk[p] = true
			}
		}
	default:
		// Bytes written past the old EOF in its last page may or may not
		// survive the grow (Linux 6.18 zeroes them, up to the page's end,
		// not only to the new EOF).
		for p := old; p < oldEnd; p++ {
			if m.data[p] != 0 {
				m.unk[p] = true
			}
		}
	}
	m.size = n
	// Truncation drops the Private copies of the pages it drops.
	keep := m.pageEnd() / m.ps
	for _, r := range m.roots {
		for pg := range r.m.cow {
			if pg >= keep && n < old {
				delete(r.m.cow, pg)
				delete(r.m.cowUnk, pg)
			}
		}
		for pg := range r.m.unkPages {
			if pg >= keep && n < old {
				delete(r.m.unkPages, pg)
			}
		}
	}
}

// at returns what a buffer of mapping mp sees at file position p, and
// whether the model knows it.
func (m *fzModel) at(mp *fzMapping, p int) (byte, bool) {
	if mp.mode == mapped.Private {
		pg := p / m.ps
		if mp.unkPages[pg] {
			return 0, false
		}
		if c, ok := mp.cow[pg]; ok {
			return c[p%m.ps], !mp.cowUnk[pg][p%m.ps]
		}
	}
	return m.data[p], !m.unk[p]
}

// set models a successful write of src at file position p through mp.
func (m *fzModel) set(mp *fzMapping, p int, src []byte) {
	if mp.mode != mapped.Private {
		copy(m.data[p:], src)
		clear(m.unk[p : p+len(src)])
		return
	}
	for i, v := range src {
		q := p + i
		pg := q / m.ps
		c, ok := mp.cow[pg]
		if !ok {
			c = bytes.Clone(m.data[pg*m.ps : (pg+1)*m.ps])
			mp.cow[pg] = c
			mp.cowUnk[pg] = append([]bool(nil), m.unk[pg*m.ps:(pg+1)*m.ps]...)
		}
		c[q%m.ps] = v
		mp.cowUnk[pg][q%m.ps] = false
	}
}

// setFaulted models a write of n bytes at p that faulted: what it wrote
// before the fault is unknown.
func (m *fzModel) setFaulted(mp *fzMapping, p, n int) {
	end := min(p+n, m.pageEnd())
	for q := p; q < end; q++ {
		if mp.mode == mapped.Private {
			mp.unkPages[q/m.ps] = true
		} else {
			m.unk[q] = true
		}
	}
}

// check compares got, read at file position p through b, with the model.
func (m *fzModel) check(what string, b *fzBuf, p int, got []byte) {
	m.t.Helper()
	for i, g := range got {
		if want, ok := m.at(b.m, p+i); ok && g != want {
			m.fatalf("%s on %s: byte %d (file position %d) is %#x, model says %#x", what, b.name, i, p+i, g, want)
		}
	}
}

// wantErr checks err against the model's expectation (nil or a sentinel).
func (m *fzModel) wantErr(what string, b *fzBuf, err, want error) {
	m.t.Helper()
	if want == nil {
		if err != nil {
			m.fatalf("%s on %s: unexpected error %v", what, b.name, err)
		}
		return
	}
	if !errors.Is(err, want) {
		m.fatalf("%s on %s: error %v, want %v", what, b.name, err, want)
	}
}

// expect returns the error an access of n bytes at index i of b should
// return (bounds as the access checks them), or nil.
func (m *fzModel) expect(b *fzBuf, i, n int, write bool) error {
	switch {
	case b.m.freed:
		return directmem.ErrFreed
	case write && b.ro:
		return directmem.ErrReadOnly
	case i < 0 || n > b.cap-i:
		return directmem.ErrIndexOutOfRange
	case m.faults(b.off+i, b.off+i+n):
		return mapped.ErrFault
	}
	return nil
}

func (m *fzModel) order(b *fzBuf) binary.ByteOrder {
	if b.le {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

func (m *fzModel) pick(r *fzIn) *fzBuf {
	if len(m.bufs) == 0 {
		r.u8()
		return nil
	}
	return m.bufs[r.u8()%len(m.bufs)]
}

// index reads an index for a buffer of capacity c: mostly inside, some
// negative, some past the end.
func fzIndex(r *fzIn, c int) int { return r.u16()%(c+24) - 8 }

func (m *fzModel) checkStats(when string) {
	m.t.Helper()
	if !m.stats {
		return
	}
	var want directmem.PoolStats
	for _, r := range m.roots {
		if r.m.freed || r.cap == 0 {
			continue
		}
		want.Count++
		want.TotalCapacity += int64(r.cap)
		want.MemoryUsed += int64(r.cap + r.off%m.ps)
	}
	s := mapped.Stats()
	got := directmem.PoolStats{Count: s.Count - m.base.Count, TotalCapacity: s.TotalCapacity - m.base.TotalCapacity, MemoryUsed: s.MemoryUsed - m.base.MemoryUsed}
	if got != want {
		m.errorf("%s: mapped.Stats() moved by %+v, model says %+v", when, got, want)
	}
}

func fzRun(t *testing.T, data []byte) {
	r := &fzIn{d: data}
	m := &fzModel{
		t:    t,
		ps:   pagealign.PageSize(),
		data: make([]byte, fzModelSz),
		unk:  make([]bool, fzModelSz),
	}
	m.base = mapped.Stats()
	m.stats = m.base.Count == 0
	m.size = r.u16() % (64 << 10)
	seed := byte(r.u8())
	for i := range m.size {
		m.data[i] = seed + byte(i*7) + byte(i>>8)
	}
	m.path = filepath.Join(t.TempDir(), "f")
	f, err := os.OpenFile(m.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	m.f = f
	defer f.Close()
	if _, err := f.Write(m.data[:m.size]); err != nil {
		t.Fatal(err)
	}
	m.logf("file of %d bytes, seed %d", m.size, seed)
	// Whatever happens, nothing stays mapped.
	defer func() {
		for _, b := range m.roots {
			_ = b.b.Free()
		}
	}()

	for n := 0; n < fzMaxOps && r.more(); n++ {
		m.step(r)
	}

	// The end: every root freed (its views with it), the file as modelled.
	for _, b := range m.roots {
		if err := b.b.Free(); err != nil {
			m.errorf("final Free of %s: %v", b.name, err)
		}
		b.m.freed = true
	}
	for _, b := range m.bufs {
		if !b.b.IsFreed() && b.cap > 0 {
			m.errorf("%s is not freed after its root's Free", b.name)
		}
	}
	m.checkStats("after freeing everything")
	disk, err := os.ReadFile(m.path)
	if err != nil {
		t.Fatal(err)
	}
	if len(disk) != m.size {
		m.fatalf("file on disk has %d bytes, model %d", len(disk), m.size)
	}
	for i, v := range disk {
		if !m.unk[i] && v != m.data[i] {
			m.fatalf("file on disk: byte %d is %#x, model says %#x", i, v, m.data[i])
		}
	}
}

func (m *fzModel) step(r *fzIn) {
	t := m.t
	t.Helper()
	switch op := r.u8() % fzNumOps; op {
	case fzOpMap:
		k := r.u8()
		var off int
		if k&1 != 0 {
			off = r.u8() % 16 * m.ps
		} else {
			off = r.u16() % (48 << 10)
		}
		var size int
		if k&2 != 0 {
			size = r.u8()
		} else {
			size = r.u16() % (16 << 10)
		}
		mode := mapped.Mode(k >> 2 % 3)
		m.logf("Map(%v, off %d, size %d) [file %d]", mode, off, size, m.size)
		if len(m.bufs) >= fzMaxBufs {
			return
		}
		before := m.size
		b, err := mapped.Map(m.f, mode, int64(off), int64(size))
		if off+size > before {
			if mode == mapped.ReadOnly {
				if !errors.Is(err, fs.ErrInvalid) {
					m.fatalf("ReadOnly Map past EOF: error %v, want fs.ErrInvalid", err)
				}
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != m.path {
					m.fatalf("ReadOnly Map past EOF: error %v is not a *fs.PathError naming the file", err)
				}
				return
			}
			m.resize(off + size)
		}
		if err != nil {
			m.fatalf("Map: %v", err)
		}
		if b.Capacity() != size || b.Position() != 0 || b.Limit() != size || b.Mode() != mode || b.IsReadOnly() != (mode == mapped.ReadOnly) {
			m.fatalf("Map: got %v (read-only %v)", b, b.IsReadOnly())
		}
		fb := &fzBuf{b: b, m: &fzMapping{mode: mode, cow: map[int][]byte{}, cowUnk: map[int][]bool{}, unkPages: map[int]bool{}},
			off: off, cap: size, ro: mode == mapped.ReadOnly, name: fmt.Sprintf("buf%d", len(m.bufs))}
		m.bufs = append(m.bufs, fb)
		m.roots = append(m.roots, fb)
		m.checkStats("after Map")
		if st, err := m.f.Stat(); err != nil || st.Size() != int64(m.size) {
			m.fatalf("after Map the file has %v bytes (%v), model %d", st.Size(), err, m.size)
		}

	case fzOpView:
		b := m.pick(r)
		k, a, c := r.u8()%4, r.u16(), r.u16()
		if b == nil || len(m.bufs) >= fzMaxBufs {
			return
		}
		v := &fzBuf{m: b.m, off: b.off, cap: b.cap, ro: b.ro, view: true, name: fmt.Sprintf("buf%d", len(m.bufs))}
		switch k {
		case 0:
			pos := a % (b.cap + 1)
			m.logf("%s = %s.Slice() at position %d", v.name, b.name, pos)
			if err := b.b.SetPosition(pos); err != nil {
				m.fatalf("SetPosition(%d) on %s: %v", pos, b.name, err)
			}
			v.b = b.b.Slice()
			v.off, v.cap = b.off+pos, b.cap-pos
		case 1:
			i, n := a%(b.cap+8)-4, c%(b.cap+8)-4
			m.logf("%s = %s.SliceAt(%d, %d)", v.name, b.name, i, n)
			s, err := b.b.SliceAt(i, n)
			if i < 0 || n < 0 || n > b.cap-i {
				m.wantErr("SliceAt", b, err, directmem.ErrIndexOutOfRange)
				return
			}
			m.wantErr("SliceAt", b, err, nil)
			v.b = s
			v.off, v.cap = b.off+i, n
		case 2:
			m.logf("%s = %s.Duplicate()", v.name, b.name)
			v.b = b.b.Duplicate()
		case 3:
			m.logf("%s = %s.AsReadOnly()", v.name, b.name)
			v.b = b.b.AsReadOnly()
			v.ro = true
		}
		if v.b.Capacity() != v.cap || v.b.IsReadOnly() != v.ro || v.b.Mode() != b.m.mode || v.b.IsFreed() != b.m.freed {
			m.fatalf("view %s: %v (read-only %v, freed %v), model cap %d read-only %v", v.name, v.b, v.b.IsReadOnly(), v.b.IsFreed(), v.cap, v.ro)
		}
		m.bufs = append(m.bufs, v)

	case fzOpRead:
		b := m.pick(r)
		k := r.u8() % 4
		if b == nil {
			r.u16()
			r.u16()
			return
		}
		i := fzIndex(r, b.cap)
		n := r.u16() % (b.cap + 64)
		p := b.off + i
		switch k {
		case 0:
			m.logf("%s.GetAt(%d)", b.name, i)
			v, err := b.b.GetAt(i)
			m.wantErr("GetAt", b, err, m.expect(b, i, 1, false))
			if err == nil {
				m.check("GetAt", b, p, []byte{v})
			}
		case 1:
			m.logf("%s.GetInt32At(%d)", b.name, i)
			v, err := b.b.GetInt32At(i)
			m.wantErr("GetInt32At", b, err, m.expect(b, i, 4, false))
			if err == nil {
				var got [4]byte
				m.order(b).PutUint32(got[:], uint32(v))
				m.check("GetInt32At", b, p, got[:])
			}
		case 2:
			m.logf("%s.GetBytesAt(%d, [%d])", b.name, i, n)
			dst := make([]byte, n)
			err := b.b.GetBytesAt(i, dst)
			m.wantErr("GetBytesAt", b, err, m.expect(b, i, n, false))
			if err == nil {
				m.check("GetBytesAt", b, p, dst)
			}
		case 3:
			m.logf("%s.ReadAt([%d], %d)", b.name, n, i)
			dst := make([]byte, n)
			got, err := b.b.ReadAt(dst, int64(i))
			var want error
			wantN := 0
			switch {
			case b.m.freed:
				want = directmem.ErrFreed
			case i < 0:
				want = directmem.ErrIndexOutOfRange
			case i >= b.cap:
				if !(n == 0 && i == b.cap) {
					want = io.EOF
				}
			default:
				wantN = min(n, b.cap-i)
				if m.faults(p, p+wantN) {
					want, wantN = mapped.ErrFault, 0
				} else if wantN < n {
					want = io.EOF
				}
			}
			m.wantErr("ReadAt", b, err, want)
			if got != wantN {
				m.fatalf("ReadAt on %s: n = %d, model %d (err %v)", b.name, got, wantN, err)
			}
			if wantN > 0 {
				m.check("ReadAt", b, p, dst[:got])
			}
		}

	case fzOpWrite:
		b := m.pick(r)
		k := r.u8() % 3
		if b == nil {
			r.u16()
			r.u16()
			r.u8()
			return
		}
		i := fzIndex(r, b.cap)
		n := r.u16() % (b.cap + 64)
		seed := byte(r.u8())
		p := b.off + i
		switch k {
		case 0:
			m.logf("%s.PutAt(%d, %d)", b.name, i, seed)
			err := b.b.PutAt(i, seed)
			want := m.expect(b, i, 1, true)
			m.wantErr("PutAt", b, err, want)
			m.wrote(b, p, []byte{seed}, want)
		case 1:
			v := int64(seed) * 0x0102030405060708
			m.logf("%s.PutInt64At(%d, %#x)", b.name, i, v)
			err := b.b.PutInt64At(i, v)
			want := m.expect(b, i, 8, true)
			m.wantErr("PutInt64At", b, err, want)
			var src [8]byte
			m.order(b).PutUint64(src[:], uint64(v))
			m.wrote(b, p, src[:], want)
		case 2:
			m.logf("%s.WriteAt([%d], %d)", b.name, n, i)
			src := make([]byte, n)
			for j := range src {
				src[j] = seed + byte(j)
			}
			got, err := b.b.WriteAt(src, int64(i))
			var want error
			wantN := 0
			switch {
			case b.m.freed:
				want = directmem.ErrFreed
			case b.ro:
				want = directmem.ErrReadOnly
			case i < 0 || i > b.cap:
				want = directmem.ErrIndexOutOfRange
			default:
				wantN = min(n, b.cap-i)
				if m.faults(p, p+wantN) {
					want = mapped.ErrFault
					m.setFaulted(b.m, p, wantN)
					wantN = 0
				} else {
					m.set(b.m, p, src[:wantN])
					if wantN < n {
						want = directmem.ErrBufferOverflow
					}
				}
			}
			m.wantErr("WriteAt", b, err, want)
			if got != wantN {
				m.fatalf("WriteAt on %s: n = %d, model %d (err %v)", b.name, got, wantN, err)
			}
		}

	case fzOpForce:
		b := m.pick(r)
		k, a, c := r.u8(), r.u16(), r.u16()
		if b == nil {
			return
		}
		if k&1 == 0 {
			m.logf("%s.Force()", b.name)
			var want error
			if b.m.freed {
				want = directmem.ErrFreed
			}
			m.wantErr("Force", b, b.b.Force(), want)
			return
		}
		i, n := a%(b.cap+8)-4, c%(b.cap+8)-4
		m.logf("%s.ForceRange(%d, %d)", b.name, i, n)
		var want error
		switch {
		case b.m.freed:
			want = directmem.ErrFreed
		case i < 0 || n < 0 || n > b.cap-i:
			want = directmem.ErrIndexOutOfRange
		}
		m.wantErr("ForceRange", b, b.b.ForceRange(i, n), want)

	case fzOpTruncate:
		n := r.u16() % (64 << 10)
		m.logf("Truncate(%d) [file %d]", n, m.size)
		if err := m.f.Truncate(int64(n)); err != nil {
			m.fatalf("Truncate: %v", err)
		}
		m.resize(n)

	case fzOpFree:
		b := m.pick(r)
		if b == nil {
			return
		}
		m.logf("%s.Free()", b.name)
		err := b.b.Free()
		if b.view {
			m.wantErr("Free", b, err, directmem.ErrNotOwner)
			return
		}
		m.wantErr("Free", b, err, nil)
		b.m.freed = true
		if b.cap > 0 && !b.b.IsFreed() {
			m.fatalf("%s.IsFreed() is false after Free", b.name)
		}
		m.checkStats("after Free")

	case fzOpOrder:
		b := m.pick(r)
		if b == nil {
			return
		}
		b.le = !b.le
		m.logf("%s.SetOrder(little-endian %v)", b.name, b.le)
		b.b.SetOrder(m.order(b))

	case fzOpLoad:
		b := m.pick(r)
		k := r.u8()
		if b == nil {
			return
		}
		if k&1 == 0 {
			m.logf("%s.Load()", b.name)
			var want error
			switch {
			case b.m.freed:
				want = directmem.ErrFreed
			case b.cap > 0 && m.faults(b.off, b.off+b.cap):
				want = mapped.ErrFault
			}
			m.wantErr("Load", b, b.b.Load(), want)
			return
		}
		m.logf("%s.IsLoaded()", b.name)
		_, err := b.b.IsLoaded()
		var want error
		if b.m.freed {
			want = directmem.ErrFreed
		}
		m.wantErr("IsLoaded", b, err, want)

	case fzOpFileWrite:
		off, n, seed := r.u16(), r.u16()%(8<<10), byte(r.u8())
		if m.size == 0 {
			return
		}
		off %= m.size
		n = min(n, m.size-off)
		m.logf("File.WriteAt([%d], %d)", n, off)
		src := make([]byte, n)
		for j := range src {
			src[j] = seed ^ byte(j)
		}
		if _, err := m.f.WriteAt(src, int64(off)); err != nil {
			m.fatalf("File.WriteAt: %v", err)
		}
		copy(m.data[off:], src)
		clear(m.unk[off : off+n])
	}
}

// wrote models a typed or single-byte write whose expected error is want.
func (m *fzModel) wrote(b *fzBuf, p int, src []byte, want error) {
	switch {
	case want == nil:
		m.set(b.m, p, src)
	case errors.Is(want, mapped.ErrFault):
		m.setFaulted(b.m, p, len(src))
	}
}

// fzTempFile returns a file of n bytes, open for reading and writing.
func fzTempFile(t *testing.T, n int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "f"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(int64(n)); err != nil {
		t.Fatal(err)
	}
	return f
}

// Found by FuzzMappedOps (seeds readonly_past_eof, size_zero_maps): a
// ReadOnly mapping of size 0 is a read-only view of an empty buffer, so
// Free, which must succeed on the root Map returned, says ErrNotOwner.
func TestFzEmptyReadOnlyMapFree(t *testing.T) {
	f := fzTempFile(t, 100)
	for _, mode := range []mapped.Mode{mapped.ReadOnly, mapped.ReadWrite, mapped.Private} {
		b, err := mapped.Map(f, mode, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Free(); err != nil {
			t.Errorf("Map(%v, size 0).Free() = %v, want nil: it is the root, not a view", mode, err)
		}
		if !b.IsFreed() {
			t.Errorf("Map(%v, size 0): IsFreed() false after Free", mode)
		}
	}
}

// Found by FuzzMappedOps (seed views_free): after Free, ForceRange with
// bad bounds returns ErrIndexOutOfRange where every other access of a freed
// buffer (GetAt, PutAt, ReadAt, Force, ...) returns ErrFreed first, the
// precedence of directmem's absolute accesses.
func TestFzForceRangeAfterFree(t *testing.T) {
	f := fzTempFile(t, 8192)
	b, err := mapped.Map(f, mapped.ReadWrite, 0, 8192)
	if err != nil {
		t.Fatal(err)
	}
	v := b.Duplicate()
	if err := b.Free(); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]int{{0, 10}, {-1, 5}, {0, 9000}} {
		if err := v.ForceRange(c[0], c[1]); !errors.Is(err, directmem.ErrFreed) {
			t.Errorf("ForceRange(%d, %d) after Free = %v, want ErrFreed", c[0], c[1], err)
		}
	}
}
