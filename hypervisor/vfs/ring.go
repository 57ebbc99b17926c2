package vfs

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// Ring is a pipe whose buffer every VM holding one of its ends maps (abi.h,
// "Pipe rings"): the guests' runtimes read and write it without an exit, and
// the host serves everything else here, on the same memory, under the same
// lock. Nothing in the ring is trusted: any VM holding an end may have
// scribbled on it.
type Ring struct {
	mem    machine.Chunk
	budget *Budget
	hdr    *abi.RingHeader

	mu      sync.Mutex
	waiters waiter.Queue // host calls blocked on the ring
	ends    int          // open ends (descriptions)
	closed  bool         // both ends closed: hdr is unmapped
}

// hostLock is the lock word the host writes: no guest has this pid.
const hostLock = ^uint32(0)

// pipeBuf is PIPE_BUF: writes up to it are all or nothing.
const pipeBuf = 4096

// NewRingPipe makes a ring pipe's two ends over a zeroed chunk of at least
// abi.RingSize bytes from newChunk, which the ring owns from then on. b
// counts the chunk as a descriptor and as pipe buffer: ENFILE when it has
// neither left (the caller makes a host pipe then, or fails).
func NewRingPipe(b *Budget, newChunk func() (machine.Chunk, error), flags int) (r, w *OpenFile, ring *Ring, e unix.Errno) {
	if !b.takePipe(abi.RingSize) {
		return nil, nil, nil, unix.ENFILE
	}
	if e := b.takeFDs(1); e != 0 {
		b.givePipe(abi.RingSize)
		return nil, nil, nil, e
	}
	mem, err := newChunk()
	if err == nil && uint64(len(mem.Host())) < abi.RingSize {
		mem.Close()
		err = unix.EINVAL
	}
	if err != nil {
		b.givePipe(abi.RingSize)
		b.giveFDs(1)
		return nil, nil, nil, unix.ENFILE
	}
	ring = &Ring{mem: mem, budget: b, hdr: (*abi.RingHeader)(unsafe.Pointer(&mem.Host()[0])), ends: 2}
	if flags&unix.O_NONBLOCK != 0 {
		ring.hdr.Flags = abi.RingRNonblock | abi.RingWNonblock
	}
	keep := flags & unix.O_NONBLOCK
	r = NewOpenFile(&RingEnd{ring: ring}, unix.O_RDONLY|keep)
	w = NewOpenFile(&RingEnd{ring: ring, write: true}, unix.O_WRONLY|keep)
	return r, w, ring, 0
}

// Shared is the memory the VMs map.
func (r *Ring) Shared() machine.Chunk { return r.mem }

func (r *Ring) lockWord() *uint32  { return &r.hdr.Lock }
func (r *Ring) flagsWord() *uint32 { return &r.hdr.Flags }

// lock takes the ring's lock: guests hold it for one copy, so it spins a
// little, then naps. A holder that keeps it past lockSteal is not playing
// fair: the host takes the lock anyway. That can only garble this pipe's
// data, which any VM holding an end can do by writing the ring, never the
// host. (A VM that ends holding it is released at once: Unlock.) The
// limit is far above any preemption a fair holder could suffer.
func (r *Ring) lock() {
	var start time.Time
	for i := 0; ; i++ {
		cur := atomic.LoadUint32(r.lockWord())
		if cur == 0 && atomic.CompareAndSwapUint32(r.lockWord(), 0, hostLock) {
			return
		}
		switch {
		case i < 256:
			runtime.Gosched()
		case start.IsZero():
			start = time.Now()
		case time.Since(start) > lockSteal:
			if atomic.CompareAndSwapUint32(r.lockWord(), cur, hostLock) {
				return
			}
		default:
			time.Sleep(20 * time.Microsecond)
		}
	}
}

const lockSteal = time.Second

func (r *Ring) unlock() { atomic.StoreUint32(r.lockWord(), 0) }

// Unlock releases the lock if pid holds it: that VM is gone.
func (r *Ring) Unlock(pid int32) {
	r.mu.Lock()
	if !r.closed {
		atomic.CompareAndSwapUint32(r.lockWord(), uint32(pid), 0)
	}
	r.mu.Unlock()
}

func (r *Ring) setFlag(f uint32, on bool) {
	for {
		old := atomic.LoadUint32(r.flagsWord())
		v := old &^ f
		if on {
			v |= f
		}
		if atomic.CompareAndSwapUint32(r.flagsWord(), old, v) {
			return
		}
	}
}

func (r *Ring) flag(f uint32) bool { return atomic.LoadUint32(r.flagsWord())&f != 0 }

// used is how many bytes are in the ring, or -1 if a guest broke it.
func (r *Ring) used() int {
	h, t := atomic.LoadUint64(&r.hdr.Head), atomic.LoadUint64(&r.hdr.Tail)
	if h-t > abi.RingCap {
		return -1
	}
	return int(h - t)
}

// Wake wakes every host call waiting on the ring (a guest changed it and
// found a wait flag set, or an end closed).
func (r *Ring) Wake() {
	r.mu.Lock()
	r.waiters.Notify()
	r.mu.Unlock()
}

// read takes up to len(dst) bytes; EAGAIN when empty, 0 at EOF.
func (r *Ring) read(dst [][]byte) (int, unix.Errno) {
	r.lock()
	used := r.used()
	if used < 0 {
		r.unlock()
		return 0, unix.EIO
	}
	if used == 0 {
		eof := r.flag(abi.RingNoWriters)
		r.unlock()
		if eof {
			return 0, 0
		}
		return 0, unix.EAGAIN
	}
	t := r.hdr.Tail
	n := r.copy(t, dst, used, false)
	atomic.StoreUint64(&r.hdr.Tail, t+uint64(n))
	r.unlockWaking(abi.RingWWait)
	return n, 0
}

// copy moves up to max bytes between the ring, from byte count pos on,
// and bufs; toRing says which way. It returns how many moved.
func (r *Ring) copy(pos uint64, bufs [][]byte, max int, toRing bool) int {
	n := 0
	for _, b := range bufs {
		for len(b) > 0 && n < max {
			off := int((pos + uint64(n)) % abi.RingCap)
			ring := r.hdr.Data[off:min(int(abi.RingCap), off+max-n)]
			var k int
			if toRing {
				k = copy(ring, b)
			} else {
				k = copy(b, ring)
			}
			b = b[k:]
			n += k
		}
	}
	return n
}

// unlockWaking releases the lock and, if a waiter set flag, clears it and
// wakes the waiters.
func (r *Ring) unlockWaking(flag uint32) {
	wake := r.flag(flag)
	if wake {
		r.setFlag(flag, false)
	}
	r.unlock()
	if wake {
		r.Wake()
	}
}

// write adds what fits; all or nothing up to PIPE_BUF; EPIPE without
// readers, EAGAIN when nothing fits.
func (r *Ring) write(src [][]byte) (int, unix.Errno) {
	total := 0
	for _, b := range src {
		total += len(b)
	}
	r.lock()
	if r.flag(abi.RingNoReaders) {
		r.unlock()
		return 0, unix.EPIPE
	}
	used := r.used()
	if used < 0 {
		r.unlock()
		return 0, unix.EIO
	}
	space := int(abi.RingCap) - used
	if space == 0 || (total <= pipeBuf && space < total) {
		r.unlock()
		return 0, unix.EAGAIN
	}
	h := r.hdr.Head
	n := r.copy(h, src, space, true)
	atomic.StoreUint64(&r.hdr.Head, h+uint64(n))
	r.unlockWaking(abi.RingRWait)
	return n, 0
}

// RingEnd is one end of a ring pipe: a File and a Waitable.
type RingEnd struct {
	base
	ring  *Ring
	write bool
}

// Ring is the pipe this end belongs to.
func (e *RingEnd) Ring() *Ring { return e.ring }

// IsWrite reports the write end.
func (e *RingEnd) IsWrite() bool { return e.write }

func (e *RingEnd) Read(dst [][]byte, off int64) (int, unix.Errno) {
	if e.write {
		return 0, unix.EBADF
	}
	if off >= 0 {
		return 0, unix.ESPIPE
	}
	return e.ring.read(dst)
}

func (e *RingEnd) Write(src [][]byte, off int64) (int, unix.Errno) {
	if !e.write {
		return 0, unix.EBADF
	}
	if off >= 0 {
		return 0, unix.ESPIPE
	}
	return e.ring.write(src)
}

// ReadWait reads once data (or EOF) is there.
func (e *RingEnd) ReadWait(dst [][]byte, off int64, nonblock bool, w waiter.Blocker) (int, unix.Errno) {
	for {
		n, err := e.Read(dst, off)
		if err != unix.EAGAIN || nonblock {
			return n, err
		}
		if err := e.wait(w); err != 0 {
			return 0, err
		}
	}
}

// WriteWait writes everything unless nonblock (as much as fits) or
// interrupted (what was written so far, or EINTR).
func (e *RingEnd) WriteWait(src [][]byte, off int64, nonblock bool, w waiter.Blocker) (int, unix.Errno) {
	total := 0
	for {
		n, err := e.Write(src, off)
		total += n
		src = advance(src, n)
		if err == 0 && len(src) == 0 {
			return total, 0
		}
		if err != 0 && err != unix.EAGAIN {
			if total > 0 { // a partial write, as Linux: no error, no SIGPIPE
				return total, 0
			}
			return 0, err
		}
		if nonblock {
			if total > 0 {
				return total, 0
			}
			return 0, unix.EAGAIN
		}
		if err := e.wait(w); err != 0 {
			if total > 0 {
				return total, 0
			}
			return 0, err
		}
	}
}

// advance drops n bytes from the front of v.
func advance(v [][]byte, n int) [][]byte {
	for len(v) > 0 && n >= len(v[0]) {
		n -= len(v[0])
		v = v[1:]
	}
	if len(v) > 0 && n > 0 {
		v = append([][]byte{v[0][n:]}, v[1:]...)
	}
	for len(v) > 0 && len(v[0]) == 0 {
		v = v[1:]
	}
	return v
}

// wait blocks until this end may be ready.
func (e *RingEnd) wait(b waiter.Blocker) unix.Errno {
	if b == nil {
		return unix.EAGAIN
	}
	ev := int16(unix.POLLIN)
	if e.write {
		ev = unix.POLLOUT
	}
	return b.Block([]waiter.Entry{{W: e, Events: ev}}, time.Time{})
}

// Readiness gives the poll events that hold now.
func (e *RingEnd) Readiness(events int16) int16 {
	r := e.ring
	var rev int16
	if e.write {
		if r.flag(abi.RingNoReaders) {
			return unix.POLLERR | (events & unix.POLLOUT)
		}
		if r.used() < 0 {
			return unix.POLLERR // broken: a write says EIO
		}
		if used := r.used(); used >= 0 && int(abi.RingCap)-used >= pipeBuf {
			rev |= events & (unix.POLLOUT | 0x100)
		}
		return rev
	}
	if r.used() != 0 {
		rev |= events & (unix.POLLIN | 0x40)
	}
	if r.flag(abi.RingNoWriters) {
		rev |= unix.POLLHUP
	}
	return rev
}

// Edge counts what came for this end: bytes written into the ring for the
// read end, bytes taken out for the write end, and the other end's close.
func (e *RingEnd) Edge(int16) uint64 {
	r := e.ring
	if e.write {
		n := atomic.LoadUint64(&r.hdr.Tail) << 1
		if r.flag(abi.RingNoReaders) {
			n |= 1
		}
		return n
	}
	n := atomic.LoadUint64(&r.hdr.Head) << 1
	if r.flag(abi.RingNoWriters) {
		n |= 1
	}
	return n
}

// Arm has n notified when the ring changes for this end; Disarm undoes it.
// The wait flag makes a guest that changes the ring wake the host.
func (e *RingEnd) Arm(n waiter.Notifier) {
	r := e.ring
	r.mu.Lock()
	r.waiters.Add(n)
	r.mu.Unlock()
	if e.write {
		r.setFlag(abi.RingWWait, true)
	} else {
		r.setFlag(abi.RingRWait, true)
	}
}

func (e *RingEnd) Disarm(n waiter.Notifier) {
	r := e.ring
	r.mu.Lock()
	r.waiters.Remove(n)
	r.mu.Unlock()
}

// FlagsChanged publishes O_NONBLOCK for the guests' fast path.
func (e *RingEnd) FlagsChanged(flags int) {
	f := uint32(abi.RingRNonblock)
	if e.write {
		f = abi.RingWNonblock
	}
	e.ring.setFlag(f, flags&unix.O_NONBLOCK != 0)
}

// HostMemory is the ring's shared memory, for each end.
func (e *RingEnd) HostMemory() int64 { return abi.RingSize }

func (e *RingEnd) Stat(st *abi.Stat) unix.Errno {
	*st = abi.Stat{Dev: 0xc, Ino: uint64(uintptr(unsafe.Pointer(e.ring)) >> 4), Nlink: 1,
		Mode: unix.S_IFIFO | 0o600, Blksize: 4096}
	return 0
}

func (e *RingEnd) Ioctl(req uint64, out []byte) unix.Errno {
	if req != fionread || len(out) < 4 {
		return unix.ENOTTY
	}
	n := e.ring.used()
	if n < 0 {
		n = 0
	}
	le.PutUint32(out, uint32(n))
	return 0
}

// Close marks the end closed; the last end frees the host's view.
func (e *RingEnd) Close() {
	r := e.ring
	if e.write {
		r.setFlag(abi.RingNoWriters, true)
	} else {
		r.setFlag(abi.RingNoReaders, true)
	}
	r.Wake()
	r.mu.Lock()
	r.ends--
	if r.ends == 0 {
		r.closed = true
		r.mem.Close()
		r.budget.giveFDs(1)
		r.budget.givePipe(abi.RingSize)
	}
	r.mu.Unlock()
}

const fionread = 0x541b // FIONREAD
