package cleaner_test

import (
	"bytes"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
)

// report is one call of a panic handler.
type report struct {
	v     any
	stack []byte
}

// captureHandler installs a panic handler that sends what it receives on the
// returned channel, and restores the previous handler when the test ends.
func captureHandler(t *testing.T) <-chan report {
	t.Helper()
	ch := make(chan report, 16)
	prev := cleaner.SetPanicHandler(func(v any, stack []byte) { ch <- report{v, stack} })
	t.Cleanup(func() { cleaner.SetPanicHandler(prev) })
	return ch
}

// receive returns the next report, failing the test if none comes in time.
func receive(t *testing.T, ch <-chan report) report {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-waitCtx(t).Done():
		t.Fatal("the panic handler was not called")
		return report{}
	}
}

var errBoom = errors.New("boom")

func TestPanicInClean(t *testing.T) {
	reports := captureHandler(t)
	before := cleaner.Stats()
	o := &owner{}
	c := cleaner.Register(o, func() { panic(errBoom) })
	if !c.Clean() {
		t.Fatal("Clean() = false for a panicking release")
	}
	if !c.Released() {
		t.Fatal("Released() = false after a panicking release")
	}
	if c.Clean() {
		t.Fatal("second Clean() = true")
	}
	if c.HasRelease() {
		t.Error("the Cleanable still holds a release function that panicked")
	}
	runtime.KeepAlive(o)

	r := receive(t, reports)
	if err, ok := r.v.(error); !ok || !errors.Is(err, errBoom) {
		t.Fatalf("handler received %v (%T), want errBoom", r.v, r.v)
	}
	if len(r.stack) == 0 {
		t.Fatal("handler received an empty stack")
	}
	// The stack is the panicking goroutine's: it shows this test, which
	// called Clean, and the release function that panicked.
	if !bytes.Contains(r.stack, []byte("TestPanicInClean")) {
		t.Errorf("stack does not show the goroutine that called Clean:\n%s", r.stack)
	}
	d := delta(before, cleaner.Stats())
	if d.Panics != 1 || d.CleanedExplicitly != 1 || d.Live() != 0 {
		t.Fatalf("counters moved by %+v, want Panics 1, CleanedExplicitly 1", d)
	}
	select {
	case r := <-reports:
		t.Fatalf("handler called again with %v", r.v)
	default:
	}
}

func TestPanicNil(t *testing.T) {
	// panic(nil) is a *runtime.PanicNilError since Go 1.21: still a panic.
	reports := captureHandler(t)
	before := cleaner.Stats()
	o := &owner{}
	c := cleaner.Register(o, func() { panic(nil) })
	if !c.Clean() {
		t.Fatal("Clean() = false")
	}
	runtime.KeepAlive(o)
	r := receive(t, reports)
	var pn *runtime.PanicNilError
	if err, ok := r.v.(error); !ok || !errors.As(err, &pn) {
		t.Fatalf("handler received %v (%T), want *runtime.PanicNilError", r.v, r.v)
	}
	if d := delta(before, cleaner.Stats()); d.Panics != 1 {
		t.Fatalf("Panics moved by %d, want 1", d.Panics)
	}
}

func TestPanicFromGC(t *testing.T) {
	settle(t)
	reports := captureHandler(t)
	before := cleaner.Stats()
	const n = 5
	for i := range n {
		registerDropped(func() { panic(i) })
	}
	collect(t, func() bool { return cleaner.Stats().Panics-before.Panics == n })
	seen := map[any]bool{}
	for range n {
		r := receive(t, reports)
		seen[r.v] = true
		if len(r.stack) == 0 {
			t.Error("handler received an empty stack")
		}
		if !bytes.Contains(r.stack, []byte("TestPanicFromGC")) {
			t.Errorf("stack does not show the release that panicked:\n%s", r.stack)
		}
	}
	for i := range n {
		if !seen[i] {
			t.Errorf("no report of panic(%d); got %v", i, seen)
		}
	}
	d := delta(before, cleaner.Stats())
	if d.Panics != n || d.CleanedByGC != n || d.Running != 0 || d.Live() != 0 {
		t.Fatalf("counters moved by %+v, want Panics %d, CleanedByGC %d", d, n, n)
	}
	// The cleanup goroutine survived: later cleanups still run.
	var ran bool
	var mu sync.Mutex
	registerDropped(func() { mu.Lock(); ran = true; mu.Unlock() })
	collect(t, func() bool { mu.Lock(); defer mu.Unlock(); return ran })
}

func TestSetPanicHandlerReturnsPrevious(t *testing.T) {
	var calls []string
	var mu sync.Mutex
	record := func(name string) cleaner.PanicHandler {
		return func(any, []byte) { mu.Lock(); calls = append(calls, name); mu.Unlock() }
	}
	orig := cleaner.SetPanicHandler(record("h1"))
	t.Cleanup(func() { cleaner.SetPanicHandler(orig) })
	if orig == nil {
		t.Fatal("SetPanicHandler returned a nil previous handler")
	}
	prev := cleaner.SetPanicHandler(record("h2"))
	prev(nil, nil) // h1
	prev = cleaner.SetPanicHandler(nil)
	prev(nil, nil) // h2
	mu.Lock()
	got := strings.Join(calls, ",")
	mu.Unlock()
	if got != "h1,h2" {
		t.Fatalf("previous handlers were %q, want h1,h2", got)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLog sends the default slog logger's output to a buffer until the
// test ends.
func captureLog(t *testing.T) *syncBuffer {
	t.Helper()
	var buf syncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func TestDefaultPanicHandlerLogs(t *testing.T) {
	logs := captureLog(t)
	custom := func(any, []byte) { t.Error("the custom handler was called after SetPanicHandler(nil)") }
	orig := cleaner.SetPanicHandler(custom)
	t.Cleanup(func() { cleaner.SetPanicHandler(orig) })

	// nil restores the default handler, which logs with slog.
	cleaner.SetPanicHandler(nil)
	o := &owner{}
	cleaner.Register(o, func() { panic("default-handler-check") }).Clean()
	runtime.KeepAlive(o)
	out := logs.String()
	for _, want := range []string{"level=ERROR", "release function panicked", "default-handler-check", "stack="} {
		if !strings.Contains(out, want) {
			t.Errorf("default handler log %q lacks %q", out, want)
		}
	}

	// With the default in place, SetPanicHandler returns it (not nil), and
	// calling it logs too.
	def := cleaner.SetPanicHandler(custom)
	cleaner.SetPanicHandler(nil)
	if def == nil {
		t.Fatal("SetPanicHandler returned nil for the default handler")
	}
	def("returned-default-check", []byte("some stack"))
	if out := logs.String(); !strings.Contains(out, "returned-default-check") {
		t.Errorf("the returned default handler did not log: %q", out)
	}
}
