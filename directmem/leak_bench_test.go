package directmem

import (
	"context"
	"testing"
	"time"

	"github.com/offheap-go/offheap/limits"
)

// benchLevels runs f once per leak detection level, with reports going
// nowhere, and restores the level.
func benchLevels(b *testing.B, f func(b *testing.B)) {
	prev := LeakDetection()
	prevHandler := SetLeakHandler(func(Leak) {})
	prevLimiter := leakLimiter.Swap(newRateLimiter(1e9, 1e9, time.Now))
	defer func() {
		SetLeakDetection(prev)
		SetLeakHandler(prevHandler)
		leakLimiter.Store(prevLimiter)
	}()
	for _, level := range []LeakLevel{LeakDisabled, LeakSampled, LeakParanoid} {
		b.Run(level.String(), func(b *testing.B) {
			SetLeakDetection(level)
			f(b)
		})
	}
}

// BenchmarkLeakDetection measures what each level adds to an allocation
// and Free of 64 bytes: explicit-only (NoCleaner, the cheapest path, where
// any cost of the hook shows most) and managed (the default, with a
// cleaner). LeakDisabled costs the hook's one atomic load and branch.
// LeakSampled costs little for managed buffers (1 in 128 is tracked), and
// more for explicit-only ones, which are all tracked, with a report-only
// cleanup each. LeakParanoid adds a stack capture to every allocation.
func BenchmarkLeakDetection(b *testing.B) {
	for _, kind := range []struct {
		name      string
		noCleaner bool
	}{{"explicit", true}, {"managed", false}} {
		b.Run(kind.name, func(b *testing.B) {
			a := NewAllocator(Options{Budget: limits.NewBudget(1 << 30), NoCleaner: kind.noCleaner})
			ctx := context.Background()
			benchLevels(b, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					buf, err := a.AllocateContext(ctx, 64)
					if err != nil {
						b.Fatal(err)
					}
					buf.Free()
				}
			})
		})
	}
}

// BenchmarkTrackAllocationHook measures the hook alone on an owner that
// is not kept: with LeakDisabled, the whole cost leak detection adds to
// the allocation path.
func BenchmarkTrackAllocationHook(b *testing.B) {
	o := &owner{rel: &testRelease{}}
	prev := LeakDetection()
	defer SetLeakDetection(prev)
	SetLeakDetection(LeakDisabled)
	for b.Loop() {
		if trackAllocation(o, 64, false) != nil {
			b.Fatal("tracked with detection disabled")
		}
	}
}
