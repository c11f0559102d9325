package directmem_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

// Exported entry points and error paths that the larger tests do not reach.

func TestDefaultAllocator(t *testing.T) {
	a := directmem.Default()
	if a != directmem.Default() {
		t.Error("Default returned two allocators")
	}
	if a.Budget() != limits.Default() {
		t.Error("the default allocator does not reserve from limits.Default()")
	}
	// A context that has ended only matters once the budget is full: a
	// buffer that fits is allocated anyway, as Budget.Reserve documents.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b, err := directmem.AllocateContext(ctx, 64)
	if err != nil {
		t.Fatalf("AllocateContext(cancelled, 64) = %v", err)
	}
	if b.Capacity() != 64 {
		t.Errorf("capacity %d, want 64", b.Capacity())
	}
	b.Free()
	own := directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(1 << 20)})
	if own.Budget() == nil || own.Budget().Max() != 1<<20 {
		t.Errorf("Budget() = %v, want the 1 MiB budget of the options", own.Budget())
	}
}

func TestNewPool(t *testing.T) {
	p := directmem.NewPool("api-edges-test")
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

func TestArenaCapacityTooLarge(t *testing.T) {
	ar := directmem.NewArena(directmem.Options{Budget: limits.NewBudget(1 << 20)})
	defer ar.Free()
	n := int(^uint(0) >> 1)
	if b, err := ar.Allocate(n); !errors.Is(err, directmem.ErrInvalidCapacity) || b != nil || !strings.Contains(err.Error(), "9223372036854775807") {
		t.Errorf("Allocate(%d) = %v, %v; want ErrInvalidCapacity naming the capacity", n, b, err)
	}
}

// An index error names the index, the length and the limit.
func TestAccessErrorMessage(t *testing.T) {
	b := newTestBuffer(t, 16)
	_, err := b.GetInt64At(12)
	if !errors.Is(err, directmem.ErrIndexOutOfRange) {
		t.Fatalf("GetInt64At(12) on 16 bytes = %v, want ErrIndexOutOfRange", err)
	}
	for _, want := range []string{"12", "8", "16"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// badCountReader and badCountWriter report counts that cannot be.
type badCountReader struct{ n int }

func (r badCountReader) Read(p []byte) (int, error) { return r.n, nil }

type badCountWriter struct{ n int }

func (w badCountWriter) Write(p []byte) (int, error) { return w.n, nil }

// cursorMover moves b's position from inside Read or Write, as a reader or
// writer that reaches the buffer by another way could.
type cursorMover struct{ b *directmem.Buffer }

func (m cursorMover) Read(p []byte) (int, error) {
	m.b.SetPosition(m.b.Limit())
	return len(p), nil
}

func (m cursorMover) Write(p []byte) (int, error) {
	m.b.SetPosition(m.b.Limit())
	return len(p), nil
}

func TestReadFromWriteToMisbehaving(t *testing.T) {
	for _, n := range []int{-1, 17} {
		b := newTestBuffer(t, 16)
		if got, err := b.ReadFrom(badCountReader{n}); err == nil || got != 0 || b.Position() != 0 {
			t.Errorf("ReadFrom(reader returning %d) = %d, %v; position %d; want an error, nothing read", n, got, err, b.Position())
		}
		if got, err := b.WriteTo(badCountWriter{n}); err == nil || got != 0 || b.Position() != 0 {
			t.Errorf("WriteTo(writer returning %d) = %d, %v; position %d; want an error, nothing written", n, got, err, b.Position())
		}
	}
	b := newTestBuffer(t, 16)
	if _, err := b.ReadFrom(cursorMover{b}); err == nil || b.Position() > b.Limit() {
		t.Errorf("ReadFrom(a reader moving the cursor) = %v; position %d, limit %d", err, b.Position(), b.Limit())
	}
	b.SetPosition(0)
	if _, err := b.WriteTo(cursorMover{b}); err == nil || b.Position() > b.Limit() {
		t.Errorf("WriteTo(a writer moving the cursor) = %v; position %d, limit %d", err, b.Position(), b.Limit())
	}
	var _ io.ReaderFrom = b
	var _ io.WriterTo = b
}
