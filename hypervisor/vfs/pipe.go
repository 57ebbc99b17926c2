package vfs

import "golang.org/x/sys/unix"

const pipeSize = 1 << 20

// NewPipe makes a pipe: a host pipe, so that atomic writes up to PIPE_BUF,
// EOF when the last writer closes and EPIPE when the last reader has come
// from the host kernel itself, between VMs as between processes. The host
// ends are non-blocking; guests block through Waitable.
func NewPipe(flags int) (r, w *OpenFile, e unix.Errno) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, nil, Errno(err)
	}
	// A bigger buffer than Linux's default 64 KiB: every time a writer
	// fills it, two VMs hand over through the host scheduler, which costs
	// far more than between processes. Capacity is not part of the POSIX
	// contract (PIPE_BUF atomicity is, and stays).
	unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, pipeSize)
	keep := flags & unix.O_NONBLOCK
	r = NewOpenFile(&HostFile{FD: p[0], Owned: true}, unix.O_RDONLY|keep)
	w = NewOpenFile(&HostFile{FD: p[1], Owned: true}, unix.O_WRONLY|keep)
	return r, w, 0
}
