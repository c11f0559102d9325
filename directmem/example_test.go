package directmem_test

import (
	"fmt"
	"log"

	"github.com/offheap-go/offheap/directmem"
)

func ExampleAllocate() {
	b, err := directmem.Allocate(16)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Free()

	// A new buffer is zeroed, big-endian, positioned at 0 with its limit at
	// its capacity.
	fmt.Println(b, b.Order())
	if err := b.PutUint32(0xCAFEBABE); err != nil {
		log.Fatal(err)
	}
	v, err := b.GetUint16At(0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%#x %v\n", v, b)
	// Output:
	// directmem.Buffer[pos=0 lim=16 cap=16] BigEndian
	// 0xcafe directmem.Buffer[pos=4 lim=16 cap=16]
}

func ExampleBuffer_Flip() {
	b, err := directmem.Allocate(32)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Free()

	// Fill...
	if _, err := b.WriteString("hello, "); err != nil {
		log.Fatal(err)
	}
	if err := b.PutBytes([]byte("world")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("filled:", b)

	// ...flip: the limit moves to what was written, the position to 0...
	b.Flip()
	fmt.Println("flipped:", b)

	// ...and drain.
	for b.HasRemaining() {
		c, err := b.Get()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%c", c)
	}
	fmt.Println()
	_, err = b.Get()
	fmt.Println("drained:", b, err)
	// Output:
	// filled: directmem.Buffer[pos=12 lim=32 cap=32]
	// flipped: directmem.Buffer[pos=0 lim=12 cap=32]
	// hello, world
	// drained: directmem.Buffer[pos=12 lim=12 cap=32] directmem: buffer underflow
}

func ExampleBuffer_Slice() {
	b, err := directmem.Allocate(8)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Free()
	if err := b.PutBytes([]byte{1, 2, 3, 4, 5, 6, 7, 8}); err != nil {
		log.Fatal(err)
	}

	// A slice is a view of the bytes between position and limit, with
	// indexes of its own, over the same memory.
	if err := b.SetPosition(2); err != nil {
		log.Fatal(err)
	}
	if err := b.SetLimit(6); err != nil {
		log.Fatal(err)
	}
	s := b.Slice()
	fmt.Println(s, s.Bytes())

	if err := s.PutAt(0, 30); err != nil { // byte 2 of b
		log.Fatal(err)
	}
	v, _ := b.GetAt(2)
	fmt.Println("b[2] =", v)

	// A view cannot free the memory; only its owner can.
	fmt.Println(s.Free())
	// Output:
	// directmem.Buffer[pos=0 lim=4 cap=4] [3 4 5 6]
	// b[2] = 30
	// directmem: buffer does not own its memory: the buffer is a slice, duplicate or read-only view
}

// examplePool is the pool of ExampleShared: pools live as long as the
// process, so it is made once, not in the example.
var examplePool = directmem.NewPool("example-shared")

func ExampleShared() {
	// Memory from elsewhere (a file mapping, say), shared by many buffers.
	s := examplePool.Share(directmem.Memory{
		Bytes:   []byte("hello, shared world"),
		Release: func() { fmt.Println("memory released") },
		Detail:  "greeting",
	})

	// Each buffer has a cursor of its own over the same memory.
	a, b := s.Buffer(), s.Buffer()
	word := make([]byte, 5)
	if err := a.GetBytes(word); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("a read %q: %v\n", word, a)
	if err := b.GetBytesAt(7, word); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("b read %q: %v\n", word, b)
	fmt.Println(s.Buffers(), "buffers, pool count", examplePool.Stats().Count)

	// Close shares no more; the memory stays until the last buffer goes.
	s.Close()
	fmt.Println("Buffer after Close is nil:", s.Buffer() == nil)
	a.Free()
	fmt.Println("a freed")
	b.Free()
	fmt.Println("pool count", examplePool.Stats().Count)
	// Output:
	// a read "hello": directmem.Buffer[pos=5 lim=19 cap=19]
	// b read "share": directmem.Buffer[pos=0 lim=19 cap=19]
	// 2 buffers, pool count 1
	// Buffer after Close is nil: true
	// a freed
	// memory released
	// pool count 0
}
