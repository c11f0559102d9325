//go:build !(amd64 || arm64 || 386 || ppc64le || ppc64 || s390x || loong64)

package directmem

import "encoding/binary"

// On architectures where an unaligned access may trap, the typed accessors
// go through encoding/binary, which assembles values byte by byte. The
// callers check bounds first, as for unaligned.go.

func load16(mem []byte, i int) uint16 { return binary.NativeEndian.Uint16(mem[i:]) }
func load32(mem []byte, i int) uint32 { return binary.NativeEndian.Uint32(mem[i:]) }
func load64(mem []byte, i int) uint64 { return binary.NativeEndian.Uint64(mem[i:]) }

func store16(mem []byte, i int, v uint16) { binary.NativeEndian.PutUint16(mem[i:], v) }
func store32(mem []byte, i int, v uint32) { binary.NativeEndian.PutUint32(mem[i:], v) }
func store64(mem []byte, i int, v uint64) { binary.NativeEndian.PutUint64(mem[i:], v) }
