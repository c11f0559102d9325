package mapped_test

import (
	"testing"

	"github.com/offheap-go/offheap/directmemtest"
)

// TestMain fails the package's tests if a goroutine or a mapping outlives
// them: directmemtest tracks every mapping (the "mapped" pool) with its
// allocation stack, and checks goroutines with goleak.
func TestMain(m *testing.M) {
	directmemtest.VerifyTestMain(m)
}
