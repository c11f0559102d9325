//go:build !unix && !windows

package pagealign

import "errors"

// Map is not supported on this system.
func Map(n int) ([]byte, error) {
	if _, err := roundSize(n); err != nil {
		return nil, err
	}
	return nil, errors.ErrUnsupported
}

// Unmap is not supported on this system.
func Unmap(b []byte) error { return errors.ErrUnsupported }

// Advise is not supported on this system.
func Advise(b []byte, advice Advice) error { return errors.ErrUnsupported }
