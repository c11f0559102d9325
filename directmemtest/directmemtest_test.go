package directmemtest_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/directmemtest"
	"github.com/offheap-go/offheap/limits"
)

// paranoid turns on paranoid tracking, with a handler that drops reports
// (the tests read them from the checks), for the duration of the test.
func paranoid(t *testing.T) {
	t.Helper()
	prev := directmem.LeakDetection()
	directmem.SetLeakDetection(directmem.LeakParanoid)
	prevHandler := directmem.SetLeakHandler(func(directmem.Leak) {})
	t.Cleanup(func() {
		directmem.SetLeakDetection(prev)
		directmem.SetLeakHandler(prevHandler)
	})
}

func newAllocator(noCleaner bool) *directmem.Allocator {
	return directmem.NewAllocator(directmem.Options{Budget: limits.NewBudget(1 << 30), NoCleaner: noCleaner})
}

// allocateHere allocates and returns the buffer and the line of the
// Allocate call.
//
//go:noinline
func allocateHere(tb testing.TB, a *directmem.Allocator, capacity int) (*directmem.Buffer, int) {
	_, _, line, _ := runtime.Caller(0)
	buf, err := a.Allocate(capacity)
	if err != nil {
		tb.Fatal(err)
	}
	return buf, line + 1
}

// dropHere allocates and drops a buffer, returning the line of the allocation.
//
//go:noinline
func dropHere(tb testing.TB, a *directmem.Allocator, capacity int) int {
	_, line := allocateHere(tb, a, capacity)
	return line
}

// fakeTB records what VerifyNone reports instead of failing the test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprint(args...))
}

func (f *fakeTB) Errorf(format string, args ...any) { f.Error(fmt.Sprintf(format, args...)) }

// verifyFails runs VerifyNone on a fake TB and returns the one error it
// reported, failing the test if there was none.
func verifyFails(t *testing.T, opts ...directmemtest.Option) string {
	t.Helper()
	f := &fakeTB{TB: t}
	directmemtest.VerifyNone(f, opts...)
	if len(f.errors) != 1 {
		t.Fatalf("VerifyNone reported %d errors, want 1: %q", len(f.errors), f.errors)
	}
	return f.errors[0]
}

func wantIn(t *testing.T, report string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q:\n%s", w, report)
		}
	}
}

const thisFile = "directmemtest_test.go"

func TestVerifyNonePassesAfterCorrectUse(t *testing.T) {
	paranoid(t)
	defer directmemtest.VerifyNone(t)

	managed, explicit := newAllocator(false), newAllocator(true)
	a, _ := allocateHere(t, managed, 5001)
	defer a.Free()
	b, _ := allocateHere(t, explicit, 5003)
	defer b.Free()
	view := a.Slice()
	if err := view.PutInt64At(0, 42); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("freed by a deferred call")); err != nil {
		t.Fatal(err)
	}
}

// heldBuffer plays a cache that keeps memory past the end of a test.
var heldBuffer *directmem.Buffer

func TestVerifyNoneReportsLiveBuffer(t *testing.T) {
	paranoid(t)
	var line int
	heldBuffer, line = allocateHere(t, newAllocator(false), 5005)

	report := verifyFails(t)
	wantIn(t, report,
		"directmemtest: found unexpected leaks",
		"1 allocation still live after garbage collection (leak tracking: paranoid)",
		"direct buffer #", "of 5005 bytes, allocated at:",
		"directmemtest_test.allocateHere\n",
		fmt.Sprintf("%s:%d\n", thisFile, line),
		"directmemtest_test.TestVerifyNoneReportsLiveBuffer\n",
	)
	var e *directmemtest.Error
	if err := directmemtest.Find(); !errors.As(err, &e) || len(e.Live) != 1 || e.Live[0].Capacity != 5005 || e.Goroutines != nil {
		t.Errorf("Find() = %v, want an *Error with the buffer", err)
	}
	t.Logf("the report:\n%s", report)

	heldBuffer.Free()
	heldBuffer = nil
	directmemtest.VerifyNone(t)
}

func TestVerifyNoneReportsCollectedBuffer(t *testing.T) {
	paranoid(t)
	a := newAllocator(false)
	line := dropHere(t, a, 5007)
	report := verifyFails(t)
	wantIn(t, report,
		"1 leak report since the previous check:",
		"LEAK: direct buffer #", "of 5007 bytes was garbage-collected without Free",
		fmt.Sprintf("%s:%d\n", thisFile, line),
		"directmemtest_test.dropHere\n",
	)
	// A report fails one check only.
	directmemtest.VerifyNone(t)

	// IgnoreCollected accepts the JVM's semantics.
	dropHere(t, a, 5009)
	directmemtest.VerifyNone(t, directmemtest.IgnoreCollected())
}

func TestVerifyNoneReportsDoubleFree(t *testing.T) {
	paranoid(t)
	b, line := allocateHere(t, newAllocator(true), 5011)
	b.Free()
	b.Free()
	report := verifyFails(t)
	wantIn(t, report, "Free called twice on direct buffer", "(explicit-only)",
		fmt.Sprintf("%s:%d\n", thisFile, line), "first freed at:", "freed again at:")
}

func TestIgnoreOptions(t *testing.T) {
	paranoid(t)
	before := directmemtest.IgnoreCurrent()
	heldBuffer, _ = allocateHere(t, newAllocator(false), 5013)
	defer func() {
		heldBuffer.Free()
		heldBuffer = nil
		directmemtest.VerifyNone(t)
	}()

	verifyFails(t, before)
	directmemtest.VerifyNone(t, directmemtest.IgnorePool("direct"))
	directmemtest.VerifyNone(t, directmemtest.IgnoreAllocatedBy("github.com/offheap-go/offheap/directmemtest_test.allocateHere"))
	directmemtest.VerifyNone(t, directmemtest.IgnoreCurrent())
	verifyFails(t, directmemtest.IgnorePool("mapped"), directmemtest.IgnoreAllocatedBy("main.main"))
}

func TestVerifyNoneReportsGoroutines(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-stop
	}()
	report := verifyFails(t)
	wantIn(t, report, "goroutines: found unexpected goroutines", "TestVerifyNoneReportsGoroutines.func1")
	directmemtest.VerifyNone(t, directmemtest.IgnoreGoroutines())
	close(stop)
	<-done
	directmemtest.VerifyNone(t)
}

// TestUntrackedCountWhenDisabled: with tracking off, a check counts the
// buffers of each pool.
func TestUntrackedCountWhenDisabled(t *testing.T) {
	prev := directmem.LeakDetection()
	directmem.SetLeakDetection(directmem.LeakDisabled)
	defer directmem.SetLeakDetection(prev)

	start := directmemtest.IgnoreCurrent()
	b, _ := allocateHere(t, newAllocator(false), 5015)
	report := verifyFails(t, start)
	wantIn(t, report, `1 buffer of pool "direct" (5015 bytes) still live`, "leak tracking is off")
	directmemtest.VerifyNone(t, directmemtest.IgnoreCurrent())
	directmemtest.VerifyNone(t, start, directmemtest.IgnorePool("direct"))
	b.Free()
	directmemtest.VerifyNone(t, start)
}

// fakeM runs run as the tests.
type fakeM struct{ run func() int }

func (m fakeM) Run() int { return m.run() }

func TestVerifyTestMainInProcess(t *testing.T) {
	prev := directmem.LeakDetection()
	defer directmem.SetLeakDetection(prev)
	prevHandler := directmem.SetLeakHandler(func(directmem.Leak) {})
	defer directmem.SetLeakHandler(prevHandler)

	for _, tc := range []struct {
		name     string
		status   int
		leak     bool
		wantCode int
	}{
		{"clean", 0, false, 0},
		{"leak", 0, true, 1},
		{"failed tests are not checked", 3, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			defer directmemtest.SetStderr(&out)()
			code := -1
			var held *directmem.Buffer
			var line int
			directmemtest.VerifyTestMain(fakeM{func() int {
				if got := directmem.LeakDetection(); got != directmem.LeakParanoid {
					t.Errorf("tests run with leak detection %v, want paranoid", got)
				}
				b, l := allocateHere(t, newAllocator(false), 5017)
				if tc.leak {
					held, line = b, l
				} else {
					b.Free()
				}
				return tc.status
			}}, directmemtest.Cleanup(func(c int) { code = c }))
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.wantCode, out.String())
			}
			if tc.wantCode == 1 {
				wantIn(t, out.String(), "directmemtest: errors on successful test run: directmemtest: found unexpected leaks",
					"of 5017 bytes", fmt.Sprintf("%s:%d\n", thisFile, line))
			} else if out.Len() != 0 {
				t.Errorf("unexpected output:\n%s", out.String())
			}
			if held != nil {
				held.Free()
			}
		})
	}
	directmemtest.VerifyNone(t)
}

// TestChildLeaks is the child of TestVerifyTestMainSubprocess. It runs
// under directmemtest.VerifyTestMain (see TestMain) and leaks three ways,
// or frees everything when the mode is "clean".
func TestChildLeaks(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("helper of TestVerifyTestMainSubprocess")
	}
	if mode == "clean" {
		b, _ := allocateHere(t, newAllocator(true), 5019)
		b.Free()
		dropped, _ := allocateHere(t, newAllocator(false), 5023)
		dropped.Free()
		return
	}
	// Each report names the line of the call here, in TestChildLeaks.
	_, _, line, _ := runtime.Caller(0)
	heldBuffer, _ = allocateHere(t, newAllocator(false), 5019)
	dropHere(t, newAllocator(true), 5021)
	dropHere(t, newAllocator(false), 5023)
	fmt.Printf("EXPECT held=%s:%d lost=%s:%d collected=%s:%d\n", thisFile, line+1, thisFile, line+2, thisFile, line+3)
}

// TestVerifyTestMainSubprocess runs TestChildLeaks under VerifyTestMain in
// a child process: the run fails with every leak and its allocation site.
func TestVerifyTestMainSubprocess(t *testing.T) {
	run := func(mode string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildLeaks$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+mode)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("leak")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child: %v, want exit status 1\n%s", err, out)
	}
	_, expect, ok := strings.Cut(out, "EXPECT ")
	if !ok {
		t.Fatalf("child did not say where it allocated:\n%s", out)
	}
	expect, _, _ = strings.Cut(expect, "\n")
	var held, lost, collected string
	fmt.Sscanf(strings.NewReplacer("=", " ").Replace(expect), "held %s lost %s collected %s", &held, &lost, &collected)
	wantIn(t, out,
		"PASS\n", "directmemtest: errors on successful test run: directmemtest: found unexpected leaks",
		"2 allocations still live after garbage collection (leak tracking: paranoid)",
		"of 5019 bytes, allocated at:", held+"\n",
		"of 5021 bytes (explicit-only, unreachable, never freed: its memory is lost), allocated at:", lost+"\n",
		"1 leak report since the previous check:",
		"of 5023 bytes was garbage-collected without Free", collected+"\n",
	)
	t.Logf("child output:\n%s", out)

	out, err = run("clean")
	if err != nil || !strings.Contains(out, "PASS") || strings.Contains(out, "directmemtest:") {
		t.Errorf("clean child: %v\n%s", err, out)
	}
}

func TestMaxWait(t *testing.T) {
	// A cleanup that blocks keeps WaitPending waiting: the check gives up
	// after MaxWait and says so.
	release := make(chan struct{})
	func() {
		obj := new([64]byte)
		runtime.AddCleanup(obj, func(ch chan struct{}) { <-ch }, release)
	}()
	report := verifyFails(t, directmemtest.MaxWait(50*time.Millisecond), directmemtest.IgnoreGoroutines())
	wantIn(t, report, "pending cleanups did not finish", "deadline exceeded")
	close(release)
	directmemtest.VerifyNone(t)
}
