//go:build !unix

package mapped

import (
	"errors"
	"io/fs"
)

// fileID is unsupported where Map is.
func fileID(fs.FileInfo) (dev, ino uint64, err error) { return 0, 0, errors.ErrUnsupported }
