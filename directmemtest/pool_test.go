package directmemtest_test

import (
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/directmemtest"
)

// testPool plays package mapped: memory directmem did not allocate,
// handed out through the extension point.
var testPool = directmem.NewPool("directmemtest-pool")

// heldPoolBuffer plays a cache that keeps a mapping past the end of a test.
var heldPoolBuffer *directmem.Buffer

// TestVerifyNoneReportsPoolBuffer: a buffer of a Pool left live fails the
// check with its pool and detail, and one collected without Free is
// reported; neither package had to register anything with directmemtest.
func TestVerifyNoneReportsPoolBuffer(t *testing.T) {
	paranoid(t)
	released := 0
	heldPoolBuffer = testPool.Wrap(directmem.Memory{Bytes: make([]byte, 5011), Release: func() { released++ }, Detail: "segment-7.log"})
	report := verifyFails(t)
	wantIn(t, report, "directmemtest-pool buffer #", "of 5011 bytes (segment-7.log)", "TestVerifyNoneReportsPoolBuffer")
	heldPoolBuffer.Free()
	heldPoolBuffer = nil
	directmemtest.VerifyNone(t)

	func() { testPool.Wrap(directmem.Memory{Bytes: make([]byte, 5013), Release: func() { released++ }}) }()
	report = verifyFails(t)
	wantIn(t, report, "LEAK: directmemtest-pool buffer #", "of 5013 bytes was garbage-collected without Free")
	if released != 2 {
		t.Errorf("release ran %d times for two buffers", released)
	}
	if s := testPool.Stats(); s.Count != 0 {
		t.Errorf("pool after both released: %+v", s)
	}
}
