package vm

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Kick makes a running guest take its pending signals: its vCPU leaves
// KVM_RUN and, if it was running the program's own code, resumes at the
// runtime's async entry instead (inject). Safe from any goroutine.
func (v *VM) Kick() {
	v.kick.Store(true)
	// Only a guest in KVM_RUN needs interrupting. In a host call the
	// thread is woken through the task's eventfd, and the runtime looks
	// at its pending signals on its way back to the program; between two
	// KVM_RUNs the loop sees v.kick (see loop).
	if v.inRun.Load() {
		if c := v.running.Load(); c != nil {
			c.SetImmediateExit(true)
		}
		if tid := v.tid.Load(); tid != 0 {
			unix.Tgkill(unix.Getpid(), int(tid), unix.SIGURG)
		}
	}
}

// rekick is how long to wait before kicking again a guest that was inside
// the runtime: it delivers on its way out of the syscall, unless it had
// already looked.
const rekick = 20 * time.Microsecond

// inject diverts the vCPU to the runtime's async entry, with the program's
// registers saved as a struct ukf_regs at abi.RegsAt, when a signal is
// deliverable and the program (not the runtime) was running.
func (v *VM) inject(c *kvm.VCPU) {
	if !v.deliverable() {
		return
	}
	var regs kvm.Regs
	if c.GetRegs(&regs) != nil {
		return
	}
	if regs.Rip < abi.UserMin {
		time.AfterFunc(rekick, func() {
			if v.running.Load() != nil {
				v.Kick()
			}
		})
		return
	}
	f, err := machine.Ptr[abi.Regs](v.mem, abi.RegsAt)
	if err != nil {
		return
	}
	*f = abi.Regs{
		Rax: regs.Rax, Rbx: regs.Rbx, Rcx: regs.Rcx, Rdx: regs.Rdx,
		Rsi: regs.Rsi, Rdi: regs.Rdi, Rbp: regs.Rbp,
		R8: regs.R8, R9: regs.R9, R10: regs.R10, R11: regs.R11,
		R12: regs.R12, R13: regs.R13, R14: regs.R14, R15: regs.R15,
		Rip: regs.Rip, Rflags: regs.Rflags, Rsp: regs.Rsp,
		Kind: abi.EntryAsync,
	}
	regs.Rip = v.cfg.Runtime.Header.Async_entry
	regs.Rsp = abi.RegsAt
	c.SetRegs(&regs)
}

// deliverable reports a pending signal the guest does not block.
func (v *VM) deliverable() bool {
	bi := machine.BootPage(v.mem)
	return bi != nil && atomic.LoadUint64(&bi.Sig_pending)&^atomic.LoadUint64(&bi.Sig_blocked) != 0
}
