package vfs

import "golang.org/x/sys/unix"

// Host pipe buffers: a bigger buffer than Linux's default 64 KiB while the
// run's budget allows, since every time a writer fills it two VMs hand
// over through the host scheduler, which costs far more than between
// processes; one page beyond, as Linux gives a user past
// pipe-user-pages-soft. Capacity is not part of the POSIX contract
// (PIPE_BUF atomicity is, and stays).
const (
	pipeSize    = 1 << 20
	pipeSizeMin = 4096
)

// NewPipe makes a pipe: a host pipe, so that atomic writes up to PIPE_BUF,
// EOF when the last writer closes and EPIPE when the last reader has come
// from the host kernel itself, between VMs as between processes. The host
// ends are non-blocking; guests block through Blocking.
func NewPipe(b *Budget, flags int) (r, w *OpenFile, e unix.Errno) {
	if e := b.takeFDs(2); e != 0 {
		return nil, nil, e
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		b.giveFDs(2)
		return nil, nil, Errno(err)
	}
	size := int64(pipeSize)
	if !b.takePipe(size) {
		size = pipeSizeMin
		b.pipeMem.Add(size) // counted even past the budget: the descriptors bound it
	}
	if n, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, int(size)); err == nil && int64(n) != size {
		b.givePipe(size - int64(n))
		size = int64(n)
	}
	keep := flags & unix.O_NONBLOCK
	rf := &HostFile{FD: p[0], Owned: true, budget: b}
	wf := &HostFile{FD: p[1], Owned: true, budget: b, pipeMem: size} // the buffer goes with the write end
	return NewOpenFile(rf, unix.O_RDONLY|keep), NewOpenFile(wf, unix.O_WRONLY|keep), 0
}
