// Command tour is a short walk through offheap: direct buffers under a
// budget, the java.nio cursor, views, a churn of dropped buffers that the
// garbage collector releases while allocation backs off as the JVM does,
// an arena, and the pool statistics at the end.
//
//	go run ./examples/tour
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

func main() {
	ctx := context.Background()

	// A 64 MiB budget: the JVM's -XX:MaxDirectMemorySize=64m.
	budget := limits.NewBudget(64 << 20)
	alloc := directmem.NewAllocator(directmem.Options{Budget: budget})

	// 1. A buffer with the ByteBuffer cursor: put, flip, get.
	buf, err := alloc.AllocateContext(ctx, 64)
	check(err)
	check(buf.PutInt32(42))
	check(buf.PutFloat64(3.25))
	_, err = buf.WriteString("off-heap")
	check(err)
	buf.Flip()
	n, _ := buf.GetInt32()
	f, _ := buf.GetFloat64()
	fmt.Printf("1. read back %d and %v, %d bytes left: %q\n", n, f, buf.Remaining(), buf.Bytes())

	// 2. Views share memory and cannot be freed; Free makes every one of
	// them return ErrFreed instead of touching released memory.
	view := buf.Duplicate()
	fmt.Printf("2. Free(view): %v\n", view.Free())
	check(buf.Free())
	_, err = view.GetInt32At(0)
	fmt.Printf("   after Free(buf), view.GetInt32At: %v\n", err)

	// 3. Churn: 1,000 buffers of 256 KiB (250 MiB in all) dropped without
	// Free under the 64 MiB budget. Their cleanups give memory back; when
	// the budget is full, Allocate waits for pending cleanups and forces a
	// GC, as java.nio.Bits.reserveMemory does.
	start := time.Now()
	for i := range 1000 {
		b, err := alloc.AllocateContext(ctx, 256<<10)
		if err != nil {
			log.Fatalf("churn: allocation %d: %v", i, err)
		}
		check(b.PutInt64At(0, int64(i))) // use it, then drop it
	}
	s := budget.Stats()
	fmt.Printf("3. churned 1000 x 256 KiB in %v: %d slow-path waits, %d forced GCs, %d failures\n",
		time.Since(start).Round(time.Millisecond), s.Waits, s.ForcedGCs, s.Failures)

	// 4. Holding buffers: the next allocation past the limit fails after
	// the JVM's back-off, with the JVM's message.
	var held []*directmem.Buffer
	for {
		b, err := alloc.AllocateContext(ctx, 16<<20)
		if err != nil {
			fmt.Printf("4. holding %d x 16 MiB, next: %v (errors.Is ErrOutOfDirectMemory: %v)\n",
				len(held), err, errors.Is(err, limits.ErrOutOfDirectMemory))
			break
		}
		held = append(held, b)
	}
	for _, b := range held {
		check(b.Free())
	}

	// 5. An arena: many small buffers, one lifetime, one Free.
	arena := directmem.NewArena(directmem.Options{Budget: budget})
	for i := range 1000 {
		b, err := arena.Allocate(64)
		check(err)
		check(b.PutInt64At(0, int64(i)))
	}
	fmt.Printf("5. arena holds 1000 x 64 B: pool count %d; ", directmem.Stats().Count)
	check(arena.Free())
	fmt.Printf("after arena.Free: %d\n", directmem.Stats().Count)

	// 6. The pool statistics (BufferPoolMXBean) and the budget.
	for _, p := range directmem.Pools() {
		fmt.Printf("6. pool %q: count %d, capacity %d, used %d\n", p.Name, p.Count, p.TotalCapacity, p.MemoryUsed)
	}
	s = budget.Stats()
	fmt.Printf("   budget: %d of %d bytes reserved by %d buffers\n", s.TotalCapacity, s.Max, s.Count)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
