package directmem_test

import (
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// edgesPool is made once per process: pool names are process-wide, and
// tests may run more than once (-count).
var edgesPool = directmem.NewPool("api-edges-test")

func TestNewPool(t *testing.T) {
	p := edgesPool
	if p.Name() != "api-edges-test" {
		t.Errorf("Name() = %q", p.Name())
	}
	released := 0
	b := p.Wrap(directmem.Memory{Bytes: make([]byte, 30), Used: 32, Release: func() { released++ }})
	find := func() directmem.PoolStats {
		pools := directmem.Pools()
		if len(pools) < 2 || pools[0].Name != "direct" {
			t.Fatalf("Pools() = %+v, want \"direct\" first", pools)
		}
		for _, ps := range pools[1:] {
			if ps.Name == "api-edges-test" {
				return ps
			}
		}
		t.Fatalf("Pools() = %+v, want the new pool", pools)
		return directmem.PoolStats{}
	}
	if got := find(); got.Count != 1 || got.TotalCapacity != 30 || got.MemoryUsed != 32 || got != p.Stats() {
		t.Errorf("pool with one buffer: %+v (Stats %+v)", got, p.Stats())
	}
	if err := b.Free(); err != nil || released != 1 {
		t.Fatalf("Free = %v, release ran %d times", err, released)
	}
	b.Free()
	if got := find(); got.Count != 0 || got.TotalCapacity != 0 || got.MemoryUsed != 0 || released != 1 {
		t.Errorf("after Free twice: %+v, release ran %d times", got, released)
	}
	for _, name := range []string{"", "direct", "api-edges-test"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewPool(%q) did not panic", name)
				}
			}()
			directmem.NewPool(name)
		}()
	}
}
