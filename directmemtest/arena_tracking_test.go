package directmemtest_test

import (
	"runtime"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/directmemtest"
	"github.com/offheap-go/offheap/limits"
)

// An arena made (and used) while leak detection was off is an allocation
// that existed before the check's IgnoreCurrent snapshot, and that
// SetLeakDetection promises stays untracked: its next Allocate after
// tracking is turned on must not start tracking it (the check would report
// it, as it would a package-level arena under VerifyTestMain).
func TestArenaMadeBeforeTrackingIsNotALeak(t *testing.T) {
	prev := directmem.LeakDetection()
	directmem.SetLeakDetection(directmem.LeakDisabled)
	prevHandler := directmem.SetLeakHandler(func(directmem.Leak) {})
	defer func() {
		directmem.SetLeakDetection(prev)
		directmem.SetLeakHandler(prevHandler)
	}()

	ar := directmem.NewArena(directmem.Options{Budget: limits.NewBudget(1 << 20)})
	defer ar.Free()
	if _, err := ar.Allocate(64); err != nil {
		t.Fatal(err)
	}

	directmem.SetLeakDetection(directmem.LeakParanoid)
	snapshot := directmemtest.IgnoreCurrent() // the arena exists now

	if _, err := ar.Allocate(64); err != nil { // the test only uses it
		t.Fatal(err)
	}
	if err := directmemtest.Find(snapshot, directmemtest.IgnoreGoroutines()); err != nil {
		t.Errorf("an arena that existed at IgnoreCurrent is reported:\n%v", err)
	}
	runtime.KeepAlive(ar)
}
