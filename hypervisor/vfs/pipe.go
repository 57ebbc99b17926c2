package vfs

import "golang.org/x/sys/unix"

// NewPipe makes a pipe: a host pipe, so that atomic writes up to PIPE_BUF,
// EOF when the last writer closes and EPIPE when the last reader has come
// from the host kernel itself, between VMs as between processes. The host
// ends are non-blocking; guests block through Waitable.
func NewPipe(flags int) (r, w *OpenFile, e unix.Errno) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, nil, errno(err)
	}
	keep := flags & unix.O_NONBLOCK
	r = NewOpenFile(&HostFile{FD: p[0], Owned: true}, unix.O_RDONLY|keep)
	w = NewOpenFile(&HostFile{FD: p[1], Owned: true}, unix.O_WRONLY|keep)
	return r, w, 0
}
