//go:build !linux && !darwin

package pagealign

import "errors"

// Resident returns errors.ErrUnsupported on this system. golang.org/x/sys
// offers mincore(2) as a raw system call only on Linux and darwin, and
// Windows has no equivalent: VirtualQuery reports whether pages are
// committed, not whether they are in memory.
func Resident(b, vec []byte) error { return errors.ErrUnsupported }
