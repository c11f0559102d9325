package cleaner

import (
	"log/slog"
	"runtime/debug"
	"sync/atomic"
)

// PanicHandler receives the value recovered from a panicking release
// function and the stack of the goroutine that panicked.
type PanicHandler func(recovered any, stack []byte)

var panicHandler atomic.Pointer[PanicHandler]

// SetPanicHandler sets the function that receives panics recovered from
// release functions and returns the previous one. A nil h restores the
// default, which logs one error with log/slog. The handler runs on the
// goroutine that ran the release (possibly a runtime cleanup goroutine), so
// it must not block for long or call runtime.Goexit; if it panics, both
// panics are logged with log/slog and dropped.
func SetPanicHandler(h PanicHandler) PanicHandler {
	var old *PanicHandler
	if h == nil {
		old = panicHandler.Swap(nil)
	} else {
		old = panicHandler.Swap(&h)
	}
	if old == nil {
		return defaultPanicHandler
	}
	return *old
}

func defaultPanicHandler(v any, stack []byte) {
	slog.Error("cleaner: release function panicked", "panic", v, "stack", string(stack))
}

func reportPanic(v any) {
	stack := debug.Stack()
	h := defaultPanicHandler
	if p := panicHandler.Load(); p != nil {
		h = *p
	}
	// A handler that panics must not undo the containment: on the GC path
	// its panic would kill the process, on the Clean path it would reach
	// the caller of Clean.
	defer func() {
		if hv := recover(); hv != nil {
			slog.Error("cleaner: panic handler panicked", "handlerPanic", hv, "panic", v, "stack", string(stack))
		}
	}()
	h(v, stack)
}
