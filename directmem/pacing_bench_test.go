package directmem_test

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

// BenchmarkAllocDropBigHeap drops managed buffers while the Go heap holds
// 1 GiB of live []byte (heap=1GiB) or almost nothing (heap=small), with
// the budget's pacing on (GOGC's 100%) and off (the JVM's behaviour), under
// a budget as large as the default one. Besides ns/op it reports the
// collections (GCs: the runtime's count, whoever started them; paced: the
// ones pacing started), the peak of dropped bytes still reserved
// (waiting-MiB, sampled every 64 allocations) and the growth of the
// process's peak RSS (VmHWM) over the run.
func BenchmarkAllocDropBigHeap(b *testing.B) {
	limit := limits.Default().Max()
	for _, heap := range []struct {
		name string
		size int
	}{{"small", 0}, {"1GiB", 1 << 30}} {
		hold := make([][]byte, heap.size>>20)
		for i := range hold {
			hold[i] = make([]byte, 1<<20)
		}
		for _, sz := range []struct {
			name string
			n    int
		}{{"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}} {
			for _, pacing := range []bool{true, false} {
				name := "heap=" + heap.name + "/" + sz.name + "/pacing=" + strconv.FormatBool(pacing)
				b.Run(name, func(b *testing.B) { benchDropPaced(b, limit, sz.n, pacing) })
			}
		}
		runtime.KeepAlive(hold)
	}
}

func benchDropPaced(b *testing.B, limit int64, n int, pacing bool) {
	budget := limits.NewBudget(limit)
	if !pacing {
		budget.SetGCPercent(-1)
	}
	a := directmem.NewAllocator(directmem.Options{Budget: budget})
	ctx := context.Background()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs := ms.NumGC
	rss := resetPeakRSS(b)
	var peak int64
	i := 0
	for b.Loop() {
		buf, err := a.AllocateContext(ctx, n)
		allocBenchMust(b, buf, err)
		if i++; i%64 == 0 {
			peak = max(peak, budget.Stats().Reserved)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.NumGC-gcs), "GCs")
	b.ReportMetric(float64(budget.Stats().PacedGCs), "paced")
	b.ReportMetric(float64(peak)/(1<<20), "waiting-MiB")
	b.ReportMetric(float64(peakRSS(b)-rss)/(1<<20), "rss-growth-MiB")
	// Release what was dropped before the next run starts.
	for budget.Stats().Count > 0 {
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// resetPeakRSS resets the process's peak RSS to its current RSS (writing 5
// to /proc/self/clear_refs, Linux 4.0+) and returns it.
func resetPeakRSS(b *testing.B) int64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS: %v", err)
	}
	return peakRSS(b)
}

// peakRSS returns VmHWM from /proc/self/status, in bytes.
func peakRSS(b *testing.B) int64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for line := range bytes.Lines(st) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			if err != nil {
				b.Fatalf("VmHWM: %q: %v", v, err)
			}
			return kb << 10
		}
	}
	b.Skip("no VmHWM in /proc/self/status")
	return 0
}
