//go:build unix

package mapped_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/mapped"
)

// FuzzCacheOps decodes its input as the options of one Cache (MaxBytes of a
// few pages, so that misses are evicted, rejected and kept in the admission
// window; default stat, SkipStat, StatEvery or both) and a sequence of
// operations on it over three small files and a missing path: Acquire
// (every mode, page-aligned and unaligned offsets, sizes from 0, regions
// past the end, bad arguments), re-Acquire of a lease's region (often
// several times, for hits), Release (twice too), reads and writes through
// leases, Invalidate, replacing a file by rename (then Invalidate; in the
// default mode also without it), writes to a file, and Close.
//
// The model is a plain []byte for each version of each file (a replaced
// file's old version lives on in the leases taken before), shared by every
// lease of it (MAP_SHARED; Private leases are only read). Whatever the
// admission policy decides, every lease must read the version current when
// it was acquired, with its writes and the file's; an Acquire must fail as
// MapFile would (fs.ErrInvalid for bad arguments and for ReadOnly regions
// past the end, fs.ErrNotExist, ErrClosed after Close) and extend the file
// where MapFile would. After every operation the stats are checked:
// nothing negative, Unmaps <= Maps, LiveLeases the model's count, Hits +
// Misses and Maps exactly as the model's acquires imply, two live leases on
// one mapping only if they have one region, and the leased mappings still
// mapped (in the "mapped" pool). After Close the cache holds nothing (no bytes, no
// entry in front, hot slots or window) while leases keep working; at the
// end every lease is released and ctSettled checks that every mapping was
// unmapped once.
//
// Input: byte 0 is the options (bits 0-1: SkipStat, StatEvery; 2-4:
// MaxBytes in pages, less 1; 5: a third of a page less; 6: BufferItems 1,
// so that the policy counts accesses at once and rejects within a few
// operations; 7: NumCounters 16), bytes 1-3 the files' sizes
// (cfFileSize), byte 4 the seed of their content; then each operation is a
// byte (mod len(cfOps)) followed by its arguments (a missing byte reads as
// 0). At most cfMaxOps operations run.
func FuzzCacheOps(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { cfRun(t, data) })
}

const cfMaxOps = 64

// cfOps is the operations, by their byte mod len(cfOps): some twice, to
// weigh them.
var cfOps = [...]struct {
	name string
	run  func(*cfModel, *fzIn)
}{
	{"acquire", (*cfModel).opAcquire},
	{"acquire", (*cfModel).opAcquire},
	{"again", (*cfModel).opAgain},
	{"again", (*cfModel).opAgain},
	{"release", (*cfModel).opRelease},
	{"release", (*cfModel).opRelease},
	{"read", (*cfModel).opRead},
	{"read", (*cfModel).opRead},
	{"write", (*cfModel).opWrite},
	{"write", (*cfModel).opWrite},
	{"invalidate", (*cfModel).opInvalidate},
	{"replace", (*cfModel).opReplace},
	{"file write", (*cfModel).opFileWrite},
	{"release all", (*cfModel).opReleaseAll},
	{"close", (*cfModel).opClose},
}

// cfVersion is the content of one version (inode) of a file.
type cfVersion struct {
	data []byte
	n    int // 0 for the first, then 1, 2, ... by replacement
}

// cfLease is the model of a lease.
type cfLease struct {
	l         *mapped.Lease
	name      string
	file      int // index in cfModel.paths
	ver       *cfVersion
	mode      mapped.Mode
	off, size int
	released  bool
	addr      uintptr // the mapping's address at index 0, for size > 0
}

type cfModel struct {
	t      *testing.T
	c      *mapped.Cache
	opts   mapped.CacheOptions
	paths  [4]string // three files, then a path that never exists
	vers   [3]*cfVersion
	leases []*cfLease
	live   int
	// ok counts the acquires that returned a lease, failed those that
	// missed and then failed (the file missing under SkipStat, or a
	// ReadOnly region past its end): Hits + Misses must be their sum, and
	// Hits + Maps must be ok.
	ok, failed int64
	closed     bool
	base       int64 // the "mapped" pool's count at the start
	log        []string
}

func (m *cfModel) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf(format, args...))
}

func (m *cfModel) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("%s\noptions %+v; ops:\n  %s", fmt.Sprintf(format, args...), m.opts, strings.Join(m.log, "\n  "))
}

// cfFileSize is the size a byte makes: 1 to 4 pages, less 0, 1/3, 2/3 of
// a page or all but a byte; 0 from 0xf0 on.
func cfFileSize(b int) int {
	if b >= 0xf0 {
		return 0
	}
	ps := int(ctPage)
	return (1+b%4)*ps - [...]int{0, ps / 3, 2 * ps / 3, ps - 1}[b>>2%4]
}

func cfRun(t *testing.T, data []byte) {
	r := &fzIn{d: data}
	o := r.u8()
	m := &cfModel{t: t, base: mapped.Stats().Count}
	m.opts.MaxBytes = (1 + int64(o>>2&7)) * ctPage
	if o&0x20 != 0 {
		m.opts.MaxBytes -= ctPage / 3
	}
	m.opts.SkipStat = o&1 != 0
	if o&2 != 0 {
		m.opts.StatEvery = time.Hour
	}
	if o&0x40 != 0 {
		m.opts.BufferItems = 1 // the policy learns of each access at once
	}
	if o&0x80 != 0 {
		m.opts.NumCounters = 16
	}
	sizes := [3]int{cfFileSize(r.u8()), cfFileSize(r.u8()), cfFileSize(r.u8())}
	seed := byte(r.u8())
	dir := t.TempDir()
	for i := range m.vers {
		m.vers[i] = &cfVersion{data: ctPattern(int64(sizes[i]), seed+byte(i)*67)}
		m.paths[i] = ctFile(t, dir, fmt.Sprint(i), int64(sizes[i]), seed+byte(i)*67)
	}
	m.paths[3] = filepath.Join(dir, "missing")
	m.logf("files of %v bytes, seed %d", sizes, seed)
	m.c = ctCache(t, m.opts)
	// Whatever happens, nothing stays leased (VerifyTestMain).
	defer func() {
		for _, l := range m.leases {
			l.l.Release()
		}
	}()

	for n := 0; n < cfMaxOps && r.more(); n++ {
		op := &cfOps[r.u8()%len(cfOps)]
		op.run(m, r)
		m.check(op.name)
	}

	m.opReleaseAll(r)
	m.check("the end")
	for i, v := range m.vers {
		disk, err := os.ReadFile(m.paths[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(disk, v.data) {
			m.fatalf("file %d on disk (%d bytes) differs from version %d of the model (%d bytes)", i, len(disk), v.n, len(v.data))
		}
	}
	ctSettled(t, m.c, m.base)
}

// pick returns the lease an argument byte names, released or not, or nil.
func (m *cfModel) pick(r *fzIn) *cfLease {
	j := r.u8()
	if len(m.leases) == 0 {
		return nil
	}
	return m.leases[j%len(m.leases)]
}

// opAcquire: file and mode (a), the shape of the region (b), two numbers.
func (m *cfModel) opAcquire(r *fzIn) {
	a, b, x, y := r.u8(), r.u8(), int64(r.u16()), int64(r.u16())
	file := [...]int{0, 1, 2, 0, 1, 2, 0, 3}[a&7]
	mode := [...]mapped.Mode{mapped.ReadOnly, mapped.ReadWrite, mapped.ReadOnly, mapped.Private}[a>>3&3]
	ps, fsize := ctPage, int64(0)
	if file < 3 {
		fsize = int64(len(m.vers[file].data))
	}
	var off, size int64
	switch b % 8 {
	case 0: // whole pages
		off, size = x%8*ps, (1+y%4)*ps
	case 1: // anywhere
		off, size = x%(8*ps), y%(4*ps)
	case 2, 3: // small, for the window
		off, size = x%(8*ps), y%256
		if b%8 == 2 {
			off = off / ps * ps
		}
	case 4:
		off, size = x%(8*ps), 0
	case 5: // inside the file
		off = x % (fsize + 1)
		size = y % (fsize - off + 1)
	case 6:
		off, size = 0, fsize
	case 7: // bad arguments
		switch x % 5 {
		case 0:
			off, size = -1-y, ps
		case 1:
			off, size = 0, -1-y
		case 2:
			off, size = 1<<62+y, 1<<62
		case 3:
			off, size = 0, math.MaxInt64-y%(ps-1)
		case 4:
			off, size, mode = 0, 1, mapped.Mode(3+y%4)
		}
	}
	if l := m.acquire(file, mode, off, size); l != nil {
		m.leases = append(m.leases, l)
	}
}

// opAgain acquires the region of a lease (released or not) 1 to 8 times,
// keeping the last lease: the repeats are mostly hits.
func (m *cfModel) opAgain(r *fzIn) {
	p, n := m.pick(r), 1+r.u8()%8
	if p == nil {
		return
	}
	for i := range n {
		l := m.acquire(p.file, p.mode, int64(p.off), int64(p.size))
		if l == nil {
			return
		}
		if i < n-1 {
			m.release(l)
		} else {
			m.leases = append(m.leases, l)
		}
	}
}

// acquire acquires a region and checks the outcome against the model: the
// error MapFile would return, or a lease reading the current version.
func (m *cfModel) acquire(file int, mode mapped.Mode, off, size int64) *cfLease {
	m.t.Helper()
	path := m.paths[file]
	name := fmt.Sprintf("L%d", len(m.leases))
	m.logf("%s = Acquire(%s, %v, %d, %d)", name, filepath.Base(path), mode, off, size)
	l, err := m.c.Acquire(path, mode, off, size)
	var want error
	switch {
	case off < 0 || size < 0 || off > math.MaxInt64-size || mode < mapped.ReadOnly || mode > mapped.Private || size > int64(math.MaxInt)-ctPage:
		want = fs.ErrInvalid
	case m.closed:
		want = mapped.ErrClosed
	case file == 3:
		want = fs.ErrNotExist
		if m.opts.SkipStat { // no stat: the open finds it missing
			m.failed++
		}
	case mode == mapped.ReadOnly && off+size > int64(len(m.vers[file].data)):
		want = fs.ErrInvalid
		m.failed++
	}
	if want != nil {
		if l != nil {
			l.Release()
			m.fatalf("%s: got a lease, want an error matching %v", name, want)
		}
		if !errors.Is(err, want) {
			m.fatalf("%s: error %v, want %v", name, err, want)
		}
		var pe *fs.PathError
		if want != mapped.ErrClosed && (!errors.As(err, &pe) || pe.Path != path) {
			m.fatalf("%s: error %v is not a *fs.PathError naming the path", name, err)
		}
		return nil
	}
	if err != nil {
		m.fatalf("%s: %v", name, err)
	}
	m.ok++
	m.live++
	v := m.vers[file]
	if end := int(off + size); mode != mapped.ReadOnly && end > len(v.data) {
		v.data = append(v.data, make([]byte, end-len(v.data))...) // extended
	}
	cl := &cfLease{l: l, name: name, file: file, ver: v, mode: mode, off: int(off), size: int(size)}
	b := l.Buffer()
	if b.Capacity() != cl.size || b.Position() != 0 || b.Limit() != cl.size || b.Mode() != mode || b.IsReadOnly() != (mode == mapped.ReadOnly) {
		m.fatalf("%s: buffer %v (read-only %v)", name, b, b.IsReadOnly())
	}
	if size > 0 {
		cl.addr = uintptr(unsafe.Pointer(unsafe.SliceData(b.Bytes())))
	}
	m.read(cl, 0, cl.size)
	return cl
}

// read reads n bytes of l from index i and checks them, or the error.
func (m *cfModel) read(l *cfLease, i, n int) {
	m.t.Helper()
	got := make([]byte, n)
	err := l.l.Buffer().GetBytesAt(i, got)
	m.wantErr("read", l, err, m.expect(l, i, n, false))
	if err == nil {
		if want := l.ver.data[l.off+i : l.off+i+n]; !bytes.Equal(got, want) {
			d := 0
			for got[d] == want[d] {
				d++
			}
			m.fatalf("read %s[%d:%d] (file %d version %d at %d): byte %d is %#x, want %#x", l.name, i, i+n, l.file, l.ver.n, l.off+i, i+d, got[d], want[d])
		}
	}
}

// expect is the error an access of n bytes at index i of l should return.
func (m *cfModel) expect(l *cfLease, i, n int, write bool) error {
	switch {
	case l.released:
		return directmem.ErrFreed
	case write && l.mode == mapped.ReadOnly:
		return directmem.ErrReadOnly
	case i < 0 || n > l.size-i:
		return directmem.ErrIndexOutOfRange
	}
	return nil
}

func (m *cfModel) wantErr(what string, l *cfLease, err, want error) {
	m.t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		m.fatalf("%s through %s: error %v, want %v", what, l.name, err, want)
	}
}

func (m *cfModel) release(l *cfLease) {
	m.logf("%s.Release()", l.name)
	l.l.Release()
	if !l.released {
		l.released = true
		m.live--
	}
}

func (m *cfModel) opRelease(r *fzIn) {
	if l := m.pick(r); l != nil {
		m.release(l)
	}
}

func (m *cfModel) opReleaseAll(*fzIn) {
	for _, l := range m.leases {
		if !l.released {
			m.release(l)
		}
	}
}

// opRead: a lease, an index (some negative) and a length (some too long).
func (m *cfModel) opRead(r *fzIn) {
	l, x, y := m.pick(r), r.u16(), r.u16()
	if l == nil {
		return
	}
	i, n := x%(l.size+16)-8, y%(l.size+9)
	m.logf("%s.GetBytesAt(%d, [%d])", l.name, i, n)
	m.read(l, i, n)
}

// opWrite: as opRead, and a seed of the bytes. Every lease of the
// version, and the file, sees the write; Private leases are not written
// (two leases of one Private region may or may not share their copies).
func (m *cfModel) opWrite(r *fzIn) {
	l, x, y, s := m.pick(r), r.u16(), r.u16(), byte(r.u8())
	if l == nil || l.mode == mapped.Private {
		return
	}
	i, n := x%(l.size+16)-8, y%(l.size+9)
	src := make([]byte, n)
	for j := range src {
		src[j] = s + byte(j)*3
	}
	m.logf("%s.PutBytesAt(%d, [%d] from %d)", l.name, i, n, s)
	err := l.l.Buffer().PutBytesAt(i, src)
	want := m.expect(l, i, n, true)
	m.wantErr("write", l, err, want)
	if want == nil {
		copy(l.ver.data[l.off+i:], src)
	}
}

func (m *cfModel) opInvalidate(r *fzIn) {
	file := r.u8() % 4
	m.logf("Invalidate(%s)", filepath.Base(m.paths[file]))
	m.c.Invalidate(m.paths[file])
}

// opReplace renames a new file over one (a new version; leases keep the
// old one) and calls Invalidate, which SkipStat and StatEvery need to see
// the new file; in the default mode the stat sees it anyway, so one in two
// replacements skip it.
func (m *cfModel) opReplace(r *fzIn) {
	a, size, seed := r.u8(), cfFileSize(r.u8()), byte(r.u8())
	file := (a & 3) % 3
	skip := a&4 != 0 && !m.opts.SkipStat && m.opts.StatEvery == 0
	m.logf("replace %s by %d bytes of seed %d (Invalidate %v)", filepath.Base(m.paths[file]), size, seed, !skip)
	v := &cfVersion{data: ctPattern(int64(size), seed), n: m.vers[file].n + 1}
	ctReplace(m.t, m.paths[file], v.data)
	m.vers[file] = v
	if !skip {
		m.c.Invalidate(m.paths[file])
	}
}

// opFileWrite writes to a file: the leases of its current version see it.
func (m *cfModel) opFileWrite(r *fzIn) {
	file, x, n, s := r.u8()%3, r.u16(), r.u8(), byte(r.u8())
	v := m.vers[file]
	if len(v.data) == 0 {
		return
	}
	off := x % len(v.data)
	n = min(n, len(v.data)-off)
	src := make([]byte, n)
	for j := range src {
		src[j] = s ^ byte(j)
	}
	m.logf("file %d: WriteAt([%d] from %d, %d)", file, n, s, off)
	f, err := os.OpenFile(m.paths[file], os.O_WRONLY, 0)
	if err != nil {
		m.fatalf("%v", err)
	}
	_, err = f.WriteAt(src, int64(off))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		m.fatalf("%v", err)
	}
	copy(v.data[off:], src)
}

// opClose closes the cache: it lets go of every mapping at once; leases
// keep theirs (checked after every operation).
func (m *cfModel) opClose(*fzIn) {
	m.logf("Close()")
	if err := m.c.Close(); err != nil {
		m.fatalf("Close: %v", err)
	}
	m.closed = true
}

// check checks the cache's stats and the "mapped" pool against the model.
func (m *cfModel) check(after string) {
	m.t.Helper()
	s := m.c.Stats()
	pool := mapped.Stats().Count - m.base
	if s.Hits < 0 || s.Misses < 0 || s.MappedBytes < 0 || s.LiveLeases < 0 || s.Evictions < 0 || s.Rejections < 0 || s.Unmaps < 0 || s.Unmaps > s.Maps {
		m.fatalf("after %s: %+v", after, s)
	}
	if s.LiveLeases != int64(m.live) {
		m.fatalf("after %s: LiveLeases %d, model %d: %+v", after, s.LiveLeases, m.live, s)
	}
	if s.Hits+s.Misses != m.ok+m.failed || s.Hits+s.Maps != m.ok {
		m.fatalf("after %s: %+v; model: %d acquires with a lease, %d misses that failed", after, s, m.ok, m.failed)
	}
	// The live leases' mappings: one address, one region, and each still
	// mapped.
	maps := map[uintptr]*cfLease{}
	zero := 0
	for _, l := range m.leases {
		switch {
		case l.released:
		case l.size == 0:
			zero++
		case maps[l.addr] == nil:
			maps[l.addr] = l
		default:
			if o := maps[l.addr]; o.ver != l.ver || o.off != l.off || o.size != l.size || o.mode != l.mode {
				m.fatalf("after %s: %s and %s share a mapping: (file %d version %d, %v, %d, %d) and (file %d version %d, %v, %d, %d)",
					after, o.name, l.name, o.file, o.ver.n, o.mode, o.off, o.size, l.file, l.ver.n, l.mode, l.off, l.size)
			}
		}
	}
	n := int64(len(maps))
	if s.Maps-s.Unmaps < n || pool < n {
		m.fatalf("after %s: %d mappings leased, but %+v and %d in the mapped pool", after, n, s, pool)
	}
	if !m.closed {
		return
	}
	// Closed: only the leases hold mappings (those of size 0 are not in
	// the pool, and may be shared).
	if s.MappedBytes != 0 || pool != n || s.Maps-s.Unmaps > n+int64(zero) {
		m.fatalf("after %s, closed: %+v, %d in the mapped pool; want no bytes cached and only the %d leased mappings (and up to %d of size 0)", after, s, pool, n, zero)
	}
	if f, h, w := m.c.FrontLen(), m.c.HotLen(), m.c.WindowLen(); f+h+w != 0 {
		m.fatalf("after %s, closed: %d entries in front, %d in hot slots, %d in the window", after, f, h, w)
	}
}
