package cleaner

import "github.com/offheap-go/offheap/internal/cleanup"

// PanicHandler receives the value recovered from a panicking release
// function and the stack of the goroutine that panicked.
type PanicHandler func(recovered any, stack []byte)

// SetPanicHandler sets the function that receives panics recovered from
// release functions and returns the previous one. A nil h restores the
// default, which logs one error with log/slog. The handler runs on the
// goroutine that ran the release (possibly a runtime cleanup goroutine), so
// it must not block for long or call runtime.Goexit; if it panics, both
// panics are logged with log/slog and dropped.
func SetPanicHandler(h PanicHandler) PanicHandler {
	return cleanup.SetPanicHandler(h)
}
