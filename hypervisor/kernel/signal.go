package kernel

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vm"
)

// Signals. The host keeps what is pending and decides at generation, from
// what the guest published in its boot page (blocked, ignored, caught):
// drop an ignored signal, end the process for a default action that
// terminates it, or queue it and wake the guest (its blocking host call
// returns EINTR, or its vCPU is kicked) to run the handler.

const nsig = 64

// sigInfo is what a siginfo_t carries here.
type sigInfo struct {
	code   int32
	pid    int32
	uid    int32
	status int32
}

// Linux si_code values.
const (
	siUser    = 0
	siKernel  = 0x80
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
	sigCHLD   = 17
	sigALRM   = 14
	sigPIPE   = 13
	actTerm   = 0
	actIgnore = 1
	actStop   = 2
	sigSTOP   = 19
	sigKILL   = 9
	sigCONT   = 18
	sigTSTP   = 20
	sigTTIN   = 21
	sigTTOU   = 22
	sigURG    = 23
	sigWINCH  = 28
)

func defaultAction(sig int) int {
	switch sig {
	case sigCHLD, sigCONT, sigURG, sigWINCH:
		return actIgnore
	case sigSTOP, sigTSTP, sigTTIN, sigTTOU:
		return actStop // not supported yet: ignored
	}
	return actTerm
}

// guestWord points at a uint64 field of the task's boot page; nil once the
// task's VM is gone. Callers hold t.sigMu.
func (t *Task) guestWord(off uintptr) *uint64 {
	if t.dead || t.VM == nil || t.VM.Mem() == nil {
		return nil
	}
	b := t.VM.Mem().Host()
	at := uintptr(abi.BootinfoAddr) + off
	if at+8 > uintptr(len(b)) {
		return nil
	}
	return (*uint64)(unsafe.Pointer(&b[at]))
}

var (
	offPending = unsafe.Offsetof(abi.Bootinfo{}.Sig_pending)
	offBlocked = unsafe.Offsetof(abi.Bootinfo{}.Sig_blocked)
	offIgnored = unsafe.Offsetof(abi.Bootinfo{}.Sig_ignored)
	offCaught  = unsafe.Offsetof(abi.Bootinfo{}.Sig_caught)
	offWaiting = unsafe.Offsetof(abi.Bootinfo{}.Sig_waiting)
	offFlags   = unsafe.Offsetof(abi.Bootinfo{}.Sig_flags)
	offInfo    = unsafe.Offsetof(abi.Bootinfo{}.Sig_info)
)

func (t *Task) load(off uintptr) uint64 {
	if p := t.guestWord(off); p != nil {
		return atomic.LoadUint64(p)
	}
	return 0
}

// Send generates sig for t, as kill(2) from a process (or the host, from 0).
func (t *Task) Send(sig int, from int32) {
	t.send(sig, sigInfo{code: siUser, pid: from})
}

func (t *Task) send(sig int, info sigInfo) {
	if sig < 1 || sig > nsig {
		return
	}
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	if t.dead {
		return
	}
	if sig == sigKILL {
		t.terminate(sig)
		return
	}
	bit := uint64(1) << (sig - 1)
	blocked, ignored, caught, waiting := t.load(offBlocked), t.load(offIgnored), t.load(offCaught), t.load(offWaiting)
	if ignored&bit != 0 {
		return
	}
	if caught&bit == 0 && blocked&bit == 0 && waiting&bit == 0 {
		if defaultAction(sig) == actTerm {
			t.terminate(sig)
		}
		return
	}
	// A guest polling its pending word sees the bit by itself; kicking
	// it would cost the exit its polling saves. Read before the bit is
	// set: a guest that sees it stops polling at once.
	polling := t.load(offFlags)&abi.SigfPolling != 0
	// The siginfo first, then the pending bit: the guest takes a signal
	// by clearing its bit, then reads its siginfo.
	if slot := t.infoSlot(sig); slot != nil {
		*slot = abi.Siginfo{Code: info.code, Pid: info.pid, Uid: info.uid, Status: info.status}
	}
	if p := t.guestWord(offPending); p != nil {
		atomic.OrUint64(p, bit)
	}
	if blocked&bit == 0 || waiting&bit != 0 {
		t.wake(!polling)
	}
}

// infoSlot points at sig's siginfo in the guest's boot page; t.sigMu held.
func (t *Task) infoSlot(sig int) *abi.Siginfo {
	p := t.guestWord(offInfo + uintptr(sig-1)*unsafe.Sizeof(abi.Siginfo{}))
	return (*abi.Siginfo)(unsafe.Pointer(p))
}

// terminate ends t as killed by sig; t.sigMu held.
func (t *Task) terminate(sig int) {
	t.Interrupt()
	if t.VM != nil {
		t.VM.Stop(unix.Signal(sig))
	}
}

// wake makes t notice a signal: a blocking host call returns EINTR, and a
// program running its own code is interrupted (kick). t.sigMu held.
func (t *Task) wake(kick bool) {
	if t.intr >= 0 {
		unix.Write(t.intr, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}
	select {
	case t.sigCh <- struct{}{}:
	default:
	}
	if kick && t.VM != nil {
		t.VM.Kick()
	}
}

// PrepareBlock is called by every host call that may block, before it
// does: it clears the wake-up, then reports EINTR if a signal is already
// deliverable (or the task is stopping). A sender sets the pending bit
// before it writes the eventfd, so no wake-up is lost between the two.
func (t *Task) PrepareBlock() unix.Errno {
	select {
	case <-t.stop:
		return unix.EINTR
	default:
	}
	if t.intr < 0 {
		return 0
	}
	var b [8]byte
	unix.Read(t.intr, b[:])
	select {
	case <-t.sigCh:
	default:
	}
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	if t.load(offPending)&^t.load(offBlocked)&^(1<<(sigKILL-1)) != 0 || t.load(offPending)&t.load(offWaiting) != 0 {
		t.wake(true)
		return unix.EINTR
	}
	return 0
}

// Signaled is ready when a signal wakes t (for waits on channels).
func (t *Task) Signaled() <-chan struct{} { return t.sigCh }

// SigWait blocks until a signal wakes t or ns pass (ns < 0: forever):
// EINTR, or EAGAIN on timeout.
func (t *Task) SigWait(ns int64) unix.Errno {
	if e := t.PrepareBlock(); e != 0 {
		return e
	}
	timeout := -1
	if ns >= 0 {
		timeout = int((ns + 999999) / 1000000)
	}
	pfd := []unix.PollFd{{Fd: int32(t.intr), Events: unix.POLLIN}}
	deadline := time.Now().Add(time.Duration(timeout) * time.Millisecond)
	for {
		n, err := unix.Poll(pfd, timeout)
		if err == unix.EINTR {
			if timeout > 0 {
				timeout = max(0, int(time.Until(deadline)/time.Millisecond))
			}
			continue
		}
		if n > 0 {
			return unix.EINTR
		}
		return unix.EAGAIN
	}
}

// Itimer arms ITIMER_REAL (value 0 disarms, < 0 only reads) and returns
// what was left of the old one and its interval.
func (t *Task) Itimer(value, interval time.Duration) (time.Duration, time.Duration) {
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	var left time.Duration
	if t.alarm != nil && !t.alarmAt.IsZero() {
		left = max(time.Until(t.alarmAt), time.Microsecond)
	}
	oldInt := t.alarmEvery
	if value < 0 || t.dead {
		return left, oldInt
	}
	if t.alarm != nil {
		t.alarm.Stop()
		t.alarm, t.alarmAt = nil, time.Time{}
	}
	t.alarmEvery = interval
	if value > 0 {
		t.armAlarm(value)
	}
	return left, oldInt
}

// armAlarm schedules SIGALRM; t.sigMu held.
func (t *Task) armAlarm(d time.Duration) {
	t.alarmAt = time.Now().Add(d)
	var timer *time.Timer
	timer = time.AfterFunc(d, func() {
		t.sigMu.Lock()
		if t.alarm != timer || t.dead {
			t.sigMu.Unlock()
			return
		}
		t.alarm, t.alarmAt = nil, time.Time{}
		if t.alarmEvery > 0 {
			t.armAlarm(t.alarmEvery)
		}
		t.sigMu.Unlock()
		t.send(sigALRM, sigInfo{code: siKernel})
	})
	t.alarm = timer
}

// childInfo is the SIGCHLD a parent gets when c ends.
func childInfo(c *Task, e vm.Exit) sigInfo {
	in := sigInfo{code: cldExited, pid: c.Pid, status: int32(e.Code & 0xff)}
	if e.Signal != 0 {
		in.code, in.status = cldKilled, int32(e.Signal)
	}
	return in
}

// reapsChildren reports whether t's children leave no zombie (SIGCHLD
// ignored, or SA_NOCLDWAIT).
func (t *Task) reapsChildren() bool {
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	return t.load(offIgnored)&(1<<(sigCHLD-1)) != 0 || t.load(offFlags)&abi.SigfNocldwait != 0
}

// SendSelf generates a signal the kernel raises for t itself (SIGPIPE).
func (t *Task) SendSelf(sig int) { t.send(sig, sigInfo{code: siKernel}) }

// Kill sends sig as kill(2) from t: pid > 0 that process, 0 t's process
// group, -1 every process but t, < -1 that process group. Signal 0 only
// checks that a target exists.
func (t *Task) Kill(pid int32, sig int) unix.Errno {
	if sig < 0 || sig > nsig {
		return unix.EINVAL
	}
	k := t.k
	if k == nil {
		if pid == t.Pid || pid == 0 {
			t.Send(sig, t.Pid)
			return 0
		}
		return unix.ESRCH
	}
	var targets []*Task
	k.mu.Lock()
	for _, c := range k.tasks {
		if c == nil || c.state == reaped {
			continue
		}
		switch {
		case pid > 0 && c.Pid == pid,
			pid == 0 && c.pgid == t.pgid,
			pid == -1 && c != t,
			pid < -1 && c.pgid == -pid:
			targets = append(targets, c)
		}
	}
	k.mu.Unlock()
	if len(targets) == 0 {
		return unix.ESRCH
	}
	if sig == 0 {
		return 0
	}
	for _, c := range targets {
		if c.state == running {
			c.send(sig, sigInfo{code: siUser, pid: t.Pid})
		}
	}
	return 0
}

// Process groups and sessions.

// find returns the live task pid (0: t itself); k.mu held.
func (t *Task) find(pid int32) *Task {
	if pid == 0 {
		return t
	}
	c := t.k.tasks[pid]
	if c == nil || c.state == reaped {
		return nil
	}
	return c
}

// Ids returns the process group and session of pid (0: t), for
// getpgid(2) and getsid(2).
func (t *Task) Ids(pid int32) (pgid, sid int32, e unix.Errno) {
	if pid < 0 {
		return 0, 0, unix.ESRCH
	}
	if t.k == nil {
		return t.pgid, t.sid, 0
	}
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	c := t.find(pid)
	if c == nil {
		return 0, 0, unix.ESRCH
	}
	return c.pgid, c.sid, 0
}

// Setpgid moves pid (t or a child of t) into process group pgid, as
// setpgid(2): the group must exist in the same session, or be new (pgid ==
// pid); a session leader cannot move.
func (t *Task) Setpgid(pid, pgid int32) unix.Errno {
	if pgid < 0 {
		return unix.EINVAL
	}
	if t.k == nil {
		return 0
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	c := t.find(pid)
	if c == nil || (c != t && c.parent != t) {
		return unix.ESRCH
	}
	if c.sid != t.sid {
		return unix.EPERM
	}
	if c.sid == c.Pid {
		return unix.EPERM // a session leader
	}
	if pgid == 0 {
		pgid = c.Pid
	}
	if pgid != c.Pid {
		exists := false
		for _, o := range k.tasks {
			if o != nil && o.state != reaped && o.pgid == pgid && o.sid == c.sid {
				exists = true
				break
			}
		}
		if !exists {
			return unix.EPERM
		}
	}
	c.pgid = pgid
	return 0
}

// Setsid makes t the leader of a new session and process group.
func (t *Task) Setsid() (int32, unix.Errno) {
	if t.k == nil {
		return t.sid, 0
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, o := range k.tasks {
		if o != nil && o.state != reaped && o.pgid == t.Pid {
			return 0, unix.EPERM // already a process group leader
		}
	}
	t.sid, t.pgid = t.Pid, t.Pid
	return t.Pid, 0
}
