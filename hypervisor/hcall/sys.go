package hcall

import (
	"crypto/rand"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Process lifetime, clocks, randomness and memory: the calls that touch no file.

func init() {
	register(abi.HCExit, func(p *kernel.Task, m machine.Memory, gpa uint64) *machine.Exit {
		a, err := machine.Ptr[abi.HCExitArgs](m, gpa)
		if err != nil {
			return badCall(abi.HCExit, gpa, "argument out of guest memory")
		}
		if sig := a.Signal; sig > 0 && sig < 65 {
			return &machine.Exit{Signal: unix.Signal(sig)}
		}
		return &machine.Exit{Code: int(a.Status) & 0xff}
	})
	register(abi.HCStarted, call(abi.HCStarted, started))
	register(abi.HCUnsupported, call(abi.HCUnsupported, unsupported))
	register(abi.HCTrace, call(abi.HCTrace, trace))
	register(abi.HCClock, call(abi.HCClock, clock))
	register(abi.HCNanosleep, call(abi.HCNanosleep, nanosleep))
	register(abi.HCGetrandom, call(abi.HCGetrandom, getrandom))
	register(abi.HCDiscard, call(abi.HCDiscard, discard))
}

func started(p *kernel.Task, _ machine.Memory, _ abi.HCStartedArgs, _ *abi.HCStartedArgs) int64 {
	if p.StartedAt.IsZero() {
		p.StartedAt = time.Now()
		if p.OnStarted != nil {
			p.OnStarted()
		}
	}
	return 0
}

// maxSyscallNr bounds what we remember about a hostile guest's numbers.
const maxSyscallNr = 4096

func unsupported(p *kernel.Task, _ machine.Memory, in abi.HCSyscallArgs, _ *abi.HCSyscallArgs) int64 {
	nr := in.Nr
	if nr >= maxSyscallNr {
		nr = maxSyscallNr
	}
	if !p.Reported[nr] {
		p.Reported[nr] = true
		fmt.Fprintf(p.Stderr, "ukfork: syscall %s is not implemented; the program gets ENOSYS\n", syscallName(in.Nr))
	}
	return 0
}

func syscallName(nr uint64) string {
	if n, ok := syscallNames[nr]; ok {
		return fmt.Sprintf("%s (%d)", n, nr)
	}
	return fmt.Sprintf("%d", nr)
}

func clock(_ *kernel.Task, _ machine.Memory, _ abi.HCClockArgs, out *abi.HCClockArgs) int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	out.Realtime_ns = time.Now().UnixNano()
	out.Monotonic_ns = ts.Nano()
	return 0
}

func nanosleep(p *kernel.Task, _ machine.Memory, in abi.HCNanosleepArgs, _ *abi.HCNanosleepArgs) int64 {
	if in.Duration < 0 {
		return errRet(unix.EINVAL)
	}
	return errRet(p.Sleep(time.Duration(in.Duration)))
}

// maxRandom is Linux's cap on one getrandom call.
const maxRandom = 1<<25 - 1

func getrandom(_ *kernel.Task, m machine.Memory, in abi.HCGetrandomArgs, _ *abi.HCGetrandomArgs) int64 {
	n := min(in.Len, maxRandom)
	segs, err := machine.Segments(m, in.Buf, n, true)
	if len(segs) == 0 && err != nil {
		return errRet(unix.EFAULT)
	}
	done := 0
	for _, s := range segs {
		rand.Read(s)
		done += len(s)
	}
	return int64(done)
}

// discard takes guest-physical frames: the runtime gives back the RAM
// behind pages it no longer maps.
func discard(_ *kernel.Task, m machine.Memory, in abi.HCDiscardArgs, _ *abi.HCDiscardArgs) int64 {
	if in.Addr < abi.UserMin {
		return errRet(unix.EINVAL)
	}
	if err := m.Discard(in.Addr, in.Len); err != nil {
		return errRet(vfs.Errno(err))
	}
	return 0
}
