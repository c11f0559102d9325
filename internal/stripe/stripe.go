// Package stripe spreads state that many goroutines write (counters, small
// locks) over stripes, so that goroutines running at once seldom write the
// same cache line: directmem's heap shards and Pool shards, and
// mapped.Cache's hit path, pick theirs with Hint.
package stripe

import (
	"math/bits"
	"unsafe"
)

// Hint returns a number that is the same for calls from one goroutine at
// the same depth and differs between goroutines: a cheap stand-in for "the
// current P", which Go does not expose. It hashes the address of a local
// variable, that is, a place on the calling goroutine's stack; distinct
// goroutines have disjoint stacks of at least 2 KiB. It is only a hint: a
// stack that grows and moves changes the answer, and two goroutines may
// share a stripe; neither may affect correctness.
func Hint() uint32 {
	var x byte
	// Converting the pointer to an integer at once lets x stay on the
	// stack; the integer is hashed and never turned back into a pointer.
	p := uint64(uintptr(unsafe.Pointer(&x)))
	return uint32((p >> 11) * 0x9E3779B97F4A7C15 >> 40)
}

// Count returns how many stripes to make for procs processors: four per
// processor, rounded up to a power of two between 4 and 64, enough that
// goroutines spread by Hint seldom share one. Index a stripe with
// Hint() & (Count-1).
func Count(procs int) int {
	n := 1 << bits.Len(uint(max(4*procs, 4)-1))
	return min(n, 64)
}

// Pad is the size to pad a stripe to, so that neighbouring stripes do not
// share a cache line (two lines: the adjacent-line prefetcher pairs them).
const Pad = 128
