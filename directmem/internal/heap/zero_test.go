package heap

import (
	"fmt"
	"testing"
	"time"

	"github.com/offheap-go/offheap/pagealign"
)

// The costs of two machines, as measureZeroCosts would find them: syscalls
// cheap against clearing (the Intel VM of the older BENCHMARKS.md
// sessions), and dear (the AMD EPYC VM of issue 14).
var (
	cheapScanCosts = zeroCosts{size: 256 << 10, clear: 7 * time.Microsecond, scan: 2 * time.Microsecond}
	dearScanCosts  = zeroCosts{size: 256 << 10, clear: 2 * time.Microsecond, scan: 5 * time.Microsecond}
)

func TestScanFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		z    zeroCosts
		want int64
	}{
		{"cheap scan", cheapScanCosts, (256 << 10) * 2 / 7},
		{"dear scan", dearScanCosts, 640 << 10},
		{"equal", zeroCosts{size: 1 << 20, clear: time.Microsecond, scan: time.Microsecond}, 1 << 20},
		{"not measured", zeroCosts{}, noScan},
		{"no clear time", zeroCosts{size: 1 << 20, scan: time.Microsecond}, noScan},
		{"no scan time", zeroCosts{size: 1 << 20, clear: time.Microsecond}, noScan},
		{"scan disturbed", zeroCosts{size: 256 << 10, clear: time.Microsecond, scan: time.Millisecond}, maxScanFrom},
		{"clear disturbed", zeroCosts{size: 4096, clear: time.Second, scan: time.Nanosecond}, 1},
	} {
		if got := tc.z.scanFrom(); got != tc.want {
			t.Errorf("%s: %+v.scanFrom() = %d, want %d", tc.name, tc.z, got, tc.want)
		}
	}
}

// reuseLarge takes a mapping of n bytes (a class of its own) from s,
// dirties it, gives it back, takes it again and zeroes it with zeroLarge,
// failing the test unless every byte is then zero. It returns how
// zeroLarge cleared it.
func reuseLarge(t *testing.T, h *Heap, s *Shard, n int, dirty func(mem []byte)) zeroMethod {
	t.Helper()
	c := classOfSize(t, n)
	mem, b, _ := takeLarge(t, h, s, c, n)
	dirty(mem)
	give(h, b)
	mem, b, zeroed := takeLarge(t, h, s, c, n)
	if zeroed {
		t.Fatalf("%d bytes: a cached mapping was said to be zero", n)
	}
	how := h.zeroLarge(mem, c)
	if j := firstNot(mem, 0); j >= 0 {
		t.Fatalf("%d bytes: byte %d is %#x after zeroLarge (method %d)", n, j, mem[j], how)
	}
	give(h, b)
	return how
}

// TestZeroLargeChoosesByScanFrom injects the break-even of each kind of
// machine and checks that a reused buffer sparsely touched is cleared
// plainly below it and scanned from it on, that every byte reads zero
// afterwards whichever the path and however the buffer was dirtied, and
// that a heap measures the machine when nothing was injected.
func TestZeroLargeChoosesByScanFrom(t *testing.T) {
	ps := pagealign.PageSize()
	dirties := []struct {
		name  string
		dirty func([]byte)
	}{
		{"first byte", func(p []byte) { p[0] = 0xA5 }},
		{"last byte", func(p []byte) { p[len(p)-1] = 0xA5 }},
		{"every 7th page", func(p []byte) {
			for i := 0; i < len(p); i += 7 * ps {
				fill(p[i:min(i+ps, len(p))], 0xA5)
			}
		}},
	}
	for _, m := range []struct {
		name string
		z    zeroCosts
		// want[i] is the method for sizes[i], touched sparsely.
		want []zeroMethod
	}{
		{"cheap scan", cheapScanCosts, []zeroMethod{zeroedPlain, zeroedScanned, zeroedScanned, zeroedScanned}},
		{"dear scan", dearScanCosts, []zeroMethod{zeroedPlain, zeroedPlain, zeroedScanned, zeroedScanned}},
		{"no scan", zeroCosts{}, []zeroMethod{zeroedPlain, zeroedPlain, zeroedPlain, zeroedPlain}},
	} {
		sizes := []int{64 << 10, 256 << 10, 640 << 10, 1 << 20}
		for i, n := range sizes {
			for _, d := range dirties {
				t.Run(fmt.Sprintf("%s/%d/%s", m.name, n, d.name), func(t *testing.T) {
					h := newHeap(t)
					h.scanFrom.Store(m.z.scanFrom())
					if how := reuseLarge(t, h, h.Shard(0), n, d.dirty); how != m.want[i] {
						t.Errorf("cleared by method %d, want %d", how, m.want[i])
					}
					if d.name == "first byte" && m.want[i] == zeroedPlain {
						// The plain path leaves the dense-class count alone.
						if k := h.denseSkip[classOfSize(t, n)-numSmallClasses].Load(); k != 0 {
							t.Errorf("a plain clear set the class's skip count to %d", k)
						}
					}
					checkAllFreed(t, h)
				})
			}
		}
	}

	t.Run("measured", func(t *testing.T) {
		h := newHeap(t)
		reuseLarge(t, h, h.Shard(0), 64<<10, func(p []byte) { fill(p, 0x5A) })
		if from := h.scanFrom.Load(); from <= 0 || (from > maxScanFrom && from != noScan) {
			t.Errorf("after the first large reuse the heap scans from %d bytes", from)
		}
		if from, want := h.scanFrom.Load(), zeroCostsOnce().scanFrom(); from != want {
			t.Errorf("the heap scans from %d bytes, the process's measure says %d", from, want)
		}
		checkAllFreed(t, h)
	})
}
