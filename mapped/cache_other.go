//go:build !unix

package mapped

import (
	"errors"
	"io/fs"
	"os"
)

// fileID is unsupported where Map is; a missing file is still reported as
// missing.
func fileID(path string) (dev, ino uint64, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, 0, err
	}
	return 0, 0, &fs.PathError{Op: "map", Path: path, Err: errors.ErrUnsupported}
}
