//go:build unix

package mapped_test

// Ports of the JDK's tests of MappedByteBuffer and FileChannel.map
// (test/jdk/java/nio/MappedByteBuffer and test/jdk/java/nio/channels/
// FileChannel in openjdk/jdk), with the same numbers. Where a JDK test
// drops its buffers for the collector, these Free them.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/mapped"
)

// seeded returns a random source for a JDK test marked "@key randomness",
// logging its seed so a failure can be replayed.
func seeded(t *testing.T) *rand.Rand {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// MappedByteBuffer/Basic.java: a 20-byte file of 3s, mapped READ_ONLY at
// 0 and (unaligned) at 1, 10 bytes each; load, isLoaded and force work,
// and the buffers are read-only; a READ_WRITE mapping is not.
func TestJDKBasic(t *testing.T) {
	path := writeFile(t, "blah", bytes.Repeat([]byte{3}, 20))
	fis := open(t, path, os.O_RDONLY)
	for _, off := range []int64{0, 1} {
		mbb := mustMap(t, fis, mapped.ReadOnly, off, 10)
		if err := mbb.Load(); err != nil {
			t.Errorf("offset %d: Load: %v", off, err)
		}
		if _, err := mbb.IsLoaded(); err != nil {
			t.Errorf("offset %d: IsLoaded: %v", off, err)
		}
		if err := mbb.Force(); err != nil {
			t.Errorf("offset %d: Force: %v", off, err)
		}
		if !mbb.IsReadOnly() {
			t.Errorf("offset %d: Incorrect isReadOnly", off)
		}
		for i := range 10 {
			if v, err := mbb.GetAt(i); err != nil || v != 3 {
				t.Errorf("offset %d: GetAt(%d) = %d, %v", off, i, v, err)
			}
		}
		free(t, mbb)
	}
	mbb := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 0, 10) // RandomAccessFile "r"
	if !mbb.IsReadOnly() {
		t.Error("Incorrect isReadOnly")
	}
	free(t, mbb)
	mbb = mustMap(t, open(t, path, os.O_RDWR), mapped.ReadWrite, 0, 10) // "rw"
	if mbb.IsReadOnly() {
		t.Error("Incorrect isReadOnly")
	}
	free(t, mbb)
}

// MappedByteBuffer/Force.java: force on a READ_WRITE mapping of a random
// file under 3 MiB from a random cut (bug 4625907), and force after
// limit(4) (bug 4719209).
func TestJDKForce(t *testing.T) {
	r := seeded(t)
	filesize := 1 + r.Int64N(3*1024*1024-1)
	cut := r.Int64N(filesize)
	path := sizedFile(t, "Blah", filesize)
	f := open(t, path, os.O_RDWR)
	buf1 := mustMap(t, f, mapped.ReadWrite, cut, filesize-cut)
	if err := buf1.Force(); err != nil {
		t.Errorf("Force of [%d, %d): %v", cut, filesize, err)
	}
	free(t, buf1)

	buf := mustMap(t, f, mapped.ReadWrite, 0, 10)
	defer free(t, buf)
	if err := buf.PutUint32(0x01020304); err != nil {
		t.Fatal(err)
	}
	if err := buf.SetLimit(4); err != nil {
		t.Fatal(err)
	}
	if err := buf.Force(); err != nil {
		t.Errorf("Force after SetLimit(4): %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got[:4], []byte{1, 2, 3, 4}) {
		t.Errorf("file starts % x", got[:4])
	}
}

// MappedByteBuffer/ForceViews.java: force(32, 64) on an absolute slice, a
// relative slice, a duplicate and a compacted mapping of (256, 512) of a
// 1024-byte file; the file and the view both have the bytes.
func TestJDKForceViews(t *testing.T) {
	type segment struct{ position, length int }
	cases := []struct {
		name                                                                string
		mapPosition, mapLength, sliceIndex, sliceLength, regionOff, regionN int
		view                                                                func(*mapped.Buffer, segment) *mapped.Buffer
	}{
		{"Absolute slice", 256, 512, 128, 128, 32, 32, func(m *mapped.Buffer, s segment) *mapped.Buffer {
			v, err := m.SliceAt(s.position, s.length)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}},
		{"Relative slice", 256, 512, 0, 128, 32, 32, func(m *mapped.Buffer, s segment) *mapped.Buffer {
			if err := m.SetPosition(s.position); err != nil {
				t.Fatal(err)
			}
			if err := m.SetLimit(s.position + s.length); err != nil {
				t.Fatal(err)
			}
			return m.Slice()
		}},
		{"Duplicate", 256, 512, 0, 256, 32, 32, func(m *mapped.Buffer, _ segment) *mapped.Buffer { return m.Duplicate() }},
		{"Compact", 256, 512, 0, 256, 32, 32, func(m *mapped.Buffer, _ segment) *mapped.Buffer {
			if err := m.Compact(); err != nil {
				t.Fatal(err)
			}
			return m
		}},
	}
	path := writeFile(t, "junk", make([]byte, 1024))
	fc := open(t, path, os.O_RDWR)
	for _, c := range cases {
		root := mustMap(t, fc, mapped.ReadWrite, int64(c.mapPosition), int64(c.mapLength))
		mbb := c.view(root, segment{c.sliceIndex, c.sliceLength})
		for i := c.regionOff; i < c.regionOff+c.regionN; i++ {
			if err := mbb.PutAt(i, byte(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := mbb.ForceRange(c.regionOff, c.regionOff+c.regionN); err != nil {
			t.Errorf("%s: ForceRange(%d, %d): %v", c.name, c.regionOff, c.regionOff+c.regionN, err)
		}
		fcPos := c.mapPosition + c.sliceIndex + c.regionOff
		buf := make([]byte, c.regionN)
		if _, err := fc.ReadAt(buf, int64(fcPos)); err != nil {
			t.Fatal(err)
		}
		for i := range c.regionN {
			mbbVal, err := mbb.GetAt(c.regionOff + i)
			if val := byte(c.regionOff + i); err != nil || buf[i] != val || mbbVal != val {
				t.Errorf("%s: i %d, fcVal %d, mbbVal %d (%v), val %d", c.name, i, buf[i], mbbVal, err, val)
			}
		}
		free(t, root)
	}
}

// MappedByteBuffer/ZeroMap.java: a size-0 READ_WRITE mapping at a random
// cut of a random file under 1 MiB: force, load and isLoaded.
func TestJDKZeroMap(t *testing.T) {
	r := seeded(t)
	filesize := 1 + r.Int64N(1024*1024-1)
	cut := r.Int64N(filesize)
	before := mapped.Stats()
	buf1 := mustMap(t, open(t, sizedFile(t, "Blah", filesize), os.O_RDWR), mapped.ReadWrite, cut, 0)
	defer free(t, buf1)
	if err := buf1.Force(); err != nil {
		t.Errorf("Force: %v", err)
	}
	if err := buf1.Load(); err != nil {
		t.Errorf("Load: %v", err)
	}
	if ok, err := buf1.IsLoaded(); !ok || err != nil {
		t.Errorf("IsLoaded() = %v, %v", ok, err)
	}
	wantStats(t, before)
}

// MappedByteBuffer/Truncate.java (bug 6934977): a 32007-byte file (32000
// zeros and "THE END") mapped READ_WRITE and truncated to 512. The JDK
// checks that get(513), put(514) and load() do not crash the VM; here
// bytes in the pages past the cut are ErrFault, Load is ErrFault, and the
// test goes on. (513 and 514 share the page of byte 511, which the system
// still maps: zeros, no fault.)
func TestJDKTruncate(t *testing.T) {
	const initial, truncated = 32000, 512
	path := sizedFile(t, "blah", initial)
	fc := open(t, path, os.O_RDWR)
	if _, err := fc.WriteAt([]byte("THE END"), initial); err != nil {
		t.Fatal(err)
	}
	mbb := mustMap(t, fc, mapped.ReadWrite, 0, initial+7)
	defer free(t, mbb)
	if v, err := mbb.GetAt(initial + 4); err != nil || v != 'E' {
		t.Fatalf("GetAt(%d) = %q, %v before the truncation", initial+4, v, err)
	}
	if err := fc.Truncate(truncated); err != nil {
		t.Fatal(err)
	}
	if _, err := mbb.GetAt(truncated + 1); err != nil && !errors.Is(err, mapped.ErrFault) {
		t.Errorf("GetAt(%d) = %v", truncated+1, err)
	}
	if err := mbb.PutAt(truncated+2, 123); err != nil && !errors.Is(err, mapped.ErrFault) {
		t.Errorf("PutAt(%d) = %v", truncated+2, err)
	}
	ps := os.Getpagesize()
	firstGone := (truncated + ps - 1) / ps * ps
	if firstGone >= initial+7 {
		t.Skipf("page size %d: the whole file is in the page that holds the cut", ps)
	}
	for _, i := range []int{firstGone, firstGone + 1, initial, initial + 6} {
		if _, err := mbb.GetAt(i); !errors.Is(err, mapped.ErrFault) {
			t.Errorf("GetAt(%d) past the cut = %v, want ErrFault", i, err)
		}
		if err := mbb.PutAt(i, 123); !errors.Is(err, mapped.ErrFault) {
			t.Errorf("PutAt(%d) past the cut = %v, want ErrFault", i, err)
		}
	}
	if _, err := mbb.GetInt64At(firstGone - 4); !errors.Is(err, mapped.ErrFault) {
		t.Errorf("GetInt64At across the cut = %v, want ErrFault", err)
	}
	if err := mbb.Load(); !errors.Is(err, mapped.ErrFault) {
		t.Errorf("Load = %v, want ErrFault", err)
	}
	if _, err := mbb.GetAt(0); err != nil {
		t.Errorf("GetAt(0) after the faults: %v", err)
	}
}

// FileChannel/MapTest.java: a file of the lines "0000\n" to "3999\n"
// (20000 bytes); 1000 READ_ONLY maps of 100 bytes at a random line under
// offset 10000 read their line number; 1000 READ_WRITE maps at a random
// offset under 1000 write and read "0123"; 1000 maps at offset 66000
// (past the end: the first extends the file); force in 128 blocks of 64
// bytes and out of range; and the exceptions of FileChannel.map.
func TestJDKMapTest(t *testing.T) {
	const charsPerLine = 5
	var init bytes.Buffer
	for i := range 4000 {
		fmt.Fprintf(&init, "%04d\n", i)
	}
	path := writeFile(t, "blah", init.Bytes())
	r := seeded(t)

	t.Run("Zero", func(t *testing.T) {
		b := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 0, 0)
		b.Free() // nothing is mapped; a size-0 READ_ONLY buffer says ErrNotOwner (see TestMapSizeZeroReadOnlyFree)
	})

	t.Run("Read", func(t *testing.T) {
		for range 1000 {
			fis, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			expected := r.Int64N(10000) / charsPerLine
			b := mustMap(t, fis, mapped.ReadOnly, expected*charsPerLine, 100)
			fis.Close()
			line := make([]byte, 4)
			for i := range 4 {
				if line[i], err = b.GetAt(i); err != nil {
					t.Fatal(err)
				}
			}
			free(t, b)
			if n, err := strconv.Atoi(string(line)); err != nil || int64(n) != expected {
				t.Fatalf("Read test failed: I expected %d, I got %q", expected, line)
			}
		}
	})

	t.Run("Write", func(t *testing.T) {
		for range 1000 {
			raf, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			b := mustMap(t, raf, mapped.ReadWrite, r.Int64N(1000), 100)
			raf.Close()
			for i := range 4 {
				if err := b.PutAt(i, byte('0'+i)); err != nil {
					t.Fatal(err)
				}
			}
			got := make([]byte, 4)
			if err := b.GetBytesAt(0, got); err != nil {
				t.Fatal(err)
			}
			free(t, b)
			if string(got) != "0123" {
				t.Fatalf("Write test failed: %q", got)
			}
		}
	})

	t.Run("HighOffset", func(t *testing.T) {
		for range 1000 {
			raf, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			b := mustMap(t, raf, mapped.ReadWrite, 66000, 100)
			raf.Close()
			free(t, b)
		}
		if n := fileSize(t, path); n != 66100 {
			t.Errorf("file size %d, want 66100", n)
		}
	})

	t.Run("Force", func(t *testing.T) {
		const blockSize = 64
		const blockCount = (4096 * 2) / blockSize
		b := mustMap(t, open(t, path, os.O_RDWR), mapped.ReadWrite, 0, blockSize*(blockCount+1))
		defer free(t, b)
		offset := 0
		for range blockCount {
			for i := range blockSize {
				if err := b.PutAt(offset+i, byte('0'+i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.ForceRange(offset, blockSize); err != nil {
				t.Fatalf("ForceRange(%d, %d): %v", offset, blockSize, err)
			}
			offset += blockSize
		}
		// start and end are out of range
		if err := b.ForceRange(offset+blockSize, blockSize); !errors.Is(err, directmem.ErrIndexOutOfRange) {
			t.Errorf("expected ErrIndexOutOfRange for force beyond buffer extent, got %v", err)
		}
		// start is in range but end is out of range
		if err := b.ForceRange(offset, 2*blockSize); !errors.Is(err, directmem.ErrIndexOutOfRange) {
			t.Errorf("expected ErrIndexOutOfRange for force beyond write limit, got %v", err)
		}
	})

	t.Run("Exceptions", func(t *testing.T) {
		size := fileSize(t, path)
		null := mapped.Mode(-1) // Go's nearest to a null MapMode
		// IllegalArgumentException is fs.ErrInvalid; NonReadable- and
		// NonWritableChannelException are fs.ErrPermission. Where the JDK
		// accepts either, so does this. MapTest's READ_ONLY mapping of
		// Integer.MAX_VALUE+1 bytes is an IllegalArgumentException there
		// (the 2 GiB limit); here there is no such limit, and the mapping
		// fails on the file instead: past its end (fs.ErrInvalid) or not
		// readable (fs.ErrPermission).
		type check struct {
			mode         mapped.Mode
			offset, size int64
			want         []error
		}
		inv, perm := fs.ErrInvalid, fs.ErrPermission
		common := func(unreadable bool) []check {
			big := []error{inv}
			if unreadable {
				big = append(big, perm)
			}
			return []check{
				{null, 0, size, []error{inv}},
				{mapped.ReadOnly, -1, size, []error{inv}},
				{null, -1, size, []error{inv}},
				{mapped.ReadOnly, 0, -1, []error{inv}},
				{null, 0, -1, []error{inv}},
				{mapped.ReadOnly, 0, math.MaxInt32 + 1, big},
				{null, 0, math.MaxInt32 + 1, []error{inv}},
				{mapped.ReadOnly, math.MaxInt64, 1, []error{inv}},
				{null, math.MaxInt64, 1, []error{inv}},
			}
		}
		run := func(flag int, checks []check) {
			fc := open(t, path, flag)
			for _, c := range checks {
				b, err := mapped.Map(fc, c.mode, c.offset, c.size)
				if b != nil {
					b.Free()
				}
				ok := false
				for _, w := range c.want {
					ok = ok || errors.Is(err, w)
				}
				if !ok {
					t.Errorf("flag %#x: Map(%v, %d, %d) = %v, want one of %v", flag, c.mode, c.offset, c.size, err, c.want)
				}
			}
		}
		run(os.O_RDONLY, append(common(false),
			check{mapped.ReadWrite, 0, size, []error{perm}},
			check{mapped.ReadWrite, -1, size, []error{perm, inv}},
			check{mapped.ReadWrite, 0, -1, []error{perm, inv}},
			check{mapped.Private, 0, size, []error{perm}},
			check{mapped.Private, -1, size, []error{perm, inv}},
			check{mapped.Private, 0, -1, []error{perm, inv}},
		))
		run(os.O_WRONLY, append(common(true),
			check{mapped.ReadOnly, 0, size, []error{perm}},
			check{mapped.ReadOnly, -1, size, []error{perm, inv}},
		))
		run(os.O_RDWR, common(false))
		if n := fileSize(t, path); n != size {
			t.Errorf("the failed maps changed the file size from %d to %d", size, n)
		}
	})
}

// FileChannel/MapOverEnd (bug 4462336): map 2048 bytes of an empty file
// READ_WRITE (the file grows), close the channel, and keep using the
// buffer: getDouble, putDouble, force.
func TestJDKMapOverEnd(t *testing.T) {
	path := writeFile(t, "blah", nil)
	fc, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := mustMap(t, fc, mapped.ReadWrite, 0, 2048)
	defer free(t, m)
	if err := fc.Close(); err != nil {
		t.Fatal(err)
	}
	current, err := m.GetFloat64At(50)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.PutFloat64At(50, current+0.1); err != nil {
		t.Fatal(err)
	}
	if err := m.Force(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2048 {
		t.Errorf("file size %d, want 2048", len(got))
	}
	if v, _ := m.GetUint64At(50); !bytes.Equal(got[50:58], be64(v)) || current+0.1 != math.Float64frombits(v) {
		t.Errorf("the file has % x at 50, want the double %v", got[50:58], current+0.1)
	}
}

func be64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[7-i] = byte(v >> (8 * i))
	}
	return b
}

// FileChannel/MapReadOnly: put on a size-0 READ_ONLY mapping of an empty
// file is ReadOnlyBufferException (read-only is checked before bounds).
func TestJDKMapReadOnly(t *testing.T) {
	path := writeFile(t, "MapReadOnly", nil)
	mbb := mustMap(t, open(t, path, os.O_RDONLY), mapped.ReadOnly, 0, 0)
	if err := mbb.Put(1); !errors.Is(err, directmem.ErrReadOnly) {
		t.Errorf("Put = %v, want ErrReadOnly", err)
	}
	if err := mbb.PutAt(0, 1); !errors.Is(err, directmem.ErrReadOnly) {
		t.Errorf("PutAt = %v, want ErrReadOnly", err)
	}
}

// FileChannel/ExpandingMap (bug 6347575): a 20 MiB file grown by an
// eighth (at least 1000 KiB) at a time to 300,000,000 bytes, mapped in
// READ_WRITE windows of at most 16 MiB, each new window filled from where
// the last mapping of it ended. The JDK fills every byte and busy-waits;
// here the file stays sparse: each fill writes its first, middle and last
// byte, and every byte written is checked through the file at the end.
func TestJDKExpandingMap(t *testing.T) {
	const (
		initialSize     = 20480 * 1024
		maximumMapSize  = 16 * 1024 * 1024
		maximumFileSize = 300000000
	)
	path := sizedFile(t, "exp", initialSize)
	f := open(t, path, os.O_RDWR)
	before := mapped.Stats()

	var all []*mapped.Buffer // the JDK keeps some and drops others to the GC
	defer func() {
		for _, b := range all {
			free(t, b)
		}
		wantStats(t, before)
	}()
	written := map[int64]byte{}
	mapAt := func(position, size int64, filledTo int) {
		b := mustMap(t, f, mapped.ReadWrite, position, size)
		all = append(all, b)
		for _, i := range []int{filledTo, (filledTo + b.Limit()) / 2, b.Limit() - 1} {
			if i < filledTo || i >= b.Limit() {
				continue
			}
			if err := b.PutAt(i, byte(i)); err != nil {
				t.Fatal(err)
			}
			written[position+int64(i)] = byte(i)
		}
	}

	mapAt(0, initialSize, initialSize) // buffers[0]: the JDK does not fill it
	currentSize, currentPosition := int64(initialSize), int64(0)
	var size int64
	for currentPosition+currentSize < maximumFileSize {
		inc := max(1000*1024, (currentPosition+currentSize)/8)
		size = currentPosition + currentSize + inc
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		for currentSize+inc > maximumMapSize {
			if currentSize < maximumMapSize {
				mapAt(currentPosition, maximumMapSize, int(currentSize))
			}
			currentPosition += maximumMapSize
			inc = currentSize + inc - maximumMapSize
			currentSize = 0
		}
		currentSize += inc
		if currentSize > 0 {
			mapAt(currentPosition, currentSize, 0)
		}
	}
	if n := fileSize(t, path); n != size || n < maximumFileSize {
		t.Errorf("file size %d, want %d (at least %d)", n, size, maximumFileSize)
	}
	var capacity int64
	for _, b := range all {
		capacity += int64(b.Capacity())
	}
	if s := mapped.Stats(); s.Count != before.Count+int64(len(all)) || s.TotalCapacity != before.TotalCapacity+capacity {
		t.Errorf("Stats() = %+v with %d mappings of %d bytes live", s, len(all), capacity)
	}
	for off, want := range written {
		var got [1]byte
		if _, err := f.ReadAt(got[:], off); err != nil || got[0] != want {
			t.Errorf("file byte %d = %d, %v, want %d", off, got[0], err, want)
		}
	}
	t.Logf("%d mappings, %d bytes written", len(all), len(written))
}

// FileChannel/LargeMapTest (bug 8286637): a sparse file of 4 GiB + 512
// bytes whose last 1024 bytes are random, mapped READ_WRITE whole (no 2
// GiB limit); the slice at 4 GiB + 512 - 1024 reads the random bytes.
// Untouched pages of the mapping take no memory.
func TestJDKLargeMap(t *testing.T) {
	const (
		length = 1<<32 + 512
		extra  = 1024
		base   = length - extra
	)
	if uint64(math.MaxInt) < length {
		t.Skip("a mapping of 4 GiB needs a 64-bit platform")
	}
	// The file is sparse: it needs the space of a few pages, on a file
	// system that has sparse files (checked below by the blocks it takes).
	var st syscall.Statfs_t
	if err := syscall.Statfs(os.TempDir(), &st); err != nil {
		t.Skipf("statfs %s: %v", os.TempDir(), err)
	}
	const need = 64 << 20
	if free := uint64(st.Bavail) * uint64(st.Bsize); free < need {
		t.Skipf("%s has %d bytes free; a sparse 4 GiB file needs a few pages, this test asks for %d", os.TempDir(), free, need)
	}
	path := writeFile(t, "test.dat", nil)
	fc := open(t, path, os.O_RDWR)
	if err := fc.Truncate(length); err != nil {
		t.Skipf("%s cannot hold a sparse file of %d bytes: %v", os.TempDir(), int64(length), err)
	}
	b := make([]byte, extra)
	r := seeded(t)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if _, err := fc.WriteAt(b, base); err != nil {
		t.Skipf("writing at %d: %v", int64(base), err)
	}
	var fst syscall.Stat_t
	if err := syscall.Fstat(int(fc.Fd()), &fst); err != nil {
		t.Fatal(err)
	}
	if used := int64(fst.Blocks) * 512; used > need {
		t.Skipf("%s has no sparse files: a 4 GiB file with 1 KiB written takes %d bytes", os.TempDir(), used)
	}

	before := mapped.Stats()
	m := mustMap(t, fc, mapped.ReadWrite, 0, fileSize(t, path))
	defer free(t, m)
	wantStats(t, plus(before, 1, length, length))
	target, err := m.SliceAt(base, extra)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, extra)
	if err := target.GetBytesAt(0, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Fatal("Expected buffers to be equal")
	}
	// Past 4 GiB by absolute index and through the slice, both ways.
	if err := m.PutUint64At(length-8, 0x0123456789abcdef); err != nil {
		t.Fatal(err)
	}
	if v, err := target.GetUint64At(extra - 8); err != nil || v != 0x0123456789abcdef {
		t.Errorf("GetUint64At through the slice = %#x, %v", v, err)
	}
	if err := target.ForceRange(extra-8, 8); err != nil {
		t.Errorf("ForceRange past 4 GiB: %v", err)
	}
	var last [8]byte
	if _, err := fc.ReadAt(last[:], length-8); err != nil || !bytes.Equal(last[:], be64(0x0123456789abcdef)) {
		t.Errorf("the file ends % x, %v", last, err)
	}
}
