//go:build !unix && !windows

package pagealign

import "errors"

// mapPages is not supported on this system: Map returns
// errors.ErrUnsupported for every valid size.
func mapPages(size int) ([]byte, error) { return nil, errors.ErrUnsupported }

// unmapPages is never called here: no Region is ever live.
func unmapPages(mem []byte) error { return errors.ErrUnsupported }

// Advise is not supported on this system.
func Advise(b []byte, advice Advice) error { return errors.ErrUnsupported }

// Sync is not supported on this system.
func Sync(b []byte) error { return errors.ErrUnsupported }
