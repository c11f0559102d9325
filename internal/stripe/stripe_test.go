package stripe

import (
	"sync"
	"testing"
)

func TestCount(t *testing.T) {
	for _, tc := range []struct{ procs, want int }{
		{0, 4}, {1, 4}, {2, 8}, {3, 16}, {4, 16}, {16, 64}, {1000, 64},
	} {
		if got := Count(tc.procs); got != tc.want {
			t.Errorf("Count(%d) = %d, want %d", tc.procs, got, tc.want)
		}
	}
}

// TestHint: stable for one goroutine at one depth, and spread over
// goroutines (not all on one stripe).
func TestHint(t *testing.T) {
	if a, b := Hint(), Hint(); a != b {
		t.Errorf("Hint changed between two calls at one depth: %d, %d", a, b)
	}
	const n = 64
	seen := make(chan uint32, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen <- Hint() & 7
		}()
	}
	wg.Wait()
	close(seen)
	stripes := map[uint32]bool{}
	for h := range seen {
		stripes[h] = true
	}
	if len(stripes) < 2 {
		t.Errorf("%d goroutines all hinted at one of 8 stripes", n)
	}
}
