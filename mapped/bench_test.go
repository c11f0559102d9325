//go:build unix

package mapped_test

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/mapped"
)

// The benchmarks of reading a warm 1 GiB file, mapped and with os.File,
// side by side; the JDK anchor's "mapped" mode (shared/anchors/jvm,
// DirectBench mapped) measures the same file size on the same machine.
// Scans report MiB/s and ns/MiB; random reads and Map+Free report ns/op.

const (
	bmFileSize = 1 << 30
	bmMiB      = 1 << 20
)

var bmSink int64

// bmWarmFile writes a 1 GiB file of real data (no holes) in os.TempDir,
// syncs it so that write-back does not run under the measurements, and
// reads it once so that every page is in the page cache. The caller
// removes it. It skips b when the file system has too little space.
//
// MAPPED_BENCH_FILE names an existing file of at least 1 GiB to read
// instead (it is read once, and not removed), so that these benchmarks and
// the JDK anchor's (/tmp/directbench-map.bin) can scan the same file: how
// a file came into the page cache changes what a first scan through a
// fresh mapping costs by 2x here (docs/BENCHMARKS.md).
func bmWarmFile(b *testing.B) (string, *os.File) {
	b.Helper()
	if path := os.Getenv("MAPPED_BENCH_FILE"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if st, err := f.Stat(); err != nil || st.Size() < bmFileSize {
			b.Fatalf("MAPPED_BENCH_FILE=%s: want a file of at least %d bytes (%v)", path, bmFileSize, err)
		}
		bmReadAll(b, f)
		return "", f
	}
	dir := os.TempDir()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		b.Skipf("statfs %s: %v", dir, err)
	}
	if free := int64(st.Bavail) * int64(st.Bsize); free < bmFileSize+bmFileSize/2 {
		b.Skipf("%s has %d MiB free; the benchmark needs a 1 GiB file and some room", dir, free>>20)
	}
	path := filepath.Join(dir, "offheap-mapped-bench-1g.bin")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, bmMiB)
	for i := range chunk {
		chunk[i] = byte(i*131 + i>>9)
	}
	for off := int64(0); off < bmFileSize; off += bmMiB {
		binary.LittleEndian.PutUint64(chunk, uint64(off))
		if _, err := f.WriteAt(chunk, off); err != nil {
			f.Close()
			os.Remove(path)
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	bmReadAll(b, f)
	return path, f
}

// bmReadAll reads the first bmFileSize bytes of f, to have them cached.
func bmReadAll(b *testing.B, f *os.File) {
	chunk := make([]byte, bmMiB)
	for off := int64(0); off < bmFileSize; off += bmMiB {
		if _, err := f.ReadAt(chunk, off); err != nil {
			b.Fatal(err)
		}
	}
}

// bmFaults returns the process's minor and major page faults so far.
func bmFaults() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return int64(ru.Minflt + ru.Majflt)
}

// bmReportFaults reports the page faults per iteration since f0: a scan of
// a fresh mapping pays one per page (or per fault-around block).
func bmReportFaults(b *testing.B, f0 int64, iters int) {
	b.ReportMetric(float64(bmFaults()-f0)/float64(max(iters, 1)), "faults/op")
}

// bmPerMiB reports ns/MiB for mib MiB handled per iteration.
func bmPerMiB(b *testing.B, iters int, mib float64) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iters)/mib, "ns/MiB")
}

// BenchmarkMappedFile creates the warm 1 GiB file once for all its cases
// (-count repeats the cases, not this function) and removes it at the end.
//
//   - ScanGetInt64At: Map the whole file ReadOnly, sum it with GetInt64At in
//     native (little-endian) order, Free: what the JDK anchor times per
//     iteration (map, getLong over the buffer, invokeCleaner).
//   - ScanGetBytes64K: the same scan with relative GetBytes into 64 KiB.
//   - ScanRawMmap64K: their floor, a plain unix.Mmap copied out in 64 KiB.
//   - ReadAt1MiB: os.File.ReadAt of the file in 1 MiB chunks.
//   - Random4K/*: a 4 KiB read at a random page of the file, through a
//     mapping of the whole file (GetBytesAt; a plain unix.Mmap and copy as
//     its floor) or os.File.ReadAt.
//   - MapFree1MiB: Map (ReadOnly) and Free of a 1 MiB window at a random
//     page-aligned offset, no page touched.
func BenchmarkMappedFile(b *testing.B) {
	path, f := bmWarmFile(b)
	if path != "" {
		defer os.Remove(path)
	}
	defer f.Close()

	b.Run("ScanGetInt64At", func(b *testing.B) {
		bmScanMapped(b, f, func(m *mapped.Buffer) int64 {
			m.SetOrder(binary.LittleEndian)
			var s int64
			for i := 0; i < bmFileSize; i += 8 {
				v, err := m.GetInt64At(i)
				if err != nil {
					b.Fatal(err)
				}
				s += v
			}
			return s
		})
	})

	b.Run("ScanGetBytes64K", func(b *testing.B) {
		dst := make([]byte, 64<<10)
		bmScanMapped(b, f, func(m *mapped.Buffer) int64 {
			var s int64
			for m.HasRemaining() {
				if err := m.GetBytes(dst); err != nil {
					b.Fatal(err)
				}
				s += int64(dst[0])
			}
			return s
		})
	})

	// The scan a Go program writes over a mapped file with no copy: the
	// raw bytes under one Guard for the whole pass (the JDK's getLong scan
	// reads in place too).
	b.Run("ScanBytesGuarded", func(b *testing.B) {
		bmScanMapped(b, f, func(m *mapped.Buffer) int64 {
			var s uint64
			raw := m.Bytes()
			if err := directmem.Guard(func() {
				for i := 0; i+8 <= len(raw); i += 8 {
					s += binary.LittleEndian.Uint64(raw[i:])
				}
			}); err != nil {
				b.Fatal(err)
			}
			return int64(s)
		})
	})

	// The floor of the mapped scans: a plain mmap of the file, copied out in
	// 64 KiB chunks with no Buffer, no fault guard.
	b.Run("ScanRawMmap64K", func(b *testing.B) {
		b.SetBytes(bmFileSize)
		dst := make([]byte, 64<<10)
		iters, f0 := 0, bmFaults()
		for b.Loop() {
			mem, err := unix.Mmap(int(f.Fd()), 0, bmFileSize, unix.PROT_READ, unix.MAP_SHARED)
			if err != nil {
				b.Fatal(err)
			}
			for off := 0; off < bmFileSize; off += len(dst) {
				copy(dst, mem[off:])
				bmSink += int64(dst[0])
			}
			if err := unix.Munmap(mem); err != nil {
				b.Fatal(err)
			}
			iters++
		}
		bmReportFaults(b, f0, iters)
		bmPerMiB(b, iters, bmFileSize/bmMiB)
	})

	b.Run("ReadAt1MiB", func(b *testing.B) {
		b.SetBytes(bmFileSize)
		buf := make([]byte, bmMiB)
		iters, f0 := 0, bmFaults()
		for b.Loop() {
			for off := int64(0); off < bmFileSize; off += bmMiB {
				if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
					b.Fatal(err)
				}
				bmSink += int64(buf[0])
			}
			iters++
		}
		bmReportFaults(b, f0, iters)
		bmPerMiB(b, iters, bmFileSize/bmMiB)
	})

	const pages = bmFileSize / 4096
	b.Run("Random4K/mapped-GetBytesAt", func(b *testing.B) {
		m, err := mapped.Map(f, mapped.ReadOnly, 0, bmFileSize)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Free()
		if err := m.Load(); err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		dst := make([]byte, 4096)
		b.SetBytes(4096)
		f0, iters := bmFaults(), 0
		for b.Loop() {
			iters++
			if err := m.GetBytesAt(int(rng.Uint64N(pages))*4096, dst); err != nil {
				b.Fatal(err)
			}
		}
		bmReportFaults(b, f0, iters)
		bmSink += int64(dst[0])
	})

	b.Run("Random4K/raw-mmap-copy", func(b *testing.B) {
		mem, err := unix.Mmap(int(f.Fd()), 0, bmFileSize, unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Munmap(mem)
		for i := 0; i < bmFileSize; i += 4096 {
			bmSink += int64(mem[i])
		}
		rng := rand.New(rand.NewPCG(1, 2))
		dst := make([]byte, 4096)
		b.SetBytes(4096)
		for b.Loop() {
			off := int(rng.Uint64N(pages)) * 4096
			copy(dst, mem[off:off+4096])
		}
		bmSink += int64(dst[0])
	})

	b.Run("Random4K/os.File.ReadAt", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		dst := make([]byte, 4096)
		b.SetBytes(4096)
		f0, iters := bmFaults(), 0
		for b.Loop() {
			iters++
			if _, err := f.ReadAt(dst, int64(rng.Uint64N(pages))*4096); err != nil {
				b.Fatal(err)
			}
		}
		bmReportFaults(b, f0, iters)
		bmSink += int64(dst[0])
	})

	b.Run("MapFree1MiB", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(3, 4))
		f0, iters := bmFaults(), 0
		for b.Loop() {
			iters++
			off := int64(rng.Uint64N(bmFileSize/bmMiB)) * bmMiB
			m, err := mapped.Map(f, mapped.ReadOnly, off, bmMiB)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Free(); err != nil {
				b.Fatal(err)
			}
		}
		bmReportFaults(b, f0, iters)
	})
}

// bmScanMapped is one scan benchmark: each iteration maps the whole file
// ReadOnly, runs scan over it and frees it, as the JDK's scan maps, reads
// and invokeCleaner's; it reports faults and ns per MiB.
func bmScanMapped(b *testing.B, f *os.File, scan func(m *mapped.Buffer) int64) {
	b.SetBytes(bmFileSize)
	iters, f0 := 0, bmFaults()
	for b.Loop() {
		m, err := mapped.Map(f, mapped.ReadOnly, 0, bmFileSize)
		if err != nil {
			b.Fatal(err)
		}
		bmSink += scan(m)
		if err := m.Free(); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	bmReportFaults(b, f0, iters)
	bmPerMiB(b, iters, bmFileSize/bmMiB)
}
