package mapped

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"math/bits"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/internal/stripe"
)

// ErrClosed is returned by Acquire after the Cache is closed.
var ErrClosed = errors.New("mapped: cache closed")

// CacheOptions configures a Cache.
type CacheOptions struct {
	// MaxBytes is how many bytes of mappings the cache keeps (each costs its
	// size): the working set it pools. Leases may hold more: a mapping the
	// cache lets go stays mapped until its last lease is released.
	MaxBytes int64
	// NumCounters is the number of keys ristretto's admission policy
	// tracks the frequency of, ideally ten times the number of mappings a
	// full cache holds. 0 derives it from MaxBytes, counting a mapping as
	// 64 KiB, with at least 1,000.
	NumCounters int64
	// BufferItems is the size of ristretto's Get buffers; 0 means 64,
	// ristretto's advice.
	BufferItems int64
	// SkipStat lets Acquire trust that a cached path still names the same
	// file, instead of checking with stat(2) (one to a few microseconds) on
	// every call: the caller promises to call Invalidate whenever it
	// replaces or truncates a file the cache may hold. Without it (and
	// without StatEvery), a replaced file is never served from a stale
	// mapping.
	SkipStat bool
	// StatEvery, if positive, lets Acquire trust a path's identity (device
	// and inode) for StatEvery from the start of the stat(2) that found it,
	// instead of stat-ing on every call. A file replaced under the path may
	// then be served from the replaced file's mappings until StatEvery has
	// passed since the replacement, unless Invalidate is called with the
	// same path string after the replacement: Invalidate forgets the
	// path's identity, so an Acquire that begins after Invalidate returns
	// stats the path again. SkipStat overrides it.
	StatEvery time.Duration
}

// Cache pools file mappings: the hot segments of a message queue's log, a
// search index, a database's tables stay mapped across reads instead of
// being mapped and unmapped each time. It is built on ristretto, whose
// TinyLFU admission and cost-based eviction keep the mappings most worth
// keeping within MaxBytes. The admission policy learns of every miss and
// of a random 32nd of the hits, not of each (a hit would otherwise write
// ristretto's shared state), so its frequencies are estimated from that
// sample; a mapping it rejects is kept in a small admission window (at
// most MaxBytes/100, or one mapping of up to MaxBytes/16) until newer
// rejections displace it and it is offered again, as in Caffeine's
// W-TinyLFU, so that a run of reads through a new mapping is all hits.
//
// Acquire returns a Lease on a mapping, mapping it on a miss. The cache
// holds one reference to each mapping it keeps and each lease one more; a
// mapping is unmapped exactly once, when the last reference goes, whether
// it left the cache by eviction, admission rejection, Invalidate or Close,
// and whether its leases are released by hand or by the garbage collector.
// A Cache is safe for concurrent use.
type Cache struct {
	// rc is keyed by a hash of the key (keyHash), so that a hit looks a
	// key up without making it a string; an entry found is checked
	// against the whole key.
	rc    *ristretto.Cache[uint64, *entry]
	seed  maphash.Seed
	hseed uint64 // keyHash's seed for the numbers of a key
	opts  CacheOptions

	// front is what a hit looks in: keyHash -> *entry, every entry from
	// the moment its Set is offered to ristretto until it leaves the
	// cache (drop: ristretto let it go, or the window did). ristretto's
	// Get writes shared state (its store's RWMutex, its access buffers, a
	// wake-up of its policy goroutine every 64 accesses); a sync.Map's
	// Load writes nothing. The policy is told of a sample of the hits
	// instead (policySample).
	front sync.Map
	// hot is a direct-mapped table before front: slot keyHash&hotMask
	// holds the last entry found there, so that most hits load one
	// pointer instead of hashing an interface and walking sync.Map's
	// trie. An entry leaves its slot when it leaves front (drop), and a
	// hit that puts one back checks that it has not (findSlow).
	hot     []atomic.Pointer[entry]
	hotMask uint64

	// mu quiesces ristretto's writers (Set, Del) before Close: a Set that
	// races with ristretto's Close panics on its closed channel. Hits do
	// not take it (every hit would write its reader count): those that
	// tell the policy count themselves in flight in their stripe, which
	// Close waits to drain.
	mu sync.RWMutex
	// closed is set by Close, under mu, before it waits for the hits in
	// flight; it also tells OnEvict that Close is emptying the cache:
	// those are not evictions.
	closed atomic.Bool

	// stripes hold what every hit writes, spread so that goroutines
	// hitting at once do not write one cache line (stripe.Hint).
	stripes []cacheStripe
	mask    uint32

	flightMu sync.Mutex
	flights  map[cacheKey]*flight

	// ids remembers paths' identities for StatEvery: path -> *fileIdentity.
	// A sync.Map, whose Load writes nothing shared. idMu orders the
	// stores with Invalidate's forgetting: a stat that began before an
	// Invalidate (idGen changed since) must not store what it found.
	ids     sync.Map
	idMu    sync.Mutex
	idGen   atomic.Uint64
	idCount int // paths stored in ids, about; guarded by idMu
	idSwept int // idCount after the last sweep of expired identities
	epoch   time.Time

	// window is the admission window (admit): mappings ristretto's
	// policy rejected, newest last, kept within windowBytes (and always
	// the newest), until a newer one displaces them and they are offered
	// again.
	windowMu    sync.Mutex
	window      []*entry
	windowSize  int64
	windowBytes int64
	// invalidations counts Invalidates, each added under windowMu before
	// it looks for the path's mappings: a miss that opened its file
	// before one may have mapped a file since replaced, and must not
	// leave it cached.
	invalidations atomic.Uint64

	// live is every mapping not yet unmapped, cached or only leased, for
	// Stats to count their leases; those unmapped are pruned as it grows.
	liveMu   sync.Mutex
	live     []*entry
	livePrun int // len(live) after the last prune

	misses, evictions, rejections atomic.Int64
	cachedBytes                   atomic.Int64
	// missLeases counts the leases of misses, after their lease is counted
	// in a stripe: Hits is the leases made less these.
	missLeases atomic.Int64
	// counts is apart from the Cache: a mapping's release refers to it,
	// and must not lead back to the mapping (directmem.Memory.Release).
	counts *mapCounts
}

// mapCounts counts a Cache's mappings made and unmapped.
type mapCounts struct{ maps, unmaps atomic.Int64 }

// policySample is how many hits, on average, the admission policy learns
// of one of: a random one in policySample is passed to ristretto's Get, as
// is every miss. Its frequency sketch then estimates every key from the
// same sample, which keeps their order; the window (admit) makes up for
// the uses it learns of late.
const policySample = 32

// cacheStripe is a part of a Cache's hit path and counters.
type cacheStripe struct {
	// inflight counts the acquires of this stripe between their check of
	// closed and the end of their ristretto Get.
	inflight atomic.Int64
	// leased counts the leases made: Hits is these less missLeases.
	leased atomic.Int64
	_      [stripe.Pad]byte
}

// stripe returns the calling goroutine's stripe.
func (c *Cache) stripe() *cacheStripe { return &c.stripes[stripe.Hint()&c.mask] }

// CacheStats describes a Cache.
type CacheStats struct {
	Hits, Misses int64 // Acquires served from the cache, and those that mapped
	// MappedBytes is the bytes of the mappings the cache holds a reference
	// to (including ones its admission policy has not yet decided on).
	MappedBytes int64
	LiveLeases  int64 // leases not yet released
	Evictions   int64 // mappings evicted to make room
	Rejections  int64 // mappings the admission policy did not keep
	// Maps and Unmaps count the mappings made and unmapped: equal once the
	// cache is closed and every lease released.
	Maps, Unmaps int64
}

// NewCache returns an empty cache. MaxBytes must be positive.
func NewCache(opts CacheOptions) (*Cache, error) {
	if opts.MaxBytes <= 0 {
		return nil, fmt.Errorf("mapped: NewCache: MaxBytes %d is not positive", opts.MaxBytes)
	}
	if opts.NumCounters < 0 || opts.BufferItems < 0 || opts.StatEvery < 0 {
		return nil, fmt.Errorf("mapped: NewCache: negative NumCounters %d, BufferItems %d or StatEvery %v", opts.NumCounters, opts.BufferItems, opts.StatEvery)
	}
	if opts.NumCounters == 0 {
		opts.NumCounters = max(10*(opts.MaxBytes/(64<<10)), 1000)
	}
	if opts.BufferItems == 0 {
		opts.BufferItems = 64
	}
	n := stripe.Count(runtime.GOMAXPROCS(0))
	hotSlots := 1 << bits.Len64(uint64(min(max(opts.MaxBytes>>14, 64), 1<<16)-1))
	c := &Cache{
		opts: opts, seed: maphash.MakeSeed(), flights: make(map[cacheKey]*flight),
		stripes: make([]cacheStripe, n), mask: uint32(n - 1),
		epoch: time.Now(), hseed: rand.Uint64(), counts: new(mapCounts),
		windowBytes: opts.MaxBytes / 100,
		// Four slots for each mapping of 64 KiB that MaxBytes holds.
		hot:     make([]atomic.Pointer[entry], hotSlots),
		hotMask: uint64(hotSlots - 1),
	}
	rc, err := ristretto.NewCache(&ristretto.Config[uint64, *entry]{
		NumCounters:        opts.NumCounters,
		MaxCost:            opts.MaxBytes,
		BufferItems:        opts.BufferItems,
		IgnoreInternalCost: true, // the cost is the mapping's bytes alone
		// The key is already a hash (keyHash); the entry holds the key
		// itself, which a hit checks.
		KeyToHash: func(h uint64) (uint64, uint64) { return h, 0 },
		OnEvict: func(it *ristretto.Item[*entry]) {
			if it != nil && it.Value != nil && !c.closed.Load() {
				c.evictions.Add(1)
			}
		},
		OnReject: func(it *ristretto.Item[*entry]) {
			if it != nil && it.Value != nil {
				c.rejections.Add(1)
				// The Set's caller learns of it after its Wait and
				// keeps the mapping in the window (admit).
				it.Value.rejected.Store(true)
			}
		},
		// Every way out of ristretto ends here; ristretto also calls it
		// with the zero value (a Del of an absent key). A rejection the
		// Set's caller waits for is left to it (offer, admit). The entry
		// leaves front
		// and hot before it is closed: a hit that finds it still may
		// lease it until then, never after (entry.lease).
		OnExit: func(e *entry) {
			if e != nil && !(e.rejected.Load() && e.awaited.Load()) {
				c.drop(e)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("mapped: NewCache: %w", err)
	}
	c.rc = rc
	return c, nil
}

// entry is one mapping, shared by the cache and its leases: the cache
// holds the Shared open (one reference) until the mapping leaves it, and
// each lease is a buffer of it (one more). The mapping is unmapped when
// the last reference goes: a lease that finds the count at zero fails, so
// an entry found in front on its way out is a miss, never a revival.
type entry struct {
	key    cacheKey
	hash   uint64 // keyHash(key), ristretto's key
	path   string // for Invalidate
	size   int64
	shared *directmem.Shared
	m      *mapping // what the leases' Buffers share
	off    int      // where the leases' memory starts in m.mem
	// rejected is set by OnReject, before the Set's caller's Wait returns;
	// awaited says the caller waits for it, and drops or keeps e itself.
	rejected, awaited atomic.Bool
	// dropped is set when e leaves front, for good (drop).
	dropped atomic.Bool
	// uncached is set when the cache has given its reference back: with
	// no lease left, the mapping is then unmapped (live prunes it).
	uncached atomic.Bool
}

// lease makes a lease on e, or returns nil if e is unmapped.
func (e *entry) lease() *Lease {
	db, l := directmem.BufferWith[Lease](e.shared)
	if db == nil {
		return nil
	}
	l.buf = Buffer{Buffer: db, m: e.m, off: e.off}
	return l
}

// uncache gives back the cache's reference.
func (e *entry) uncache() {
	e.uncached.Store(true)
	e.shared.Close()
}

// unmapped reports whether e is unmapped, or about to be: the cache let it
// go and no lease is left, so none can be made.
func (e *entry) unmapped() bool { return e.uncached.Load() && e.shared.Buffers() == 0 }

// flight is a miss being mapped; later misses of the same key wait for it.
type flight struct {
	done    chan struct{}
	err     error
	waiters int      // guarded by Cache.flightMu
	leases  []*Lease // one for each waiter, made by the mapper; flightMu
}

// Acquire returns a lease on the mapping of size bytes of the file at path
// from offset in mode, from the cache or, on a miss, newly mapped as
// MapFile does (and offered to the cache). Concurrent misses of one
// mapping map it once. Size 0 maps nothing and is never cached: each such
// Acquire checks the file as MapFile does. Errors are MapFile's, and
// ErrClosed after Close.
func (c *Cache) Acquire(path string, mode Mode, offset, size int64) (*Lease, error) {
	return c.AcquireContext(context.Background(), path, mode, offset, size)
}

// AcquireContext is Acquire with a context that bounds the wait for a
// mapping another goroutine is making.
func (c *Cache) AcquireContext(ctx context.Context, path string, mode Mode, offset, size int64) (*Lease, error) {
	if err := checkArgs(mode, offset, size); err != nil {
		return nil, &fs.PathError{Op: "map", Path: path, Err: err}
	}
	// Before the stat, a closed cache is the error; without one, key
	// cannot fail, and the check under the lock below is enough.
	if !c.opts.SkipStat && c.closed.Load() {
		return nil, ErrClosed
	}
	k, err := c.key(path, mode, offset, size)
	if err != nil {
		return nil, err
	}
	h := c.keyHash(&k)
	st := c.stripe()
	if c.closed.Load() {
		return nil, ErrClosed
	}
	// The policy learns of every miss, and of a sample of the hits: a
	// mapping the policy has not seen before its Set is rejected when the
	// cache is full, however often it is used meanwhile.
	sampled := rand.Uint32()%policySample == 0
	if sampled {
		if err := c.tellPolicy(st, h); err != nil {
			return nil, err
		}
	}
	// A hit racing with Close or Invalidate may still lease a mapping
	// they are letting go: only one the cache has let go (its Shared
	// closed) refuses a lease.
	slot := &c.hot[h&c.hotMask]
	e := slot.Load()
	if e == nil || e.hash != h || e.key != k {
		e = c.findSlow(slot, h, &k)
	}
	if e != nil {
		if l := e.lease(); l != nil {
			st.leased.Add(1)
			return l, nil
		}
	}
	if !sampled {
		if err := c.tellPolicy(st, h); err != nil {
			return nil, err
		}
	}
	c.misses.Add(1)
	l, err := c.mapOnce(ctx, k, h, path, mode, offset, size)
	if err != nil {
		return nil, err
	}
	st.leased.Add(1)
	c.missLeases.Add(1)
	return l, nil
}

// findSlow returns the entry of k from front, or nil, and puts it in its
// hot slot.
func (c *Cache) findSlow(slot *atomic.Pointer[entry], h uint64, k *cacheKey) *entry {
	v, ok := c.front.Load(h)
	if !ok {
		return nil
	}
	e := v.(*entry)
	if e.key != *k {
		return nil
	}
	slot.Store(e)
	// drop marks e dropped before it empties e's slot: if it did so
	// before the Store above, e is taken out again here.
	if e.dropped.Load() {
		slot.CompareAndSwap(e, nil)
		return nil
	}
	return e
}

// tellPolicy tells ristretto's admission policy of an access to h (a Get),
// or returns ErrClosed.
func (c *Cache) tellPolicy(st *cacheStripe, h uint64) error {
	// The Get must not run during ristretto's Close: it may push to the
	// policy, whose Close closes the channel that push sends on. Counted
	// in flight before it checks closed, an acquire either sees closed or
	// is seen by Close, which waits for it (Go's atomics are sequentially
	// consistent).
	st.inflight.Add(1)
	defer st.inflight.Add(-1)
	if c.closed.Load() {
		return ErrClosed
	}
	c.rc.Get(h)
	return nil
}

// mapOnce maps a missed key, or waits for the goroutine already mapping
// it, and returns a lease on it.
func (c *Cache) mapOnce(ctx context.Context, k cacheKey, h uint64, path string, mode Mode, offset, size int64) (*Lease, error) {
	c.flightMu.Lock()
	if f := c.flights[k]; f != nil {
		f.waiters++
		c.flightMu.Unlock()
		select {
		case <-f.done:
			return f.take(c)
		case <-ctx.Done():
			c.flightMu.Lock()
			select {
			case <-f.done:
				// Finished meanwhile: a lease was made for us; give it back.
				c.flightMu.Unlock()
				if l, _ := f.take(c); l != nil {
					l.Release()
				}
			default:
				f.waiters--
				c.flightMu.Unlock()
			}
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[k] = f
	c.flightMu.Unlock()

	gen := c.invalidations.Load() // before the file is opened
	e, err := withFile(path, mode, offset, size, c.mapShared)
	if err != nil {
		c.land(f, k, nil, err)
		return nil, err
	}
	e.key, e.hash, e.path = k, h, path
	l := e.lease() // the Shared is not closed yet: it cannot fail
	c.addLive(e)

	c.mu.RLock()
	defer c.mu.RUnlock()
	// Size 0 maps nothing, so it would not keep its file's inode: a file
	// made later could reuse the number, match the key, and be served
	// without MapFile's checks (FuzzCacheOps found it). With nothing to
	// pool, it is not cached.
	if size == 0 || c.closed.Load() {
		c.land(f, k, e, nil)
		e.uncache()
		return l, nil
	}
	// Counted until drop.
	c.cachedBytes.Add(size)
	// In front before the flight lands, so that a miss of this key after
	// it finds the mapping while ristretto has yet to apply the Set (on
	// its own goroutine), instead of mapping the file again; and so that
	// the one Set of a key ristretto has not let go is this.
	c.front.Store(h, e)
	c.land(f, k, e, nil)
	if !c.offer(e, true) {
		c.admit(e, gen)
	} else if c.invalidations.Load() != gen {
		// An Invalidate began since the file was opened, and may have
		// looked for its mappings before this one was in front: take it
		// out as it would have.
		c.rc.Del(h)
		c.rc.Wait()
	}
	return l, nil
}

// land ends a flight: its waiters get a lease each on e (made before the
// cache may let e go: a closed Shared makes no buffer), or err.
func (c *Cache) land(f *flight, k cacheKey, e *entry, err error) {
	c.flightMu.Lock()
	if e != nil {
		for range f.waiters {
			f.leases = append(f.leases, e.lease())
		}
	}
	f.err = err
	delete(c.flights, k)
	close(f.done)
	c.flightMu.Unlock()
}

// take returns a waiter's lease, or the mapper's error.
func (f *flight) take(c *Cache) (*Lease, error) {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	l := f.leases[len(f.leases)-1]
	f.leases = f.leases[:len(f.leases)-1]
	return l, nil
}

// offer Sets e in ristretto. With wait it waits for the policy to decide
// and reports whether it kept e: waiting keeps misses faster than
// ristretto's goroutine from holding mappings past MaxBytes, and a
// rejection is known when it returns (OnReject runs before the Wait ends),
// for admit. Without, a rejection drops e on ristretto's goroutine
// (OnExit), and offer reports only whether ristretto took the Set. The
// caller holds mu's read lock.
func (c *Cache) offer(e *entry, wait bool) bool {
	e.rejected.Store(false)
	e.awaited.Store(wait)
	if !c.rc.Set(e.hash, e, max(e.size, 1)) {
		return false // dropped: ristretto's buffer is full
	}
	if !wait {
		return true
	}
	c.rc.Wait()
	return !e.rejected.Load()
}

// admit keeps e, which ristretto's policy rejected, in the admission
// window: the W of W-TinyLFU (Caffeine's design). ristretto's TinyLFU
// admits a new mapping only if the policy counts it as used at least as
// often as the mapping it would evict; but the policy learns of uses late
// (in batches) and of a sample of the hits, so a mapping used a thousand
// times in a row, as a log's reader does a segment, would be rejected on
// every miss of its run, unmapped on every release, and mapped again. In
// the window its run is all hits; when newer rejected mappings displace
// it, it is offered again, with the uses the policy has counted since.
// The window keeps at most MaxBytes/100 beyond MaxBytes, and always the
// newest mapping if it is at most MaxBytes/16. The caller holds mu's read
// lock.
func (c *Cache) admit(e *entry, gen uint64) {
	c.windowMu.Lock()
	defer c.windowMu.Unlock()
	if gen != c.invalidations.Load() || e.size > c.opts.MaxBytes/16 {
		// An Invalidate began since e's file was opened, and may not
		// have seen e; or e is too big for the window to hold it beside
		// the cache.
		c.drop(e)
		return
	}
	c.window = append(c.window, e)
	c.windowSize += e.size
	for len(c.window) > 1 && c.windowSize > c.windowBytes {
		old := c.window[0]
		c.window[0] = nil
		c.window = c.window[1:]
		c.windowSize -= old.size
		// Offered again under windowMu, so that an Invalidate either
		// finds old in the window or, after, in front (and its Del
		// follows this Set). Not waited for: a miss pays one Wait.
		if v, _ := c.front.Load(old.hash); v != old || !c.offer(old, false) {
			c.drop(old)
		}
	}
}

// drop takes e out of the cache: out of front and hot, uncounted, and its
// reference given back.
func (c *Cache) drop(e *entry) {
	e.dropped.Store(true)
	c.front.CompareAndDelete(e.hash, e)
	c.hot[e.hash&c.hotMask].CompareAndSwap(e, nil)
	c.cachedBytes.Add(-e.size)
	e.uncache()
}

// dropWindow drops the mappings of the window that match.
func (c *Cache) dropWindow(match func(*entry) bool) {
	c.window = slices.DeleteFunc(c.window, func(e *entry) bool {
		if !match(e) {
			return false
		}
		c.windowSize -= e.size
		c.drop(e)
		return true
	})
}

// mapShared maps the file f as Map does, as memory shared by the cache and
// its leases.
func (c *Cache) mapShared(f *os.File, mode Mode, offset, size int64) (*entry, error) {
	r, err := mapRegion(f, mode, offset, size)
	if err != nil {
		return nil, err
	}
	e := &entry{size: size}
	var p *directmem.Pool
	var m directmem.Memory
	if r == nil {
		// Size 0 maps nothing: in no pool, as emptyBuffer.
		m, e.m = directmem.Memory{Bytes: []byte{}, ReadOnly: mode == ReadOnly}, &mapping{mode: mode}
	} else {
		p = pool
		m, e.m = describe(f.Name(), mode, offset, r)
		e.off = r.pagePos
	}
	counts, unmap := c.counts, m.Release
	m.Release = func() {
		if unmap != nil {
			unmap()
		}
		counts.unmaps.Add(1)
	}
	e.shared = p.Share(m)
	counts.maps.Add(1)
	return e, nil
}

// addLive records a new mapping in live, pruning those unmapped whenever
// live has doubled.
func (c *Cache) addLive(e *entry) {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	if len(c.live) >= 2*c.livePrun+64 {
		c.live = slices.DeleteFunc(c.live, (*entry).unmapped)
		c.livePrun = len(c.live)
	}
	c.live = append(c.live, e)
}

// cacheKey is a mapping's key in the cache: the file's identity (device
// and inode, so that a file replaced under the same path is not served
// from the old one's mapping, or with SkipStat the path), mode, offset and
// size.
type cacheKey struct {
	dev, ino     uint64
	offset, size int64
	mode         Mode
	path         string // with SkipStat only
}

// key returns the cache key of a mapping.
func (c *Cache) key(path string, mode Mode, offset, size int64) (cacheKey, error) {
	k := cacheKey{offset: offset, size: size, mode: mode}
	if c.opts.SkipStat {
		k.path = path
		return k, nil
	}
	var err error
	k.dev, k.ino, err = c.identity(path)
	return k, err
}

// fileIdentity is a path's identity as a stat found it, trusted until
// until (nanoseconds since Cache.epoch).
type fileIdentity struct {
	dev, ino uint64
	until    int64
}

// statPath is fileID; tests replace it.
var statPath = fileID

// identity returns the device and inode of the file at path: from ids if
// StatEvery allows, else from a stat.
func (c *Cache) identity(path string) (dev, ino uint64, err error) {
	every := int64(c.opts.StatEvery)
	if every > 0 {
		if v, ok := c.ids.Load(path); ok {
			if id := v.(*fileIdentity); c.now() < id.until {
				return id.dev, id.ino, nil
			}
		}
	}
	gen, start := c.idGen.Load(), c.now()
	if dev, ino, err = statPath(path); err != nil {
		return 0, 0, err
	}
	if every > 0 {
		c.remember(path, gen, &fileIdentity{dev: dev, ino: ino, until: start + every})
	}
	return dev, ino, nil
}

// remember stores a path's identity unless Invalidate ran since gen.
func (c *Cache) remember(path string, gen uint64, id *fileIdentity) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if c.idGen.Load() != gen {
		return
	}
	if _, loaded := c.ids.Swap(path, id); loaded {
		return
	}
	// A new path: paths come and go (a log's segments), so expired
	// identities are swept whenever the map has doubled.
	if c.idCount++; c.idCount > 2*c.idSwept+1024 {
		now, n := c.now(), 0
		c.ids.Range(func(k, v any) bool {
			if v.(*fileIdentity).until <= now {
				c.ids.Delete(k)
			} else {
				n++
			}
			return true
		})
		c.idCount, c.idSwept = n, n
	}
}

// forget drops a path's identity, and makes stats in flight not store
// theirs: the next Acquire of the path stats it.
func (c *Cache) forget(path string) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	c.idGen.Add(1)
	if _, loaded := c.ids.LoadAndDelete(path); loaded {
		c.idCount--
	}
}

// now is the time since the cache was made, from the monotonic clock.
func (c *Cache) now() int64 { return int64(time.Since(c.epoch)) }

// keyHash is ristretto's key (and front's) for a cache key. Two keys with
// one hash share a slot: Acquire checks the entry's key, so the second is
// a miss, and its mapping replaces the first's in the cache.
func (c *Cache) keyHash(k *cacheKey) uint64 {
	h := c.hseed
	if k.path != "" {
		h ^= maphash.String(c.seed, k.path)
	}
	// Each number by its own odd constant, independent multiplications,
	// then one finalizer that spreads every bit over the result: a key's
	// numbers reach ristretto's shards and sketch as a hash of their
	// bytes would, at a fifth of a chain of finalizers' cost.
	h ^= k.dev*0x9e3779b97f4a7c15 ^ k.ino*0xbf58476d1ce4e5b9 ^
		uint64(k.offset)*0x94d049bb133111eb ^ uint64(k.size)*0xd6e8feb86659fd93 ^
		uint64(k.mode)*0xa0761d6478bd642f
	return mix64(h)
}

// mix64 is MurmurHash3's 64-bit finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	return x ^ x>>33
}

// Invalidate drops every mapping of the file at path that the cache holds
// (after the file was rewritten, say), and with StatEvery the identity it
// remembers for path. Leases keep theirs until released. An Acquire in
// progress may still return a mapping of the file as it was before, but
// does not leave it cached: an Acquire that begins after Invalidate
// returns maps the file anew.
func (c *Cache) Invalidate(path string) {
	if c.opts.StatEvery > 0 && !c.opts.SkipStat {
		c.forget(path)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed.Load() {
		return
	}
	c.windowMu.Lock()
	c.invalidations.Add(1)
	c.dropWindow(func(e *entry) bool { return e.path == path })
	c.windowMu.Unlock()
	// front holds every entry ristretto has or is yet to apply the Set
	// of (and the window's); a Del is applied after the Set it follows.
	c.front.Range(func(_, v any) bool {
		if e := v.(*entry); e.path == path {
			c.rc.Del(e.hash)
		}
		return true
	})
	// The Dels of entries whose Set was still in ristretto's buffers are
	// applied on its goroutine: once they are, OnExit has taken them out
	// of front, and no later Acquire finds them.
	c.rc.Wait()
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	// Unmaps first: every unmap follows its map, so a Stats taken while
	// mappings come and go never shows more unmaps than maps.
	unmaps := c.counts.unmaps.Load()
	// And misses' leases before all leases (each is counted in both, in
	// the other order), so that Hits is never negative.
	missLeases := c.missLeases.Load()
	var leased int64
	for i := range c.stripes {
		leased += c.stripes[i].leased.Load()
	}
	var live int64
	c.liveMu.Lock()
	for _, e := range c.live {
		live += e.shared.Buffers()
	}
	c.liveMu.Unlock()
	return CacheStats{
		Hits: leased - missLeases, Misses: c.misses.Load(),
		MappedBytes: c.cachedBytes.Load(), LiveLeases: live,
		Evictions: c.evictions.Load(), Rejections: c.rejections.Load(),
		Maps: c.counts.maps.Load(), Unmaps: unmaps,
	}
}

// Close releases every mapping the cache holds and stops ristretto's
// goroutines; leases still held keep their mapping until released. After
// Close, Acquire returns ErrClosed. Close is idempotent.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil
	}
	c.closed.Store(true)
	// Hits that counted themselves in flight before closed was set are
	// a Get away from done.
	for i := range c.stripes {
		for c.stripes[i].inflight.Load() != 0 {
			runtime.Gosched()
		}
	}
	c.rc.Close() // clears: OnExit for every mapping held, out of front too
	c.windowMu.Lock()
	c.dropWindow(func(*entry) bool { return true })
	c.windowMu.Unlock()
	return nil
}

// Lease is a reference to a cached mapping: Buffer reads and writes it,
// Release gives it back. Each lease is a buffer of its own over the
// mapping (directmem.Shared), so a lease dropped without Release is
// released by the garbage collector, and leak detection reports it in the
// "mapped" pool with the mapping's file, offset and mode.
type Lease struct {
	buf Buffer
}

// Buffer returns the lease's view of the mapping: its own position and
// limit, over the mapping's memory. Using it after Release returns
// directmem.ErrFreed.
func (l *Lease) Buffer() *Buffer { return &l.buf }

// Release gives the lease back; the mapping is unmapped if the cache has
// let it go and this was its last lease. Release is idempotent.
func (l *Lease) Release() { l.buf.Buffer.Free() }
