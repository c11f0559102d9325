//go:build !(amd64 || arm64 || 386 || ppc64le || ppc64 || s390x || loong64)

package directmem

import (
	"encoding/binary"
	"unsafe"
)

// On architectures where an unaligned access may trap, the typed accessors
// go through encoding/binary, which assembles values byte by byte. The
// callers check bounds first, as for unaligned.go.

// at returns the n bytes at p+i (the caller has checked they are the
// buffer's).
func at(p unsafe.Pointer, i, n int) []byte { return unsafe.Slice((*byte)(unsafe.Add(p, i)), n) }

func load8(p unsafe.Pointer, i int) byte        { return *(*byte)(unsafe.Add(p, i)) }
func load16(p unsafe.Pointer, i int) uint16     { return binary.NativeEndian.Uint16(at(p, i, 2)) }
func load32(p unsafe.Pointer, i int) uint32     { return binary.NativeEndian.Uint32(at(p, i, 4)) }
func load64(p unsafe.Pointer, i int) uint64     { return binary.NativeEndian.Uint64(at(p, i, 8)) }
func store8(p unsafe.Pointer, i int, v byte)    { *(*byte)(unsafe.Add(p, i)) = v }
func store16(p unsafe.Pointer, i int, v uint16) { binary.NativeEndian.PutUint16(at(p, i, 2), v) }
func store32(p unsafe.Pointer, i int, v uint32) { binary.NativeEndian.PutUint32(at(p, i, 4), v) }
func store64(p unsafe.Pointer, i int, v uint64) { binary.NativeEndian.PutUint64(at(p, i, 8), v) }
