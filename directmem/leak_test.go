package directmem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/limits"
)

// leakChildEnv selects, in a re-run of this test binary, which helper test
// does its work (see TestLeakChild and TestRaceFreeProbe).
const leakChildEnv = "DIRECTMEM_LEAK_TEST_CHILD"

// leakCatcher collects the reports handed to the leak handler.
type leakCatcher struct {
	mu    sync.Mutex
	leaks []Leak
}

func (c *leakCatcher) add(l Leak) {
	c.mu.Lock()
	c.leaks = append(c.leaks, l)
	c.mu.Unlock()
}

// matching returns the reports caught so far for allocations of capacity
// bytes (each test uses capacities of its own, so that a report about
// another test's buffer does not confuse it).
func (c *leakCatcher) matching(capacity int64) []Leak {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Leak
	for _, l := range c.leaks {
		if l.Capacity == capacity {
			out = append(out, l)
		}
	}
	return out
}

// trackLeaks sets the level and a catching handler, with a rate limit that
// lets everything through, for the duration of the test.
func trackLeaks(t *testing.T, level LeakLevel) *leakCatcher {
	t.Helper()
	prevLevel := LeakDetection()
	SetLeakDetection(level)
	c := &leakCatcher{}
	prevHandler := SetLeakHandler(c.add)
	prevLimiter := leakLimiter.Swap(newRateLimiter(1e9, 1e9, time.Now))
	t.Cleanup(func() {
		SetLeakDetection(prevLevel)
		SetLeakHandler(prevHandler)
		leakLimiter.Store(prevLimiter)
	})
	return c
}

// leakAllocator returns an allocator with a private budget, so that leaked
// buffers cannot starve other tests.
func leakAllocator(noCleaner bool) (*Allocator, *limits.Budget) {
	budget := limits.NewBudget(1 << 30)
	return NewAllocator(Options{Budget: budget, NoCleaner: noCleaner}), budget
}

// allocateHere allocates capacity bytes and returns the buffer with the
// line of the Allocate call: the line a report must name.
//
//go:noinline
func allocateHere(tb testing.TB, a *Allocator, capacity int) (*Buffer, int) {
	_, _, line, _ := runtime.Caller(0)
	buf, err := a.Allocate(capacity)
	if err != nil {
		tb.Fatal(err)
	}
	return buf, line + 1
}

// leakOne allocates a buffer and drops it without Free, returning the line
// of the allocation.
//
//go:noinline
func leakOne(tb testing.TB, a *Allocator, capacity int) int {
	_, line := allocateHere(tb, a, capacity)
	return line
}

// collectUntil runs the collector and waits for pending cleanups until
// done reports true, for up to five seconds.
func collectUntil(t *testing.T, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !done() {
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			t.Fatalf("the report never came: %v", err)
		}
	}
}

// checkAllocatedAt checks that s starts in allocateHere at line, the
// frames of the allocator itself left out, followed by its caller.
func checkAllocatedAt(t *testing.T, s Stack, line int) {
	t.Helper()
	if len(s) < 2 {
		t.Fatalf("allocation stack %v: want at least two frames", s)
	}
	top := s[0]
	if !strings.HasSuffix(top.Function, "directmem.allocateHere") || filepath.Base(top.File) != "leak_test.go" || top.Line != line {
		t.Errorf("allocation stack starts at %v, want directmem.allocateHere at leak_test.go:%d\n%v", top, line, s)
	}
	for _, f := range s {
		if f.Function == "runtime.goexit" {
			t.Errorf("stack keeps runtime.goexit:\n%v", s)
		}
	}
}

func TestParseLeakLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want LeakLevel
		ok   bool
	}{
		{"disabled", LeakDisabled, true},
		{"sampled", LeakSampled, true},
		{"paranoid", LeakParanoid, true},
		{" Paranoid\n", LeakParanoid, true},
		{"SAMPLED", LeakSampled, true},
		{"", LeakDisabled, false},
		{"simple", LeakDisabled, false},
		{"1", LeakDisabled, false},
		{"PARANOİD", LeakDisabled, false}, // U+0130 lowers to "i" in Unicode
		{"ſampled", LeakDisabled, false},  // U+017F folds to "s"
	} {
		got, err := ParseLeakLevel(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseLeakLevel(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidLeakLevel) {
			t.Errorf("ParseLeakLevel(%q) error %v does not match ErrInvalidLeakLevel", tc.in, err)
		}
		if tc.ok && got.String() != strings.ToLower(strings.TrimSpace(tc.in)) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if s := LeakLevel(7).String(); s != "LeakLevel(7)" {
		t.Errorf("LeakLevel(7).String() = %q", s)
	}
}

func TestLeakLevelFromEnv(t *testing.T) {
	env := func(v string, set bool) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k != leakEnv {
				t.Errorf("looked up %q, want %q", k, leakEnv)
			}
			return v, set
		}
	}
	for _, tc := range []struct {
		v       string
		set     bool
		want    LeakLevel
		wantErr string
	}{
		{"", false, LeakDisabled, ""},
		{"", true, LeakDisabled, ""},
		{"  ", true, LeakDisabled, ""},
		{"disabled", true, LeakDisabled, ""},
		{"sampled", true, LeakSampled, ""},
		{"paranoid", true, LeakParanoid, ""},
		{"Paranoid", true, LeakParanoid, ""},
		{"advanced", true, LeakDisabled, `DIRECTMEM_LEAKS="advanced"`},
	} {
		got, err := leakLevelFromEnv(env(tc.v, tc.set))
		if got != tc.want {
			t.Errorf("%q (set %v): level %v, want %v", tc.v, tc.set, got, tc.want)
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: unexpected error %v", tc.v, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalidLeakLevel)):
			t.Errorf("%q: error %v, want one naming %s", tc.v, err, tc.wantErr)
		}
	}
}

func TestSetLeakDetectionPanicsOnInvalidLevel(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("SetLeakDetection(9) did not panic")
		}
	}()
	SetLeakDetection(9)
}

// runChild re-runs this test binary for one helper test, with
// leakChildEnv=mode and the extra environment, and returns its combined
// output and error.
func runChild(t *testing.T, test, mode string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), leakChildEnv+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestLeakChild is the child of the subprocess tests: it does nothing
// unless leakChildEnv asks it to.
func TestLeakChild(t *testing.T) {
	switch os.Getenv(leakChildEnv) {
	case "":
		t.Skip("helper of the subprocess tests")
	case "env":
		fmt.Printf("LEVEL=%v\n", LeakDetection())
	case "leak":
		// The default handler, the default rate limit: what a user sees.
		a, _ := leakAllocator(false)
		line := leakOne(t, a, 4001)
		fmt.Printf("EXPECT leak_test.go:%d\n", line)
		var done atomic.Bool
		prev := SetLeakHandler(func(l Leak) {
			defaultLeakHandler(l)
			done.Store(true)
		})
		defer SetLeakHandler(prev)
		collectUntil(t, done.Load)
	}
}

// TestLeakEnvAtInit runs the binary with DIRECTMEM_LEAKS set: a valid value
// sets the level, an invalid one is reported once on stderr and leaves
// detection disabled.
func TestLeakEnvAtInit(t *testing.T) {
	for _, tc := range []struct{ value, level, warn string }{
		{"paranoid", "paranoid", ""},
		{"sampled", "sampled", ""},
		{"bogus", "disabled", "value=bogus"},
	} {
		out, err := runChild(t, "TestLeakChild", "env", leakEnv+"="+tc.value)
		if err != nil {
			t.Fatalf("%s: child failed: %v\n%s", tc.value, err, out)
		}
		if !strings.Contains(out, "LEVEL="+tc.level+"\n") {
			t.Errorf("DIRECTMEM_LEAKS=%s: level is not %s:\n%s", tc.value, tc.level, out)
		}
		if tc.warn == "" && strings.Contains(out, "WARN") {
			t.Errorf("DIRECTMEM_LEAKS=%s: unexpected warning:\n%s", tc.value, out)
		}
		if tc.warn != "" && (strings.Count(out, "WARN") != 1 || !strings.Contains(out, tc.warn) || !strings.Contains(out, "stays disabled")) {
			t.Errorf("DIRECTMEM_LEAKS=%s: want one warning naming %s:\n%s", tc.value, tc.warn, out)
		}
	}
}

// TestLeakReportInSubprocess leaks a buffer in a child process with
// DIRECTMEM_LEAKS=paranoid and the default handler, and checks the slog
// warning it prints: the kind, the capacity, the allocating function and
// its line.
func TestLeakReportInSubprocess(t *testing.T) {
	out, err := runChild(t, "TestLeakChild", "leak", leakEnv+"=paranoid")
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	_, expect, ok := strings.Cut(out, "EXPECT ")
	if !ok {
		t.Fatalf("child did not say where it allocated:\n%s", out)
	}
	expect, _, _ = strings.Cut(expect, "\n")
	for _, want := range []string{
		"WARN directmem: LEAK: direct buffer #",
		"of 4001 bytes was garbage-collected without Free",
		"pool=direct", "capacity=4001",
		"github.com/offheap-go/offheap/directmem.allocateHere (", expect,
		"directmem.leakOne (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	t.Logf("child output:\n%s", out)
}

// TestLeakCollectedReported drops a tracked buffer: the collector releases
// it (as always) and the handler is told, with the allocation site.
func TestLeakCollectedReported(t *testing.T) {
	c := trackLeaks(t, LeakParanoid)
	a, budget := leakAllocator(false)
	_, before := LeaksSince(0)
	line := leakOne(t, a, 4003)
	collectUntil(t, func() bool { return len(c.matching(4003)) > 0 })
	got := c.matching(4003)
	if len(got) != 1 {
		t.Fatalf("%d reports, want 1: %v", len(got), got)
	}
	l := got[0]
	if l.Kind != LeakCollected || l.Pool != "direct" || l.ExplicitOnly || l.Arena || l.Unreachable {
		t.Errorf("report %+v: want a collected direct buffer", l)
	}
	checkAllocatedAt(t, l.Stack, line)
	if !strings.Contains(l.String(), fmt.Sprintf("leak_test.go:%d", line)) || !strings.Contains(l.String(), "garbage-collected without Free") {
		t.Errorf("String() =\n%s", l)
	}
	if s := budget.Stats(); s.Count != 0 {
		t.Errorf("budget after the collector released the leak: %+v", s)
	}
	// The log has it too, numbered after what was there before.
	logged, latest := LeaksSince(before)
	if latest <= before || len(logged) == 0 || logged[len(logged)-1].Seq != l.Seq || logged[len(logged)-1].Capacity != 4003 {
		t.Errorf("LeaksSince(%d) = %v, %d; want the report numbered %d", before, logged, latest, l.Seq)
	}
	for _, a := range Live() {
		if a.Capacity == 4003 {
			t.Errorf("Live still lists the released buffer: %v", a)
		}
	}
}

// TestLeakLostExplicitOnly drops an explicit-only buffer: it is reported as
// lost, its memory is not released, and Live keeps listing it.
func TestLeakLostExplicitOnly(t *testing.T) {
	for _, level := range []LeakLevel{LeakSampled, LeakParanoid} {
		t.Run(level.String(), func(t *testing.T) {
			c := trackLeaks(t, level)
			a, budget := leakAllocator(true)
			capacity := 4005 + int(level)
			buf, line := allocateHere(t, a, capacity)
			// To give the memory back at the end: a copy of the release
			// (the release itself may share an allocation with the buffer).
			rel := *heapRel(buf)
			buf = nil
			collectUntil(t, func() bool { return len(c.matching(int64(capacity))) > 0 })
			l := c.matching(int64(capacity))[0]
			if l.Kind != LeakLost || !l.ExplicitOnly || !l.Unreachable {
				t.Errorf("report %+v: want a lost explicit-only buffer", l)
			}
			if level == LeakParanoid {
				checkAllocatedAt(t, l.Stack, line)
			}
			if s := budget.Stats(); s.Count != 1 {
				t.Errorf("budget %+v: the lost buffer's reservation must stay", s)
			}
			var listed []Allocation
			for _, a := range Live() {
				if a.Capacity == int64(capacity) {
					listed = append(listed, a)
				}
			}
			if len(listed) != 1 || !listed[0].Unreachable || !strings.Contains(listed[0].String(), "never freed") {
				t.Errorf("Live lists %v, want the lost buffer, unreachable", listed)
			}
			// Clean up behind the test: forget the record, release the memory.
			liveRecords.Delete(rel.track)
			rel.track = nil
			rel.giveBack(true, nil)
			if s := budget.Stats(); s.Count != 0 {
				t.Errorf("budget after cleaning up: %+v", s)
			}
		})
	}
}

func TestDoubleFreeReported(t *testing.T) {
	c := trackLeaks(t, LeakParanoid)
	a, budget := leakAllocator(true)
	buf, line := allocateHere(t, a, 4007)
	_, _, freeLine, _ := runtime.Caller(0)
	if err := buf.Free(); err != nil {
		t.Fatal(err)
	}
	if err := buf.Free(); err != nil { // freeLine+4
		t.Fatal(err)
	}
	got := c.matching(4007)
	if len(got) != 1 || got[0].Kind != LeakDoubleFree {
		t.Fatalf("reports %v, want one double Free", got)
	}
	l := got[0]
	checkAllocatedAt(t, l.Stack, line)
	for name, s := range map[string]struct {
		stack Stack
		line  int
	}{"first": {l.FreedAt, freeLine + 1}, "second": {l.FreedAgainAt, freeLine + 4}} {
		if len(s.stack) == 0 || !strings.HasSuffix(s.stack[0].Function, "TestDoubleFreeReported") || s.stack[0].Line != s.line {
			t.Errorf("%s Free stack:\n%v\nwant TestDoubleFreeReported at line %d", name, s.stack, s.line)
		}
	}
	if str := l.String(); !strings.Contains(str, "Free called twice") || !strings.Contains(str, "first freed at") || !strings.Contains(str, "freed again at") {
		t.Errorf("String() =\n%s", str)
	}
	if s := budget.Stats(); s.Count != 0 || s.Reserved != 0 {
		t.Errorf("budget after double Free: %+v (released twice?)", s)
	}

	// Under LeakSampled every explicit-only buffer is tracked, so a double
	// Free is still caught, with stacks when the allocation was sampled.
	SetLeakDetection(LeakSampled)
	buf, _ = allocateHere(t, a, 4009)
	buf.Free()
	buf.Free()
	if got := c.matching(4009); len(got) != 1 || got[0].Kind != LeakDoubleFree || len(got[0].FreedAgainAt) == 0 {
		t.Errorf("sampled: reports %v, want one double Free", got)
	}

	// A buffer with a cleaner may be freed twice: Free is idempotent, as
	// in the JVM, and nothing is reported.
	SetLeakDetection(LeakParanoid)
	managed, _ := leakAllocator(false)
	buf, _ = allocateHere(t, managed, 4011)
	buf.Free()
	buf.Free()
	if got := c.matching(4011); len(got) != 0 {
		t.Errorf("double Free of a managed buffer reported: %v", got)
	}
}

func TestLiveListsTrackedAllocations(t *testing.T) {
	trackLeaks(t, LeakParanoid)
	a, _ := leakAllocator(false)
	b1, line1 := allocateHere(t, a, 4013)
	b2, _ := allocateHere(t, a, 4015)
	find := func(capacity int64) []Allocation {
		var out []Allocation
		for _, a := range Live() {
			if a.Capacity == capacity {
				out = append(out, a)
			}
		}
		return out
	}
	l1, l2 := find(4013), find(4015)
	if len(l1) != 1 || len(l2) != 1 {
		t.Fatalf("Live: %v and %v, want one each", l1, l2)
	}
	if l1[0].ID >= l2[0].ID || l1[0].Pool != "direct" {
		t.Errorf("Live: %v, %v: want direct, in allocation order", l1[0], l2[0])
	}
	checkAllocatedAt(t, l1[0].Stack, line1)
	if s := l1[0].String(); !strings.Contains(s, "direct buffer #") || !strings.Contains(s, "of 4013 bytes, allocated at:\n\t") {
		t.Errorf("String() =\n%s", s)
	}
	b1.Free()
	if got := find(4013); len(got) != 0 {
		t.Errorf("Live after Free: %v", got)
	}
	b2.Free()

	// Untracked allocations are not listed.
	SetLeakDetection(LeakDisabled)
	b3, _ := allocateHere(t, a, 4017)
	defer b3.Free()
	if got := find(4017); len(got) != 0 {
		t.Errorf("Live lists an allocation made with detection disabled: %v", got)
	}
	if b3.owner.rel.record() != nil {
		t.Error("disabled detection attached a record")
	}
}

// TestSampledRate measures LeakSampled over 100,000 allocations: about one
// in 128 records a stack (explicit-only buffers, all tracked), and about
// one in 128 managed allocations is tracked at all.
func TestSampledRate(t *testing.T) {
	trackLeaks(t, LeakSampled)
	const n = 100_000
	const want = float64(n) / leakSampleInterval
	check := func(what string, got int) {
		t.Helper()
		if f := float64(got); f < 0.7*want || f > 1.3*want {
			t.Errorf("%s: %d of %d, want %.0f ± 30%%", what, got, n, want)
		} else {
			t.Logf("%s: %d of %d (1 in %.1f)", what, got, n, float64(n)/f)
		}
	}

	a, budget := leakAllocator(true)
	stacks := 0
	for range n {
		buf, err := a.Allocate(64)
		if err != nil {
			t.Fatal(err)
		}
		r := buf.owner.rel.record()
		if r == nil {
			t.Fatal("an explicit-only allocation was not tracked")
		}
		if r.pcs != nil {
			stacks++
		}
		buf.Free()
	}
	check("explicit-only allocations with a stack", stacks)
	if s := budget.Stats(); s.Count != 0 {
		t.Errorf("budget after freeing everything: %+v", s)
	}

	// Managed allocations, through the hook alone (the sampling decision
	// does not depend on where the memory comes from).
	tracked := 0
	for range n {
		o, _ := newTestOwner(64, false, false)
		if r := o.rel.record(); r != nil {
			tracked++
			if r.pcs == nil {
				t.Fatal("a sampled managed allocation has no stack")
			}
			o.free()
		}
	}
	check("managed allocations tracked", tracked)
}

// TestArenaOwnerTracked follows the contract for arenas: the shared owner
// is tracked always (even when not sampled), listed once, and its double
// Free is not reported.
func TestArenaOwnerTracked(t *testing.T) {
	c := trackLeaks(t, LeakSampled)
	for _, explicitOnly := range []bool{false, true} {
		o, _ := newTestOwner(4021, true, explicitOnly)
		var listed []Allocation
		for _, a := range Live() {
			if a.Capacity == 4021 {
				listed = append(listed, a)
			}
		}
		if len(listed) != 1 || !listed[0].Arena || listed[0].ExplicitOnly != explicitOnly {
			t.Errorf("explicitOnly=%v: Live lists %v, want the arena once", explicitOnly, listed)
		}
		if s := listed[0].String(); !strings.HasPrefix(s, "direct arena #") {
			t.Errorf("String() = %q", s)
		}
		o.free()
		o.free()
		runtime.KeepAlive(o)
	}
	for _, a := range Live() {
		if a.Capacity == 4021 {
			t.Errorf("freed arena still listed: %v", a)
		}
	}
	if got := c.matching(4021); len(got) != 0 {
		t.Errorf("reports for a freed arena: %v", got)
	}
}

func TestNothingTrackedWhenDisabled(t *testing.T) {
	c := trackLeaks(t, LeakDisabled)
	for _, noCleaner := range []bool{false, true} {
		a, _ := leakAllocator(noCleaner)
		buf, _ := allocateHere(t, a, 4023)
		if buf.owner.rel.record() != nil {
			t.Errorf("noCleaner=%v: tracked with detection disabled", noCleaner)
		}
		buf.Free()
		buf.Free()
	}
	if got := c.matching(4023); len(got) != 0 {
		t.Errorf("reports with detection disabled: %v", got)
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(1, 10, func() time.Time { return now })
	for i := range 10 {
		if ok, n := l.allow(); !ok || n != 0 {
			t.Fatalf("call %d: %v, %d; want the burst allowed", i, ok, n)
		}
	}
	for range 25 {
		if ok, _ := l.allow(); ok {
			t.Fatal("allowed past the burst")
		}
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow(); ok {
		t.Fatal("allowed after half a token")
	}
	now = now.Add(600 * time.Millisecond)
	if ok, n := l.allow(); !ok || n != 26 {
		t.Fatalf("after a second: %v, %d; want allowed, 26 suppressed", ok, n)
	}
	if ok, _ := l.allow(); ok {
		t.Fatal("allowed twice on one token")
	}
	now = now.Add(time.Hour)
	for i := range 10 {
		if ok, n := l.allow(); !ok || (i == 0) != (n == 1) {
			t.Fatalf("after an hour, call %d: %v, %d; want a full burst", i, ok, n)
		}
	}
	if ok, _ := l.allow(); ok {
		t.Fatal("the bucket holds more than its burst")
	}
}

// TestLeakStormRateLimited reports 100 leaks at once: the handler gets the
// burst, then one with the count of those it missed; LeaksSince gets all.
func TestLeakStormRateLimited(t *testing.T) {
	c := trackLeaks(t, LeakParanoid)
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	leakLimiter.Store(newRateLimiter(1, 10, func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	_, before := LeaksSince(0)
	for range 100 {
		reportLeak(leakEvent{kind: LeakCollected, rec: &allocRecord{pool: "direct", capacity: 4025}})
	}
	if got := c.matching(4025); len(got) != 10 {
		t.Fatalf("handler got %d reports of a storm of 100, want the burst of 10", len(got))
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	reportLeak(leakEvent{kind: LeakCollected, rec: &allocRecord{pool: "direct", capacity: 4025}})
	got := c.matching(4025)
	if len(got) != 11 || got[10].Suppressed != 90 || !strings.Contains(got[10].String(), "90 earlier leak reports were suppressed") {
		t.Fatalf("after a second: %d reports, last %+v; want 11, the last counting 90 suppressed", len(got), got[len(got)-1])
	}
	logged, _ := LeaksSince(before)
	if len(logged) != 101 {
		t.Errorf("LeaksSince has %d reports, want all 101", len(logged))
	}
}

func TestEventLogKeepsTheLatest(t *testing.T) {
	var g eventLog
	if ev, latest := g.since(0); len(ev) != 0 || latest != 0 {
		t.Fatalf("empty log: %v, %d", ev, latest)
	}
	for i := range 3000 {
		g.add(leakEvent{rec: &allocRecord{capacity: int64(i + 1)}})
	}
	ev, latest := g.since(0)
	if latest != 3000 || len(ev) != leakLogSize || ev[0].seq != 3000-leakLogSize+1 || ev[len(ev)-1].seq != 3000 || ev[0].rec.capacity != int64(ev[0].seq) {
		t.Fatalf("since(0): %d events from %d, latest %d", len(ev), ev[0].seq, latest)
	}
	if ev, _ := g.since(2990); len(ev) != 10 || ev[0].seq != 2991 {
		t.Errorf("since(2990): %d events", len(ev))
	}
	if ev, _ := g.since(3000); len(ev) != 0 {
		t.Errorf("since(latest): %d events", len(ev))
	}
	if ev, latest := g.since(^uint64(0)); len(ev) != 0 || latest != 3000 {
		t.Errorf("since(MaxUint64): %d events, latest %d", len(ev), latest)
	}
}

// TestLeakHandlerPanicContained: a panicking handler must not stop the
// release it runs in, on a cleanup goroutine.
func TestLeakHandlerPanicContained(t *testing.T) {
	trackLeaks(t, LeakParanoid)
	var calls atomic.Int32
	SetLeakHandler(func(l Leak) {
		if l.Capacity == 4027 {
			calls.Add(1)
			panic("handler bug")
		}
	})
	a, budget := leakAllocator(false)
	leakOne(t, a, 4027)
	collectUntil(t, func() bool { return calls.Load() > 0 && budget.Stats().Count == 0 })
}

func TestSetLeakHandlerReturnsPrevious(t *testing.T) {
	first := SetLeakHandler(nil)
	defer SetLeakHandler(first)
	h := func(Leak) {}
	if prev := SetLeakHandler(h); prev == nil {
		t.Error("SetLeakHandler returned nil for the default handler")
	}
	if prev := SetLeakHandler(nil); prev == nil {
		t.Error("SetLeakHandler did not return the handler set before")
	}
}

func TestLeakKindAndMessages(t *testing.T) {
	a := Allocation{Pool: "direct", ID: 3, Capacity: 64, ExplicitOnly: true}
	for _, tc := range []struct {
		l    Leak
		want string
	}{
		{Leak{Kind: LeakCollected, Allocation: a}, "garbage-collected without Free"},
		{Leak{Kind: LeakLost, Allocation: a}, "never released"},
		{Leak{Kind: LeakDoubleFree, Allocation: a}, "Free called twice on direct buffer #3 of 64 bytes (explicit-only)"},
		{Leak{Kind: 9, Allocation: a}, "LeakKind(9)"},
	} {
		if s := tc.l.String(); !strings.Contains(s, tc.want) || !strings.Contains(s, "stack not recorded") {
			t.Errorf("%v: String() = %q, want it to contain %q", tc.l.Kind, s, tc.want)
		}
	}
}

// TestRaceFreeProbe is the child of TestFreeRacingAccessIsReported: a Free
// racing with a data method on another goroutine. It only runs when asked,
// and is meant to fail, under the race detector.
func TestRaceFreeProbe(t *testing.T) {
	if os.Getenv(leakChildEnv) != "race" {
		t.Skip("helper of TestFreeRacingAccessIsReported")
	}
	// Go memory behind the buffer: the probe must not fault whatever the
	// interleaving; what it shows is the detector seeing the race. The
	// detector does not catch every racy interleaving it sees (its
	// history is bounded), so the probe races several times; one report is
	// enough.
	for range 20 {
		buf := Wrap(make([]byte, 64), nil)
		var stop atomic.Bool
		var reads atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				if _, err := buf.GetInt64At(8); err != nil {
					return
				}
				reads.Add(1)
			}
		}()
		// Free while the reader is in full swing: after it has read a
		// hundred times.
		for reads.Load() < 100 {
			runtime.Gosched()
		}
		buf.Free()
		stop.Store(true)
		<-done
	}
}

// TestFreeRacingAccessIsReported runs TestRaceFreeProbe under the race
// detector and expects a DATA RACE between Free and GetInt64At. In a -race
// test binary it re-runs itself; otherwise it runs go test -race.
func TestFreeRacingAccessIsReported(t *testing.T) {
	var cmd *exec.Cmd
	if raceEnabled {
		cmd = exec.Command(os.Args[0], "-test.run=^TestRaceFreeProbe$", "-test.count=1", "-test.v")
	} else {
		if testing.Short() {
			t.Skip("builds the package with -race")
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
			if _, err := os.Stat(goTool); err != nil {
				t.Skip("no go command to build with -race")
			}
		}
		cmd = exec.Command(goTool, "test", "-race", "-run=^TestRaceFreeProbe$", "-count=1", "-v", ".")
	}
	cmd.Env = append(os.Environ(), leakChildEnv+"=race")
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	if strings.Contains(out, "-race is not supported") || strings.Contains(out, "-race requires cgo") {
		t.Skipf("race detector unavailable:\n%s", out)
	}
	if err == nil {
		t.Errorf("the probe passed; want it failed by the race detector:\n%s", out)
	}
	for _, want := range []string{"WARNING: DATA RACE", "(*Buffer).Free", "(*Buffer).GetInt64At", "TestRaceFreeProbe"} {
		if !strings.Contains(out, want) {
			t.Errorf("race report lacks %q:\n%s", want, out)
		}
	}
}

// TestFreeAfterAccessWithSyncIsNotARace is the probe's negative: with the
// goroutines synchronised, Free after an access on another goroutine, and
// concurrent Frees, are not races. (Meaningful under -race.)
func TestFreeAfterAccessWithSyncIsNotARace(t *testing.T) {
	buf := Wrap(make([]byte, 64), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := buf.GetInt64At(8); err != nil {
			t.Error(err)
		}
	}()
	<-done
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf.Free()
		}()
	}
	wg.Wait()
	if _, err := buf.GetInt64At(8); !errors.Is(err, ErrFreed) {
		t.Errorf("after Free: %v", err)
	}
}

// TestTrackedAllocationFromManyGoroutines tracks and frees from several
// goroutines at once (under -race: the records' fields and the registry).
func TestTrackedAllocationFromManyGoroutines(t *testing.T) {
	c := trackLeaks(t, LeakParanoid)
	var wg sync.WaitGroup
	for _, noCleaner := range []bool{false, true, false, true} {
		a, _ := leakAllocator(noCleaner)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				buf, err := a.Allocate(4029)
				if err != nil {
					t.Error(err)
					return
				}
				go buf.Free()
				_ = len(Live())
			}
		}()
	}
	wg.Wait()
	collectUntil(t, func() bool {
		for _, a := range Live() {
			if a.Capacity == 4029 {
				return false
			}
		}
		return true
	})
	if got := c.matching(4029); len(got) != 0 {
		t.Errorf("reports for freed buffers: %v", got[0])
	}
}

// arenaHere makes an arena, allocates two buffers from it, and returns it
// with the line of the first Allocate.
//
//go:noinline
func arenaHere(tb testing.TB, capacity int) (*Arena, int) {
	ar := NewArena(Options{Budget: limits.NewBudget(1 << 30)})
	_, _, line, _ := runtime.Caller(0)
	if _, err := ar.Allocate(capacity); err != nil {
		tb.Fatal(err)
	}
	if _, err := ar.Allocate(capacity); err != nil {
		tb.Fatal(err)
	}
	return ar, line + 1
}

// TestArenaLeakTracking: a real Arena is one tracked allocation, gone from
// Live when freed, and reported when dropped.
func TestArenaLeakTracking(t *testing.T) {
	c := trackLeaks(t, LeakParanoid)
	arenas := func(capacity int64) []Allocation {
		var out []Allocation
		for _, a := range Live() {
			if a.Arena && a.Capacity == capacity {
				out = append(out, a)
			}
		}
		return out
	}
	ar, line := arenaHere(t, 4031)
	got := arenas(4031)
	if len(got) != 1 || got[0].ExplicitOnly || len(got[0].Stack) == 0 || !strings.HasSuffix(got[0].Stack[0].Function, "directmem.arenaHere") || got[0].Stack[0].Line != line {
		t.Fatalf("Live lists %v, want the arena once, allocated in arenaHere at line %d", got, line)
	}
	if err := ar.Free(); err != nil {
		t.Fatal(err)
	}
	ar.Free()
	if got := arenas(4031); len(got) != 0 {
		t.Errorf("freed arena still listed: %v", got)
	}

	func() {
		ar, _ := arenaHere(t, 4033)
		runtime.KeepAlive(ar)
	}()
	collectUntil(t, func() bool { return len(c.matching(4033)) > 0 })
	if l := c.matching(4033)[0]; l.Kind != LeakCollected || !l.Arena || !strings.HasPrefix(l.Message(), "directmem: LEAK: direct arena #") {
		t.Errorf("report %v: want a collected arena", l)
	}
	if got := c.matching(4031); len(got) != 0 {
		t.Errorf("reports for the freed arena: %v", got)
	}
}
