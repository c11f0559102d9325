//go:build unix

package mapped

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// fileID returns the device and inode of the file at path: its identity,
// which a path loses when the file is replaced. A stat(2) into a Stat_t on
// the stack, not os.Stat, which allocates a FileInfo.
func fileID(path string) (dev, ino uint64, err error) {
	var st unix.Stat_t
	for {
		err = unix.Stat(path, &st)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return uint64(st.Dev), uint64(st.Ino), nil
}
