package directmem

import (
	"errors"
	"fmt"
	"runtime/debug"
	"unsafe"
)

// Memory that may fault.
//
// Touching a page of a file mapping whose file has been truncated below it
// raises SIGBUS (and an I/O error on the backing store can do the same),
// which kills a Go program. The owner of such memory has flagMayFault. The
// fast path of every data method tests owner.flags != 0 (one byte covering
// both freed and may-fault) and goes out of line when it is set; there the
// access runs under the fault guard, with the runtime's panic-on-fault on
// for the goroutine, and a fault becomes an error that matches ErrFault.
//
// A relative operation that faults leaves the position and limit where they
// were: the cursor moves only when the access completes. Bytes it had
// already copied into the caller's slice before the fault may be there
// (a bulk copy that faults may be partial); the count returned is 0.
//
// Bytes returns the raw memory and cannot guard it: code that reads or
// writes such a slice should do so inside Guard.

// ErrFault: the memory faulted when touched, typically a file mapping whose
// file was truncated below the accessed page. Errors that match it are
// *FaultError values with the address.
var ErrFault = errors.New("directmem: memory fault")

// FaultError is the error of an access that faulted, at Addr (as the
// runtime reports it: best effort, and platform dependent). It matches
// ErrFault.
type FaultError struct {
	Addr uintptr
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("%v at address %#x", ErrFault, e.Addr)
}

// Unwrap returns ErrFault.
func (e *FaultError) Unwrap() error { return ErrFault }

// Guard runs f with the runtime's panic-on-fault on for the calling
// goroutine (runtime/debug.SetPanicOnFault), restoring the previous setting
// afterwards. A memory fault in f (a runtime panic with an Addr method)
// returns a *FaultError, which matches ErrFault; any other panic in f
// propagates unchanged. It is for code that touches the slice from Bytes of
// memory that may fault. Goroutines that f starts are not guarded.
func Guard(f func()) (err error) {
	defer endFault(debug.SetPanicOnFault(true), &err)
	f()
	return nil
}

// endFault ends a fault guard begun by debug.SetPanicOnFault(true), whose
// result is old. Use it as
//
//	defer endFault(debug.SetPanicOnFault(true), &err)
//
// with err the function's named error result. It restores the setting, and
// turns a memory fault into *FaultError in *err; any other panic goes on.
// A function that faults returns its named results as they stood: the
// functions that use this assign them only after the access.
func endFault(old bool, err *error) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		if f, ok := r.(interface{ Addr() uintptr }); ok {
			*err = &FaultError{Addr: f.Addr()}
			return
		}
		panic(r)
	}
}

// endFaultIn is endFault for a guard around code that is not ours (the
// io.Reader of ReadFrom, the io.Writer of WriteTo): only a fault in mem,
// the buffer's memory it was handed, becomes an error; any other panic,
// faults elsewhere included, goes on.
func endFaultIn(old bool, err *error, mem []byte) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		if f, ok := r.(interface{ Addr() uintptr }); ok && inMem(mem, f.Addr()) {
			*err = &FaultError{Addr: f.Addr()}
			return
		}
		panic(r)
	}
}

// inMem reports whether addr lies in mem's memory.
func inMem(mem []byte, addr uintptr) bool {
	if len(mem) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	return addr-base < uintptr(len(mem))
}
