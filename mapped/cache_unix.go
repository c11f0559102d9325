//go:build unix

package mapped

import (
	"io/fs"
	"syscall"
)

// fileID returns the device and inode of a file: its identity, which a
// path loses when the file is replaced.
func fileID(fi fs.FileInfo) (dev, ino uint64, err error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fs.ErrInvalid
	}
	return uint64(st.Dev), uint64(st.Ino), nil
}
