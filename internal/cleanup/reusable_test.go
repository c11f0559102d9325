package cleanup_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/internal/cleanup"
)

// reusableOwner is what a Reusable guards in these tests: it holds the
// Reusable while armed, as a buffer does.
type reusableOwner struct {
	r    *cleanup.Reusable[int]
	data [4]int64
}

// armDropped arms r with arg for an owner that is unreachable once this
// returns, and forgets r: only the owner referred to it.
//
//go:noinline
func armDropped(release func(int), arg int) {
	r := cleanup.NewReusable(release)
	o := &reusableOwner{r: r}
	o.r.Arm(arg)
}

func TestReusableArmDisarmCycles(t *testing.T) {
	settle(t)
	var ran atomic.Int64
	r := cleanup.NewReusable(func(int) { ran.Add(1) })
	before := cleaner.Stats()
	for i := range 100 {
		r.Arm(i)
		if !r.Disarm() {
			t.Fatalf("cycle %d: Disarm of an armed Reusable reported false", i)
		}
	}
	if r.Disarm() {
		t.Error("Disarm of an idle Reusable reported true")
	}
	after := cleaner.Stats()
	if got := after.Registered - before.Registered; got != 100 {
		t.Errorf("Registered +%d, want +100 (one per Arm)", got)
	}
	if got := after.CleanedExplicitly - before.CleanedExplicitly; got != 100 {
		t.Errorf("CleanedExplicitly +%d, want +100 (one per Disarm)", got)
	}
	if after.Live() != before.Live() {
		t.Errorf("Live %d, want %d", after.Live(), before.Live())
	}
	r.Close()
	settle(t)
	if n := ran.Load(); n != 0 {
		t.Errorf("release ran %d times for a Reusable that was never dropped armed", n)
	}
}

func TestReusableDroppedArmedReleasesLastArg(t *testing.T) {
	settle(t)
	var mu sync.Mutex
	var got []int
	release := func(v int) {
		mu.Lock()
		got = append(got, v)
		mu.Unlock()
	}
	before := cleaner.Stats().CleanedByGC
	armDropped(release, 7)
	collect(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	if got[0] != 7 {
		t.Errorf("release got %d, want 7", got[0])
	}
	if n := cleaner.Stats().CleanedByGC - before; n != 1 {
		t.Errorf("CleanedByGC +%d, want +1", n)
	}
}

// rearmDropped arms, disarms and re-arms one Reusable for successive owners
// and drops the last one armed.
//
//go:noinline
func rearmDropped(release func(int)) {
	r := cleanup.NewReusable(release)
	for i := range 5 {
		o := &reusableOwner{r: r}
		o.r.Arm(i)
		if i < 4 {
			o.r.Disarm()
			o.r = nil
		}
	}
}

func TestReusableRearmedReleasesOnce(t *testing.T) {
	settle(t)
	var calls, last atomic.Int64
	rearmDropped(func(v int) { calls.Add(1); last.Store(int64(v)) })
	collect(t, func() bool { return calls.Load() == 1 })
	settle(t)
	if calls.Load() != 1 || last.Load() != 4 {
		t.Errorf("release ran %d times, last with %d; want once with 4", calls.Load(), last.Load())
	}
}

//go:noinline
func dropIdle(release func(int)) {
	r := cleanup.NewReusable(release)
	r.Arm(1)
	r.Disarm()
}

func TestReusableDroppedIdleDoesNothing(t *testing.T) {
	settle(t)
	var calls atomic.Int64
	before := cleaner.Stats()
	dropIdle(func(int) { calls.Add(1) })
	settle(t)
	settle(t)
	if calls.Load() != 0 {
		t.Error("release of an idle Reusable ran")
	}
	if after := cleaner.Stats(); after.CleanedByGC != before.CleanedByGC {
		t.Errorf("CleanedByGC moved from %d to %d", before.CleanedByGC, after.CleanedByGC)
	}
}

func TestReusableMisuse(t *testing.T) {
	r := cleanup.NewReusable(func(int) {})
	r.Arm(1)
	mustPanic(t, func() { r.Arm(2) })
	mustPanic(t, func() { r.Close() })
	r.Disarm()
	r.Close()
	mustPanic(t, func() { cleanup.NewReusable[int](nil) })
}

func TestReusablePanicContained(t *testing.T) {
	settle(t)
	var seen atomic.Value
	old := cleaner.SetPanicHandler(func(v any, _ []byte) { seen.Store(v) })
	defer cleaner.SetPanicHandler(old)
	panics := cleaner.Stats().Panics
	armDropped(func(int) { panic("release bug") }, 1)
	collect(t, func() bool { return cleaner.Stats().Panics > panics })
	if v := seen.Load(); v != "release bug" {
		t.Errorf("panic handler got %v", v)
	}
}

// armAfterCloseDropped closes an idle Reusable, arms it (which should panic:
// "cleanup: Arm of a Reusable that is armed, fired or closed"), and drops the owner.
// It reports whether Arm panicked.
//
//go:noinline
func armAfterCloseDropped(release func(int)) (panicked bool) {
	r := cleanup.NewReusable(release)
	r.Close()
	defer func() { panicked = recover() != nil }()
	o := &reusableOwner{r: r}
	o.r.Arm(7)
	return false
}

// Close stops the runtime cleanup, so a later Arm must panic: accepted, it
// would be counted in Registered and never released, and the owner's
// resource would leak silently.
func TestReusableArmAfterClosePanics(t *testing.T) {
	settle(t)
	var ran atomic.Int64
	before := cleaner.Stats()
	if armAfterCloseDropped(func(int) { ran.Add(1) }) {
		return // fixed: Arm after Close panics
	}
	t.Error("Arm after Close did not panic")
	ctx := waitCtx(t)
	for range 3 {
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	after := cleaner.Stats()
	if ran.Load() == 0 {
		t.Errorf("the owner armed after Close was collected but release never ran; Live went %d -> %d",
			before.Live(), after.Live())
	}
}

func BenchmarkReusableArmDisarm(b *testing.B) {
	r := cleanup.NewReusable(func(int) {})
	defer r.Close()
	for i := 0; b.Loop(); i++ {
		r.Arm(i)
		r.Disarm()
	}
}
