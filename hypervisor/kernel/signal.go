package kernel

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/waiter"
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
	siUser       = 0
	siKernel     = 0x80
	cldExited    = 1
	cldKilled    = 2
	cldDumped    = 3
	cldStopped   = 5
	cldContinued = 6
	sigCHLD      = 17
	sigALRM      = 14
	sigPIPE      = 13
	actTerm      = 0
	actIgnore    = 1
	actStop      = 2
	sigSTOP      = 19
	sigKILL      = 9
	sigCONT      = 18
	sigTSTP      = 20
	sigTTIN      = 21
	sigTTOU      = 22
	sigURG       = 23
	sigWINCH     = 28
)

func defaultAction(sig int) int {
	switch sig {
	case sigCHLD, sigCONT, sigURG, sigWINCH:
		return actIgnore
	case sigSTOP, sigTSTP, sigTTIN, sigTTOU:
		return actStop
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
	if sig == sigCONT {
		p.resume() // whatever its disposition, as Linux
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
	if defaultAction(sig) == actStop {
		atomic.AndUint64(&bi.Sig_pending, ^uint64(1<<(sigCONT-1))) // a stop cancels a pending continue
		p.stopSeq = p.contSeq
	}
	if w.caught&bit == 0 && w.blocked&bit == 0 && w.waiting&bit == 0 {
		switch defaultAction(sig) {
		case actTerm:
			if !p.stopped { // a stopped process takes it once continued
				p.kill(unix.Signal(sig))
				return
			}
		case actIgnore:
			return
		}
		// A stop: the guest takes it and stops in the host (Stop).
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

// stopSignals are the signals whose default action stops.
const stopSignals = 1<<(sigSTOP-1) | 1<<(sigTSTP-1) | 1<<(sigTTIN-1) | 1<<(sigTTOU-1)

// resume is SIGCONT's effect on generation: pending stops are dropped and
// a stopped p goes on, its parent told (CLD_CONTINUED).
func (p *Process) resume() {
	p.sigMu.Lock()
	if bi := p.boot(); bi != nil {
		atomic.AndUint64(&bi.Sig_pending, ^uint64(stopSignals))
	}
	was := p.stopped
	p.stopped = false
	p.contSeq++
	p.contQ.Notify()
	p.sigMu.Unlock()
	if was {
		p.tellParent(0, cldContinued, sigCONT)
	}
}

// tellParent records p's stop (sig) or continue (0) for its parent's wait
// and sends it SIGCHLD unless it asked not to (SA_NOCLDSTOP).
func (p *Process) tellParent(sig int32, code int32, status int) {
	parent := p.k.table.stopChanged(p.Pid, sig)
	if parent == nil {
		return
	}
	if pp, ok := parent.(*Process); ok && pp.noChildStop() {
		return
	}
	parent.Signal(sigCHLD, SigInfo{Code: code, Pid: p.Pid, Status: int32(status)})
}

func (p *Process) noChildStop() bool {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	return loadSig(p.boot()).flags&abi.SigfNocldstop != 0
}

// Stop is a stop signal's default action, which the guest takes: the
// task waits here, signals left pending, until SIGCONT (0) or its end
// (EINTR).
func (t *Task) Stop(sig int) unix.Errno {
	if sig < 1 || sig > nsig || stopSignals&(1<<(sig-1)) == 0 {
		return unix.EINVAL
	}
	t.sigMu.Lock()
	if t.contSeq != t.stopSeq {
		t.sigMu.Unlock() // continued between the stop's generation and now
		return 0
	}
	t.stopped = true
	t.sigMu.Unlock()
	t.tellParent(int32(sig), cldStopped, sig)
	gate := stopGate{waiter.Guarded{Mu: &t.sigMu, Q: &t.contQ}, t.Process}
	for gate.Readiness(unix.POLLIN) == 0 {
		if e := t.Block([]waiter.Entry{{W: gate, Events: unix.POLLIN}}, time.Time{}); e == unix.EINTR {
			return e // only its end wakes a stopped task so
		}
	}
	return 0
}

// stopGate is ready once its process is no longer stopped.
type stopGate struct {
	waiter.Guarded
	p *Process
}

func (g stopGate) Readiness(events int16) int16 {
	g.p.sigMu.Lock()
	defer g.p.sigMu.Unlock()
	if g.p.stopped {
		return 0
	}
	return events & unix.POLLIN
}

func (p *Process) isStopped() bool {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	return p.stopped
}

// ParentDied sends p the signal it asked for when its parent exits
// (View): PR_SET_PDEATHSIG, from the parent.
func (p *Process) ParentDied(ppid int32) {
	p.sigMu.Lock()
	var sig int
	if bi := p.boot(); bi != nil {
		sig = int(atomic.LoadUint32(&bi.Pdeathsig))
	}
	p.sigMu.Unlock()
	if sig != 0 {
		p.Signal(sig, SigInfo{Code: siUser, Pid: ppid})
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
