// Command leaks shows offheap's leak detection: a small "request handler"
// that forgets to Free the buffers it allocates, and what leak detection
// says about it.
//
//	DIRECTMEM_LEAKS=paranoid go run ./examples/leaks
//
// Without DIRECTMEM_LEAKS the program turns paranoid detection on itself
// (directmem.SetLeakDetection), so plain "go run ./examples/leaks" prints
// the same reports; with DIRECTMEM_LEAKS=disabled it shows what happens
// without detection: nothing is reported, and the collector quietly
// releases the dropped buffer, as the JVM would.
//
// It leaks three ways:
//
//   - a buffer dropped without Free: the garbage collector releases it
//     (its cleaner runs), and the default handler logs a LEAK warning with
//     the allocation stack;
//   - an explicit-only buffer (Options.NoCleaner) dropped without Free:
//     nothing can release it, so it is reported as lost and stays in
//     directmem.Live;
//   - an explicit-only buffer freed twice: reported, released once.
//
// At the end it prints directmem.Live(), what a directmemtest check would
// list, and the pool statistics.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"runtime"
	"time"

	"github.com/offheap-go/offheap/cleaner"
	"github.com/offheap-go/offheap/directmem"
)

func main() {
	if _, set := os.LookupEnv("DIRECTMEM_LEAKS"); !set {
		directmem.SetLeakDetection(directmem.LeakParanoid)
	}
	fmt.Printf("leak detection: %v\n", directmem.LeakDetection())

	scratch := directmem.NewAllocator(directmem.Options{NoCleaner: true})

	// 1. A handler that forgets to Free its response buffer.
	for i := range 3 {
		handle(i)
	}

	// 2. A scratch buffer without a cleaner, dropped on an error path.
	if err := parse(scratch, []byte("not a number")); err != nil {
		fmt.Printf("parse: %v\n", err)
	}

	// 3. A scratch buffer freed twice.
	buf, err := scratch.Allocate(128)
	check(err)
	check(buf.Free())
	check(buf.Free()) // Free is idempotent, but with tracking on this is reported

	// The reports of dropped buffers come from the garbage collector:
	// collect, and wait for the cleanups it queues (runtime.GC does not).
	runtime.GC()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	check(cleaner.WaitPending(ctx))

	live := directmem.Live()
	fmt.Printf("\ndirectmem.Live(): tracked allocations still holding memory: %d\n", len(live))
	for _, a := range live {
		fmt.Println(a)
	}
	fmt.Printf("\npool: %+v\n", directmem.Stats())
}

// handle serves one request: it fills a response buffer and forgets to
// Free it.
func handle(id int) {
	resp, err := directmem.Allocate(4096)
	check(err)
	fmt.Fprintf(resp, "response %d", id)
	// missing: defer resp.Free()
}

// parse copies input into an explicit-only scratch buffer and fails
// without freeing it.
func parse(a *directmem.Allocator, input []byte) error {
	buf, err := a.Allocate(1024)
	if err != nil {
		return err
	}
	if err := buf.PutBytes(input); err != nil {
		return err
	}
	if input[0] < '0' || input[0] > '9' {
		return fmt.Errorf("%q is not a number", input) // leaks buf
	}
	return buf.Free()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
