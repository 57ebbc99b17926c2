package kernel

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// Signalfd is what signalfd(2) gives: a read takes the reader's pending
// signals of its set, as the guest takes one (clearing its pending bit,
// then reading its siginfo), and returns them as signalfd_siginfo. Poll
// and epoll look at the process that made it or last read it (Linux looks
// at the caller's; a child that inherits one reads its own signals, and
// polls them once it has read).
type Signalfd struct {
	vfs.Base
	mask  atomic.Uint64
	owner atomic.Pointer[Process]

	mu    sync.Mutex
	armed map[waiter.Notifier]*Process // where each notifier waits
}

// signalfdSiginfoSize is sizeof(struct signalfd_siginfo).
const signalfdSiginfoSize = 128

// unblockable are SIGKILL and SIGSTOP, which a signalfd never reads.
const unblockable = 1<<(sigKILL-1) | 1<<(sigSTOP-1)

// NewSignalfd makes a signalfd of mask (bit n-1 for signal n) for p.
func NewSignalfd(p *Process, mask uint64) *Signalfd {
	s := &Signalfd{}
	s.mask.Store(mask &^ unblockable)
	s.owner.Store(p)
	return s
}

// SetMask is signalfd(2) on an existing signalfd.
func (s *Signalfd) SetMask(mask uint64) {
	s.mask.Store(mask &^ unblockable)
	if p := s.owner.Load(); p != nil {
		p.sigMu.Lock()
		p.sigfds.Notify() // a wait may now be ready
		p.sigMu.Unlock()
	}
}

func (s *Signalfd) pending(p *Process) uint64 {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	return loadSig(p.boot()).pending & s.mask.Load()
}

func (s *Signalfd) Readiness(events int16) int16 {
	if p := s.owner.Load(); p != nil && s.pending(p) != 0 {
		return events & unix.POLLIN
	}
	return 0
}

// Edge moves with every signal made pending for the owner (EPOLLET).
func (s *Signalfd) Edge(int16) uint64 {
	if p := s.owner.Load(); p != nil {
		return p.sigGen.Load()
	}
	return 0
}

func (s *Signalfd) Arm(n waiter.Notifier) {
	p := s.owner.Load()
	s.mu.Lock()
	if s.armed == nil {
		s.armed = map[waiter.Notifier]*Process{}
	}
	s.armed[n] = p
	s.mu.Unlock()
	p.sigMu.Lock()
	p.sigfds.Add(n)
	p.sigMu.Unlock()
}

func (s *Signalfd) Disarm(n waiter.Notifier) {
	s.mu.Lock()
	p := s.armed[n]
	delete(s.armed, n)
	s.mu.Unlock()
	if p != nil {
		p.sigMu.Lock()
		p.sigfds.Remove(n)
		p.sigMu.Unlock()
	}
}

// take dequeues the lowest pending signal of the set for p: its number
// and siginfo, or 0.
func (s *Signalfd) take(p *Process) (int, abi.Siginfo) {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	bi := p.boot()
	if bi == nil {
		return 0, abi.Siginfo{}
	}
	for {
		pend := atomic.LoadUint64(&bi.Sig_pending)
		ready := pend & s.mask.Load()
		if ready == 0 {
			return 0, abi.Siginfo{}
		}
		sig := 1
		for ready&1 == 0 {
			ready >>= 1
			sig++
		}
		if atomic.CompareAndSwapUint64(&bi.Sig_pending, pend, pend&^(1<<(sig-1))) {
			return sig, bi.Sig_info[sig-1]
		}
	}
}

// ReadWait fills whole signalfd_siginfo records from the reader's pending
// signals; with none, it waits (EAGAIN if nonblock).
func (s *Signalfd) ReadWait(dst [][]byte, _ int64, nonblock bool, b waiter.Blocker) (int, unix.Errno) {
	t, ok := b.(*Task)
	if !ok {
		return 0, unix.EINVAL
	}
	s.owner.Store(t.Process)
	room := 0
	for _, d := range dst {
		room += len(d)
	}
	if room < signalfdSiginfoSize {
		return 0, unix.EINVAL
	}
	for {
		n := 0
		rec := make([]byte, signalfdSiginfoSize)
		for room-n >= signalfdSiginfoSize {
			sig, info := s.take(t.Process)
			if sig == 0 {
				break
			}
			clear(rec)
			le := binary.LittleEndian
			le.PutUint32(rec[0:], uint32(sig))          // ssi_signo
			le.PutUint32(rec[8:], uint32(info.Code))    // ssi_code
			le.PutUint32(rec[12:], uint32(info.Pid))    // ssi_pid
			le.PutUint32(rec[16:], uint32(info.Uid))    // ssi_uid
			le.PutUint32(rec[40:], uint32(info.Status)) // ssi_status
			scatter(dst, n, rec)
			n += signalfdSiginfoSize
		}
		if n > 0 {
			return n, 0
		}
		if nonblock {
			return 0, unix.EAGAIN
		}
		if e := b.Block([]waiter.Entry{{W: s, Events: unix.POLLIN}}, time.Time{}); e != 0 {
			return 0, e
		}
	}
}

// scatter copies b into dst from byte off of their concatenation.
func scatter(dst [][]byte, off int, b []byte) {
	for _, d := range dst {
		if off >= len(d) {
			off -= len(d)
			continue
		}
		k := copy(d[off:], b)
		b = b[k:]
		off = 0
		if len(b) == 0 {
			return
		}
	}
}

func (s *Signalfd) Write([][]byte, int64) (int, unix.Errno) { return 0, unix.EINVAL }

func (s *Signalfd) WriteWait([][]byte, int64, bool, waiter.Blocker) (int, unix.Errno) {
	return 0, unix.EINVAL
}

func (s *Signalfd) Target() string { return "anon_inode:[signalfd]" }

// Stat is an anonymous inode's, as Linux gives for a signalfd.
func (s *Signalfd) Stat(st *abi.Stat) unix.Errno {
	*st = abi.Stat{Mode: 0o600, Nlink: 1, Blksize: 4096}
	return 0
}
