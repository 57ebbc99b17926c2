package kernel

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Signals. The host keeps what is pending and decides at generation, from
// what the guest published in its boot page (blocked, ignored, caught):
// drop an ignored signal, end the process for a default action that
// terminates it, or queue it and wake the guest (its blocking host call
// returns EINTR, or its vCPU is kicked) to run the handler.

const nsig = 64

// SigInfo is what a siginfo_t carries here.
type SigInfo struct {
	Code   int32
	Pid    int32
	Uid    int32
	Status int32
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

// boot is the boot page of p's guest, nil once its machine is gone.
// Callers hold p.sigMu.
func (p *Process) boot() *abi.Bootinfo {
	if p.dead || p.M == nil {
		return nil
	}
	return machine.BootPage(p.M.Mem())
}

// sigWords are the guest's published signal state.
type sigWords struct{ pending, blocked, ignored, caught, waiting, flags uint64 }

func loadSig(bi *abi.Bootinfo) sigWords {
	if bi == nil {
		return sigWords{}
	}
	return sigWords{
		pending: atomic.LoadUint64(&bi.Sig_pending), blocked: atomic.LoadUint64(&bi.Sig_blocked),
		ignored: atomic.LoadUint64(&bi.Sig_ignored), caught: atomic.LoadUint64(&bi.Sig_caught),
		waiting: atomic.LoadUint64(&bi.Sig_waiting), flags: atomic.LoadUint64(&bi.Sig_flags),
	}
}

// Send generates sig for p from process from (0: the host), as kill(2).
func (p *Process) Send(sig int, from int32) { p.Signal(sig, SigInfo{Code: siUser, Pid: from}) }

// SendSelf generates a signal the kernel raises for p itself (SIGPIPE).
func (p *Process) SendSelf(sig int) { p.Signal(sig, SigInfo{Code: siKernel}) }

// Signal generates sig for p (View): dropped if ignored and not blocked, the process ended
// for a default action that terminates it, else pending and p woken.
func (p *Process) Signal(sig int, info SigInfo) {
	if sig < 1 || sig > nsig {
		return
	}
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if p.dead {
		return
	}
	if sig == sigKILL {
		p.kill(unix.SIGKILL)
		return
	}
	bi := p.boot()
	bit := uint64(1) << (sig - 1)
	w := loadSig(bi)
	if w.ignored&bit != 0 && w.blocked&bit == 0 && w.waiting&bit == 0 {
		return // a blocked one is never ignored: it may be taken (signalfd, sigwait) or its handler change
	}
	if w.caught&bit == 0 && w.blocked&bit == 0 && w.waiting&bit == 0 {
		if defaultAction(sig) == actTerm {
			p.kill(unix.Signal(sig))
		}
		return
	}
	// A guest polling its pending word sees the bit by itself; kicking
	// it would cost the exit its polling saves. Read before the bit is
	// set: a guest that sees it stops polling at once.
	polling := w.flags&abi.SigfPolling != 0
	// The siginfo first, then the pending bit: the guest takes a signal
	// by clearing its bit, then reads its siginfo.
	bi.Sig_info[sig-1] = abi.Siginfo{Code: info.Code, Pid: info.Pid, Uid: info.Uid, Status: info.Status}
	atomic.OrUint64(&bi.Sig_pending, bit)
	p.sigGen.Add(1)
	p.sigfds.Notify()
	if w.blocked&bit == 0 || w.waiting&bit != 0 {
		p.task.Notify()
		if !polling {
			p.M.Kick()
		}
	}
}

// Terminate ends p as killed by sig (View).
func (p *Process) Terminate(sig unix.Signal) {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	p.kill(sig)
}

// kill ends p as killed by sig; p.sigMu held.
func (p *Process) kill(sig unix.Signal) {
	p.task.Interrupt()
	if p.M != nil {
		p.M.Stop(sig)
	}
}

// deliverable reports a signal the task must wake for: pending and not
// blocked, or pending and waited for (sigtimedwait).
func (t *Task) deliverable() bool {
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	w := loadSig(t.boot())
	return w.pending&^w.blocked&^(1<<(sigKILL-1)) != 0 || w.pending&w.waiting != 0
}

// ReapsChildren reports whether p's children leave no zombie (View).
func (p *Process) ReapsChildren() bool {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	w := loadSig(p.boot())
	return w.ignored&(1<<(sigCHLD-1)) != 0 || w.flags&abi.SigfNocldwait != 0
}

// Itimer arms ITIMER_REAL (value 0 disarms, < 0 only reads) and returns
// what was left of the old one and its interval.
func (p *Process) Itimer(value, interval time.Duration) (time.Duration, time.Duration) {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	var left time.Duration
	if p.alarm != nil && !p.alarmAt.IsZero() {
		left = max(time.Until(p.alarmAt), time.Microsecond)
	}
	oldInt := p.alarmEvery
	if value < 0 || p.dead {
		return left, oldInt
	}
	p.stopAlarm()
	p.alarmEvery = interval
	if value > 0 {
		p.armAlarm(value)
	}
	return left, oldInt
}

// stopAlarm disarms ITIMER_REAL; p.sigMu held.
func (p *Process) stopAlarm() {
	if p.alarm != nil {
		p.alarm.Stop()
		p.alarm, p.alarmAt = nil, time.Time{}
	}
}

// armAlarm schedules SIGALRM; p.sigMu held.
func (p *Process) armAlarm(d time.Duration) {
	p.alarmAt = time.Now().Add(d)
	var timer *time.Timer
	timer = time.AfterFunc(d, func() {
		p.sigMu.Lock()
		if p.alarm != timer || p.dead {
			p.sigMu.Unlock()
			return
		}
		p.alarm, p.alarmAt = nil, time.Time{}
		if p.alarmEvery > 0 {
			p.armAlarm(p.alarmEvery)
		}
		p.sigMu.Unlock()
		p.Signal(sigALRM, SigInfo{Code: siKernel})
	})
	p.alarm = timer
}

// childInfo is the SIGCHLD a parent gets when child pid ends.
func childInfo(pid int32, e machine.Exit) SigInfo {
	in := SigInfo{Code: cldExited, Pid: pid, Status: int32(e.Code & 0xff)}
	if e.Signal != 0 {
		in.Code, in.Status = cldKilled, int32(e.Signal)
	}
	return in
}
