package directmem_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine started by them (a
// background collection of a budget, a test's workers) outlives them.
// goleak retries for a while before it reports, so goroutines that are
// finishing (a forced GC that is still running) do not make it flaky.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
