package mapped

import (
	"context"
	"runtime"
	"sync"

	"github.com/offheap-go/offheap/directmem"
)

// The temporary direct buffers of transfers: the JVM's
// sun.nio.ch.Util.getTemporaryDirectBuffer, which keeps a few buffers per
// thread for the I/O that needs off-heap memory. Go has no thread-local
// storage a library can use, so the cache here is one bounded set shared
// by every goroutine: a buffered channel of at most maxTempBuffers idle
// buffers (one per P, up to 8), safe for concurrent use without a lock of
// our own. A transfer takes one (or allocates one when the cache is empty)
// and gives it back when it ends; a buffer given back to a full cache is
// freed at once.
//
// The buffers come from their own explicit-only allocator (the JVM's
// temporary buffers are internal and freed by hand, never by the
// collector): they are counted in the "direct" pool and reserved from the
// default budget like any direct buffer, and, being explicit-only, they
// are tracked by leak detection while cached. drainTempBuffers frees the
// idle ones; tests call it before their leak checks. A program checking
// for leaks with directmemtest while transfers may have cached buffers can
// ignore them with
// directmemtest.IgnoreAllocatedBy("github.com/offheap-go/offheap/mapped.newTempBuffer").

// tempBufferSize is the size of a temporary buffer: the JVM's
// FileChannelImpl.TRANSFER_SIZE.
const tempBufferSize = 8192

// maxTempBuffers bounds the idle buffers kept.
var maxTempBuffers = min(runtime.GOMAXPROCS(0), 8)

var (
	tempCache = make(chan *directmem.Buffer, maxTempBuffers)
	tempAlloc = sync.OnceValue(func() *directmem.Allocator {
		// NoZero: a transfer writes out only the bytes it has just read in.
		return directmem.NewAllocator(directmem.Options{NoCleaner: true, NoZero: true})
	})
)

// getTempBuffer returns an idle temporary buffer of tempBufferSize bytes,
// or a new one. The caller gives it back with putTempBuffer.
func getTempBuffer(ctx context.Context) (*directmem.Buffer, error) {
	select {
	case b := <-tempCache:
		return b, nil
	default:
		return newTempBuffer(ctx)
	}
}

// newTempBuffer allocates a temporary buffer (its own function, for
// directmemtest.IgnoreAllocatedBy).
func newTempBuffer(ctx context.Context) (*directmem.Buffer, error) {
	return tempAlloc().AllocateContext(ctx, tempBufferSize)
}

// putTempBuffer gives b back to the cache, or frees it if the cache is full.
func putTempBuffer(b *directmem.Buffer) {
	b.Clear()
	select {
	case tempCache <- b:
	default:
		_ = b.Free()
	}
}

// drainTempBuffers frees every idle temporary buffer and returns how many
// it freed. Buffers in use by running transfers are not touched; they are
// cached (or freed) when those transfers end.
func drainTempBuffers() int {
	n := 0
	for {
		select {
		case b := <-tempCache:
			_ = b.Free()
			n++
		default:
			return n
		}
	}
}
