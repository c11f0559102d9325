//go:build unix

package mapped_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/directmemtest"
	"github.com/offheap-go/offheap/mapped"
)

// Tests of Cache. Every test closes its caches and releases its leases, and
// ends with ctSettled: Maps == Unmaps, no live lease, and the "mapped" pool
// back where it was.

var ctPage = int64(os.Getpagesize())

// ctFile writes size bytes of a pattern seeded by seed to dir/name and
// returns the path.
func ctFile(t testing.TB, dir, name string, size int64, seed byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, ctPattern(size, seed), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func ctPattern(size int64, seed byte) []byte { return ctPatternAt(0, size, seed) }

// ctPatternAt returns the n bytes of the pattern from off.
func ctPatternAt(off, n int64, seed byte) []byte {
	b := make([]byte, n)
	for j := range b {
		i := off + int64(j)
		b[j] = byte(i*13+i/4093) ^ seed
	}
	return b
}

// ctCache returns a new cache; the test closes it (Close is idempotent, so
// a test may close it first).
func ctCache(t testing.TB, opts mapped.CacheOptions) *mapped.Cache {
	t.Helper()
	c, err := mapped.NewCache(opts)
	if err != nil {
		t.Fatalf("NewCache(%+v): %v", opts, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctAcquire(t testing.TB, c *mapped.Cache, path string, mode mapped.Mode, off, size int64) *mapped.Lease {
	t.Helper()
	l, err := c.Acquire(path, mode, off, size)
	if err != nil {
		t.Fatalf("Acquire(%s, %v, %d, %d): %v", filepath.Base(path), mode, off, size, err)
	}
	return l
}

// ctRead returns n bytes of the lease's buffer from index i.
func ctRead(t testing.TB, l *mapped.Lease, i, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if err := l.Buffer().GetBytesAt(i, b); err != nil {
		t.Fatalf("GetBytesAt(%d, %d): %v", i, n, err)
	}
	return b
}

// ctEventually waits up to 10 s for cond: ristretto applies Sets on its own
// goroutine, after Set returns.
func ctEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// ctHit acquires until the acquire is a hit (the first Set of a key becomes
// visible to Get a little later) and returns that lease.
func ctHit(t testing.TB, c *mapped.Cache, path string, mode mapped.Mode, off, size int64) *mapped.Lease {
	t.Helper()
	var l *mapped.Lease
	ctEventually(t, "a hit on "+filepath.Base(path), func() bool {
		hits := c.Stats().Hits
		l = ctAcquire(t, c, path, mode, off, size)
		if c.Stats().Hits > hits {
			return true
		}
		l.Release()
		return false
	})
	return l
}

// ctSettled closes c and checks that every mapping it made was unmapped
// exactly once, no lease is live, nothing is left to hit, and the "mapped"
// pool holds what it held before the test (mappedBefore).
func ctSettled(t testing.TB, c *mapped.Cache, mappedBefore int64) mapped.CacheStats {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s := c.Stats()
	if s.Maps != s.Unmaps || s.LiveLeases != 0 || s.MappedBytes != 0 {
		t.Errorf("after Close and every Release: %+v; want Maps == Unmaps, no lease, no bytes", s)
	}
	if n := mapped.Stats().Count; n != mappedBefore {
		t.Errorf("mapped pool holds %d mappings, want %d: %+v", n, mappedBefore, mapped.Stats())
	}
	if n, h, w := c.FrontLen(), c.HotLen(), c.WindowLen(); n+h+w != 0 {
		t.Errorf("closed cache still finds %d entries, %d in hot slots, %d in the window", n, h, w)
	}
	return s
}

func TestCacheOptionsValidation(t *testing.T) {
	for _, opts := range []mapped.CacheOptions{
		{},
		{MaxBytes: -1},
		{MaxBytes: 1 << 20, NumCounters: -1},
		{MaxBytes: 1 << 20, BufferItems: -1},
		{MaxBytes: 1 << 20, StatEvery: -time.Second},
	} {
		c, err := mapped.NewCache(opts)
		if err == nil || c != nil {
			t.Errorf("NewCache(%+v) = %v, %v; want an error", opts, c, err)
			if c != nil {
				c.Close()
			}
			continue
		}
		if !strings.Contains(err.Error(), "mapped: NewCache") {
			t.Errorf("NewCache(%+v): %v; want an error naming NewCache", opts, err)
		}
	}
	for _, opts := range []mapped.CacheOptions{
		{MaxBytes: 1},
		{MaxBytes: 1 << 30, NumCounters: 10, BufferItems: 1, SkipStat: true},
		{MaxBytes: 1 << 20, StatEvery: time.Second},
	} {
		c := ctCache(t, opts)
		if s := c.Stats(); s != (mapped.CacheStats{}) {
			t.Errorf("new cache: %+v", s)
		}
		c.Close()
	}
}

func TestCacheBadInput(t *testing.T) {
	before := mapped.Stats().Count
	dir := t.TempDir()
	path := ctFile(t, dir, "f", 2*ctPage, 1)
	for _, skip := range []bool{false, true} {
		c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20, SkipStat: skip})
		for _, tc := range []struct {
			name      string
			path      string
			mode      mapped.Mode
			off, size int64
			target    error
		}{
			{"negative offset", path, mapped.ReadOnly, -1, 10, fs.ErrInvalid},
			{"negative size", path, mapped.ReadOnly, 0, -1, fs.ErrInvalid},
			{"overflow", path, mapped.ReadOnly, 1 << 62, 1 << 62, fs.ErrInvalid},
			{"unknown mode", path, mapped.Mode(7), 0, 10, fs.ErrInvalid},
			{"missing file", filepath.Join(dir, "missing"), mapped.ReadOnly, 0, 10, fs.ErrNotExist},
			{"directory", dir, mapped.ReadOnly, 0, 10, fs.ErrInvalid},
			{"read-only mapping past the end", path, mapped.ReadOnly, ctPage, 2 * ctPage, fs.ErrInvalid},
		} {
			l, err := c.Acquire(tc.path, tc.mode, tc.off, tc.size)
			if l != nil || !errors.Is(err, tc.target) {
				t.Errorf("SkipStat %v, %s: Acquire = %v, %v; want %v", skip, tc.name, l, err, tc.target)
				if l != nil {
					l.Release()
				}
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != tc.path {
				t.Errorf("SkipStat %v, %s: %v is not a PathError naming %s", skip, tc.name, err, tc.path)
			}
		}
		if s := c.Stats(); s.Maps != 0 || s.LiveLeases != 0 || s.MappedBytes != 0 {
			t.Errorf("bad input mapped something: %+v", s)
		}
		if n := mapped.Stats().Count; n != before {
			t.Errorf("bad input left %d mappings", n-before)
		}
		ctSettled(t, c, before)
		// Closed: ErrClosed, whatever the rest of the input, and nothing mapped.
		for _, p := range []string{path, filepath.Join(dir, "missing")} {
			if l, err := c.Acquire(p, mapped.ReadOnly, 0, 10); l != nil || !errors.Is(err, mapped.ErrClosed) {
				t.Errorf("Acquire(%s) after Close = %v, %v; want ErrClosed", filepath.Base(p), l, err)
			}
		}
		if l, err := c.AcquireContext(context.Background(), path, mapped.ReadWrite, 0, 10); l != nil || !errors.Is(err, mapped.ErrClosed) {
			t.Errorf("AcquireContext after Close = %v, %v; want ErrClosed", l, err)
		}
		c.Invalidate(path) // a no-op
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		ctSettled(t, c, before)
	}
}

// TestCacheHitAndLeaseCursor: a second Acquire is served from the cache,
// each lease has its own position and limit over the same memory, Release
// is idempotent, and a released lease's buffer is ErrFreed.
func TestCacheHitAndLeaseCursor(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", 4*ctPage, 2)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	off, size := ctPage+100, 2*ctPage // unaligned
	l1 := ctAcquire(t, c, path, mapped.ReadWrite, off, size)
	l2 := ctHit(t, c, path, mapped.ReadWrite, off, size)
	want := ctPattern(4*ctPage, 2)[off : off+size]
	if got := ctRead(t, l2, 0, int(size)); !bytes.Equal(got, want) {
		t.Fatal("lease reads other bytes than the file's")
	}
	b1, b2 := l1.Buffer(), l2.Buffer()
	if b1.Capacity() != int(size) || b1.Mode() != mapped.ReadWrite {
		t.Errorf("lease buffer %v", b1)
	}
	if err := b1.SetPosition(10); err != nil {
		t.Fatal(err)
	}
	if err := b1.SetLimit(20); err != nil {
		t.Fatal(err)
	}
	if b2.Position() != 0 || b2.Limit() != int(size) {
		t.Errorf("second lease's cursor moved with the first: %v", b2)
	}
	if err := b1.PutUint32At(0, 0xdeadbeef); err != nil {
		t.Fatal(err)
	}
	if v, err := b2.GetUint32At(0); err != nil || v != 0xdeadbeef {
		t.Errorf("second lease reads %#x, %v; want the first's write", v, err)
	}
	if s := c.Stats(); s.LiveLeases != 2 || s.Hits < 1 || s.MappedBytes != size {
		t.Errorf("stats with two leases: %+v", s)
	}
	l1.Release()
	l1.Release() // idempotent
	if _, err := b1.GetAt(0); !errors.Is(err, directmem.ErrFreed) {
		t.Errorf("released lease's buffer: %v; want ErrFreed", err)
	}
	if _, err := b2.GetAt(0); err != nil {
		t.Errorf("other lease after the first's Release: %v", err)
	}
	if s := c.Stats(); s.LiveLeases != 1 {
		t.Errorf("LiveLeases after a double Release = %d, want 1", s.LiveLeases)
	}
	l2.Release()
	// The cache still holds the mapping: the write reached the file.
	data, err := os.ReadFile(path)
	if err != nil || data[off] != 0xde {
		t.Errorf("file after the write: %v, %#x", err, data[off])
	}
	if s := c.Stats(); s.Unmaps != s.Maps-1 {
		t.Errorf("the cache let its mapping go while holding it: %+v", s)
	}
	ctSettled(t, c, before)
}

// TestCacheGetDoesNotPin: hits take and give back a lease's reference
// only, so that the cache's is the last, and Invalidate unmaps at once.
func TestCacheGetDoesNotPin(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 3)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	ctHit(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
	for range 100 {
		ctAcquire(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
	}
	s := c.Stats()
	if s.Unmaps != s.Maps-1 || s.MappedBytes != ctPage {
		t.Fatalf("before Invalidate: %+v; want one mapping held by the cache", s)
	}
	c.Invalidate(path)
	if s := c.Stats(); s.Unmaps != s.Maps || s.MappedBytes != 0 {
		t.Errorf("Invalidate did not unmap the unleased mapping: %+v", s)
	}
	ctSettled(t, c, before)
}

// TestCacheInvalidateWithLease: Invalidate drops the cache's reference; the
// lease keeps the mapping (and reads it) until it is released; the next
// Acquire maps anew.
func TestCacheInvalidateWithLease(t *testing.T) {
	before := mapped.Stats().Count
	dir := t.TempDir()
	path := ctFile(t, dir, "f", 2*ctPage, 4)
	other := ctFile(t, dir, "g", ctPage, 5)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	l := ctHit(t, c, path, mapped.ReadOnly, 0, 2*ctPage)
	keep := ctHit(t, c, other, mapped.ReadOnly, 0, ctPage)
	maps := c.Stats().Maps
	c.Invalidate(path)
	s := c.Stats()
	if s.MappedBytes != ctPage || s.Unmaps != maps-2 {
		t.Errorf("after Invalidate with a lease held: %+v; want only the other file cached and nothing of path's unmapped", s)
	}
	if got := ctRead(t, l, 0, int(2*ctPage)); !bytes.Equal(got, ctPattern(2*ctPage, 4)) {
		t.Error("lease reads wrong bytes after Invalidate")
	}
	l.Release()
	if s := c.Stats(); s.Unmaps != maps-1 {
		t.Errorf("Release of the last lease of an invalidated mapping: %+v; want it unmapped", s)
	}
	l = ctAcquire(t, c, path, mapped.ReadOnly, 0, 2*ctPage)
	if s := c.Stats(); s.Maps != maps+1 {
		t.Errorf("Acquire after Invalidate did not map: %+v", s)
	}
	l.Release()
	keep.Release()
	c.Invalidate(filepath.Join(dir, "never-cached"))
	ctSettled(t, c, before)
}

// TestCacheEviction: with room for two mappings, a third evicts one; a
// lease on an evicted mapping keeps it mapped and readable.
func TestCacheEviction(t *testing.T) {
	before := mapped.Stats().Count
	dir := t.TempDir()
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 2 * ctPage})
	var held []*mapped.Lease
	for i := range 20 {
		p := ctFile(t, dir, fmt.Sprint(i), ctPage, byte(i))
		held = append(held, ctAcquire(t, c, p, mapped.ReadOnly, 0, ctPage))
	}
	ctEventually(t, "evictions or rejections", func() bool {
		s := c.Stats()
		return s.Evictions+s.Rejections >= 18 && s.MappedBytes <= 2*ctPage
	})
	if s := c.Stats(); s.Unmaps != 0 {
		t.Errorf("mappings unmapped under their leases: %+v", s)
	}
	for i, l := range held {
		if got := ctRead(t, l, 0, int(ctPage)); !bytes.Equal(got, ctPattern(ctPage, byte(i))) {
			t.Errorf("lease %d reads wrong bytes after eviction", i)
		}
		l.Release()
	}
	s := c.Stats()
	if s.Unmaps != s.Maps-s.MappedBytes/ctPage {
		t.Errorf("after releases: %+v; want every mapping the cache let go unmapped", s)
	}
	t.Logf("%+v", s)
	ctSettled(t, c, before)
}

// TestCacheRejection: a mapping larger than MaxBytes is never kept: the
// admission policy rejects it (OnReject), and its lease's Release unmaps it.
func TestCacheRejection(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", 4*ctPage, 6)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: ctPage})
	l := ctAcquire(t, c, path, mapped.ReadOnly, 0, 4*ctPage)
	ctEventually(t, "the rejection", func() bool { return c.Stats().Rejections == 1 })
	if s := c.Stats(); s.MappedBytes != 0 || s.Unmaps != 0 || s.Evictions != 0 {
		t.Errorf("after the rejection, with the lease held: %+v", s)
	}
	if got := ctRead(t, l, 0, int(4*ctPage)); !bytes.Equal(got, ctPattern(4*ctPage, 6)) {
		t.Error("lease on a rejected mapping reads wrong bytes")
	}
	l.Release()
	if s := c.Stats(); s.Unmaps != 1 {
		t.Errorf("Release of the only lease on a rejected mapping: %+v; want it unmapped", s)
	}
	// The next Acquire misses and maps again.
	l = ctAcquire(t, c, path, mapped.ReadOnly, 0, 4*ctPage)
	l.Release()
	if s := ctSettled(t, c, before); s.Maps != 2 || s.Hits != 0 {
		t.Errorf("stats: %+v; want two maps and no hit", s)
	}
}

// TestCacheHotKeySurvivesScan: the admission policy learns of a sample of
// the accesses only; it must still keep a hot mapping through a scan of
// cold ones (TinyLFU's point).
func TestCacheHotKeySurvivesScan(t *testing.T) {
	if raceEnabled {
		// ristretto counts accesses in sync.Pool stripes, which drop a
		// quarter of what they are given under -race: it forgets the hot
		// key with or without sampling.
		t.Skip("ristretto's access counts are lossy under -race")
	}
	before := mapped.Stats().Count
	dir := t.TempDir()
	hot := ctFile(t, dir, "hot", ctPage, 40)
	cold := ctFile(t, dir, "cold", 200*ctPage, 41)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 4 * ctPage})
	for range 20_000 {
		ctAcquire(t, c, hot, mapped.ReadOnly, 0, ctPage).Release()
	}
	for i := range int64(200) {
		ctAcquire(t, c, cold, mapped.ReadOnly, i*ctPage, ctPage).Release()
	}
	maps := c.Stats().Maps
	ctAcquire(t, c, hot, mapped.ReadOnly, 0, ctPage).Release()
	if s := c.Stats(); s.Maps != maps {
		t.Errorf("the hot mapping was let go during a scan of 200 cold ones: %+v", s)
	}
	ctSettled(t, c, before)
}

// ctPolicyCache skips under -race (ristretto's access counts are lossy
// there: see TestCacheHotKeySurvivesScan), and returns a cache of 16 pages
// over a file of pages pages, and the "mapped" pool's count before it.
func ctPolicyCache(t *testing.T, pages int64, seed byte) (*mapped.Cache, string, int64) {
	t.Helper()
	if raceEnabled {
		t.Skip("ristretto's access counts are lossy under -race")
	}
	before := mapped.Stats().Count
	big := ctFile(t, t.TempDir(), "big", pages*ctPage, seed)
	return ctCache(t, mapped.CacheOptions{MaxBytes: 16 * ctPage}), big, before
}

// ctRejected warms c with keys 0..15 of big, each used often enough for
// the admission policy to count it, then acquires new keys from 100 on
// until the policy rejects one, and returns that key's offset and the
// stats just after its lease was released.
func ctRejected(t *testing.T, c *mapped.Cache, big string) (int64, mapped.CacheStats) {
	t.Helper()
	for range 300 {
		for i := range int64(16) {
			ctAcquire(t, c, big, mapped.ReadOnly, i*ctPage, ctPage).Release()
		}
	}
	for i := int64(100); i < 400; i++ {
		rejected := c.Stats().Rejections
		ctAcquire(t, c, big, mapped.ReadOnly, i*ctPage, ctPage).Release()
		// The miss waits for the policy's decision on its Set, and the
		// window was empty: a rejection now is of this key.
		if s := c.Stats(); s.Rejections > rejected {
			return i * ctPage, s
		}
	}
	t.Fatal("the policy rejected none of 300 new keys")
	return 0, mapped.CacheStats{}
}

// TestCacheWindow: a mapping the policy rejects stays mapped in the
// admission window after its only lease is released, and the next Acquire
// of it is a hit (a log reader's run of reads through one segment must
// not map it again and again); the window holds one such mapping beyond
// MaxBytes, and Close empties it.
func TestCacheWindow(t *testing.T) {
	c, big, before := ctPolicyCache(t, 400, 42)
	off, s := ctRejected(t, c, big)
	if s.Maps-s.Unmaps != s.MappedBytes/ctPage || s.MappedBytes > 17*ctPage || c.WindowLen() != 1 {
		t.Errorf("after the rejection: %+v, window %d; want the rejected mapping kept, one in the window", s, c.WindowLen())
	}
	l := ctAcquire(t, c, big, mapped.ReadOnly, off, ctPage)
	if s2 := c.Stats(); s2.Hits != s.Hits+1 || s2.Maps != s.Maps {
		t.Errorf("Acquire of the rejected mapping: %+v; want a hit from the window", s2)
	}
	if got := ctRead(t, l, 0, int(ctPage)); !bytes.Equal(got, ctPatternAt(off, ctPage, 42)) {
		t.Error("lease from the window reads wrong bytes")
	}
	l.Release()
	// More new keys: each rejected one displaces the last from the
	// window, which is offered again; the window never holds two.
	for i := int64(0); i < 50; i++ {
		ctAcquire(t, c, big, mapped.ReadOnly, (i+300)*ctPage, ctPage).Release()
		if n := c.WindowLen(); n > 1 {
			t.Fatalf("window holds %d mappings of a page, MaxBytes 16 pages", n)
		}
	}
	ctSettled(t, c, before)
}

// TestCacheSequentialRuns: a reader that reads each of many new mappings
// 50 times in a row, through a cache a tenth their size (a log reader
// scanning segments), hits on all but the first read of each. The
// sampled policy learns of a new mapping's uses too late to admit it at
// its first miss; before the admission window, each of its reads missed
// and mapped it again (examples/segmentlog: 69.6% hits).
func TestCacheSequentialRuns(t *testing.T) {
	c, big, before := ctPolicyCache(t, 160, 44)
	for i := range int64(160) {
		for range 50 {
			ctAcquire(t, c, big, mapped.ReadOnly, i*ctPage, ctPage).Release()
		}
	}
	s := c.Stats()
	if ratio := float64(s.Hits) / float64(s.Hits+s.Misses); ratio < 0.95 {
		t.Errorf("hit ratio %.3f over runs of 50 reads of 160 mappings: %+v; want at least 0.95", ratio, s)
	}
	ctSettled(t, c, before)
}

// TestCacheWindowInvalidate: Invalidate drops a mapping held in the
// window, out of the hot slots too: the next Acquire maps anew.
func TestCacheWindowInvalidate(t *testing.T) {
	c, big, before := ctPolicyCache(t, 400, 43)
	off, _ := ctRejected(t, c, big)
	ctAcquire(t, c, big, mapped.ReadOnly, off, ctPage).Release() // a hit: in its hot slot
	c.Invalidate(big)
	if s := c.Stats(); s.Maps != s.Unmaps || s.MappedBytes != 0 || c.WindowLen() != 0 || c.HotLen() != 0 {
		t.Errorf("after Invalidate: %+v, window %d, hot %d; want nothing mapped or found", s, c.WindowLen(), c.HotLen())
	}
	maps := c.Stats().Maps
	ctAcquire(t, c, big, mapped.ReadOnly, off, ctPage).Release()
	if s := c.Stats(); s.Maps != maps+1 {
		t.Errorf("Acquire after Invalidate: %+v; want a new mapping", s)
	}
	ctSettled(t, c, before)
}

// TestCacheBackToBackAcquires: ristretto applies a Set on its own
// goroutine after Set returns, so a miss's mapping could be invisible to the
// next Acquire of the key, which would map the file again (and the cache
// then replace or reject one of the two). The miss waits for its Set to
// apply: an Acquire right after a miss is a hit.
func TestCacheBackToBackAcquires(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", 200*ctPage, 7)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 30})
	for i := range int64(200) {
		a := ctAcquire(t, c, path, mapped.ReadOnly, i*ctPage, ctPage)
		b := ctAcquire(t, c, path, mapped.ReadOnly, i*ctPage, ctPage)
		a.Release()
		b.Release()
	}
	s := c.Stats()
	if s.Unmaps != s.Maps-s.MappedBytes/ctPage {
		t.Errorf("%+v: a mapping the cache does not hold is still mapped", s)
	}
	if s.Maps != 200 || s.Hits != 200 || s.Rejections != 0 {
		t.Errorf("200 keys acquired twice back to back: %+v; want 200 maps and 200 hits", s)
	}
	ctSettled(t, c, before)
}

// TestCacheCloseWithLeases: Close unmaps what only the cache held, leases
// keep theirs until released, and Acquire is ErrClosed.
func TestCacheCloseWithLeases(t *testing.T) {
	before := mapped.Stats().Count
	dir := t.TempDir()
	p1 := ctFile(t, dir, "a", ctPage, 8)
	p2 := ctFile(t, dir, "b", ctPage, 9)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	ctHit(t, c, p1, mapped.ReadOnly, 0, ctPage).Release()
	held := ctHit(t, c, p2, mapped.ReadOnly, 0, ctPage)
	maps := c.Stats().Maps
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	if s.Unmaps != maps-1 || s.MappedBytes != 0 || s.LiveLeases != 1 || s.Evictions != 0 {
		t.Errorf("after Close with one lease held: %+v", s)
	}
	if _, err := c.Acquire(p1, mapped.ReadOnly, 0, ctPage); !errors.Is(err, mapped.ErrClosed) {
		t.Errorf("Acquire after Close: %v", err)
	}
	if got := ctRead(t, held, 0, int(ctPage)); !bytes.Equal(got, ctPattern(ctPage, 9)) {
		t.Error("held lease reads wrong bytes after Close")
	}
	held.Release()
	ctSettled(t, c, before)
}

// TestCacheZeroValueCallbacks: a Del still in ristretto's buffer when Close
// clears it reaches OnEvict and OnExit with the zero value; the cache must
// neither crash nor count it.
func TestCacheZeroValueCallbacks(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 10)
	for range 50 {
		c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
		ctHit(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
		c.Invalidate(path)
		c.Invalidate(path)
		if s := ctSettled(t, c, before); s.Evictions != 0 {
			t.Fatalf("zero values counted: %+v", s)
		}
	}
}

// TestCacheZeroSize: a mapping of size 0 maps nothing but is a lease all
// the same.
func TestCacheZeroSize(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 11)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	l := ctAcquire(t, c, path, mapped.ReadOnly, 10, 0)
	if b := l.Buffer(); b.Capacity() != 0 {
		t.Errorf("size-0 lease: %v", b)
	}
	if n := mapped.Stats().Count; n != before {
		t.Errorf("size 0 is counted in the mapped pool: %d", n-before)
	}
	l.Release()
	ctSettled(t, c, before)
}

// ctExpectPage acquires the first page of path, checks that it reads as
// ctPattern(ctPage, seed) (else reports what, the case's words), and
// releases it.
func ctExpectPage(t *testing.T, c *mapped.Cache, path string, seed byte, what string) {
	t.Helper()
	l := ctAcquire(t, c, path, mapped.ReadOnly, 0, ctPage)
	defer l.Release()
	if got := ctRead(t, l, 0, int(ctPage)); !bytes.Equal(got, ctPattern(ctPage, seed)) {
		t.Error(what)
	}
}

// ctReplace writes data to a new file and renames it over path, as a
// program that rewrites a file atomically does.
func ctReplace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestCacheReplacedFile: the key holds the device and inode, so a file
// replaced by rename is mapped anew, never served from the old mapping.
func TestCacheReplacedFile(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 12)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	old := ctHit(t, c, path, mapped.ReadOnly, 0, ctPage)
	ctReplace(t, path, ctPattern(ctPage, 13))
	for range 3 {
		ctExpectPage(t, c, path, 13, "replaced file served from the old file's mapping")
	}
	// The lease on the old file still reads the old file.
	if got := ctRead(t, old, 0, int(ctPage)); !bytes.Equal(got, ctPattern(ctPage, 12)) {
		t.Error("lease on the replaced file changed")
	}
	old.Release()
	// Both files' mappings are cached (the old one until it is evicted);
	// Invalidate drops both.
	c.Invalidate(path)
	if s := c.Stats(); s.MappedBytes != 0 || s.Unmaps != s.Maps {
		t.Errorf("after Invalidate: %+v", s)
	}
	ctSettled(t, c, before)
}

// TestCacheSkipStatServesStale documents SkipStat: the path is the key, so
// a replaced file IS served from the old mapping until Invalidate.
func TestCacheSkipStatServesStale(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 14)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20, SkipStat: true})
	ctHit(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
	ctReplace(t, path, ctPattern(ctPage, 15))
	ctExpectPage(t, c, path, 14, "SkipStat: want the stale mapping of the replaced file")
	c.Invalidate(path)
	ctExpectPage(t, c, path, 15, "SkipStat: after Invalidate, want the new file")
	// Without the stat, a missing file is found missing by the open.
	if _, err := c.Acquire(path+".missing", mapped.ReadOnly, 0, 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SkipStat, missing file: %v", err)
	}
	ctSettled(t, c, before)
}

// TestCacheSkipStatInvalidateDuringMiss: with SkipStat, a miss that
// opened the file before it was replaced and Invalidate was called may
// return the old file's mapping (its Acquire began first), but must not
// leave it cached: an Acquire after Invalidate returned gets the new file.
func TestCacheSkipStatInvalidateDuringMiss(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 16)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20, SkipStat: true})
	entered, release := ctBlockMmap(t)
	got := make(chan *mapped.Lease)
	go func() {
		l, err := c.Acquire(path, mapped.ReadOnly, 0, ctPage)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	<-entered // the old file is open and being mapped
	ctReplace(t, path, ctPattern(ctPage, 17))
	c.Invalidate(path)
	close(release)
	if l := <-got; l != nil {
		l.Release()
	}
	ctExpectPage(t, c, path, 17, "an Acquire after Invalidate was served the replaced file's mapping, cached by a miss that began before")
	ctSettled(t, c, before)
}

// TestCacheStatEvery: the path's identity is trusted for StatEvery, so a
// replaced file is served stale within it; Invalidate forgets the identity
// (the next Acquire stats and maps the new file); and past StatEvery the
// stat comes back on its own.
func TestCacheStatEvery(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 30)
	var stats atomic.Int64
	var old mapped.StatFunc
	old = mapped.SwapStat(func(p string) (dev, ino uint64, err error) {
		stats.Add(1)
		return old(p)
	})
	t.Cleanup(func() { mapped.SwapStat(old) })

	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20, StatEvery: time.Hour})
	ctHit(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
	n := stats.Load()
	for range 10 {
		ctAcquire(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
	}
	if got := stats.Load(); got != n {
		t.Errorf("%d stats for 10 acquires within StatEvery, want none", got-n)
	}
	ctReplace(t, path, ctPattern(ctPage, 31))
	ctExpectPage(t, c, path, 30, "within StatEvery: want the stale mapping of the replaced file")
	c.Invalidate(path)
	ctExpectPage(t, c, path, 31, "after Invalidate: want the new file")
	if got := stats.Load(); got != n+1 {
		t.Errorf("%d stats after Invalidate, want 1", got-n)
	}
	ctSettled(t, c, before)

	// A StatEvery that has always passed by the next call stats every time.
	c = ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20, StatEvery: time.Nanosecond})
	ctHit(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
	ctReplace(t, path, ctPattern(ctPage, 32))
	ctExpectPage(t, c, path, 32, "past StatEvery: want the new file")
	ctSettled(t, c, before)
}

// TestCacheStatEveryInvalidateRace: a stat that began before Invalidate
// and ends after it (it found the file that Invalidate is about) must not
// leave its identity to be trusted: the next Acquire stats again.
func TestCacheStatEveryInvalidateRace(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 33)
	entered, release := make(chan struct{}), make(chan struct{})
	var stats atomic.Int64
	var old mapped.StatFunc
	old = mapped.SwapStat(func(p string) (dev, ino uint64, err error) {
		if stats.Add(1) == 1 {
			// The first stat finds the old file, and ends only after it
			// has been replaced and Invalidate has run.
			dev, ino, err = old(p)
			close(entered)
			<-release
			return dev, ino, err
		}
		return old(p)
	})
	t.Cleanup(func() { mapped.SwapStat(old) })
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20, StatEvery: time.Hour})
	done := make(chan error, 1)
	go func() {
		l, err := c.Acquire(path, mapped.ReadOnly, 0, ctPage)
		if err == nil {
			l.Release()
		}
		done <- err
	}()
	<-entered
	ctReplace(t, path, ctPattern(ctPage, 34))
	c.Invalidate(path)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctExpectPage(t, c, path, 34, "after Invalidate: served the replaced file by an identity stat-ed before it")
	if n := stats.Load(); n != 2 {
		t.Errorf("%d stats, want 2", n)
	}
	ctSettled(t, c, before)
}

// TestCacheTruncatedFile: a leased mapping whose file is truncated returns
// ErrFault, not a crash.
func TestCacheTruncatedFile(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", 4*ctPage, 16)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	l := ctAcquire(t, c, path, mapped.ReadOnly, 0, 4*ctPage)
	if err := os.Truncate(path, ctPage); err != nil {
		t.Fatal(err)
	}
	b := l.Buffer()
	if _, err := b.GetAt(int(ctPage) - 1); err != nil {
		t.Errorf("byte within the truncated file: %v", err)
	}
	if _, err := b.GetAt(int(2*ctPage) + 5); !errors.Is(err, mapped.ErrFault) {
		t.Errorf("byte past the truncated end: %v; want ErrFault", err)
	}
	if err := b.GetBytesAt(0, make([]byte, 3*ctPage)); !errors.Is(err, mapped.ErrFault) {
		t.Errorf("bulk read past the truncated end: %v; want ErrFault", err)
	}
	l.Release()
	ctSettled(t, c, before)
}

// ctDropLease acquires a lease and drops it without Release.
//
//go:noinline
func ctDropLease(t *testing.T, c *mapped.Cache, path string) {
	l := ctAcquire(t, c, path, mapped.ReadOnly, 0, ctPage)
	if _, err := l.Buffer().GetAt(0); err != nil {
		t.Fatal(err)
	}
}

// TestCacheDroppedLease: a lease dropped without Release is released by
// the collector and reported by leak detection in the "mapped" pool, as a share of the mapping;
// the test then marks the report checked so VerifyTestMain passes.
func TestCacheDroppedLease(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 17)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	_, seq := directmem.LeaksSince(^uint64(0))
	ctDropLease(t, c, path)
	ctEventually(t, "the dropped lease's cleanup", func() bool {
		runtime.GC()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = cleaner.WaitPending(ctx)
		return c.Stats().LiveLeases == 0
	})
	leaks, _ := directmem.LeaksSince(seq)
	var found bool
	for _, l := range leaks {
		if l.Pool == "mapped" && l.Kind == directmem.LeakCollected && strings.Contains(l.Detail, "share of") {
			found = true
		} else {
			t.Errorf("unexpected report %v", l)
		}
	}
	if !found {
		t.Errorf("no report in the mapped pool of a share for the dropped lease: %v", leaks)
	}
	// The cache still holds the mapping; Close unmaps it.
	if s := c.Stats(); s.Unmaps != s.Maps-1 {
		t.Errorf("after the collected lease: %+v", s)
	}
	ctSettled(t, c, before)
	directmemtest.VerifyNone(t, directmemtest.IgnoreCollected()) // drains the report
}

// ctBlockMmap makes mmap(2) wait, for every call, until release is closed;
// entered receives a value as each call starts.
func ctBlockMmap(t *testing.T) (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 100), make(chan struct{})
	var old mapped.MmapFunc
	old = mapped.SwapMmap(func(fd int, offset int64, addr unsafe.Pointer, length uintptr, prot, flags int) (unsafe.Pointer, error) {
		entered <- struct{}{}
		<-release
		return old(fd, offset, addr, length, prot, flags)
	})
	t.Cleanup(func() { mapped.SwapMmap(old) })
	return entered, release
}

// TestCacheConcurrentMissesMapOnce: goroutines that miss while one maps
// wait for it; the file is mapped once and every goroutine gets a lease.
func TestCacheConcurrentMissesMapOnce(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 18)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	entered, release := ctBlockMmap(t)
	const n = 8
	leases := make(chan *mapped.Lease, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := c.Acquire(path, mapped.ReadOnly, 0, ctPage)
			if err != nil {
				t.Error(err)
				return
			}
			leases <- l
		}()
	}
	<-entered
	ctEventually(t, "every goroutine to miss", func() bool { return c.Stats().Misses == n })
	time.Sleep(20 * time.Millisecond) // from the miss to the flight's wait: a few instructions
	close(release)
	wg.Wait()
	close(leases)
	for l := range leases {
		if got := ctRead(t, l, 0, 16); !bytes.Equal(got, ctPattern(16, 18)) {
			t.Error("waiter's lease reads wrong bytes")
		}
		l.Release()
	}
	if s := c.Stats(); s.Maps != 1 || s.Hits != 0 || s.LiveLeases != 0 || s.Unmaps != 0 {
		t.Errorf("%d concurrent misses: %+v; want one map", n, s)
	}
	ctSettled(t, c, before)
}

// TestCacheAcquireContextCancelledWaiter: a waiter whose context ends while
// another goroutine's miss is in flight returns the context's error at once
// and takes no reference; the mapping is unmapped once all the same.
func TestCacheAcquireContextCancelledWaiter(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 19)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20})
	entered, release := ctBlockMmap(t)
	first := make(chan *mapped.Lease, 1)
	go func() {
		l, err := c.Acquire(path, mapped.ReadOnly, 0, ctPage)
		if err != nil {
			t.Error(err)
		}
		first <- l
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		l, err := c.AcquireContext(ctx, path, mapped.ReadOnly, 0, ctPage)
		if l != nil {
			l.Release()
		}
		errc <- err
	}()
	ctEventually(t, "the second miss", func() bool { return c.Stats().Misses == 2 })
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v; want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled waiter still waiting for the mapping")
	}
	// Already cancelled, while the flight is still running.
	if l, err := c.AcquireContext(ctx, path, mapped.ReadOnly, 0, ctPage); l != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("AcquireContext with a cancelled context during a flight: %v, %v", l, err)
	}
	close(release)
	l := <-first
	if l == nil {
		t.FailNow()
	}
	l.Release()
	if s := c.Stats(); s.Maps != 1 || s.LiveLeases != 0 || s.Unmaps != 0 {
		t.Errorf("%+v; want one mapping, held by the cache only", s)
	}
	ctSettled(t, c, before)
}

// TestCacheCloseQuiesces: Close while goroutines acquire (hits and misses,
// so Gets and Sets) neither panics nor races, stops ristretto's goroutines
// (VerifyTestMain's goleak check), and every lease still unmaps its mapping
// once.
func TestCacheCloseQuiesces(t *testing.T) {
	before := mapped.Stats().Count
	dir := t.TempDir()
	var paths []string
	for i := range 4 {
		paths = append(paths, ctFile(t, dir, fmt.Sprint(i), 64*ctPage, byte(i)))
	}
	for round := range 20 {
		c := ctCache(t, mapped.CacheOptions{MaxBytes: 16 * ctPage, BufferItems: 1})
		var acquired atomic.Int64
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				for i := 0; ; i++ {
					p := paths[r.IntN(len(paths))]
					l, err := c.Acquire(p, mapped.ReadOnly, r.Int64N(64)*ctPage, ctPage)
					if errors.Is(err, mapped.ErrClosed) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					acquired.Add(1)
					if i%7 == 0 {
						c.Invalidate(p)
					}
					l.Release()
				}
			}()
		}
		ctEventually(t, "acquires", func() bool { return acquired.Load() >= 200 || t.Failed() })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		ctSettled(t, c, before)
	}
}

// ctStressIters is the stress test's number of acquires.
const ctStressIters = 10_000

// TestCacheStress: 8 goroutines, 10,000 acquires of 200 keys over a set of
// files, MaxBytes far below the working set, some leases held a while and
// released at random. At the end every mapping was unmapped once.
func TestCacheStress(t *testing.T) {
	before := mapped.Stats().Count
	dir := t.TempDir()
	const files, perFile = 10, 20 // 200 keys of 4 pages: 3.2 MiB with 4 KiB pages
	size := 4 * ctPage
	var paths []string
	for i := range files {
		paths = append(paths, ctFile(t, dir, fmt.Sprint(i), perFile*size, byte(i)))
	}
	c := ctCache(t, mapped.CacheOptions{MaxBytes: 8 * size})
	var done atomic.Int64
	var wg sync.WaitGroup
	// Stats is never negative, even while mappings come and go.
	stop := make(chan struct{})
	sampled := make(chan error, 1)
	go func() {
		var err error
		for {
			select {
			case <-stop:
				sampled <- err
				return
			default:
			}
			if s := c.Stats(); err == nil && (s.MappedBytes < 0 || s.LiveLeases < 0 || s.Unmaps > s.Maps) {
				err = fmt.Errorf("stats during the stress: %+v", s)
			}
			runtime.Gosched()
		}
	}()
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 42))
			var held []*mapped.Lease
			for done.Add(1) <= ctStressIters {
				f, k := r.IntN(files), r.IntN(perFile)
				l, err := c.Acquire(paths[f], mapped.ReadOnly, int64(k)*size, size)
				if err != nil {
					t.Error(err)
					break
				}
				i := r.IntN(int(size) - 8)
				want := ctPatternAt(int64(k)*size+int64(i), 8, byte(f))
				got := make([]byte, 8)
				if err := l.Buffer().GetBytesAt(i, got); err != nil || !bytes.Equal(got, want) {
					t.Errorf("file %d key %d at %d: %x, %v; want %x", f, k, i, got, err, want)
				}
				held = append(held, l)
				// Release a random held lease, sometimes all of them; hold
				// up to 16 a while.
				for len(held) > 0 && (len(held) > 16 || r.IntN(3) > 0) {
					j := r.IntN(len(held))
					held[j].Release()
					held[j] = held[len(held)-1]
					held = held[:len(held)-1]
				}
				if r.IntN(500) == 0 {
					c.Invalidate(paths[f])
				}
			}
			for _, l := range held {
				l.Release()
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-sampled; err != nil {
		t.Error(err)
	}
	if s := c.Stats(); s.LiveLeases != 0 || s.Hits+s.Misses != ctStressIters {
		t.Errorf("after the stress: %+v", s)
	}
	s := ctSettled(t, c, before)
	t.Logf("%+v", s)
	if s.Maps < 10 || s.Evictions+s.Rejections == 0 {
		t.Errorf("the stress did not stress: %+v", s)
	}
}

// TestCacheCloseDuringHits: Close while goroutines hit the cache. Get
// pushes to ristretto's policy, whose Close writes a plain bool the Push
// reads and closes the channel Push sends on: a Get must not run during
// ristretto's Close.
func TestCacheCloseDuringHits(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", ctPage, 20)
	for range 100 {
		c := ctCache(t, mapped.CacheOptions{MaxBytes: 1 << 20, BufferItems: 1, SkipStat: true})
		ctHit(t, c, path, mapped.ReadOnly, 0, ctPage).Release()
		var hits atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					l, err := c.Acquire(path, mapped.ReadOnly, 0, ctPage)
					if err != nil {
						if !errors.Is(err, mapped.ErrClosed) {
							t.Error(err)
						}
						return
					}
					hits.Add(1)
					l.Release()
				}
			}()
		}
		ctEventually(t, "hits", func() bool { return hits.Load() >= 100 })
		c.Close()
		wg.Wait()
		ctSettled(t, c, before)
	}
}

// TestCacheStatsNeverNegative: MappedBytes counts a mapping before ristretto
// can reject it, so that a rejection (whose OnExit subtracts it) never
// shows a negative figure.
func TestCacheStatsNeverNegative(t *testing.T) {
	before := mapped.Stats().Count
	path := ctFile(t, t.TempDir(), "f", 4*ctPage, 21)
	c := ctCache(t, mapped.CacheOptions{MaxBytes: ctPage})
	stop := make(chan struct{})
	var minSeen atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b := c.Stats().MappedBytes; b < minSeen.Load() {
				minSeen.Store(b)
			}
		}
	}()
	for range 500 {
		ctAcquire(t, c, path, mapped.ReadOnly, 0, 4*ctPage).Release()
	}
	close(stop)
	wg.Wait()
	if m := minSeen.Load(); m < 0 {
		t.Errorf("MappedBytes was %d", m)
	}
	ctSettled(t, c, before)
}
