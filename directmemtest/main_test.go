package directmemtest_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/offheap-go/offheap/directmemtest"
)

// childEnv makes a re-run of this test binary a child of the subprocess
// tests: its TestMain is then directmemtest.VerifyTestMain, checking the
// helper tests that leak on purpose.
const childEnv = "DIRECTMEMTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		directmemtest.VerifyTestMain(m)
		return
	}
	goleak.VerifyTestMain(m)
}
