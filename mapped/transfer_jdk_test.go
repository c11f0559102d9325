//go:build unix

package mapped

// Ports of the JDK's tests of FileChannel.transferTo and transferFrom
// (test/jdk/java/nio/channels/FileChannel/): Transfers.java, Transfer.java,
// TransferToChannel.java, TransferFromExtend.java, Transfer2GPlus.java and
// TransferToAppending.java, with their numbers, run through each tier.

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// jdkSizes are Transfers.java's sizes: 0 to 6, then 2^n-1, 2^n, 2^n+1, up
// to 16 KiB.
func jdkSizes() []int {
	var s []int
	for i := 0; i <= 6; i++ {
		s = append(s, i)
	}
	for n := 1 << 3; n <= 16<<10; n <<= 1 {
		s = append(s, n-1, n)
		if n < 16<<10 {
			s = append(s, n+1)
		}
	}
	return s
}

// TestJDKTransfers: every size at several positions of a 32 KiB file, to a
// file and from a file and a stream; the source's position (TransferTo)
// and the target's (TransferFrom) never change.
func TestJDKTransfers(t *testing.T) {
	const fileSize = 32 << 10
	data := xferRandom(rand.New(rand.NewPCG(21, 22)), fileSize)
	for _, tr := range xferTiers {
		t.Run(tr.String(), func(t *testing.T) {
			xferSetup(t, tr)
			src := xferFile(t, data, os.O_RDONLY)
			dst := xferFile(t, nil, os.O_RDWR)
			for _, size := range jdkSizes() {
				for _, pos := range []int{0, 1, 8191, fileSize - size} {
					want := min(size, fileSize-pos)
					// transferTo: src's offset stays, dst's advances.
					src.Seek(13, io.SeekStart)
					dst.Truncate(0)
					dst.Seek(7, io.SeekStart)
					n, err := TransferTo(src, int64(pos), int64(size), dst)
					if err != nil || n != int64(want) {
						t.Fatalf("TransferTo(pos %d, size %d) = %d, %v", pos, size, n, err)
					}
					if off := xferOffset(t, src); off != 13 {
						t.Fatalf("TransferTo moved the source to %d", off)
					}
					if off := xferOffset(t, dst); off != 7+n {
						t.Fatalf("target offset %d, want %d", off, 7+n)
					}
					if got := xferContents(t, dst); want > 0 && !bytes.Equal(got[7:], data[pos:pos+want]) {
						t.Fatalf("TransferTo(pos %d, size %d): wrong bytes", pos, size)
					}
					// transferFrom a file: from its offset, which advances;
					// the target's stays.
					src.Seek(int64(pos), io.SeekStart)
					dst.Truncate(0)
					dst.Seek(5, io.SeekStart)
					n, err = TransferFrom(src, dst, 3, int64(size))
					if err != nil || n != int64(want) {
						t.Fatalf("TransferFrom file(pos %d, size %d) = %d, %v", pos, size, n, err)
					}
					if off := xferOffset(t, src); off != int64(pos+want) {
						t.Fatalf("TransferFrom left the source at %d, want %d", off, pos+want)
					}
					if off := xferOffset(t, dst); off != 5 {
						t.Fatalf("TransferFrom moved the target to %d", off)
					}
					if got := xferContents(t, dst); want > 0 && !bytes.Equal(got[3:], data[pos:pos+want]) {
						t.Fatalf("TransferFrom file(pos %d, size %d): wrong bytes", pos, size)
					}
					// transferFrom a stream.
					dst.Truncate(0)
					n, err = TransferFrom(bytes.NewReader(data[pos:]), dst, 0, int64(size))
					if err != nil || n != int64(want) {
						t.Fatalf("TransferFrom stream(pos %d, size %d) = %d, %v", pos, size, n, err)
					}
					if got := xferContents(t, dst); !bytes.Equal(got, data[pos:pos+want]) {
						t.Fatalf("TransferFrom stream(pos %d, size %d): wrong bytes", pos, size)
					}
				}
			}
		})
	}
}

// TestJDKTransfer: whole files of the sizes around 1 and 2 KiB; a
// transfer at the end of the file returns 0.
func TestJDKTransfer(t *testing.T) {
	for _, tr := range xferTiers {
		t.Run(tr.String(), func(t *testing.T) {
			xferSetup(t, tr)
			for _, size := range []int{0, 10, 1023, 1024, 1025, 2047, 2048, 2049} {
				data := xferRandom(rand.New(rand.NewPCG(uint64(size), 23)), size)
				src := xferFile(t, data, os.O_RDONLY)
				dst := xferFile(t, nil, os.O_RDWR)
				if n, err := TransferTo(src, 0, int64(size), dst); err != nil || n != int64(size) || !bytes.Equal(xferContents(t, dst), data) {
					t.Fatalf("TransferTo size %d = %d, %v", size, n, err)
				}
				back := xferFile(t, nil, os.O_RDWR)
				dst.Seek(0, io.SeekStart) // TransferTo advanced it
				if n, err := TransferFrom(dst, back, 0, int64(size)); err != nil || n != int64(size) || !bytes.Equal(xferContents(t, back), data) {
					t.Fatalf("TransferFrom size %d = %d, %v", size, n, err)
				}
			}
			// 16385 bytes at the end of the file: nothing.
			data := xferRandom(rand.New(rand.NewPCG(24, 25)), 16385)
			src := xferFile(t, data, os.O_RDONLY)
			dst := xferFile(t, nil, os.O_RDWR)
			if n, err := TransferTo(src, 16385, 16385, dst); n != 0 || err != nil {
				t.Errorf("TransferTo at EOF = %d, %v", n, err)
			}
			src.Seek(0, io.SeekEnd)
			if n, err := TransferFrom(src, dst, 0, 16385); n != 0 || err != nil {
				t.Errorf("TransferFrom a source at EOF = %d, %v", n, err)
			}
		})
	}
}

// TestJDKTransferToChannel: a 1000 KiB file in 9 KiB chunks to a socket.
func TestJDKTransferToChannel(t *testing.T) {
	const fileSize, chunk = 1000 << 10, 9 << 10
	data := xferRandom(rand.New(rand.NewPCG(26, 27)), fileSize)
	for _, tr := range xferTiers {
		t.Run(tr.String(), func(t *testing.T) {
			used := xferSetup(t, tr)
			src := xferFile(t, data, os.O_RDONLY)
			client, server := xferTCP(t)
			wait := xferReadAll(server)
			var total int64
			for total < fileSize {
				n, err := TransferTo(src, total, chunk, client)
				if err != nil || n != min(chunk, fileSize-total) {
					t.Fatalf("TransferTo at %d = %d, %v", total, n, err)
				}
				total += n
			}
			client.CloseWrite()
			got, err := wait()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("peer read %d bytes, %v", len(got), err)
			}
			if off := xferOffset(t, src); off != 0 {
				t.Errorf("source offset moved to %d", off)
			}
			wantTier(t, *used, tr)
		})
	}
}

// TestJDKTransferFromExtend: JDK 21 (bug 8303260) grows the target when
// the position is past its end, from a file (sizes 16K+1 to 500K, the
// mapped path's threshold) and from a stream (1 to 64K).
func TestJDKTransferFromExtend(t *testing.T) {
	rnd := rand.New(rand.NewPCG(28, 29))
	type params struct{ initialPos, size, offset int }
	cases := func(minSize, maxSize int) []params {
		var ps []params
		for i := 0; i < 10; i++ {
			ps = append(ps, params{rnd.IntN(1024), minSize + rnd.IntN(maxSize-minSize), 1 + rnd.IntN(2047)})
		}
		return ps
	}
	check := func(t *testing.T, src io.Reader, count int64, p params, bytesWant []byte) {
		t.Helper()
		target := xferFile(t, nil, os.O_RDWR)
		target.Seek(int64(p.initialPos), io.SeekStart)
		if n, err := target.Write([]byte{42}); n != 1 || err != nil {
			t.Fatal(n, err)
		}
		fi, _ := target.Stat()
		position := fi.Size() + int64(p.offset)
		n, err := TransferFrom(src, target, position, count)
		if err != nil || n != count {
			t.Fatalf("TransferFrom(%+v) = %d, %v; want %d", p, n, err, count)
		}
		buf := make([]byte, n)
		if _, err := target.ReadAt(buf, position); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, bytesWant[:n]) {
			t.Fatalf("TransferFrom(%+v): arrays unequal", p)
		}
		if fi, _ := target.Stat(); fi.Size() != position+n {
			t.Errorf("target size %d, want %d", fi.Size(), position+n)
		}
	}
	for _, tr := range xferTiers {
		t.Run("fromFile/"+tr.String(), func(t *testing.T) {
			xferSetup(t, tr)
			for _, p := range cases(16<<10+1, 500<<10) {
				data := xferRandom(rnd, p.size)
				src := xferFile(t, data, os.O_RDWR)
				check(t, src, int64(p.size), p, data)
			}
		})
	}
	t.Run("fromReadingByteChannel", func(t *testing.T) {
		xferSetup(t, tierKernel)
		for _, p := range cases(1, 64<<10) {
			data := xferRandom(rnd, p.size)
			check(t, bytes.NewReader(data), int64(p.size), p, data)
		}
	})
}

// TestJDKTransfer2GPlus: a sparse file of 2 GiB + 1024 bytes, transferred
// whole (counts past 2^31) and its last bytes checked. The kernel and
// mapped tiers send the whole file to /dev/null (writing 2 GiB of zeros to
// disk would dominate the package's test time); the tail goes to a file.
func TestJDKTransfer2GPlus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const size = 2<<30 + 1024
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || int64(fs.Bavail)*int64(fs.Bsize) < 64<<20 {
		t.Skipf("not enough free space in %s for a sparse 2 GiB file (%v)", dir, err)
	}
	path := filepath.Join(dir, "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tail := xferRandom(rand.New(rand.NewPCG(30, 31)), 1024)
	if err := f.Truncate(size); err != nil {
		t.Skipf("file system cannot hold a %d-byte file: %v", int64(size), err)
	}
	if _, err := f.WriteAt(tail, size-1024); err != nil {
		t.Skipf("file system cannot hold a %d-byte file: %v", int64(size), err)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Blocks*512 > 64<<20 {
		t.Skipf("file system does not keep the file sparse (%d blocks, %v)", st.Blocks, err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, tr := range xferTiers[:2] {
		t.Run(tr.String(), func(t *testing.T) {
			used := xferSetup(t, tr)
			if n, err := TransferTo(f, 0, size, null); n != size || err != nil {
				t.Fatalf("TransferTo /dev/null = %d, %v; want %d", n, err, int64(size))
			}
			dst := xferFile(t, nil, os.O_RDWR)
			if n, err := TransferTo(f, size-1024, 1<<40, dst); n != 1024 || err != nil || !bytes.Equal(xferContents(t, dst), tail) {
				t.Fatalf("TransferTo of the tail = %d, %v", n, err)
			}
			// transferFrom past 2 GiB grows a sparse target.
			f.Seek(size-1024, io.SeekStart)
			if n, err := TransferFrom(f, dst, size, 1024); n != 1024 || err != nil {
				t.Fatalf("TransferFrom to %d = %d, %v", int64(size), n, err)
			}
			got := make([]byte, 1024)
			if _, err := dst.ReadAt(got, size); err != nil || !bytes.Equal(got, tail) {
				t.Fatalf("target past 2 GiB: %v", err)
			}
			if tr == tierKernel {
				// sendfile to /dev/null; the files by copy_file_range.
				wantTier(t, *used, tierKernel)
			}
		})
	}
}

// TestJDKTransferToAppending: 128 to 32768 bytes to a file opened for
// appending land at its end (copy_file_range and sendfile refuse O_APPEND
// targets: the next tier takes them).
func TestJDKTransferToAppending(t *testing.T) {
	for _, tr := range xferTiers {
		t.Run(tr.String(), func(t *testing.T) {
			xferSetup(t, tr)
			for size := 128; size <= 32768; size *= 2 {
				data := xferRandom(rand.New(rand.NewPCG(uint64(size), 32)), size)
				src := xferFile(t, data, os.O_RDONLY)
				head := []byte(fmt.Sprintf("head %d\n", size))
				dst := xferFile(t, head, os.O_WRONLY|os.O_APPEND)
				n, err := TransferTo(src, 0, int64(size), dst)
				if err != nil || n != int64(size) {
					t.Fatalf("TransferTo size %d = %d, %v", size, n, err)
				}
				if got := xferContents(t, dst); !bytes.Equal(got, append(head, data...)) {
					t.Fatalf("size %d: the target holds %d bytes, not head+source", size, len(got))
				}
			}
		})
	}
}
