package directmem

import (
	"cmp"
	"fmt"
	"path"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Allocation describes one tracked allocation that has not been released:
// an element of Live.
type Allocation struct {
	// Pool is the pool the memory counts in: "direct" for Allocate,
	// Allocators and Arenas, a Pool's name for its buffers ("mapped" for
	// file mappings).
	Pool string
	// Detail describes the memory, for buffers of a Pool that gave one
	// (Memory.Detail): a mapping's file, offset and mode, say.
	Detail string
	// ID numbers the allocation in the order allocations were tracked,
	// across pools; it never repeats.
	ID uint64
	// Capacity is the capacity asked for, in bytes. For an arena it is the
	// capacity the arena had when it was first tracked.
	Capacity int64
	// ExplicitOnly is set for a buffer without a cleaner
	// (Options.NoCleaner): only Free releases it.
	ExplicitOnly bool
	// Arena is set for an Arena (all its buffers, one allocation).
	Arena bool
	// Unreachable is set for an explicit-only allocation that the garbage
	// collector found unreachable before Free: a leak that was reported as
	// LeakLost, whose memory is still held and will never be released.
	Unreachable bool
	// Stack is where the allocation was made, innermost call first, with
	// the frames inside this module's library packages left out. It is nil
	// for an allocation that was tracked without being sampled (an
	// explicit-only buffer or arena under LeakSampled).
	Stack Stack
}

// String describes the allocation on several lines: what it is, then its
// stack indented like a goroutine trace.
func (a Allocation) String() string {
	var sb strings.Builder
	sb.WriteString(a.describe())
	a.Stack.writeTo(&sb, "allocated at")
	return strings.TrimSuffix(sb.String(), "\n")
}

// describe is the first line of String: "direct buffer #12 of 4096 bytes
// (explicit-only)".
func (a Allocation) describe() string {
	what := "buffer"
	if a.Arena {
		what = "arena"
	}
	s := fmt.Sprintf("%s %s #%d of %d bytes", a.Pool, what, a.ID, a.Capacity)
	var notes []string
	if a.Detail != "" {
		notes = append(notes, a.Detail)
	}
	if a.ExplicitOnly {
		notes = append(notes, "explicit-only")
	}
	if a.Unreachable {
		notes = append(notes, "unreachable, never freed: its memory is lost")
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}

// Frame is one call of a Stack.
type Frame struct {
	Function string // package path-qualified function name
	File     string
	Line     int
}

// String returns "function (file:line)".
func (f Frame) String() string { return fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line) }

// Stack is a call stack, innermost call first.
type Stack []Frame

// String returns the stack as a goroutine trace prints it: each function
// on a line followed by a tab-indented file:line.
func (s Stack) String() string {
	var sb strings.Builder
	for _, f := range s {
		fmt.Fprintf(&sb, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// oneLine returns the stack on one line, for log attributes.
func (s Stack) oneLine() string {
	parts := make([]string, len(s))
	for i, f := range s {
		parts[i] = f.String()
	}
	return strings.Join(parts, "; ")
}

// writeTo appends ", <title>:" and the indented stack, or a note that the
// stack was not recorded.
func (s Stack) writeTo(sb *strings.Builder, title string) {
	if s == nil {
		sb.WriteString(" (" + title + ": stack not recorded; use LeakParanoid to record every allocation's)\n")
		return
	}
	sb.WriteString(", " + title + ":\n")
	for _, f := range s {
		fmt.Fprintf(sb, "\t%s\n\t\t%s:%d\n", f.Function, f.File, f.Line)
	}
}

// libraryPrefix is the import path prefix of this module's packages,
// "github.com/offheap-go/offheap/": the frames stackOf leaves out.
var libraryPrefix = path.Dir(reflect.TypeFor[allocRecord]().PkgPath()) + "/"

// stackOf symbolises pcs, leaving out the leading frames that are inside
// this module's library code (the allocator calling the hook, Free calling
// release) so that a stack starts at the caller's code, and the
// runtime.goexit that ends every goroutine. Frames of tests of this module
// (files ending in _test.go) are kept. If every frame is library code, all
// are kept.
func stackOf(pcs []uintptr) Stack {
	if pcs == nil {
		return nil
	}
	s := make(Stack, 0, len(pcs))
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function != "runtime.goexit" {
			s = append(s, Frame{Function: f.Function, File: f.File, Line: f.Line})
		}
		if !more {
			break
		}
	}
	i := 0
	for i < len(s) && strings.HasPrefix(s[i].Function, libraryPrefix) && !strings.HasSuffix(s[i].File, "_test.go") {
		i++
	}
	if i < len(s) {
		s = s[i:]
	}
	return s
}

// liveRecords holds every tracked allocation not yet released (and the
// explicit-only ones found unreachable: their memory is still held). The
// keys are *allocRecord; sync.Map is a concurrent hash trie, so tracked
// allocations on many goroutines do not contend on one lock.
var liveRecords sync.Map

func (r *allocRecord) allocation() Allocation {
	return Allocation{
		Pool: r.pool, Detail: r.detail, ID: r.id, Capacity: r.capacity,
		ExplicitOnly: r.explicitOnly, Arena: r.arena,
		Unreachable: r.state.Load() == recLost,
		Stack:       stackOf(r.pcs),
	}
}

// Live returns the tracked allocations whose memory is still held: buffers
// and arenas allocated while leak detection was on that have been neither
// freed nor released by the garbage collector, plus explicit-only ones
// that were found unreachable (leaked for good), of every pool, in the
// order they were tracked.
//
// Untracked allocations (all of them with detection disabled, most under
// LeakSampled) are not listed; Stats and Pools count them. Live symbolises
// every stack, so it costs time in proportion to the number of tracked
// allocations: it is meant for diagnostics and tests.
func Live() []Allocation {
	var out []Allocation
	liveRecords.Range(func(k, _ any) bool {
		out = append(out, k.(*allocRecord).allocation())
		return true
	})
	slices.SortFunc(out, func(a, b Allocation) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
