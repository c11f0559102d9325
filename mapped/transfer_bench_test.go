//go:build unix

package mapped_test

import (
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offheap-go/offheap/mapped"
)

// The benchmarks of mapped.TransferTo against what a Go program would
// write instead, on a warm file: file to file (the JDK anchor's "mapped"
// mode times FileChannel.transferTo of a 1 GiB file the same way: the
// destination opened with O_TRUNC and closed inside the timing) and file
// to a loopback TCP socket drained by a goroutine. Every case reports
// ns/MiB and the process's CPU time per MiB from getrusage(RUSAGE_SELF)
// (user-ns/MiB, sys-ns/MiB): for the socket cases that includes the
// draining goroutine, the same in every case.

const xferMiB = 1 << 20

// xferWarmFile writes a file of random bytes in a new directory under
// os.TempDir: 1 GiB when the file system has room for it and a copy
// (with a margin), else 256 MiB. It syncs it, so that write-back does not
// run under the measurements, and reads it once, so that it is in the
// page cache. The caller removes dir.
func xferWarmFile(b *testing.B) (dir string, f *os.File, size int64) {
	b.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(os.TempDir(), &st); err != nil {
		b.Skipf("statfs %s: %v", os.TempDir(), err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	switch {
	case free >= 3<<30:
		size = 1 << 30
	case free >= 768<<20:
		size = 256 << 20
	default:
		b.Skipf("%s has %d MiB free; the benchmark needs 768 MiB", os.TempDir(), free>>20)
	}
	dir, err := os.MkdirTemp("", "offheap-transfer-bench")
	if err != nil {
		b.Fatal(err)
	}
	f, err = os.OpenFile(filepath.Join(dir, "src.bin"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	fail := func(err error) {
		f.Close()
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{13})
	chunk := make([]byte, xferMiB)
	for off := int64(0); off < size; off += xferMiB {
		rng.Read(chunk)
		if _, err := f.WriteAt(chunk, off); err != nil {
			fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		fail(err)
	}
	if _, err := io.Copy(io.Discard, io.NewSectionReader(f, 0, size)); err != nil {
		fail(err)
	}
	return dir, f, size
}

// xferUsage is the process's user and system CPU time.
func xferUsage() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(syscall.TimevalToNsec(ru.Utime)), time.Duration(syscall.TimevalToNsec(ru.Stime))
}

// xferMeasure runs one copy of size bytes per iteration and reports
// ns/MiB and CPU per MiB.
func xferMeasure(b *testing.B, size int64, copyOnce func() (int64, error)) {
	b.SetBytes(size)
	iters := 0
	u0, s0 := xferUsage()
	for b.Loop() {
		n, err := copyOnce()
		if err != nil {
			b.Fatal(err)
		}
		if n != size {
			b.Fatalf("copied %d of %d bytes", n, size)
		}
		iters++
	}
	u1, s1 := xferUsage()
	mib := float64(iters) * float64(size) / xferMiB
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/mib, "ns/MiB")
	b.ReportMetric(float64((u1-u0).Nanoseconds())/mib, "user-ns/MiB")
	b.ReportMetric(float64((s1-s0).Nanoseconds())/mib, "sys-ns/MiB")
}

// readWriteLoop copies size bytes of src from 0 to dst through a heap
// buffer: read(2) into it, write(2) from it.
func readWriteLoop(src *os.File, size int64, dst io.Writer, buf []byte) (int64, error) {
	var total int64
	for total < size {
		n, err := src.ReadAt(buf[:min(int64(len(buf)), size-total)], total)
		if n > 0 {
			w, werr := dst.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// BenchmarkTransferTo creates the warm file once for all its cases (-count
// repeats the cases, not this function) and removes it at the end.
//
// File to file, the destination opened and closed in each iteration:
// FileToFile/trunc/* opens the last iteration's copy with O_TRUNC, as the
// JDK anchor does; on ext4 (auto_da_alloc) a file truncated to 0 and
// rewritten is flushed to the disk at close, so these cases are bound by
// the disk and noisy. FileToFile/new/* removes the copy first and creates
// a new file: the copy in memory, without the flush.
//   - TransferTo: mapped.TransferTo, whose first tier is copy_file_range(2)
//     in 8 MiB chunks.
//   - io.Copy: io.Copy(dst, src), which os.File.ReadFrom turns into
//     copy_file_range(2) too.
//   - ReadWrite64K: read(2) into a 64 KiB heap buffer and write(2) from
//     it.
//
// File to a loopback TCP connection whose other end a goroutine drains
// with io.Copy(io.Discard, conn):
//   - FileToSocket/TransferTo: mapped.TransferTo (sendfile(2)).
//   - FileToSocket/io.Copy: io.Copy(*net.TCPConn, *os.File), which
//     net.TCPConn.ReadFrom turns into sendfile(2).
//   - FileToSocket/ReadWrite64K: the heap-buffer loop.
func BenchmarkTransferTo(b *testing.B) {
	dir, src, size := xferWarmFile(b)
	defer os.RemoveAll(dir)
	defer src.Close()
	dstPath := filepath.Join(dir, "dst.bin")

	// toFile runs copyTo into the destination file, opened with O_TRUNC
	// (after removing it when fresh).
	toFile := func(fresh bool, copyTo func(dst *os.File) (int64, error)) func() (int64, error) {
		return func() (int64, error) {
			if fresh {
				if err := os.Remove(dstPath); err != nil && !os.IsNotExist(err) {
					return 0, err
				}
			}
			dst, err := os.OpenFile(dstPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return 0, err
			}
			n, err := copyTo(dst)
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
			return n, err
		}
	}
	transferAll := func(dst io.Writer) (int64, error) {
		var total int64
		for total < size {
			n, err := mapped.TransferTo(src, total, size-total, dst)
			total += n
			if err != nil {
				return total, err
			}
			if n == 0 {
				break
			}
		}
		return total, nil
	}
	ioCopy := func(dst io.Writer) (int64, error) {
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		return io.Copy(dst, src)
	}
	buf := make([]byte, 64<<10)
	rw := func(dst io.Writer) (int64, error) { return readWriteLoop(src, size, dst, buf) }

	for _, dst := range []struct {
		name  string
		fresh bool
	}{{"trunc", false}, {"new", true}} {
		for _, c := range []struct {
			name   string
			copyTo func(io.Writer) (int64, error)
		}{{"TransferTo", transferAll}, {"io.Copy", ioCopy}, {"ReadWrite64K", rw}} {
			b.Run("FileToFile/"+dst.name+"/"+c.name, func(b *testing.B) {
				xferMeasure(b, size, toFile(dst.fresh, func(f *os.File) (int64, error) { return c.copyTo(f) }))
			})
		}
	}
	for _, c := range []struct {
		name   string
		copyTo func(io.Writer) (int64, error)
	}{{"TransferTo", transferAll}, {"io.Copy", ioCopy}, {"ReadWrite64K", rw}} {
		b.Run("FileToSocket/"+c.name, func(b *testing.B) {
			conn, done := xferSocket(b)
			defer func() {
				conn.Close()
				done()
			}()
			xferMeasure(b, size, func() (int64, error) { return c.copyTo(conn) })
		})
	}
}

// xferSocket returns the client end of a loopback TCP connection whose
// server end a goroutine drains with io.Copy(io.Discard, conn), and a
// function that waits for that goroutine (after the client end is closed).
func xferSocket(b *testing.B) (*net.TCPConn, func()) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Skipf("no loopback TCP: %v", err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	accepted := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		accepted <- err
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	if err := <-accepted; err != nil {
		c.Close()
		b.Fatal(err)
	}
	return c.(*net.TCPConn), wg.Wait
}
