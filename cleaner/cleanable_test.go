package cleaner_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
)

func TestCleanRunsReleaseOnce(t *testing.T) {
	settle(t)
	before := cleaner.Stats()
	o := &owner{name: "explicit"}
	var runs atomic.Int32
	c := cleaner.Register(o, func() { runs.Add(1) })
	if c.Released() {
		t.Fatal("Released() = true before Clean")
	}
	if d := delta(before, cleaner.Stats()); d.Registered != 1 || d.Live() != 1 {
		t.Fatalf("after Register: counters moved by %+v (Live %d), want Registered 1, Live 1", d, d.Live())
	}
	if !c.Clean() {
		t.Fatal("first Clean() = false")
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("release ran %d times after Clean, want 1", n)
	}
	if !c.Released() {
		t.Fatal("Released() = false after Clean")
	}
	for range 3 {
		if c.Clean() {
			t.Fatal("later Clean() = true")
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("release ran %d times after repeated Clean, want 1", n)
	}
	if c.HasRelease() {
		t.Error("the Cleanable still holds its release function after running it")
	}
	runtime.KeepAlive(o)
	d := delta(before, cleaner.Stats())
	if d.Registered != 1 || d.CleanedExplicitly != 1 || d.CleanedByGC != 0 || d.Panics != 0 || d.Live() != 0 {
		t.Fatalf("counters moved by %+v (Live %d), want Registered 1, CleanedExplicitly 1", d, d.Live())
	}
}

func TestCleanConcurrent(t *testing.T) {
	// Many goroutines Clean the same Cleanable at once: one wins.
	o := &owner{}
	var runs atomic.Int32
	c := cleaner.Register(o, func() { runs.Add(1) })
	const goroutines = 16
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if c.Clean() {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if w, n := wins.Load(), runs.Load(); w != 1 || n != 1 {
		t.Fatalf("%d Clean calls returned true and release ran %d times, want 1 and 1", w, n)
	}
	runtime.KeepAlive(o)
}

func TestReleaseByGC(t *testing.T) {
	settle(t)
	before := cleaner.Stats()
	var runs atomic.Int32
	c := registerDropped(func() { runs.Add(1) })
	collect(t, func() bool { return runs.Load() > 0 })
	if !c.Released() {
		t.Fatal("Released() = false after the GC ran the release")
	}
	// More collections never run it again, and Clean has nothing left to do.
	for range 3 {
		runtime.GC()
		if err := cleaner.WaitPending(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Clean() {
		t.Fatal("Clean() = true after the GC ran the release")
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("release ran %d times, want 1", n)
	}
	d := delta(before, cleaner.Stats())
	if d.Registered != 1 || d.CleanedByGC != 1 || d.CleanedExplicitly != 0 || d.Live() != 0 || d.Running != 0 {
		t.Fatalf("counters moved by %+v (Live %d), want Registered 1, CleanedByGC 1", d, d.Live())
	}
}

func TestReleaseByGCMany(t *testing.T) {
	settle(t)
	before := cleaner.Stats()
	const n = 1000
	var runs atomic.Int32
	cs := make([]*cleaner.Cleanable, n)
	for i := range cs {
		cs[i] = registerDropped(func() { runs.Add(1) })
	}
	collect(t, func() bool { return runs.Load() == n })
	for i, c := range cs {
		if !c.Released() {
			t.Fatalf("Cleanable %d not released", i)
		}
	}
	if d := delta(before, cleaner.Stats()); d.CleanedByGC != n || d.Live() != 0 {
		t.Fatalf("counters moved by %+v (Live %d), want CleanedByGC %d, Live 0", d, d.Live(), n)
	}
}

func TestCleanThenDrop(t *testing.T) {
	settle(t)
	before := cleaner.Stats()
	var runs atomic.Int32
	c := registerDropped(func() { runs.Add(1) })
	// The owner may already be unreachable: Clean must not care.
	if !c.Clean() {
		t.Fatal("Clean() = false")
	}
	for range 3 {
		runtime.GC()
		if err := cleaner.WaitPending(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("release ran %d times, want 1", n)
	}
	d := delta(before, cleaner.Stats())
	if d.CleanedExplicitly != 1 || d.CleanedByGC != 0 || d.Live() != 0 {
		t.Fatalf("counters moved by %+v, want CleanedExplicitly 1, CleanedByGC 0", d)
	}
}

// TestCancelWithdrawsWithoutRunning: Cancel takes the release away from
// the collector without running it, once, and Clean after it does nothing.
func TestCancelWithdrawsWithoutRunning(t *testing.T) {
	settle(t)
	before := cleaner.Stats()
	var runs atomic.Int32
	c := registerDropped(func() { runs.Add(1) })
	if !c.Cancel() {
		t.Fatal("first Cancel() = false")
	}
	if c.Cancel() || c.Clean() {
		t.Fatal("Cancel or Clean after Cancel reported true")
	}
	if !c.Released() {
		t.Fatal("Released() = false after Cancel")
	}
	for range 3 {
		runtime.GC()
		if err := cleaner.WaitPending(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs.Load(); n != 0 {
		t.Fatalf("release ran %d times after Cancel, want 0", n)
	}
	d := delta(before, cleaner.Stats())
	if d.CleanedExplicitly != 1 || d.CleanedByGC != 0 || d.Live() != 0 {
		t.Fatalf("counters moved by %+v, want CleanedExplicitly 1, CleanedByGC 0", d)
	}
}

// TestCancelAfterClean: a Cleanable already cleaned cannot be cancelled.
func TestCancelAfterClean(t *testing.T) {
	var runs atomic.Int32
	o := &owner{name: "x"}
	c := cleaner.Register(o, func() { runs.Add(1) })
	if !c.Clean() || c.Cancel() || runs.Load() != 1 {
		t.Fatalf("Clean then Cancel: release ran %d times", runs.Load())
	}
	runtime.KeepAlive(o)
}

// TestCleanAfterQueued is the case runtime.Cleanup.Stop cannot handle: the
// GC has queued the cleanup, but before it runs the owner's code calls
// Clean. Exactly one of them may run release.
func TestCleanAfterQueued(t *testing.T) {
	settle(t)
	b := blockCleanupGoroutine(t)
	before := cleaner.Stats()

	var runs atomic.Int32
	c := registerDropped(func() { runs.Add(1) })
	runtime.GC() // queues c's cleanup behind the blocked one
	cleaned := c.Clean()
	if singleCleanupGoroutine() && !cleaned {
		t.Fatal("Clean() = false although the only cleanup goroutine is blocked")
	}
	if !cleaned {
		t.Log("another cleanup goroutine ran the release first; exactly-once still checked")
	}
	b.unblock()
	collect(t, func() bool { return runs.Load() > 0 })
	for range 2 {
		runtime.GC()
		if err := cleaner.WaitPending(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("release ran %d times, want 1", n)
	}
	d := delta(before, cleaner.Stats())
	// The blocker was counted (CleanedByGC, Running) before the snapshot;
	// the queued cleanup for c ran after Clean and must have done nothing.
	if cleaned && (d.CleanedExplicitly != 1 || d.CleanedByGC != 0 || d.Running != -1) {
		t.Fatalf("counters moved by %+v, want CleanedExplicitly 1, CleanedByGC 0, Running -1 (the blocker returned)", d)
	}
}

// TestCleanRacesGC races explicit Clean calls against the runtime running
// the cleanups a collection queued for the same owners: every release must
// run exactly once, by one side or the other.
func TestCleanRacesGC(t *testing.T) {
	settle(t)
	before := cleaner.Stats()
	const (
		n        = 2000
		batch    = 100
		cleaners = 4
	)
	counts := make([]atomic.Int32, n)
	var total atomic.Int64
	owners := make([]*owner, n)
	cs := make([]*cleaner.Cleanable, n)
	for i := range n {
		owners[i] = &owner{}
		cs[i] = cleaner.Register(owners[i], func() {
			counts[i].Add(1)
			total.Add(1)
		})
	}

	// Drop a batch of owners and collect them, which queues their cleanups,
	// while the cleaners Clean the same batch.
	type job struct{ from, to, offset int }
	jobs := make(chan job, n)
	var explicit atomic.Int64
	var wg sync.WaitGroup
	for range cleaners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				for i := j.to - 1 - j.offset; i >= j.from; i -= cleaners {
					if cs[i].Clean() {
						explicit.Add(1)
					}
				}
			}
		}()
	}
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		for i := from; i < to; i++ {
			owners[i] = nil
		}
		// Half the batch goes to the cleaners before the collection (they
		// race the GC queueing the cleanups), half after (they race the
		// runtime running them).
		for w := range cleaners / 2 {
			jobs <- job{from, to, w}
		}
		runtime.GC()
		for w := cleaners / 2; w < cleaners; w++ {
			jobs <- job{from, to, w}
		}
	}
	close(jobs)
	wg.Wait()

	// Every Cleanable is released, but a release the GC started may still be
	// running (Clean returns false for those): wait for the rest.
	collect(t, func() bool { return total.Load() == n })
	for range 2 {
		runtime.GC()
		if err := cleaner.WaitPending(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range counts {
		if c := counts[i].Load(); c != 1 {
			t.Errorf("release %d ran %d times", i, c)
		}
		if !cs[i].Released() {
			t.Errorf("Cleanable %d not released", i)
		}
	}
	if got := total.Load(); got != n {
		t.Fatalf("%d releases ran, want %d", got, n)
	}
	d := delta(before, cleaner.Stats())
	if d.CleanedExplicitly != explicit.Load() || d.CleanedExplicitly+d.CleanedByGC != n || d.Live() != 0 {
		t.Fatalf("counters moved by %+v, want %d explicit and %d total", d, explicit.Load(), n)
	}
	t.Logf("%d released by Clean, %d by the GC", d.CleanedExplicitly, d.CleanedByGC)
}

// TestGCPathLosesToClean drives cleanByGC directly (as the runtime does
// when Stop came too late) on both sides of the state change.
func TestGCPathLosesToClean(t *testing.T) {
	t.Run("Clean first", func(t *testing.T) {
		o := &owner{}
		var runs atomic.Int32
		c := cleaner.Register(o, func() { runs.Add(1) })
		before := cleaner.Stats()
		if !c.Clean() {
			t.Fatal("Clean() = false")
		}
		c.CleanByGC()
		if n := runs.Load(); n != 1 {
			t.Fatalf("release ran %d times, want 1", n)
		}
		if d := delta(before, cleaner.Stats()); d.CleanedExplicitly != 1 || d.CleanedByGC != 0 {
			t.Fatalf("counters moved by %+v, want CleanedExplicitly 1 only", d)
		}
		runtime.KeepAlive(o)
	})
	t.Run("GC first", func(t *testing.T) {
		o := &owner{}
		var runs atomic.Int32
		c := cleaner.Register(o, func() { runs.Add(1) })
		before := cleaner.Stats()
		c.CleanByGC()
		if !c.Released() {
			t.Fatal("Released() = false after the GC path ran")
		}
		if c.Clean() {
			t.Fatal("Clean() = true after the GC path ran")
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("release ran %d times, want 1", n)
		}
		if d := delta(before, cleaner.Stats()); d.CleanedExplicitly != 0 || d.CleanedByGC != 1 {
			t.Fatalf("counters moved by %+v, want CleanedByGC 1 only", d)
		}
		runtime.KeepAlive(o)
		// The runtime's own cleanup for o is still registered; when o dies it
		// finds the state released and does nothing.
		o = nil
		for range 3 {
			runtime.GC()
			if err := cleaner.WaitPending(waitCtx(t)); err != nil {
				t.Fatal(err)
			}
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("release ran %d times after the owner died, want 1", n)
		}
	})
}

func TestRegisterPanics(t *testing.T) {
	noop := func() {}
	type (
		tinyStruct   struct{ a, b int32 }
		zeroPtrArray struct{ _ [0]*int }
		padded       struct {
			_ [0]*int
			x int32
		} // size 4, no pointer storage
		fifteen [15]byte
	)
	tests := []struct {
		name string
		f    func()
		want string // in the panic message
	}{
		{"nil owner", func() { cleaner.Register((*owner)(nil), noop) }, "nil owner"},
		{"nil release", func() { cleaner.Register(&owner{}, nil) }, "nil release"},
		{"struct{}", func() { cleaner.Register(new(struct{}), noop) }, "size zero"},
		{"[0]int", func() { cleaner.Register(new([0]int), noop) }, "size zero"},
		{"[0]*int", func() { cleaner.Register(new(zeroPtrArray), noop) }, "size zero"},
		{"[8]byte", func() { cleaner.Register(new([8]byte), noop) }, "[8]uint8 is 8 bytes and pointer-free"},
		{"int64", func() { cleaner.Register(new(int64), noop) }, "int64 is 8 bytes and pointer-free"},
		{"byte", func() { cleaner.Register(new(byte), noop) }, "pointer-free"},
		{"two int32", func() { cleaner.Register(new(tinyStruct), noop) }, "pointer-free"},
		{"[15]byte", func() { cleaner.Register(new(fifteen), noop) }, "15 bytes and pointer-free"},
		{"zero-length pointer array + int32", func() { cleaner.Register(new(padded), noop) }, "pointer-free"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cleaner.Stats()
			v := mustPanic(t, tt.f)
			msg := fmt.Sprint(v)
			if !strings.HasPrefix(msg, "cleaner.Register: ") || !strings.Contains(msg, tt.want) {
				t.Fatalf("panic %q, want a cleaner.Register message containing %q", msg, tt.want)
			}
			if d := delta(before, cleaner.Stats()); d.Registered != 0 {
				t.Fatalf("a rejected Register counted: %+v", d)
			}
		})
	}
}

func TestRegisterAccepts(t *testing.T) {
	type (
		onePointer struct{ p *int }
		sixteen    [16]byte
		withString struct{ s string }
		withFunc   struct{ f func() }
		withMap    struct{ m map[int]int }
		withIface  struct{ v any }
		withSlice  struct{ b []byte }
		withChan   struct{ c chan int }
		ptrArray   [1]*int
		nested     struct{ inner struct{ p *int } }
		big        struct{ a, b, c int64 }
	)
	tests := []struct {
		name     string
		register func(release func()) (*cleaner.Cleanable, any)
	}{
		{"struct{p *int}", func(r func()) (*cleaner.Cleanable, any) { o := new(onePointer); return cleaner.Register(o, r), o }},
		{"[16]byte", func(r func()) (*cleaner.Cleanable, any) { o := new(sixteen); return cleaner.Register(o, r), o }},
		{"string field", func(r func()) (*cleaner.Cleanable, any) { o := new(withString); return cleaner.Register(o, r), o }},
		{"func field", func(r func()) (*cleaner.Cleanable, any) { o := new(withFunc); return cleaner.Register(o, r), o }},
		{"map field", func(r func()) (*cleaner.Cleanable, any) { o := new(withMap); return cleaner.Register(o, r), o }},
		{"interface field", func(r func()) (*cleaner.Cleanable, any) { o := new(withIface); return cleaner.Register(o, r), o }},
		{"slice field", func(r func()) (*cleaner.Cleanable, any) { o := new(withSlice); return cleaner.Register(o, r), o }},
		{"chan field", func(r func()) (*cleaner.Cleanable, any) { o := new(withChan); return cleaner.Register(o, r), o }},
		{"[1]*int", func(r func()) (*cleaner.Cleanable, any) { o := new(ptrArray); return cleaner.Register(o, r), o }},
		{"nested pointer", func(r func()) (*cleaner.Cleanable, any) { o := new(nested); return cleaner.Register(o, r), o }},
		{"24-byte pointer-free", func(r func()) (*cleaner.Cleanable, any) { o := new(big); return cleaner.Register(o, r), o }},
		{"*int", func(r func()) (*cleaner.Cleanable, any) { o := new(*int); return cleaner.Register(o, r), o }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs atomic.Int32
			c, o := tt.register(func() { runs.Add(1) })
			if !c.Clean() || runs.Load() != 1 {
				t.Fatalf("Clean did not run the release once (runs %d)", runs.Load())
			}
			runtime.KeepAlive(o)
		})
	}
}

func TestStats(t *testing.T) {
	settle(t)
	prev := cleaner.SetPanicHandler(func(any, []byte) {})
	t.Cleanup(func() { cleaner.SetPanicHandler(prev) })
	before := cleaner.Stats()

	kept := &owner{}
	cKept := cleaner.Register(kept, func() {})
	explicit := &owner{}
	cExplicit := cleaner.Register(explicit, func() {})
	var gcRuns atomic.Int32
	registerDropped(func() { gcRuns.Add(1) })
	registerDropped(func() { gcRuns.Add(1); panic("stats") })

	d := delta(before, cleaner.Stats())
	if d.Registered != 4 || d.Live() != 4 || d.CleanedExplicitly != 0 || d.CleanedByGC != 0 {
		t.Fatalf("after 4 Register: %+v (Live %d)", d, d.Live())
	}
	cExplicit.Clean()
	runtime.KeepAlive(explicit)
	d = delta(before, cleaner.Stats())
	if d.CleanedExplicitly != 1 || d.Live() != 3 {
		t.Fatalf("after Clean: %+v (Live %d)", d, d.Live())
	}
	collect(t, func() bool { return gcRuns.Load() == 2 })
	d = delta(before, cleaner.Stats())
	if d.Registered != 4 || d.CleanedExplicitly != 1 || d.CleanedByGC != 2 || d.Panics != 1 || d.Running != 0 || d.Live() != 1 {
		t.Fatalf("after GC: %+v (Live %d), want Registered 4, CleanedExplicitly 1, CleanedByGC 2, Panics 1, Live 1", d, d.Live())
	}
	cKept.Clean()
	runtime.KeepAlive(kept)
	if d := delta(before, cleaner.Stats()); d.Live() != 0 || d.CleanedExplicitly != 2 {
		t.Fatalf("at the end: %+v (Live %d)", d, d.Live())
	}
}

func TestStatsRunning(t *testing.T) {
	settle(t)
	before := cleaner.Stats()
	b := blockCleanupGoroutine(t)
	if d := delta(before, cleaner.Stats()); d.Running != 1 || d.CleanedByGC != 1 {
		t.Fatalf("while a GC-triggered release blocks: %+v, want Running 1, CleanedByGC 1", d)
	}
	if !b.c.Released() {
		t.Fatal("Released() = false while the release is running")
	}
	if b.c.Clean() {
		t.Fatal("Clean() = true while the GC's release is running")
	}
	b.unblock()
	<-b.done
	if err := cleaner.WaitPending(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if d := delta(before, cleaner.Stats()); d.Running != 0 || d.Live() != 0 {
		t.Fatalf("after it returned: %+v", d)
	}
}

func TestCountersLive(t *testing.T) {
	c := cleaner.Counters{Registered: 10, CleanedExplicitly: 3, CleanedByGC: 4, Panics: 2, Running: 1}
	if got := c.Live(); got != 3 {
		t.Fatalf("Live() = %d, want 3", got)
	}
}
