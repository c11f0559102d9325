// Package directmemtest is goleak for off-heap memory: it fails a test that
// leaves direct buffers (or goroutines) behind, naming the code that
// allocated each one.
//
// In TestMain, VerifyTestMain turns on paranoid leak tracking
// (directmem.LeakParanoid: every allocation records its stack) before the
// tests run and checks after all of them:
//
//	func TestMain(m *testing.M) {
//		directmemtest.VerifyTestMain(m)
//	}
//
// In a single test, VerifyNone checks at the end of the test:
//
//	func TestCache(t *testing.T) {
//		defer directmemtest.VerifyNone(t)
//		...
//	}
//
// # What counts as a leak
//
// A check forces garbage collections and waits for the cleanups they queue
// (cleaner.WaitPending: on the runtime's counters, not sleeps) until the
// set of live allocations stops shrinking. Then, if leak tracking is on
// (directmem.LeakDetection is not LeakDisabled), it fails for:
//
//   - every tracked allocation still live: memory allocated since tracking
//     began that has been neither freed nor released by the collector. A
//     buffer the test still references when the check runs counts: that is
//     the point (a cache, a pool, a global or a goroutine holding memory
//     past the test). Put "defer directmemtest.VerifyNone(t)" first in the
//     test, so that it runs after the test's other deferred calls (defer
//     buf.Free() included), as with goleak. An explicit-only buffer
//     (directmem.Options.NoCleaner) dropped without Free is listed too,
//     marked unreachable: nothing will ever release it.
//   - every leak report made since the previous check: a tracked buffer the
//     collector released because it was dropped without Free (unless
//     IgnoreCollected), and a double Free of an explicit-only buffer. Each
//     report fails one check only.
//   - every goroutine still running that goleak.Find does not ignore.
//
// If leak tracking is off when the check runs, allocations have no records
// and the check falls back to counting: it fails if a pool (directmem.Pools)
// holds more buffers than it did when IgnoreCurrent was made (or any, without
// it), and says that stacks need tracking.
//
// Under directmem.LeakSampled only one managed allocation in 128 is
// tracked, so a check sees only those; VerifyTestMain uses LeakParanoid.
//
// Like goleak, a check cannot tell whose memory it sees: tests running in
// parallel (t.Parallel) with one that calls VerifyNone may make it fail.
// VerifyTestMain, which checks once after all tests, has no such problem.
//
// Pools other than "direct" (directmem.NewPool, such as package mapped's
// "mapped") are checked the same way: directmem tracks and counts their
// buffers, so this package needs to know nothing of them.
package directmemtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
	"go.uber.org/goleak"
)

// Error is what Find returns when it finds leaks. VerifyNone and
// VerifyTestMain print it.
type Error struct {
	// Live lists the tracked allocations still live after collection.
	Live []directmem.Allocation
	// Reports lists the leak reports made since the previous check: buffers
	// collected without Free (unless IgnoreCollected) and double Frees.
	Reports []directmem.Leak
	// Untracked lists, when tracking is off, the pools holding more buffers
	// than the baseline; their counts and bytes are the excess over it
	// (bytes no less than 0: buffers of the baseline may have been freed
	// meanwhile).
	Untracked []directmem.PoolStats
	// Tracking is the leak detection level when the check ran.
	Tracking directmem.LeakLevel
	// Goroutines is goleak.Find's error, if goroutines leaked.
	Goroutines error
	// Wait is set if pending cleanups did not finish within MaxWait.
	Wait error
}

func (e *Error) Error() string {
	sections := []string{"directmemtest: found unexpected leaks"}
	if len(e.Live) > 0 {
		items := make([]string, len(e.Live))
		for i, a := range e.Live {
			items[i] = indent(a.String())
		}
		sections = append(sections, fmt.Sprintf("%s still live after garbage collection (leak tracking: %v):\n%s",
			plural(len(e.Live), "allocation"), e.Tracking, strings.Join(items, "\n\n")))
	}
	if len(e.Reports) > 0 {
		items := make([]string, len(e.Reports))
		for i, l := range e.Reports {
			items[i] = indent(l.String())
		}
		sections = append(sections, fmt.Sprintf("%s since the previous check:\n%s",
			plural(len(e.Reports), "leak report"), strings.Join(items, "\n\n")))
	}
	for _, p := range e.Untracked {
		sections = append(sections, fmt.Sprintf("%s of pool %q (%d bytes) still live after garbage collection; leak tracking is off, so where they were allocated is unknown: use directmemtest.VerifyTestMain, or DIRECTMEM_LEAKS=paranoid, to record it",
			plural(int(p.Count), "buffer"), p.Name, p.TotalCapacity))
	}
	if e.Wait != nil {
		sections = append(sections, fmt.Sprintf("pending cleanups did not finish: %v", e.Wait))
	}
	if e.Goroutines != nil {
		sections = append(sections, fmt.Sprintf("goroutines: %v", e.Goroutines))
	}
	return strings.Join(sections, "\n\n")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// indent prefixes every line of s with two spaces.
func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// checked is the number of the latest leak report a check has looked at:
// each report fails one check only.
var checked atomic.Uint64

// maxRounds bounds the collect-and-wait rounds of a check.
const maxRounds = 10

// Find checks for leaked memory and goroutines as VerifyNone does and
// returns an *Error describing them, or nil.
func Find(opts ...Option) error {
	return find(buildConfig(opts))
}

func find(c *config) error {
	e := &Error{Tracking: directmem.LeakDetection()}
	if !c.skipGoroutines {
		// First: goroutines that are finishing may drop the last
		// references to buffers; goleak waits for them.
		e.Goroutines = goleak.Find(c.goleakOpts...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.maxWait)
	defer cancel()
	prev := -1
	for round := 0; round < maxRounds; round++ {
		runtime.GC()
		if c.maxWait <= 0 {
			break // MaxWait(0): one collection, no waiting
		}
		if err := cleaner.WaitPending(ctx); err != nil {
			e.Wait = err
			break
		}
		n := c.count(e.Tracking != directmem.LeakDisabled)
		if n == 0 || n == prev {
			break
		}
		prev = n
	}
	if e.Tracking != directmem.LeakDisabled {
		e.Live = c.live()
	} else {
		e.Untracked = c.untracked()
	}
	e.Reports = c.reports()
	if len(e.Live) == 0 && len(e.Reports) == 0 && len(e.Untracked) == 0 && e.Goroutines == nil && e.Wait == nil {
		return nil
	}
	return e
}

// count is what the collection rounds watch shrink.
func (c *config) count(tracking bool) int {
	if tracking {
		return len(c.live())
	}
	n := 0
	for _, p := range c.untracked() {
		n += int(p.Count)
	}
	return n
}

// live returns the tracked live allocations the options do not ignore.
func (c *config) live() []directmem.Allocation {
	return slices.DeleteFunc(directmem.Live(), func(a directmem.Allocation) bool {
		return c.ignorePools[a.Pool] || c.ignoreIDs[allocKey{a.Pool, a.ID}] || c.allocatedByIgnored(a.Stack)
	})
}

func (c *config) allocatedByIgnored(s directmem.Stack) bool {
	for _, f := range s {
		if slices.Contains(c.ignoreFuncs, f.Function) {
			return true
		}
	}
	return false
}

// untracked returns the pools holding more buffers than the baseline.
func (c *config) untracked() []directmem.PoolStats {
	var out []directmem.PoolStats
	for _, p := range directmem.Pools() {
		b := c.baseline[p.Name]
		if c.ignorePools[p.Name] || p.Count <= b.Count {
			continue
		}
		p.Count -= b.Count
		p.TotalCapacity = max(p.TotalCapacity-b.TotalCapacity, 0)
		p.MemoryUsed = max(p.MemoryUsed-b.MemoryUsed, 0)
		out = append(out, p)
	}
	return out
}

// reports returns the leak reports made since the previous check (and
// since the IgnoreCurrent snapshot) that the options do not ignore, and
// marks them checked. Lost explicit-only buffers are left out: they are
// in Live.
func (c *config) reports() []directmem.Leak {
	var out []directmem.Leak
	for {
		last := checked.Load()
		leaks, latest := directmem.LeaksSince(max(last, c.afterReport))
		if !checked.CompareAndSwap(last, max(last, latest)) {
			continue // another check took reports meanwhile; take what is left
		}
		for _, l := range leaks {
			switch {
			case l.Kind == directmem.LeakLost,
				l.Kind == directmem.LeakCollected && c.ignoreCollected,
				c.ignorePools[l.Pool],
				c.ignoreIDs[allocKey{l.Pool, l.ID}],
				c.allocatedByIgnored(l.Stack):
				continue
			}
			out = append(out, l)
		}
		return out
	}
}

// VerifyNone fails t (with t.Error) if Find finds leaked memory or
// goroutines. Call it last, usually with defer as the first statement of
// the test, so that the test's own deferred Frees run before it.
func VerifyNone(t testing.TB, opts ...Option) {
	t.Helper()
	if err := Find(opts...); err != nil {
		t.Error(err)
	}
}

// TestingM is the part of *testing.M that VerifyTestMain uses.
type TestingM interface {
	Run() int
}

// stderr is where VerifyTestMain reports; a variable for tests.
var stderr io.Writer = os.Stderr

// VerifyTestMain runs the tests of m with paranoid leak tracking on
// (directmem.SetLeakDetection(directmem.LeakParanoid): every allocation
// records its stack) and, if they pass, checks as VerifyNone does for
// memory allocated during the tests and goroutines they left. On leaks it
// prints the report to stderr and exits with status 1; otherwise with the
// tests' status.
//
// Allocations made before VerifyTestMain (package variables, init) and
// leak reports made before it are ignored. Use it from TestMain:
//
//	func TestMain(m *testing.M) {
//		directmemtest.VerifyTestMain(m)
//	}
func VerifyTestMain(m TestingM, opts ...Option) {
	directmem.SetLeakDetection(directmem.LeakParanoid)
	start := IgnoreCurrent()
	c := buildConfig(opts)
	startMemoryOnly(start, c)
	_, latest := directmem.LeaksSince(^uint64(0))
	checked.Store(latest)

	exitCode := m.Run()
	if exitCode == 0 {
		if err := find(c); err != nil {
			fmt.Fprintf(stderr, "directmemtest: errors on successful test run: %v\n", err)
			exitCode = 1
		}
	}
	if c.cleanup != nil {
		c.cleanup(exitCode)
		return
	}
	os.Exit(exitCode)
}

// startMemoryOnly applies the memory part of an IgnoreCurrent snapshot to
// c: VerifyTestMain ignores the memory that exists before the tests, but
// not the goroutines (as goleak.VerifyTestMain does not).
func startMemoryOnly(start Option, c *config) {
	snap := buildConfig([]Option{start})
	for k := range snap.ignoreIDs {
		c.ignoreIDs[k] = true
	}
	c.afterReport = max(c.afterReport, snap.afterReport)
	for _, p := range snap.baseline {
		c.raiseBaseline(p)
	}
}
