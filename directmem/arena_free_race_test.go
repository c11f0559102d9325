package directmem

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/limits"
)

//go:noinline
func freeArenaLastUse(ar *Arena, done chan<- struct{}) {
	ar.Free() // the caller's last use of ar
	close(done)
}

// An explicit-only arena whose last reference is the Free call: unless
// owner.free keeps the owner alive to its end, nothing keeps the Arena (and
// its owner) reachable once Free has loaded o.rel, and the owner's
// report-only cleanup could run before released(true): a LeakLost report
// for an arena being freed, and the record left in Live for good. The test
// holds arenaMem.mu to keep Free inside that window (no sleeps) and
// collects meanwhile.
func TestExplicitArenaFreeIsNotReportedLost(t *testing.T) {
	c := trackLeaks(t, LeakParanoid)
	const capacity = 4057
	m, rec, done := func() (*arenaMem, *allocRecord, chan struct{}) {
		ar := NewArena(Options{Budget: limits.NewBudget(1 << 30), NoCleaner: true})
		if _, err := ar.Allocate(capacity); err != nil {
			t.Fatal(err)
		}
		m, rec := ar.mem, ar.own.rel.record()
		m.mu.Lock()
		done := make(chan struct{})
		go freeArenaLastUse(ar, done)
		return m, rec, done
	}()
	// Wait (without sleeping) until Free is blocked inside arenaMem.release.
	buf := make([]byte, 1<<20)
	for !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*arenaMem).release") {
		runtime.Gosched()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 10 && len(c.matching(capacity)) == 0; i++ {
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			break
		}
	}
	m.mu.Unlock()
	<-done
	if got := c.matching(capacity); len(got) != 0 {
		t.Errorf("Free of an explicit-only arena reported as a leak: %v", got[0].Message())
	}
	for _, a := range Live() {
		if a.ID == rec.id {
			t.Errorf("freed arena still in Live: %s", a.describe())
		}
	}
}
