package directmem

import (
	"errors"
	"runtime/debug"
	"testing"
)

// faultPool is the pool of the tests' memory that may fault.
var faultPool = NewPool("fault-test")

// wrapMayFault makes a buffer over memory that may fault through the
// extension point, as package mapped does.
func wrapMayFault(mem []byte, fn func()) *Buffer {
	return faultPool.Wrap(Memory{Bytes: mem, Release: fn, MayFault: true})
}

// WrapMayFault lets the external benchmarks make such a buffer.
var WrapMayFault = wrapMayFault

type fakeFault struct{ addr uintptr }

func (f fakeFault) Error() string { return "fake fault" }
func (f fakeFault) Addr() uintptr { return f.addr }

func TestGuard(t *testing.T) {
	old := debug.SetPanicOnFault(false)
	defer debug.SetPanicOnFault(old)
	if err := Guard(func() {}); err != nil {
		t.Fatalf("Guard(no-op) = %v", err)
	}
	err := Guard(func() { panic(fakeFault{0x1234}) })
	var fe *FaultError
	if !errors.Is(err, ErrFault) || !errors.As(err, &fe) || fe.Addr != 0x1234 {
		t.Fatalf("Guard(fault) = %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "other" {
				t.Errorf("recovered %v, want the other panic", r)
			}
		}()
		Guard(func() { panic("other") })
		t.Error("Guard returned after a non-fault panic")
	}()
	for _, want := range []bool{false, true} {
		debug.SetPanicOnFault(want)
		Guard(func() {})
		if got := debug.SetPanicOnFault(want); got != want {
			t.Errorf("after Guard, SetPanicOnFault is %v, want %v", got, want)
		}
	}
}

func TestMayFaultPrecedence(t *testing.T) {
	mem := make([]byte, 64)
	b := wrapMayFault(mem, nil)
	if _, err := b.GetInt64At(60); !errors.Is(err, ErrIndexOutOfRange) {
		t.Errorf("GetInt64At(60) = %v", err)
	}
	if err := b.AsReadOnly().PutInt64At(60, 1); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only PutInt64At(60) = %v", err)
	}
	if err := b.PutInt64At(8, 7); err != nil {
		t.Fatal(err)
	}
	if v, err := b.GetInt64At(8); v != 7 || err != nil {
		t.Errorf("GetInt64At(8) = %v, %v", v, err)
	}
	b.Free()
	if _, err := b.GetInt64At(60); !errors.Is(err, ErrFreed) {
		t.Errorf("freed GetInt64At(60) = %v", err)
	}
	if err := b.AsReadOnly().PutBytes(make([]byte, 100)); !errors.Is(err, ErrFreed) {
		t.Errorf("freed read-only PutBytes = %v", err)
	}
}
