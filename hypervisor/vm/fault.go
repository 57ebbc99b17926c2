package vm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

var vectorNames = [32]string{
	0: "divide error", 1: "debug", 2: "NMI", 3: "breakpoint", 4: "overflow",
	5: "bound range", 6: "invalid opcode", 7: "device not available",
	8: "double fault", 10: "invalid TSS", 11: "segment not present",
	12: "stack fault", 13: "general protection", 14: "page fault",
	16: "x87 floating point", 17: "alignment check", 18: "machine check",
	19: "SIMD floating point", 21: "control protection",
}

// vectorSignal maps an exception to the signal Linux would send.
func vectorSignal(vec uint64) unix.Signal {
	switch vec {
	case 0, 16, 19:
		return unix.SIGFPE
	case 1, 3:
		return unix.SIGTRAP
	case 6:
		return unix.SIGILL
	case 17:
		return unix.SIGBUS
	default:
		return unix.SIGSEGV
	}
}

// fault ends the VM on a guest exception the runtime could not handle, as
// Linux would kill a process: the runtime reports it with the frame its
// ring-0 stub left at abi.XframeAt.
func (v *VM) fault(c *kvm.VCPU, vec uint64) *machine.Exit {
	// On the exception stack, which guests may not name: read it from the
	// VMM's own view.
	var f abi.Xframe
	host := v.mem.Host()
	if size := uint64(unsafe.Sizeof(f)); abi.XframeAt+size <= uint64(len(host)) {
		f = *(*abi.Xframe)(unsafe.Pointer(&host[abi.XframeAt]))
	}
	if f.Vector != vec || vec >= 32 {
		return &machine.Exit{Signal: unix.SIGSEGV, Msg: fmt.Sprintf("fault (vector %d) with a corrupt exception frame", vec)}
	}
	sig := vectorSignal(vec)
	name := vectorNames[vec]
	if name == "" {
		name = "exception"
	}
	msg := fmt.Sprintf("%s: %s at rip=%#x", unix.SignalName(sig), name, f.Rip)
	if vec == 14 {
		msg += fmt.Sprintf(" addr=%#x", f.Cr2)
	}
	msg += fmt.Sprintf(" (vector %d, error %#x, rsp=%#x)", vec, f.Error, f.Rsp)
	return &machine.Exit{Signal: sig, Msg: msg}
}

// crash ends the VM on an exit that no healthy guest causes.
func (v *VM) crash(c *kvm.VCPU, what string) *machine.Exit {
	var regs kvm.Regs
	var sregs kvm.Sregs
	c.GetRegs(&regs)
	c.GetSregs(&sregs)
	return &machine.Exit{Signal: unix.SIGSEGV, Msg: fmt.Sprintf("SIGSEGV: %s at rip=%#x addr=%#x", what, regs.Rip, sregs.Cr2)}
}
