package cleaner_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
)

func BenchmarkRegisterClean(b *testing.B) {
	release := func() {}
	b.ReportAllocs()
	for b.Loop() {
		o := &owner{}
		c := cleaner.Register(o, release)
		c.Clean()
		runtime.KeepAlive(o) // reachable across Clean, so Stop removes the cleanup
	}
}

func BenchmarkRegisterCleanParallel(b *testing.B) {
	release := func() {}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := &owner{}
			c := cleaner.Register(o, release)
			c.Clean()
			runtime.KeepAlive(o)
		}
	})
}

// BenchmarkRunFromGC measures releases run by the garbage collector: each
// iteration drops a batch of owners, collects them and waits for their
// releases. ns/release is the cost per owner, collection included.
func BenchmarkRunFromGC(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	release := func() {}
	for b.Loop() {
		for range batch {
			registerDropped(release)
		}
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/release")
}

func BenchmarkWaitPendingIdle(b *testing.B) {
	ctx := context.Background()
	runtime.GC()
	if err := cleaner.WaitPending(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := cleaner.WaitPending(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWaitForProgressIdle(b *testing.B) {
	ctx := context.Background()
	runtime.GC()
	if err := cleaner.WaitPending(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cleaner.WaitForProgress(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStats(b *testing.B) {
	for b.Loop() {
		_ = cleaner.Stats()
	}
}
