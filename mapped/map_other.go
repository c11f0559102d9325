//go:build !unix

package mapped

import (
	"errors"
	"fmt"
)

// errNoMemory never happens where mapping is unsupported.
var errNoMemory = errors.New("mapped: out of memory")

// mapFD reports that this system has no file mappings here: Windows
// needs CreateFileMapping and MapViewOfFile, which this package does not
// use yet.
func mapFD(fd uintptr, mode Mode, offset, size int64) (*region, error) {
	return nil, fmt.Errorf("mapping files on this system: %w", errors.ErrUnsupported)
}
