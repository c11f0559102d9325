package directmem

import "encoding/binary"

// Order returns the byte order multi-byte gets and puts use:
// binary.BigEndian unless SetOrder changed it, and otherwise
// binary.BigEndian or binary.LittleEndian, as java.nio's ByteOrder has only
// those two values. A buffer set to binary.NativeEndian reports the one
// that is native.
func (b *Buffer) Order() binary.ByteOrder {
	if b.swap != hostLittleEndian {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

// SetOrder sets the byte order of multi-byte gets and puts. binary.BigEndian,
// binary.LittleEndian and binary.NativeEndian are the usual values; any
// other binary.ByteOrder is classified as big- or little-endian by the way
// it decodes a probe, since those are the only two orders a buffer has. A
// nil order means big-endian.
func (b *Buffer) SetOrder(o binary.ByteOrder) {
	if o == nil {
		o = binary.BigEndian
	}
	b.swap = isLittleEndian(o) != hostLittleEndian
}

// hostLittleEndian is the byte order of plain loads on this machine; a
// buffer whose order differs swaps bytes after loading and before storing.
var hostLittleEndian = isLittleEndian(binary.NativeEndian)

func isLittleEndian(o binary.ByteOrder) bool {
	switch o {
	case binary.BigEndian:
		return false
	case binary.LittleEndian:
		return true
	}
	return o.Uint16([]byte{1, 0}) == 1
}
