//go:build unix

package mapped_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/mapped"
)

// Benchmarks of Cache. TestMain turns paranoid leak tracking on (a stack per
// allocation, leases included); a program runs with it off unless
// DIRECTMEM_LEAKS says otherwise, so the benchmarks turn it off meanwhile.

func ctBenchUntracked(b *testing.B) {
	prev := directmem.LeakDetection()
	directmem.SetLeakDetection(directmem.LeakDisabled)
	b.Cleanup(func() { directmem.SetLeakDetection(prev) })
}

// ctBenchModes are the ways a cache checks a path's identity: stat(2) on
// every Acquire (the default), at most once a second (StatEvery), never
// (SkipStat).
var ctBenchModes = []struct {
	name string
	opts mapped.CacheOptions
}{
	{"stat", mapped.CacheOptions{}},
	{"statevery", mapped.CacheOptions{StatEvery: time.Second}},
	{"skipstat", mapped.CacheOptions{SkipStat: true}},
}

// BenchmarkCacheAcquire is Acquire + Release: on a hit, for each way of
// checking identity (ctBenchModes), from one goroutine (1g) and from two
// at once, on one mapping (2g-samekey: both take references on one entry)
// and on a mapping each (2g); ns/op is wall time over the acquires of all
// goroutines, so scaling shows as a lower figure on 2g than on 1g. And on a
// miss (a cache with room for one mapping, 1,000 keys in turn: each
// Acquire maps and each Release, or the next Acquire's eviction, unmaps).
func BenchmarkCacheAcquire(b *testing.B) {
	ctBenchUntracked(b)
	dir := b.TempDir()
	const seg = 64 << 10
	paths := []string{ctFile(b, dir, "seg0", seg, 1), ctFile(b, dir, "seg1", seg, 2)}
	for _, mode := range ctBenchModes {
		for _, par := range []struct {
			name       string
			goroutines int
			sameKey    bool
		}{{"1g", 1, true}, {"2g-samekey", 2, true}, {"2g", 2, false}} {
			b.Run("hit/"+mode.name+"/"+par.name, func(b *testing.B) {
				opts := mode.opts
				opts.MaxBytes = 1 << 20
				c := ctCache(b, opts)
				for _, p := range paths {
					ctHit(b, c, p, mapped.ReadOnly, 0, seg).Release()
				}
				before := c.Stats()
				ctParallel(b, par.goroutines, func(g, n int) {
					p := paths[0]
					if !par.sameKey {
						p = paths[g]
					}
					for range n {
						l, err := c.Acquire(p, mapped.ReadOnly, 0, seg)
						if err != nil {
							b.Error(err)
							return
						}
						l.Release()
					}
				})
				ctBenchHitRate(b, c, before)
				c.Close()
			})
		}
	}
	b.Run("miss", func(b *testing.B) {
		const keys = 1000
		big := ctFile(b, dir, "big", keys*ctPage, 2)
		c := ctCache(b, mapped.CacheOptions{MaxBytes: ctPage})
		before := c.Stats()
		i := int64(0)
		for b.Loop() {
			l, err := c.Acquire(big, mapped.ReadOnly, i%keys*ctPage, ctPage)
			if err != nil {
				b.Fatal(err)
			}
			l.Release()
			i++
		}
		ctBenchHitRate(b, c, before)
		c.Close()
	})
}

// ctParallel runs b.N iterations of work split over goroutines goroutines
// (work(g, n) runs n of them as goroutine g) and times them all.
func ctParallel(b *testing.B, goroutines int, work func(g, n int)) {
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range goroutines {
		n := b.N / goroutines
		if g < b.N%goroutines {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(g, n)
		}()
	}
	wg.Wait()
	b.StopTimer()
}

// ctBenchHitRate reports the hit ratio of the acquires made since the
// stats were before (the timed ones, not the warm-up's).
func ctBenchHitRate(b *testing.B, c *mapped.Cache, before mapped.CacheStats) {
	s := c.Stats()
	hits, misses := s.Hits-before.Hits, s.Misses-before.Misses
	b.ReportMetric(float64(hits)/float64(max(hits+misses, 1)), "hit-ratio")
}

// BenchmarkCacheSegmentRead reads 4 KiB at a random offset of one of 1,000
// segment files of 64 KiB (64 MiB in all, in the page cache): through a
// Cache holding every segment (each of ctBenchModes), by mapping the
// segment for each read (MapFile, GetBytesAt, Free), and with
// os.File.ReadAt on files kept open.
func BenchmarkCacheSegmentRead(b *testing.B) {
	ctBenchUntracked(b)
	const segs, seg, read = 1000, 64 << 10, 4 << 10
	dir := b.TempDir()
	paths := make([]string, segs)
	for i := range paths {
		paths[i] = ctFile(b, dir, fmt.Sprintf("%04d.seg", i), seg, byte(i))
	}
	// The same random reads for every way.
	r := rand.New(rand.NewPCG(1, 2))
	type at struct {
		seg int
		off int64
	}
	reads := make([]at, 1<<16)
	for i := range reads {
		reads[i] = at{r.IntN(segs), r.Int64N(seg - read + 1)}
	}
	dst := make([]byte, read)

	for _, mode := range ctBenchModes {
		b.Run("cache-"+mode.name, func(b *testing.B) {
			opts := mode.opts
			opts.MaxBytes = 2 * segs * seg
			c := ctCache(b, opts)
			for _, p := range paths { // warm: every segment mapped and cached
				ctAcquire(b, c, p, mapped.ReadOnly, 0, seg).Release()
			}
			before := c.Stats()
			i := 0
			for b.Loop() {
				a := reads[i%len(reads)]
				i++
				l, err := c.Acquire(paths[a.seg], mapped.ReadOnly, 0, seg)
				if err != nil {
					b.Fatal(err)
				}
				if err := l.Buffer().GetBytesAt(int(a.off), dst); err != nil {
					b.Fatal(err)
				}
				l.Release()
			}
			ctBenchHitRate(b, c, before)
			c.Close()
		})
	}
	b.Run("map-per-read", func(b *testing.B) {
		i := 0
		for b.Loop() {
			a := reads[i%len(reads)]
			i++
			m, err := mapped.MapFile(paths[a.seg], mapped.ReadOnly, 0, seg)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.GetBytesAt(int(a.off), dst); err != nil {
				b.Fatal(err)
			}
			m.Free()
		}
	})
	b.Run("readat", func(b *testing.B) {
		files := make([]*os.File, segs)
		for i, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			files[i] = f
		}
		defer func() {
			for _, f := range files {
				f.Close()
			}
		}()
		i := 0
		for b.Loop() {
			a := reads[i%len(reads)]
			i++
			if _, err := files[a.seg].ReadAt(dst, a.off); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCacheZipf acquires and releases keys (pages of one file) drawn
// from a Zipf distribution (s = 1.1 over 2,000 keys, in a random order),
// through caches holding 50 and 200 of them: the admission policy's
// quality, as hit-ratio, under a skewed load that does not fit. Each op is
// one Acquire + Release, most of them misses' mmap and munmap.
func BenchmarkCacheZipf(b *testing.B) {
	ctBenchUntracked(b)
	const keys = 2000
	big := ctFile(b, b.TempDir(), "big", keys*ctPage, 3)
	for _, capKeys := range []int64{50, 200} {
		b.Run(fmt.Sprintf("cache%d", capKeys), func(b *testing.B) {
			c := ctCache(b, mapped.CacheOptions{MaxBytes: capKeys * ctPage, SkipStat: true})
			r := rand.New(rand.NewPCG(1, 2))
			z := rand.NewZipf(r, 1.1, 1, keys-1)
			perm := r.Perm(keys)
			for b.Loop() {
				l, err := c.Acquire(big, mapped.ReadOnly, int64(perm[z.Uint64()])*ctPage, ctPage)
				if err != nil {
					b.Fatal(err)
				}
				l.Release()
			}
			ctBenchHitRate(b, c, mapped.CacheStats{})
			c.Close()
		})
	}
}
