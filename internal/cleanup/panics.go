package cleanup

import (
	"log/slog"
	"runtime/debug"
	"sync/atomic"
)

var panicHandler atomic.Pointer[func(any, []byte)]

// SetPanicHandler sets the function that receives panics recovered from
// release functions, with the stack of the goroutine that panicked, and
// returns the previous one; nil restores the default, a log/slog error.
// It is cleaner.SetPanicHandler, whose doc gives the rules for h.
func SetPanicHandler(h func(recovered any, stack []byte)) func(recovered any, stack []byte) {
	var old *func(any, []byte)
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
