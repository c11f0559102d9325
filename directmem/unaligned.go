//go:build amd64 || arm64 || 386 || ppc64le || ppc64 || s390x || loong64

package directmem

import "unsafe"

// Loads and stores of fixed-size values in the host's byte order at any byte
// offset, for the typed accessors. On these architectures an unaligned
// access is a single instruction, and expressing it through unsafe keeps
// the accessors small enough to inline (binary.BigEndian.Uint64's byte-wise
// expression alone costs half the inlining budget).
//
// Invariant, checked by every caller before the call: p is a Buffer's
// ptr, 0 <= i and i+size <= its n, and the memory is live (not freed, and
// its owner is kept reachable by the caller until after the access).

func load16(p unsafe.Pointer, i int) uint16 { return *(*uint16)(unsafe.Add(p, i)) }

func load32(p unsafe.Pointer, i int) uint32 { return *(*uint32)(unsafe.Add(p, i)) }

func load64(p unsafe.Pointer, i int) uint64 { return *(*uint64)(unsafe.Add(p, i)) }

func store16(p unsafe.Pointer, i int, v uint16) { *(*uint16)(unsafe.Add(p, i)) = v }

func store32(p unsafe.Pointer, i int, v uint32) { *(*uint32)(unsafe.Add(p, i)) = v }

func store64(p unsafe.Pointer, i int, v uint64) { *(*uint64)(unsafe.Add(p, i)) = v }

func load8(p unsafe.Pointer, i int) byte { return *(*byte)(unsafe.Add(p, i)) }

func store8(p unsafe.Pointer, i int, v byte) { *(*byte)(unsafe.Add(p, i)) = v }
