package directmem_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

func TestAccessErrorMessage(t *testing.T) {
	b := newTestBuffer(t, 16)
	_, err := b.GetInt64At(12)
	if !errors.Is(err, directmem.ErrIndexOutOfRange) {
		t.Fatalf("GetInt64At(12) on 16 bytes = %v, want ErrIndexOutOfRange", err)
	}
	for _, want := range []string{"12", "8", "16"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// badCountReader and badCountWriter report counts that cannot be.
type badCountReader struct{ n int }
