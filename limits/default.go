package limits

import (
	"fmt"
	"os"
	"sync"
)

// The environment variables Default reads, in order.
const (
	envMax        = "DIRECTMEM_MAX"
	envGoMemLimit = "GOMEMLIMIT"
)

// fallbackLimit is the limit when neither variable is set and the memory
// the process may use is unknown (an operating system other than Linux,
// macOS and Windows): 64 MiB, the JDK's default MaxDirectMemorySize before
// Java 7 tied it to the heap.
const fallbackLimit = 64 << 20

var defaultBudget = sync.OnceValue(func() *Budget {
	return newDefaultBudget(os.LookupEnv, processMemory)
})

// Default returns the process-wide budget, the JVM's VM.maxDirectMemory
// with Bits' counters. Its limit is decided at the first call, in this
// order:
//
//  1. DIRECTMEM_MAX, in the JVM's size syntax ([ParseSize]); "0" allows
//     only reservations of capacity 0.
//  2. GOMEMLIMIT, in the runtime's syntax ("512MiB"), as the JVM defaults
//     to the maximum heap size; "off" passes on to the next rule. This is
//     the environment variable, not a limit set later with
//     debug.SetMemoryLimit.
//  3. A quarter of the memory the process may use: on Linux the smaller of
//     physical memory and the memory limit of its cgroups (v2 memory.max or
//     v1 memory.limit_in_bytes, the smallest along the hierarchy); physical
//     memory on macOS and Windows; 64 MiB elsewhere.
//
// DIRECTMEM_GOGC, "off" or a percentage, sets the budget's pacing of
// collections ([Budget.SetGCPercent]); unset, it follows GOGC.
//
// An empty variable counts as unset, as the runtime treats an empty
// GOMEMLIMIT. A variable that is set but invalid is never passed over: the
// budget's [Budget.Err] then names it and its value, wrapping
// [ErrInvalidLimit], and every reservation fails with that error. (A
// malformed GOMEMLIMIT normally stops the runtime at start-up; this matters
// when the environment changes afterwards.)
func Default() *Budget { return defaultBudget() }

// newDefaultBudget is Default with the environment and the memory size
// supplied, for tests.
func newDefaultBudget(lookup func(string) (string, bool), memory func() (int64, bool)) *Budget {
	limit, err := defaultLimit(lookup, memory)
	if err != nil {
		return newInvalidBudget(err)
	}
	b := NewBudget(limit)
	if v, ok := lookup(envGOGC); ok && v != "" {
		pct, err := parseGCPercent(v)
		if err != nil {
			return newInvalidBudget(err)
		}
		b.SetGCPercent(pct)
	}
	return b
}

func defaultLimit(lookup func(string) (string, bool), memory func() (int64, bool)) (int64, error) {
	if v, ok := lookup(envMax); ok && v != "" {
		n, err := parseSize(v)
		if err != nil {
			return 0, fmt.Errorf("%w: %s=%q: %v", ErrInvalidLimit, envMax, v, err)
		}
		return n, nil
	}
	if v, ok := lookup(envGoMemLimit); ok && v != "" {
		n, off, err := parseGoMemLimit(v)
		if err != nil {
			return 0, fmt.Errorf("%w: %s=%q: %v", ErrInvalidLimit, envGoMemLimit, v, err)
		}
		if !off {
			return n, nil
		}
	}
	if m, ok := memory(); ok {
		return m / 4, nil
	}
	return fallbackLimit, nil
}
