//go:build !linux

package mapped

import (
	"errors"
	"io"
	"os"
)

// Outside Linux there is no kernel tier: darwin's sendfile(2) takes a
// socket only and has another signature, and copyfile(3) copies whole
// files, so transfers start with mapped windows (darwin, where Map works)
// or the temporary buffer (Windows, where Map is unsupported).

// kernelTier says that this system has no kernel tier.
const kernelTier = false

// sendfileAgain is the Linux tests' hook; never called here.
var sendfileAgain func()

// statFile returns what os.File.Stat says of f. The access mode is not
// looked up here: a file opened without the access a transfer needs makes
// the first read or write fail, before anything is written.
func statFile(f *os.File) (fileState, error) {
	fi, err := f.Stat()
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return fileState{}, os.ErrClosed
		}
		return fileState{}, err
	}
	return fileState{
		size:     fi.Size(),
		readable: true,
		writable: true,
		dir:      fi.IsDir(),
		regular:  fi.Mode().IsRegular(),
	}, nil
}

func kernelTransferTo(src *os.File, pos, n int64, dst io.Writer) (int64, error) {
	return 0, errTierUnsupported
}

func kernelTransferFrom(src, dst *os.File, position, n int64) (int64, error) {
	return 0, errTierUnsupported
}
