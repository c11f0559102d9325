package limits

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestHighWaterMark(t *testing.T) {
	for _, tt := range []struct {
		fraction float64
		limit    int64
		want     int64
	}{
		{0.85, 100, 85},
		{0.85, 10, 9}, // rounded up: the mark is never below the fraction
		{0.5, 1, 1},
		{1e-9, 100, 1},
		{1, 100, 100},
		{0, 100, 0},
		{0.85, 0, 0},
		{1, math.MaxInt64, math.MaxInt64},
		{0.999999999999, math.MaxInt64, 9223372036845552640},
		{math.Nextafter(1, 0), math.MaxInt64, 1<<63 - 1024}, // the largest float64 below 2^63
	} {
		got := highWaterMark(tt.fraction, tt.limit)
		if got != tt.want {
			t.Errorf("highWaterMark(%v, %d) = %d; want %d", tt.fraction, tt.limit, got, tt.want)
		}
	}
	if got := NewBudget(100).Stats().HighWater; got != 85 {
		t.Errorf("a new budget's high-water mark is %d; want 85", got)
	}
}

func TestSetHighWaterRejects(t *testing.T) {
	b := NewBudget(100)
	for _, f := range []float64{-0.1, 1.0000001, 2, math.NaN(), math.Inf(1), math.Inf(-1)} {
		err := b.SetHighWater(f)
		if !errors.Is(err, ErrInvalidLimit) || !strings.Contains(err.Error(), "high-water fraction") {
			t.Errorf("SetHighWater(%v) = %v; want ErrInvalidLimit naming the fraction", f, err)
		}
		if got := b.Stats().HighWater; got != 85 {
			t.Errorf("after SetHighWater(%v), the mark is %d; want it unchanged at 85", f, got)
		}
	}
	if err := b.SetHighWater(0.5); err != nil || b.Stats().HighWater != 50 {
		t.Errorf("SetHighWater(0.5) = %v, mark %d; want nil, 50", err, b.Stats().HighWater)
	}
}

// Crossing the mark starts one background collection; crossing it again
// while that one runs starts no other.
func TestHighWaterStartsOneBackgroundCollection(t *testing.T) {
	b, f := newFakeBudget(t, 100)
	started, release := make(chan struct{}, 4), make(chan struct{})
	b.hooks.gc = func() {
		f.gcs.Add(1)
		started <- struct{}{}
		<-release
	}
	mustReserve := func(n int64) {
		t.Helper()
		if !b.tryReserveNow(n, n) {
			t.Fatalf("TryReserve(%d) failed", n)
		}
	}
	mustReserve(84)
	if got := b.Stats().BackgroundGCs; got != 0 {
		t.Fatalf("%d background collections below the mark", got)
	}
	mustReserve(1) // 85: at the mark
	<-started
	b.Unreserve(2, 2)
	mustReserve(2) // across again, while the first one runs
	mustReserve(5) // above the mark, not across it
	if got := b.Stats().BackgroundGCs; got != 1 {
		t.Fatalf("%d background collections; want 1 in flight at most", got)
	}
	close(release)
	waitCollections(b)

	b.Unreserve(10, 10) // 80
	mustReserve(10)     // across, with nothing in flight
	<-started
	waitCollections(b)
	if got, calls := b.Stats().BackgroundGCs, f.gcs.Load(); got != 2 || calls != 2 {
		t.Fatalf("%d background collections counted, %d run; want 2, 2", got, calls)
	}
	if s := b.Stats(); s.ForcedGCs != 0 || s.Waits != 0 {
		t.Fatalf("background collections counted as waiting: %+v", s)
	}
}

func TestHighWaterOff(t *testing.T) {
	b, f := newFakeBudget(t, 100)
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if !b.tryReserveNow(100, 100) {
			t.Fatal("TryReserve(100) failed")
		}
		b.Unreserve(100, 100)
	}
	waitCollections(b)
	if got := f.gcs.Load(); got != 0 {
		t.Fatalf("%d collections with the mark off", got)
	}
}
