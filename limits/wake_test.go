package limits

import (
	"context"
	"runtime"
	"testing"
)

// A reservation sleeping in the back-off takes memory as soon as another
// goroutine releases it, instead of at the end of its sleep.
func TestBackOffWakesOnUnreserve(t *testing.T) {
	b, _ := newFakeBudget(t, 100)
	b.hooks.sleep = nil // real sleeps, woken by releases
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	if !b.tryReserveNow(100, 100) {
		t.Fatal("filling the budget failed")
	}
	done := make(chan error)
	go func() { done <- b.Reserve(context.Background(), 10, 10) }()
	// Wait until it is in its last sleep, 256 ms long; were it not woken,
	// it would count a ninth sleep before its final attempt.
	for b.Stats().Sleeps < maxSleeps-1 || b.released.sleepers.Load() == 0 {
		runtime.Gosched()
	}
	b.Unreserve(100, 100)
	if err := <-done; err != nil {
		t.Fatalf("Reserve = %v", err)
	}
	if s := b.Stats(); s.Sleeps != maxSleeps-1 || s.Failures != 0 || s.TotalCapacity != 10 {
		t.Fatalf("stats %+v; want the reservation to win during sleep %d", s, maxSleeps)
	}
}

// A wake that finds no memory (someone else took it) goes back to the same
// sleep: the back-off still fails after its nine sleeps.
func TestBackOffWakeWithoutMemory(t *testing.T) {
	b, _ := newFakeBudget(t, 100)
	b.hooks.sleep = nil
	if err := b.SetHighWater(0); err != nil {
		t.Fatal(err)
	}
	if !b.tryReserveNow(100, 100) {
		t.Fatal("filling the budget failed")
	}
	done := make(chan error)
	go func() { done <- b.Reserve(context.Background(), 50, 50) }()
	for b.released.sleepers.Load() == 0 {
		runtime.Gosched()
	}
	b.Unreserve(10, 10) // not enough for 50
	if err := <-done; err == nil {
		t.Fatal("Reserve succeeded without room")
	}
	if s := b.Stats(); s.Sleeps != maxSleeps || s.Failures != 1 {
		t.Fatalf("stats %+v; want %d sleeps and one failure", s, maxSleeps)
	}
}

func BenchmarkUnreserveNoSleepers(b *testing.B) {
	bud := NewBudget(1 << 40)
	for b.Loop() {
		bud.tryReserveNow(64, 64)
		bud.Unreserve(64, 64)
	}
}
