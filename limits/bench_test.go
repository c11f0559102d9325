package limits

import (
	"math"
	"testing"
)

func BenchmarkTryReserve(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		bu := NewBudget(math.MaxInt64)
		for b.Loop() {
			if !bu.tryReserveNow(4096, 4000) {
				b.Fatal("TryReserve failed")
			}
			bu.Unreserve(4096, 4000)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		bu := NewBudget(math.MaxInt64)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !bu.tryReserveNow(4096, 4000) {
					b.Error("TryReserve failed")
					return
				}
				bu.Unreserve(4096, 4000)
			}
		})
	})
	b.Run("full", func(b *testing.B) {
		bu := NewBudget(0)
		for b.Loop() {
			if bu.tryReserveNow(1, 1) {
				b.Fatal("TryReserve succeeded on a full budget")
			}
		}
	})
}
