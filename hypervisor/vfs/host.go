package vfs

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// HostFile is a host descriptor handed to the guest: its stdin, stdout and
// stderr (borrowed: never closed here), or a pipe or socket ukfork made
// (owned: closed with the last reference).
type HostFile struct {
	base
	FD    int
	Owned bool

	budget  *Budget // what an owned descriptor counts against
	pipeMem int64   // pipe buffer it holds
}

// Close closes an owned host descriptor and gives its budget back.
func (f *HostFile) Close() {
	if f.Owned {
		unix.Close(f.FD)
		f.budget.giveFDs(1)
		f.budget.givePipe(f.pipeMem)
	}
}

// newHostFD makes a host descriptor that counts against b.
func newHostFD(b *Budget, make func() (int, error)) (int, unix.Errno) {
	if e := b.takeFDs(1); e != 0 {
		return -1, e
	}
	fd, err := make()
	if err != nil {
		b.giveFDs(1)
		return -1, Errno(err)
	}
	return fd, 0
}

// HostMemory is the pipe buffer the descriptor holds on the host.
func (f *HostFile) HostMemory() int64 { return f.pipeMem }

// PollFD, Readiness, Arm and Disarm make a host descriptor a
// waiter.Waitable: blocked tasks poll it.
func (f *HostFile) PollFD() int                  { return f.FD }
func (f *HostFile) Readiness(events int16) int16 { return waiter.FD(f.FD).Readiness(events) }
func (f *HostFile) Arm(waiter.Notifier)          {}
func (f *HostFile) Disarm(waiter.Notifier)       {}

// Blocking files may block: reads and writes wait through the calling
// task's waiter.Blocker, which signals and the program's end interrupt
// (EINTR).
type Blocking interface {
	waiter.Waitable
	ReadWait(dst [][]byte, off int64, nonblock bool, b waiter.Blocker) (int, unix.Errno)
	WriteWait(src [][]byte, off int64, nonblock bool, b waiter.Blocker) (int, unix.Errno)
}

// wait blocks until fd has events or b is interrupted; nonblock only looks.
func wait(fd int, events int16, nonblock bool, b waiter.Blocker) unix.Errno {
	w := []waiter.Entry{{W: waiter.FD(fd), Events: events}}
	if waiter.Ready(w) {
		return 0
	}
	if nonblock || b == nil {
		return unix.EAGAIN
	}
	return b.Block(w, time.Time{})
}

// ReadWait reads once data (or EOF) is there. Descriptors ukfork owns are
// non-blocking on the host: try first, wait only when empty. Borrowed ones
// (the terminal) may block in the host kernel, so they wait first.
func (f *HostFile) ReadWait(dst [][]byte, off int64, nonblock bool, intr waiter.Blocker) (int, unix.Errno) {
	if f.Owned {
		if n, e := f.Read(dst, off); e != unix.EAGAIN || nonblock {
			return n, e
		}
	}
	for {
		if e := wait(f.FD, unix.POLLIN, nonblock, intr); e != 0 {
			return 0, e
		}
		n, e := f.Read(dst, off)
		if e != unix.EAGAIN {
			return n, e
		}
		// Another process took the data first: wait again.
	}
}

// WriteWait writes everything unless nonblock (as much as fits) or
// interrupted (what was written so far, or EINTR).
func (f *HostFile) WriteWait(src [][]byte, off int64, nonblock bool, intr waiter.Blocker) (int, unix.Errno) {
	total := 0
	first := f.Owned // owned descriptors never block on the host: try first
	for len(src) > 0 {
		if first {
			first = false
		} else if e := wait(f.FD, unix.POLLOUT, nonblock, intr); e != 0 {
			if total > 0 {
				return total, 0
			}
			return 0, e
		}
		n, e := f.Write(src, off)
		if e == unix.EAGAIN {
			if nonblock {
				if total > 0 {
					return total, 0
				}
				return 0, e
			}
			continue
		}
		if e != 0 {
			if total > 0 {
				return total, 0
			}
			return 0, e
		}
		total += n
		if off >= 0 {
			off += int64(n)
		}
		for len(src) > 0 && n >= len(src[0]) {
			n -= len(src[0])
			src = src[1:]
		}
		if len(src) > 0 {
			src[0] = src[0][n:]
		}
		if nonblock {
			break
		}
	}
	return total, 0
}

// Errno is the Linux errno for a host error: the errno itself, wrapped or
// not, else EIO (what Linux answers for a failure it cannot name). The
// one mapping from host errors to what a guest sees.
func Errno(err error) unix.Errno {
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
		return 0, Errno(err)
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
		return 0, Errno(err)
	}
	return n, 0
}

func (f *HostFile) Lseek(off int64, whence int) (int64, unix.Errno) {
	n, err := unix.Seek(f.FD, off, whence)
	if err != nil {
		return 0, Errno(err)
	}
	return n, 0
}

func (f *HostFile) Stat(st *abi.Stat) unix.Errno {
	var s unix.Stat_t
	if err := unix.Fstat(f.FD, &s); err != nil {
		return Errno(err)
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

// Sync is fsync (fdatasync if data) of the host descriptor: EINVAL for a
// pipe, socket or terminal, as Linux.
func (f *HostFile) Sync(data bool) unix.Errno {
	var err error
	if data {
		err = unix.Fdatasync(f.FD)
	} else {
		err = unix.Fsync(f.FD)
	}
	if err != nil {
		return Errno(err)
	}
	return 0
}

// Ioctl answers what a program asks of a host descriptor that is not one
// of the run's terminals (a pipe or file as stdin, or a second terminal):
// queries only, answered by the host.
func (f *HostFile) Ioctl(req uint64, arg []byte) unix.Errno {
	switch req {
	case unix.TCGETS, unix.TIOCGWINSZ, fionread, unix.TIOCOUTQ:
		return hostTtyIoctl(f.FD, req, arg)
	}
	return unix.ENOTTY
}
