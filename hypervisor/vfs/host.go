package vfs

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// HostFile is a host descriptor handed to the guest: its stdin, stdout and
// stderr. The host fd is borrowed, never closed here.
type HostFile struct {
	base
	FD int
}

func errno(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

func (f *HostFile) Read(dst [][]byte, off int64) (int, unix.Errno) {
	var n int
	var err error
	for {
		if off < 0 {
			n, err = unix.Readv(f.FD, dst)
		} else {
			n, err = unix.Preadv(f.FD, dst, off)
		}
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, errno(err)
	}
	return n, 0
}

func (f *HostFile) Write(src [][]byte, off int64) (int, unix.Errno) {
	var n int
	var err error
	for {
		if off < 0 {
			n, err = unix.Writev(f.FD, src)
		} else {
			n, err = unix.Pwritev(f.FD, src, off)
		}
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, errno(err)
	}
	return n, 0
}

func (f *HostFile) Lseek(off int64, whence int) (int64, unix.Errno) {
	n, err := unix.Seek(f.FD, off, whence)
	if err != nil {
		return 0, errno(err)
	}
	return n, 0
}

func (f *HostFile) Stat(st *abi.Stat) unix.Errno {
	var s unix.Stat_t
	if err := unix.Fstat(f.FD, &s); err != nil {
		return errno(err)
	}
	*st = abi.Stat{
		Dev: s.Dev, Ino: s.Ino, Nlink: s.Nlink, Mode: s.Mode, Uid: s.Uid, Gid: s.Gid,
		Rdev: s.Rdev, Size: s.Size, Blksize: s.Blksize, Blocks: s.Blocks,
		Atime_sec: s.Atim.Sec, Atime_nsec: s.Atim.Nsec,
		Mtime_sec: s.Mtim.Sec, Mtime_nsec: s.Mtim.Nsec,
		Ctime_sec: s.Ctim.Sec, Ctime_nsec: s.Ctim.Nsec,
	}
	return 0
}

// IoctlSize is the size of the argument a known ioctl request writes.
func IoctlSize(req uint64) int {
	switch req {
	case unix.TCGETS:
		return 36 // struct termios of the kernel ABI
	case unix.TIOCGWINSZ:
		return 8
	}
	return 0
}

func (f *HostFile) Ioctl(req uint64, out []byte) unix.Errno {
	switch req {
	case unix.TCGETS:
		t, err := unix.IoctlGetTermios(f.FD, unix.TCGETS)
		if err != nil {
			return errno(err)
		}
		le.PutUint32(out[0:], t.Iflag)
		le.PutUint32(out[4:], t.Oflag)
		le.PutUint32(out[8:], t.Cflag)
		le.PutUint32(out[12:], t.Lflag)
		out[16] = t.Line
		copy(out[17:36], t.Cc[:19])
		return 0
	case unix.TIOCGWINSZ:
		w, err := unix.IoctlGetWinsize(f.FD, unix.TIOCGWINSZ)
		if err != nil {
			return errno(err)
		}
		le.PutUint16(out[0:], w.Row)
		le.PutUint16(out[2:], w.Col)
		le.PutUint16(out[4:], w.Xpixel)
		le.PutUint16(out[6:], w.Ypixel)
		return 0
	}
	return unix.ENOTTY
}
