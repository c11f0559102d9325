package cleaner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/cleaner"
)

func TestGoexitInClean(t *testing.T) {
	reports := captureHandler(t)
	before := cleaner.Stats()
	o := &owner{}
	c := cleaner.Register(o, func() { runtime.Goexit() })
	done := make(chan bool)
	go func() {
		returned := false
		defer func() { done <- returned }()
		c.Clean()
		returned = true
	}()
	if <-done {
		t.Fatal("Clean returned although release called runtime.Goexit")
	}
	runtime.KeepAlive(o)
	r := receive(t, reports)
	if err, ok := r.v.(error); !ok || !strings.Contains(err.Error(), "runtime.Goexit") {
		t.Fatalf("handler received %v (%T), want an error naming runtime.Goexit", r.v, r.v)
	}
	if !c.Released() || c.Clean() {
		t.Fatal("the Cleanable is not released after its release called runtime.Goexit")
	}
	if d := delta(before, cleaner.Stats()); d.Panics != 1 || d.CleanedExplicitly != 1 {
		t.Fatalf("counters moved by %+v, want Panics 1, CleanedExplicitly 1", d)
	}
}

// goexitChildEnv makes the test binary run the child side of TestGoexitFromGC.
const goexitChildEnv = "CLEANER_TEST_GOEXIT_CHILD"

// TestGoexitFromGC checks that a release calling runtime.Goexit on the GC path
// is reported. It runs in a child process, because Goexit there ends the
// runtime's cleanup goroutine and no cleanup would run in this process again.
func TestGoexitFromGC(t *testing.T) {
	if os.Getenv(goexitChildEnv) == "1" {
		reports := captureHandler(t)
		registerDropped(func() { runtime.Goexit() })
		runtime.GC()
		r := receive(t, reports)
		fmt.Printf("REPORTED: %v\n", r.v)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestGoexitFromGC$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), goexitChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("running the child: %v", err)
		}
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("REPORTED: cleaner: release function called runtime.Goexit")) {
		t.Fatalf("child did not report the Goexit:\n%s", out)
	}
}

func TestPanickingHandler(t *testing.T) {
	logs := captureLog(t)
	prev := cleaner.SetPanicHandler(func(v any, _ []byte) { panic(fmt.Sprintf("handler-panic(%v)", v)) })
	t.Cleanup(func() { cleaner.SetPanicHandler(prev) })

	t.Run("Clean", func(t *testing.T) {
		o := &owner{}
		c := cleaner.Register(o, func() { panic("release-panic-1") })
		if !c.Clean() {
			t.Fatal("Clean() = false")
		}
		runtime.KeepAlive(o)
		out := logs.String()
		for _, want := range []string{"panic handler panicked", "handler-panic(release-panic-1)", "release-panic-1"} {
			if !strings.Contains(out, want) {
				t.Errorf("log %q lacks %q", out, want)
			}
		}
	})
	t.Run("GC", func(t *testing.T) {
		settle(t)
		before := cleaner.Stats()
		registerDropped(func() { panic("release-panic-2") })
		// Reaching the end of collect means the process survived.
		collect(t, func() bool { return cleaner.Stats().Panics > before.Panics })
		if out := logs.String(); !strings.Contains(out, "handler-panic(release-panic-2)") {
			t.Errorf("log %q lacks the handler's panic", out)
		}
		// Cleanups still run afterwards.
		done := make(chan struct{})
		registerDropped(func() { close(done) })
		collect(t, func() bool {
			select {
			case <-done:
				return true
			default:
				return false
			}
		})
	})
}
