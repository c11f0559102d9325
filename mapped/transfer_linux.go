//go:build linux

package mapped

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// The kernel tier on Linux: copy_file_range(2) between files, sendfile(2)
// to sockets, pipes and the files copy_file_range refuses (another file
// system on kernels before 5.3, an O_APPEND file). splice(2) is not used:
// sendfile already covers a file source to any descriptor, and a pipe
// source goes through the temporary buffer.

// maxKernelCopy bounds one copy_file_range or sendfile call (the kernel
// caps sendfile at about 2 GiB anyway); a chunk is at most 8 MiB.
const maxKernelCopy = 1 << 30

// kernelTier says that this system has the kernel tier.
const kernelTier = true

// sendfileAgain, when set, is called each time sendfile says EAGAIN
// (tests).
var sendfileAgain func()

// statFile returns what the system says of f's descriptor: fcntl(F_GETFL)
// for its access mode, fstat for its type and size. A closed f gives
// os.ErrClosed.
func statFile(f *os.File) (fileState, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return fileState{}, os.ErrClosed
	}
	var st fileState
	var serr error
	if err := rc.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil {
			serr = os.NewSyscallError("fcntl", err)
			return
		}
		var s unix.Stat_t
		if err := unix.Fstat(int(fd), &s); err != nil {
			serr = os.NewSyscallError("fstat", err)
			return
		}
		acc := fl & unix.O_ACCMODE
		st = fileState{
			size:     s.Size,
			readable: acc != unix.O_WRONLY,
			writable: acc != unix.O_RDONLY,
			append:   fl&unix.O_APPEND != 0,
			dir:      s.Mode&unix.S_IFMT == unix.S_IFDIR,
			regular:  s.Mode&unix.S_IFMT == unix.S_IFREG,
		}
	}); err != nil {
		return fileState{}, os.ErrClosed
	}
	return st, serr
}

// unsupportedErrno reports whether a copy_file_range or sendfile error
// means "not between these descriptors": the next tier can do it.
func unsupportedErrno(err error) bool {
	switch err {
	case unix.EXDEV, unix.EINVAL, unix.ENOSYS, unix.EBADF, unix.EOPNOTSUPP, unix.EPERM, unix.ESPIPE:
		return true
	}
	return false
}

// rawConnOf returns the syscall.RawConn of a destination the kernel tier
// can write to, and whether it is a file.
func rawConnOf(dst io.Writer) (rc syscall.RawConn, file bool, err error) {
	switch d := dst.(type) {
	case *os.File:
		rc, err = d.SyscallConn()
		return rc, true, err
	case *net.TCPConn:
		rc, err = d.SyscallConn()
	case *net.UnixConn:
		rc, err = d.SyscallConn()
	default:
		return nil, false, errTierUnsupported
	}
	return rc, false, err
}

// kernelTransferTo sends n bytes of src from pos to dst without moving
// src's offset: copy_file_range when dst is a file, else (or when it
// refuses) sendfile. Writes to dst hold its write lock, as Write does;
// EAGAIN on a non-blocking destination waits on the runtime's poller.
func kernelTransferTo(src *os.File, pos, n int64, dst io.Writer) (int64, error) {
	drc, isFile, err := rawConnOf(dst)
	if err != nil {
		if err == errTierUnsupported {
			return 0, err
		}
		return 0, &net.OpError{Op: "write", Net: "transfer", Err: err}
	}
	srcRC, err := src.SyscallConn()
	if err != nil {
		return 0, os.ErrClosed
	}
	var written int64
	var opErr error
	cerr := srcRC.Control(func(sfd uintptr) {
		if isFile {
			werr := drc.Write(func(dfd uintptr) bool {
				written, opErr = copyFileRange(int(sfd), pos, int(dfd), n)
				return true
			})
			if werr != nil {
				opErr = werr
				return
			}
			if opErr != errTierUnsupported {
				return
			}
			opErr = nil
		}
		werr := drc.Write(func(dfd uintptr) bool {
			for written < n {
				off := pos + written
				m, e := unix.Sendfile(int(dfd), int(sfd), &off, int(min(n-written, maxKernelCopy)))
				if m > 0 {
					written += int64(m)
				}
				switch {
				case e == unix.EINTR:
					continue
				case e == unix.EAGAIN:
					if sendfileAgain != nil {
						sendfileAgain()
					}
					return false // wait until dst is writable, then again
				case e != nil && written == 0 && unsupportedErrno(e):
					opErr = errTierUnsupported
					return true
				case e != nil:
					opErr = os.NewSyscallError("sendfile", e)
					return true
				case m == 0:
					return true // the end of src: it shrank
				}
			}
			return true
		})
		if werr != nil && opErr == nil {
			opErr = werr
		}
	})
	if cerr != nil {
		return written, os.ErrClosed
	}
	return written, opErr
}

// copyFileRange copies n bytes of the file sfd from pos to dfd at dfd's
// offset, which advances; sfd's offset does not move. It returns
// errTierUnsupported when the kernel refuses before copying anything.
func copyFileRange(sfd int, pos int64, dfd int, n int64) (int64, error) {
	var written int64
	for written < n {
		off := pos + written
		m, e := unix.CopyFileRange(sfd, &off, dfd, nil, int(min(n-written, maxKernelCopy)), 0)
		if m > 0 {
			written += int64(m)
		}
		switch {
		case e == unix.EINTR:
			continue
		case e != nil && written == 0 && unsupportedErrno(e):
			return 0, errTierUnsupported
		case e != nil:
			return written, os.NewSyscallError("copy_file_range", e)
		case m == 0 && written == 0:
			// Some file systems (procfs, sysfs, FUSE) report 0 for
			// files that hold bytes: let the next tier read them.
			return 0, errTierUnsupported
		case m == 0:
			return written, nil // the end of src: it shrank
		}
	}
	return written, nil
}

// kernelTransferFrom copies n bytes of the file src from its offset, which
// advances, to the file dst at position (copy_file_range), holding src's
// read lock as Read does.
func kernelTransferFrom(src, dst *os.File, position, n int64) (int64, error) {
	srcRC, err := src.SyscallConn()
	if err != nil {
		return 0, os.ErrClosed
	}
	dstRC, err := dst.SyscallConn()
	if err != nil {
		return 0, os.ErrClosed
	}
	var written int64
	var opErr error
	var cerr error
	rerr := srcRC.Read(func(sfd uintptr) bool {
		cerr = dstRC.Control(func(dfd uintptr) {
			for written < n {
				off := position + written
				m, e := unix.CopyFileRange(int(sfd), nil, int(dfd), &off, int(min(n-written, maxKernelCopy)), 0)
				if m > 0 {
					written += int64(m)
				}
				switch {
				case e == unix.EINTR:
					continue
				case e != nil && written == 0 && unsupportedErrno(e):
					opErr = errTierUnsupported
					return
				case e != nil:
					opErr = os.NewSyscallError("copy_file_range", e)
					return
				case m == 0 && written == 0:
					opErr = errTierUnsupported
					return
				case m == 0:
					return
				}
			}
		})
		return true
	})
	if rerr != nil || cerr != nil {
		return written, errors.Join(os.ErrClosed, rerr, cerr)
	}
	return written, opErr
}
