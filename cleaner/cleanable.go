package cleaner

import (
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/offheap-go/offheap/internal/cleanup"
)

// Cleanable is a registered release function: the Go form of the JVM's
// Cleaner.Cleanable. It is safe for concurrent use.
type Cleanable struct {
	// state moves once from live to released; the goroutine whose
	// CompareAndSwap does it runs release. See the package doc.
	state   atomic.Uint32
	release func()
	// cleanup withdraws the GC's claim after an explicit Clean, so the
	// runtime forgets the object early. It is not what makes Clean exactly
	// once (state is), because Stop cannot withdraw a queued cleanup.
	cleanup runtime.Cleanup
}

const (
	live uint32 = iota
	released
)

// Register arranges for release to run once: when [Cleanable.Clean] is first
// called, or else some time after owner becomes unreachable.
//
// release must not refer to owner (directly or through what it captures),
// or owner is kept reachable by its own cleanup and release never runs.
// Nor may it call runtime.Goexit (t.FailNow, for one): run by the garbage
// collector, that would end the runtime's cleanup goroutine.
// Register panics if owner is nil, if release is nil, or if *T is a type the
// runtime cannot reliably clean up (zero-size, or smaller than 16 bytes and
// pointer-free; see the package doc).
func Register[T any](owner *T, release func()) *Cleanable {
	if owner == nil {
		panic("cleaner.Register: nil owner")
	}
	if release == nil {
		panic("cleaner.Register: nil release function")
	}
	if size := unsafe.Sizeof(*owner); size < tinySize {
		checkOwnerType(reflect.TypeFor[T]())
	}
	c := &Cleanable{release: release}
	c.cleanup = runtime.AddCleanup(owner, (*Cleanable).cleanByGC, c)
	cleanup.CountRegistered()
	return c
}

// Clean runs the release function now, in the calling goroutine, unless it
// has already run or is running (from an earlier Clean or from the garbage
// collector). It reports whether this call ran it. A panic in release is
// recovered and reported to the panic handler; Clean still returns true and
// the Cleanable is still released.
func (c *Cleanable) Clean() bool {
	if !c.claim() {
		return false
	}
	c.run()
	return true
}

// Cancel withdraws the registration without running the release function,
// unless it has already run or is running, and reports whether it did. A
// caller that gets true owns the resource again and releases it itself:
// the way to release by hand differently from the garbage collector's
// path (to tell an explicit release from a collection, say) while still
// releasing exactly once. After Cancel, Released reports true.
func (c *Cleanable) Cancel() bool {
	if !c.claim() {
		return false
	}
	c.takeRelease() // let go of what it captured
	return true
}

// claim takes the release away from the garbage collector, once.
func (c *Cleanable) claim() bool {
	if !c.state.CompareAndSwap(live, released) {
		return false
	}
	c.cleanup.Stop()
	cleanup.CountCleanedExplicitly()
	return true
}

// Released reports whether the release function has run or is running.
func (c *Cleanable) Released() bool { return c.state.Load() == released }

// cleanByGC is the function given to runtime.AddCleanup. Its argument is the
// Cleanable, which never refers to the owner.
func (c *Cleanable) cleanByGC() {
	if !c.state.CompareAndSwap(live, released) {
		// Clean came first; Stop was too late to dequeue us.
		return
	}
	cleanup.RunFromGC(c.takeRelease())
}

// run calls release, containing any panic.
func (c *Cleanable) run() { cleanup.RunContained(c.takeRelease()) }

// takeRelease drops the release function before it is called, so that what
// it captured is let go even if it panics.
func (c *Cleanable) takeRelease() func() {
	release := c.release
	c.release = nil
	return release
}

// tinySize is the runtime's tiny-allocator limit: pointer-free objects below
// it may share an allocation slot with others and then are never collected
// on their own (see runtime.AddCleanup).
const tinySize = 16

// checkOwnerType panics for owner types that runtime.AddCleanup may never
// clean up. It only runs for types under tinySize bytes.
func checkOwnerType(t reflect.Type) {
	if t.Size() == 0 {
		panic(fmt.Sprintf("cleaner.Register: owner type %v has size zero; its cleanup would never run reliably", t))
	}
	if !hasPointers(t) {
		panic(fmt.Sprintf("cleaner.Register: owner type %v is %d bytes and pointer-free; the runtime may batch it with other tiny objects and never run its cleanup (use a type of at least %d bytes or one that holds a pointer)", t, t.Size(), tinySize))
	}
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan,
		reflect.Func, reflect.Interface, reflect.Slice, reflect.String:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
