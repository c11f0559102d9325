package directmem_test

import (
	"encoding/binary"
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// TestJDKOrder ports the ByteBuffer part of the JDK's
// test/jdk/java/nio/Buffer/Order.java (with Order-X.java.template's
// ckXBuffer): a buffer of LENGTH = 16 bytes starts big-endian, and after
// order(LITTLE_ENDIAN) its asReadOnlyBuffer, duplicate and slice (and here
// SliceAt) still start big-endian, whatever order they are taken at.
func TestJDKOrder(t *testing.T) {
	const length = 16
	ck := func(t *testing.T, what string, got, want binary.ByteOrder) {
		t.Helper()
		if got != want {
			t.Errorf("%s: order %v, want %v", what, got, want)
		}
	}
	ckViews := func(t *testing.T, b *directmem.Buffer) {
		t.Helper()
		ck(t, "asReadOnlyBuffer", b.AsReadOnly().Order(), binary.BigEndian)
		ck(t, "duplicate", b.Duplicate().Order(), binary.BigEndian)
		ck(t, "slice", b.Slice().Order(), binary.BigEndian)
		s, err := b.SliceAt(b.Position(), b.Remaining())
		if err != nil {
			t.Fatal(err)
		}
		ck(t, "slice(index, length)", s.Order(), binary.BigEndian)
	}

	b := newTestBuffer(t, length)
	ck(t, "allocateDirect", b.Order(), binary.BigEndian)
	ckViews(t, b)

	b.SetOrder(binary.LittleEndian)
	ck(t, "after order(LITTLE_ENDIAN)", b.Order(), binary.LittleEndian)
	ckViews(t, b)

	// Views of views, and a view whose own order was changed.
	ro := b.AsReadOnly()
	ro.SetOrder(binary.LittleEndian)
	ckViews(t, ro)
	ck(t, "read-only view after its order(LITTLE_ENDIAN)", ro.Order(), binary.LittleEndian)
	ck(t, "root after a view's order changed", b.Order(), binary.LittleEndian)

	// Wrapped memory starts big-endian too (ByteBuffer.wrap).
	w := directmem.Wrap(make([]byte, length), nil)
	ck(t, "wrap", w.Order(), binary.BigEndian)

	// The view's reads follow its own order, not the root's.
	if err := b.PutUint32At(0, 0x01020304); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Duplicate().GetUint32At(0); err != nil || v != 0x04030201 {
		t.Errorf("big-endian duplicate read %#x, %v; want 0x04030201", v, err)
	}
}
