// Command tour is a short walk through offheap: the default budget and
// where its limit comes from, direct buffers from the default allocator
// with the java.nio cursor and views, an allocation past the limit, a
// churn of dropped buffers that the garbage collector releases while
// allocation backs off as the JVM does, an arena, and the pool statistics
// at the end.
//
//	go run ./examples/tour
//	DIRECTMEM_MAX=64m go run ./examples/tour   # the JVM's -XX:MaxDirectMemorySize=64m
//	DIRECTMEM_MAX=lots go run ./examples/tour  # an invalid limit, and what it does
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

func main() {
	ctx := context.Background()

	// 0. The default budget: what directmem.Allocate and directmem.Default()
	// reserve from. Its limit is read from the environment once, at first use.
	def := limits.Default()
	source, variable := limitSource()
	fmt.Println("0. The default budget, limits.Default() (the JVM's MaxDirectMemorySize), is what directmem.Allocate reserves from.")
	if err := def.Err(); err != nil {
		// An invalid setting is never replaced by a guess: every allocation
		// from the default budget fails, naming the variable.
		fmt.Printf("   Its limit is invalid: %v\n", err)
		_, err := directmem.Allocate(64)
		fmt.Printf("   Every allocation from it fails with that error; directmem.Allocate(64) (errors.Is ErrInvalidLimit: %v):\n   %v\n",
			errors.Is(err, limits.ErrInvalidLimit), err)
		fmt.Printf("   The rest of the tour allocates from this budget, so it stops here. Fix or unset %s and run it again,\n", variable)
		fmt.Println("   e.g. DIRECTMEM_MAX=64m go run ./examples/tour (sizes in the JVM's syntax: 10, 1k, 64m, 2g).")
		return
	}
	fmt.Printf("   Its limit is %s, from %s.\n", human(def.Max()), source)
	if variable != "DIRECTMEM_MAX" {
		fmt.Println("   Try DIRECTMEM_MAX=64m go run ./examples/tour to set it as -XX:MaxDirectMemorySize=64m would.")
	}

	// The tour's own 64 MiB budget, for the steps that fill a budget on
	// purpose (4-6): the default one may be gigabytes, too big to fill here.
	own := limits.NewBudget(64 << 20)
	ownAlloc := directmem.NewAllocator(directmem.Options{Budget: own})

	// 1. A buffer from the default allocator, with the ByteBuffer cursor:
	// put, flip, get. A limit below 64 bytes (DIRECTMEM_MAX=0, say, which
	// admits only buffers of capacity 0) cannot hold it; step 3 shows what
	// allocating from such a budget does.
	var buf *directmem.Buffer
	var err error
	if def.Max() >= 64 {
		buf, err = directmem.Allocate(64)
	} else {
		fmt.Printf("   A limit of %s has no room for step 1's 64-byte buffer, so steps 1 and 2 use the tour's own 64 MiB budget.\n", human(def.Max()))
		buf, err = ownAlloc.AllocateContext(ctx, 64)
	}
	check(err)
	check(buf.PutInt32(42))
	check(buf.PutFloat64(3.25))
	_, err = buf.WriteString("off-heap")
	check(err)
	buf.Flip()
	n, _ := buf.GetInt32()
	f, _ := buf.GetFloat64()
	fmt.Printf("1. read back %d and %v, %d bytes left: %q\n", n, f, buf.Remaining(), buf.Bytes())
	if def.Max() >= 64 {
		fmt.Printf("   default budget: %s\n", usage(def))
	}

	// 2. Views share memory and cannot be freed; Free makes every one of
	// them return ErrFreed instead of touching released memory.
	view := buf.Duplicate()
	fmt.Printf("2. Free(view): %v\n", view.Free())
	check(buf.Free())
	_, err = view.GetInt32At(0)
	fmt.Printf("   after Free(buf), view.GetInt32At: %v\n", err)

	// 3. One byte more than the default budget's limit can never fit, so
	// it fails at once with the JVM's message (the JVM would first force a
	// GC and back off for half a second). Nothing is mapped: the budget
	// refuses first.
	if def.Max() < math.MaxInt {
		start := time.Now()
		_, err := directmem.Allocate(int(def.Max()) + 1)
		fmt.Printf("3. directmem.Allocate(%d), one byte past the limit, can never fit and fails at once (%v), with the JVM's message (sizes include rounding):\n",
			def.Max()+1, time.Since(start).Round(10*time.Millisecond))
		fmt.Printf("   %v (errors.Is ErrOutOfDirectMemory: %v)\n", err, errors.Is(err, limits.ErrOutOfDirectMemory))
		s := def.Stats()
		fmt.Printf("   default budget: waits %d, forced GCs %d, back-off sleeps %d, failures %d\n",
			s.Waits, s.ForcedGCs, s.Sleeps, s.Failures)
	}

	// 4. Churn: 1,000 buffers of 256 KiB (250 MiB in all) dropped without
	// Free under the tour's 64 MiB budget. Their cleanups give memory back;
	// when the budget is full, Allocate waits for pending cleanups and
	// forces a GC, as java.nio.Bits.reserveMemory does.
	fmt.Printf("4. Steps 4-6 fill a budget on purpose, so they use a separate one: limits.NewBudget(64 << 20), %s whatever the default is.\n", human(own.Max()))
	start := time.Now()
	for i := range 1000 {
		b, err := ownAlloc.AllocateContext(ctx, 256<<10)
		if err != nil {
			log.Fatalf("churn: allocation %d: %v", i, err)
		}
		check(b.PutInt64At(0, int64(i))) // use it, then drop it
	}
	s := own.Stats()
	fmt.Printf("   churned 1000 x 256 KiB in %v: %d slow-path waits, %d forced GCs, %d failures\n",
		time.Since(start).Round(time.Millisecond), s.Waits, s.ForcedGCs, s.Failures)

	// 5. Holding buffers: the next allocation past the limit fails after
	// the JVM's back-off, with the JVM's message.
	var held []*directmem.Buffer
	for {
		b, err := ownAlloc.AllocateContext(ctx, 16<<20)
		if err != nil {
			fmt.Printf("5. holding %d x 16 MiB, next: %v (errors.Is ErrOutOfDirectMemory: %v)\n",
				len(held), err, errors.Is(err, limits.ErrOutOfDirectMemory))
			break
		}
		held = append(held, b)
	}
	for _, b := range held {
		check(b.Free())
	}

	// 6. An arena: many small buffers, one lifetime, one Free.
	arena := directmem.NewArena(directmem.Options{Budget: own})
	for i := range 1000 {
		b, err := arena.Allocate(64)
		check(err)
		check(b.PutInt64At(0, int64(i)))
	}
	fmt.Printf("6. arena holds 1000 x 64 B: pool count %d; ", directmem.Stats().Count)
	check(arena.Free())
	fmt.Printf("after arena.Free: %d\n", directmem.Stats().Count)

	// 7. Dropping buffers under a big Go heap. The Go collector paces itself
	// on the Go heap: with 256 MiB of it live and quiet, it would not run
	// for a long while, and buffers dropped without Free would wait for it
	// (the JVM has the same flaw). A budget therefore starts a collection
	// when the managed bytes dropped since the last one pass a goal (GOGC's
	// percentage of what is live, at least 64 MiB); SetGCPercent(-1), or
	// DIRECTMEM_GOGC=off for the default budget, turns that off.
	hold := make([][]byte, 256)
	for i := range hold {
		hold[i] = make([]byte, 1<<20)
	}
	fmt.Println("7. 4096 x 64 KiB (256 MiB) dropped without Free while 256 MiB of Go heap stays live:")
	for _, pct := range []int{limits.FollowGOGC, -1} {
		b := limits.NewBudget(1 << 30)
		b.SetGCPercent(pct)
		a := directmem.NewAllocator(directmem.Options{Budget: b})
		var peak int64
		for i := range 4096 {
			buf, err := a.AllocateContext(ctx, 64<<10)
			check(err)
			check(buf.PutInt64At(0, int64(i)))
			if i%64 == 63 {
				peak = max(peak, b.Stats().Reserved)
			}
		}
		s := b.Stats()
		if s.PaceGoal == 0 {
			fmt.Printf("   pacing off (the JVM's way): %d paced collections, at most %s waiting for one\n", s.PacedGCs, human(peak))
		} else {
			fmt.Printf("   pacing on (follows GOGC):   %d paced collections, at most %s waiting for one (goal %s)\n",
				s.PacedGCs, human(peak), human(s.PaceGoal))
		}
	}
	fmt.Println("   (what pacing off left waiting is still counted in step 8's pool: no collection has run since)")
	runtime.KeepAlive(hold)

	// 8. The pool statistics (BufferPoolMXBean "direct") and both budgets.
	p := directmem.Stats()
	fmt.Printf("8. pool %q: count %d, capacity %d, used %d\n", p.Name, p.Count, p.TotalCapacity, p.MemoryUsed)
	fmt.Printf("   default budget: %s\n", usage(def))
	fmt.Printf("   tour's budget:  %s\n", usage(own))
}

// limitSource says where limits.Default() took its limit from, in the order
// it reads them, and the variable that decided it ("" for neither). An
// empty variable counts as unset, and GOMEMLIMIT=off passes on, as in
// limits.Default.
func limitSource() (source, variable string) {
	if v, ok := os.LookupEnv("DIRECTMEM_MAX"); ok && v != "" {
		return "DIRECTMEM_MAX=" + v, "DIRECTMEM_MAX"
	}
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" && v != "off" {
		return "GOMEMLIMIT=" + v + " (DIRECTMEM_MAX is not set)", "GOMEMLIMIT"
	}
	if v, _ := os.LookupEnv("GOMEMLIMIT"); v == "off" {
		return "a quarter of the memory this process may use (DIRECTMEM_MAX is not set, GOMEMLIMIT=off sets no limit)", ""
	}
	return "a quarter of the memory this process may use (neither DIRECTMEM_MAX nor GOMEMLIMIT sets it)", ""
}

// usage describes a budget's counters in a line.
func usage(b *limits.Budget) string {
	s := b.Stats()
	return fmt.Sprintf("buffers %d, capacity %d bytes, limit %s", s.Count, s.TotalCapacity, human(s.Max))
}

// human writes n bytes in binary units, with the exact count when it is not
// a plain number of bytes: "64 MiB (67108864 bytes)".
func human(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	const units = "KMGTPE"
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	num := strconv.FormatFloat(v, 'f', 1, 64)
	if num[len(num)-2:] == ".0" {
		num = num[:len(num)-2]
	}
	return fmt.Sprintf("%s %ciB (%d bytes)", num, units[i], n)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
