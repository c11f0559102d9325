package directmemtest

import "io"

// SetStderr redirects VerifyTestMain's report to w until the returned
// function is called.
func SetStderr(w io.Writer) (restore func()) {
	prev := stderr
	stderr = w
	return func() { stderr = prev }
}
