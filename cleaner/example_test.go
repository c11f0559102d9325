package cleaner_test

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/offheap-go/offheap/cleaner"
)

// file owns an operating-system resource, here just a descriptor number.
type file struct {
	fd   int
	name string
}

func ExampleRegister() {
	f := &file{fd: 3, name: "data.bin"}
	// The release function captures the descriptor, never f itself:
	// capturing f would keep it reachable forever.
	fd := f.fd
	c := cleaner.Register(f, func() { fmt.Println("closing fd", fd) })

	// Close explicitly; the garbage collector will not release it again.
	fmt.Println(c.Clean())
	fmt.Println(c.Clean(), c.Released())
	runtime.KeepAlive(f)
	// Output:
	// closing fd 3
	// true
	// false true
}

// open registers a release for a file that nobody references once it returns.
func open(fd int, closed chan<- int) *cleaner.Cleanable {
	f := &file{fd: fd}
	return cleaner.Register(f, func() { closed <- fd })
}

func ExampleWaitPending() {
	closed := make(chan int, 1)
	c := open(7, closed)

	// The file is unreachable: a collection queues its release, and
	// WaitPending waits until the queued releases have run.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !c.Released() {
		runtime.GC()
		if err := cleaner.WaitPending(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("closed fd", <-closed)
	// Output:
	// closed fd 7
}
