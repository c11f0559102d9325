package directmem_test

import (
	"context"
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

// An index error names the index, the length and the limit.

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
