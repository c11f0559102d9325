package directmemtest

import (
	"slices"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"go.uber.org/goleak"
)

// Option changes what VerifyNone, Find and VerifyTestMain check.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// defaultMaxWait bounds the wait for pending cleanups.
const defaultMaxWait = 10 * time.Second

type config struct {
	ignorePools     map[string]bool
	ignoreIDs       map[allocKey]bool              // IgnoreCurrent's snapshot of live allocations
	ignoreFuncs     []string                       // IgnoreAllocatedBy
	afterReport     uint64                         // reports numbered up to this are ignored
	baseline        map[string]directmem.PoolStats // IgnoreCurrent's pools, for untracked checks
	goleakOpts      []goleak.Option
	skipGoroutines  bool
	ignoreCollected bool
	maxWait         time.Duration
	cleanup         func(exitCode int)
}

// allocKey names an allocation across pools.
type allocKey struct {
	pool string
	id   uint64
}

func buildConfig(opts []Option) *config {
	c := &config{
		ignorePools: map[string]bool{},
		ignoreIDs:   map[allocKey]bool{},
		baseline:    map[string]directmem.PoolStats{},
		maxWait:     defaultMaxWait,
	}
	for _, o := range opts {
		o.apply(c)
	}
	return c
}

// IgnorePool ignores the allocations of the named pool ("direct", or
// "mapped" for file mappings), tracked or not.
func IgnorePool(name string) Option {
	return optionFunc(func(c *config) { c.ignorePools[name] = true })
}

// IgnoreCurrent ignores everything that exists when the option is made:
// the live allocations (listed by directmem.Live), the leak reports made so
// far, the number of buffers of each pool (for the check done when tracking
// is disabled), and the goroutines running now (goleak.IgnoreCurrent). Use
// it when a test starts with memory or goroutines that it does not own:
//
//	defer directmemtest.VerifyNone(t, directmemtest.IgnoreCurrent())
//
// (the arguments of a deferred call are evaluated where the defer is, so
// the snapshot is taken at the start of the test).
func IgnoreCurrent() Option {
	live := directmem.Live()
	_, latest := directmem.LeaksSince(^uint64(0))
	pools := directmem.Pools()
	gopt := goleak.IgnoreCurrent()
	return optionFunc(func(c *config) {
		for _, a := range live {
			c.ignoreIDs[allocKey{a.Pool, a.ID}] = true
		}
		c.afterReport = max(c.afterReport, latest)
		for _, p := range pools {
			c.raiseBaseline(p)
		}
		c.goleakOpts = append(c.goleakOpts, gopt)
	})
}

// IgnoreAllocatedBy ignores tracked allocations with function anywhere in
// their allocation stack (a package path-qualified name, as in a goroutine
// trace: "example.com/cache.(*Cache).grow"), like goleak.IgnoreAnyFunction
// for goroutines. Allocations without a recorded stack are not ignored.
func IgnoreAllocatedBy(function string) Option {
	return optionFunc(func(c *config) { c.ignoreFuncs = append(c.ignoreFuncs, function) })
}

// IgnoreCollected accepts buffers that the garbage collector released
// because they were dropped without Free: the JVM's semantics, for code
// that relies on the collector by design. Only memory still live at the
// check, and double Frees, then fail.
func IgnoreCollected() Option {
	return optionFunc(func(c *config) { c.ignoreCollected = true })
}

// GoleakOptions passes options to the goroutine check (goleak.Find), for
// instance goleak.IgnoreTopFunction. goleak.Cleanup cannot be passed this
// way (goleak.Find rejects it); use Cleanup.
func GoleakOptions(opts ...goleak.Option) Option {
	opts = slices.Clone(opts)
	return optionFunc(func(c *config) { c.goleakOpts = append(c.goleakOpts, opts...) })
}

// IgnoreGoroutines skips the goroutine check: only memory is checked.
func IgnoreGoroutines() Option {
	return optionFunc(func(c *config) { c.skipGoroutines = true })
}

// MaxWait bounds how long a check waits for pending cleanups (of buffers
// the collection it forces finds unreachable) before it gives up and
// reports what is still live; 10 seconds unless set. A d of 0 or less
// means no waiting at all: one collection, then the check.
func MaxWait(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxWait = d })
}

// Cleanup makes VerifyTestMain call f with the exit code instead of
// os.Exit, as goleak.Cleanup does. Other functions ignore it.
func Cleanup(f func(exitCode int)) Option {
	return optionFunc(func(c *config) { c.cleanup = f })
}

// raiseBaseline makes p the baseline of its pool unless the baseline holds
// more buffers already (several IgnoreCurrent snapshots: the largest wins).
func (c *config) raiseBaseline(p directmem.PoolStats) {
	if b, ok := c.baseline[p.Name]; !ok || p.Count > b.Count {
		c.baseline[p.Name] = p
	}
}
