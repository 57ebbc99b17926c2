// Package vm runs one ukfork guest as a KVM virtual machine: guest RAM, the
// boot state, and a short exit loop that hands hypercalls to a Handler.
package vm

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/memory"
)

// config is what a VM is made from.
type config struct {
	machine.Config
	Runtime *Runtime
	Pool    *Pool  // where VM shells come from; nil: made for this VM alone
	Image   *Image // mapped at abi.ImageGPA if not nil
}

// VM is one guest: a machine.Machine on KVM.
type VM struct {
	sys   *kvm.System
	cfg   config
	mem   *memory.Memory
	shell *shell
	kvm   *kvm.VM   // the shell's
	vcpu  *kvm.VCPU // the shell's

	resume *kvm.State // a forked VM starts from its parent's vCPU state

	windows map[uint64]uint32 // shared objects' windows: gpa -> memory slot

	kick    atomic.Bool  // a signal is waiting: inject it at the next exit
	inRun   atomic.Bool  // the vCPU thread is in KVM_RUN
	tid     atomic.Int32 // vCPU thread, for kicks
	stopSig atomic.Int32 // set by Stop
	running atomic.Pointer[kvm.VCPU]
}

// ErrArgs says the arguments do not fit the guest's argument area.
var ErrArgs = errors.New("arguments and environment too large")

// newVM creates a VM with its memory laid out and the runtime loaded; Run
// starts it.
func newVM(sys *kvm.System, cfg config) (*VM, error) {
	v := &VM{sys: sys, cfg: cfg}
	err := v.attach(cfg.MemSize, func(at []byte) (*memory.Memory, error) { return memory.NewIn(cfg.MemSize, at) })
	if err != nil {
		v.Close()
		return nil, err
	}
	mem := v.mem.Host()
	writeGDT(mem)
	writeTSS(mem)
	writeIDT(mem, cfg.Runtime.Header.Fault_entry)
	writePageTables(mem, cfg.MemSize)
	cfg.Runtime.load(mem)
	if err = v.writeBoot(); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// Mem is the guest's RAM; nil once closed.
func (v *VM) Mem() machine.Memory {
	if v.mem == nil {
		return nil
	}
	return v.mem
}

// Close frees everything the VM holds. Safe to call twice.
func (v *VM) Close() {
	// The memory first, then the shell, which serves no other guest.
	if v.mem != nil {
		v.mem.Close()
		v.mem = nil
	}
	if v.shell != nil {
		v.cfg.Pool.retire(v.shell)
		v.shell, v.kvm, v.vcpu = nil, nil, nil
	}
}

// attach takes a shell and makes v's memory in its slot with newMem.
func (v *VM) attach(size uint64, newMem func(at []byte) (*memory.Memory, error)) error {
	var s *shell
	var err error
	if v.cfg.Pool != nil {
		s, err = v.cfg.Pool.get()
		v.cfg.Pool.ramSize.Store(size)
	} else {
		s, err = newShell(v.sys)
	}
	if err != nil {
		return err
	}
	v.shell, v.kvm, v.vcpu = s, s.vm, s.vcpu
	at, err := s.ram(size)
	if err != nil {
		return err
	}
	if err := s.setImage(v.cfg.Image); err != nil {
		return err
	}
	if v.mem, err = newMem(at); err != nil {
		return err
	}
	if v.cfg.Image != nil {
		v.mem.SetImage(abi.ImageGPA, v.cfg.Image.host)
	}
	return nil
}

func (v *VM) writeBoot() error {
	b := v.cfg.Boot
	args := v.mem.Host()[abi.ArgsAddr : abi.ArgsAddr+abi.ArgsMax]
	n := 0
	for _, s := range append(append([]string(nil), b.Argv...), b.Env...) {
		if n+len(s)+1 > len(args) {
			return fmt.Errorf("%w: at most %d KiB", ErrArgs, abi.ArgsMax>>10)
		}
		n += copy(args[n:], s)
		args[n] = 0
		n++
	}
	bi := machine.BootPage(v.mem)
	if bi == nil {
		return fmt.Errorf("boot page outside guest memory")
	}
	*bi = abi.Bootinfo{
		Magic: abi.BootMagic, Abi_version: abi.Version,
		Mem_size: v.cfg.MemSize, Flags: b.Flags,
		Tsc_khz: v.kvm.TSCKHz(), Hwcap: hwcap(v.sys.CPUID()),
		Stack_size: b.StackSize,
		Argc:       uint32(len(b.Argv)), Envc: uint32(len(b.Env)), Args_len: uint64(n),
		Pid: b.Pid, Ppid: b.Ppid, Uid: b.UID, Gid: b.GID, Fsuid: b.UID, Fsgid: b.GID, Nice: b.Nice, Random: b.Random,
	}
	if v.cfg.Image != nil {
		bi.Image_size = uint64(len(v.cfg.Image.host))
	}
	if len(b.Program) >= len(bi.Program) || len(b.Hostname) >= len(bi.Hostname) {
		return fmt.Errorf("program path or hostname too long")
	}
	if len(b.Groups) > len(bi.Groups) {
		return fmt.Errorf("%d supplementary groups: a guest holds at most %d", len(b.Groups), len(bi.Groups))
	}
	bi.Ngroups = uint32(copy(bi.Groups[:], b.Groups))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&bi.Program[0])), len(bi.Program)), b.Program)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&bi.Hostname[0])), len(bi.Hostname)), b.Hostname)
	return nil
}

// hwcap is AT_HWCAP: CPUID leaf 1 EDX, as Linux reports it on x86.
func hwcap(cpuid []kvm.CPUIDEntry2) uint64 {
	for _, e := range cpuid {
		if e.Function == 1 {
			return uint64(e.Edx)
		}
	}
	return 0
}

// xcr0 picks the XSAVE features to enable: x87, SSE, AVX and AVX-512 state
// that KVM supports. Zero when XSAVE is unsupported.
func xcr0(cpuid []kvm.CPUIDEntry2) uint64 {
	var xsave bool
	var mask uint64
	for _, e := range cpuid {
		switch {
		case e.Function == 1:
			xsave = e.Ecx&(1<<26) != 0
		case e.Function == 0xd && e.Index == 0:
			mask = uint64(e.Eax) | uint64(e.Edx)<<32
		}
	}
	if !xsave {
		return 0
	}
	return mask & 0xe7
}

func (v *VM) setupVCPU(c *kvm.VCPU) error {
	x := xcr0(v.sys.CPUID())
	sregs := bootSregs(x != 0)
	if err := c.SetSregs(&sregs); err != nil {
		return err
	}
	if x != 0 {
		if err := c.SetXCR0(x); err != nil {
			return err
		}
	}
	if err := c.SetMSRs(bootMSRs(v.cfg.Runtime.Header.Syscall_entry)); err != nil {
		return err
	}
	regs := kvm.Regs{Rip: v.cfg.Runtime.Header.Start, Rsp: abi.RTStackTop, Rflags: 0x2}
	return c.SetRegs(&regs)
}

// Stop asks a running VM to end as if killed by sig; safe from any goroutine.
func (v *VM) Stop(sig unix.Signal) {
	v.stopSig.CompareAndSwap(0, int32(sig))
	if c := v.running.Load(); c != nil {
		c.SetImmediateExit(true)
	}
	if tid := v.tid.Load(); tid != 0 {
		unix.Tgkill(unix.Getpid(), int(tid), unix.SIGURG) // Go ignores it; KVM_RUN returns EINTR
	}
}

// Run runs the guest until it exits, faults or is stopped, on the shell's
// thread (KVM wants vCPU ioctls from the thread that created the vCPU).
func (v *VM) Run(h machine.Handler) (exit machine.Exit, err error) {
	done := make(chan struct{})
	v.shell.jobs <- func() {
		exit, err = v.loop(h)
		close(done)
	}
	<-done
	return exit, err
}

func (v *VM) loop(h machine.Handler) (machine.Exit, error) {
	c := v.vcpu
	c.SetImmediateExit(false)
	setup := v.setupVCPU
	if v.resume != nil {
		setup = v.restoreVCPU
	}
	if err := setup(c); err != nil {
		return machine.Exit{}, err
	}
	v.resume = nil
	v.tid.Store(v.shell.tid)
	v.running.Store(c)
	defer func() {
		v.running.Store(nil)
		v.tid.Store(0)
	}()
	// afterHC: the guest has not run since a hypercall returned, so it is
	// in the runtime before its pending-signal check: a kick needs no
	// injection, nor even an interrupted KVM_RUN.
	afterHC := false
	for {
		if sig := v.stopSig.Load(); sig != 0 {
			return machine.Exit{Signal: unix.Signal(sig)}, nil
		}
		// inRun before kick, as Kick stores kick before it reads inRun:
		// one of the two sees the other.
		v.inRun.Store(true)
		if v.kick.Load() {
			if afterHC {
				v.kick.Store(false)
				c.SetImmediateExit(false)
			} else {
				c.SetImmediateExit(true)
			}
		}
		entered := !c.ImmediateExit()
		err := c.Run()
		v.inRun.Store(false)
		if entered {
			afterHC = false
		}
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				c.SetImmediateExit(false)
				if v.kick.Swap(false) && !afterHC {
					v.inject(c)
				}
				continue
			}
			return machine.Exit{}, fmt.Errorf("KVM_RUN: %w", err)
		}
		if e := v.handleExit(c, h); e != nil {
			return *e, nil
		}
		afterHC = c.ExitReason() == kvm.ExitIO
	}
}

// handleExit decodes one exit; nil means run on.
func (v *VM) handleExit(c *kvm.VCPU, h machine.Handler) *machine.Exit {
	switch r := c.ExitReason(); r {
	case kvm.ExitIO:
		io := c.IO()
		nr := io.Port - abi.HCPortBase
		if io.Direction != kvm.IODirOut || io.Size != 4 || io.Count != 1 || io.Port < abi.HCPortBase || nr >= abi.HCMax {
			return &machine.Exit{Signal: unix.SIGSYS, Msg: fmt.Sprintf("bad hypercall: port %#x size %d", io.Port, io.Size)}
		}
		if nr == abi.HCFault {
			return v.fault(c, io.Data)
		}
		return h.Hypercall(v, nr, io.Data)
	case kvm.ExitShutdown:
		return v.crash(c, "triple fault")
	case kvm.ExitHLT:
		return v.crash(c, "halted")
	case kvm.ExitMMIO:
		return v.crash(c, "access outside guest memory")
	case kvm.ExitInternalError:
		return v.crash(c, fmt.Sprintf("KVM internal error %d", c.ExitDetail()))
	case kvm.ExitFailEntry:
		return v.crash(c, fmt.Sprintf("KVM entry failure %#x", c.ExitDetail()))
	default:
		return v.crash(c, fmt.Sprintf("unexpected KVM exit %d", r))
	}
}

// Memory slots: 0 is RAM, 1 the image, the others shared objects' windows.
const (
	firstWindowSlot = 2
	maxWindows      = 128
)

// MapWindow maps h at gpa as a memory slot of its own (machine.Machine).
func (v *VM) MapWindow(gpa uint64, h []byte) error {
	if v.mem == nil || v.kvm == nil {
		return fmt.Errorf("map window: the VM is closed")
	}
	if gpa < abi.ShmGPA || gpa%memory.PageSize != 0 || len(h) == 0 || len(h)%memory.PageSize != 0 ||
		gpa-abi.ShmGPA > abi.ShmMax-uint64(len(h)) {
		return fmt.Errorf("map window: %#x+%#x is not in the window", gpa, len(h))
	}
	if v.windows == nil {
		v.windows = map[uint64]uint32{}
	}
	if _, ok := v.windows[gpa]; ok {
		return fmt.Errorf("map window: %#x is mapped already", gpa)
	}
	used := map[uint32]bool{}
	for _, s := range v.windows {
		used[s] = true
	}
	slot := uint32(firstWindowSlot)
	for used[slot] {
		slot++
	}
	if slot >= firstWindowSlot+maxWindows {
		return fmt.Errorf("map window: %d windows are mapped already", maxWindows)
	}
	if err := v.kvm.SetMemory(slot, gpa, h); err != nil {
		return err
	}
	v.windows[gpa] = slot
	v.mem.AddWindow(memory.Window{GPA: gpa, Host: h})
	return nil
}

// UnmapWindow deletes the slot of the window at gpa.
func (v *VM) UnmapWindow(gpa uint64) error {
	slot, ok := v.windows[gpa]
	if !ok || v.kvm == nil {
		return fmt.Errorf("unmap window: nothing at %#x", gpa)
	}
	if err := v.kvm.ClearMemory(slot); err != nil {
		return err
	}
	delete(v.windows, gpa)
	v.mem.RemoveWindow(gpa)
	return nil
}
