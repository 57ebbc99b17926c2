package hcall

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Processes: fork, wait, identity.

func init() {
	register(abi.HCFork, fork)
	register(abi.HCWait4, call(abi.HCWait4, wait4))
	register(abi.HCProcinfo, call(abi.HCProcinfo, procinfo))
	register(abi.HCExecve, call(abi.HCExecve, execve))
	register(abi.HCPrlimit, call(abi.HCPrlimit, prlimit))
}

// execve is told when a program replaces itself (the guest loads it):
// descriptors marked close-on-exec close, and the process takes its name.
func execve(p *kernel.Task, m machine.Memory, in abi.HCExecveArgs, _ *abi.HCExecveArgs) int64 {
	path, e := guestPath(m, in.Path, in.Pathlen)
	if e != 0 {
		return errRet(e)
	}
	p.Exec(path)
	return 0
}

// cloneVM is CLONE_VM: threads, which ukfork does not run (yet).
const cloneVM = 0x100

func fork(p *kernel.Task, m machine.Memory, gpa uint64) *machine.Exit {
	a, err := machine.Ptr[abi.HCForkArgs](m, gpa)
	if err != nil {
		return badCall(abi.HCFork, gpa, "argument out of guest memory")
	}
	if a.Flags&cloneVM != 0 {
		a.Ret = errRet(unix.ENOSYS)
		return nil
	}
	pid, e := p.Fork(gpa)
	if e != 0 {
		a.Ret = errRet(e)
		return nil
	}
	a.Ret = int64(pid)
	return nil
}

// sizeofRusage is struct rusage on x86-64.
const sizeofRusage = 144

func wait4(p *kernel.Task, m machine.Memory, in abi.HCWait4Args, _ *abi.HCWait4Args) int64 {
	if in.Pid == -1<<31 { // -INT_MIN has no process group
		return errRet(unix.ESRCH)
	}
	pid, ws, e := p.Wait4(in.Pid, int(in.Options))
	if e != 0 {
		return errRet(e)
	}
	if pid == 0 { // WNOHANG and no child has changed
		return 0
	}
	// As Linux, the child is reaped before the pointers are written: a bad
	// one is EFAULT, and that child is gone.
	if in.Status != 0 {
		if e := copyOut(m, in.Status, binary.LittleEndian.AppendUint32(nil, uint32(ws))); e != 0 {
			return errRet(e)
		}
	}
	if in.Rusage != 0 {
		if e := copyOut(m, in.Rusage, make([]byte, sizeofRusage)); e != 0 {
			return errRet(e)
		}
	}
	return int64(pid)
}

func procinfo(p *kernel.Task, _ machine.Memory, _ abi.HCProcinfoArgs, out *abi.HCProcinfoArgs) int64 {
	out.Pid, out.Ppid, out.Pgid, out.Sid = p.Info()
	out.Procs = uint32(p.RunProcs())
	return 0
}

// prlimit is prlimit64(2) on any process of the run; the guest reads its
// own limits without asking.
func prlimit(p *kernel.Task, _ machine.Memory, in abi.HCPrlimitArgs, out *abi.HCPrlimitArgs) int64 {
	if in.Flags&^abi.PrlimitSet != 0 {
		return errRet(unix.EINVAL)
	}
	var nl *abi.Rlimit
	if in.Flags&abi.PrlimitSet != 0 {
		nl = &in.New_lim
	}
	old, e := p.Prlimit(in.Pid, in.Resource, nl)
	if e != 0 {
		return errRet(e)
	}
	out.Old_lim = old
	return 0
}
