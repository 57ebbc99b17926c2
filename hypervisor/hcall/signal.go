package hcall

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Signals and process groups: kill, taking pending signals, waiting for
// them, signalfd, the interval timer; setpgid, setsid, getpgid, getsid.

func init() {
	register(abi.HCKill, call(abi.HCKill, kill))
	register(abi.HCSigwait, call(abi.HCSigwait, sigwait))
	register(abi.HCItimer, call(abi.HCItimer, itimer))
	register(abi.HCSetpgid, call(abi.HCSetpgid, setpgid))
	register(abi.HCSetsid, call(abi.HCSetsid, setsid))
	register(abi.HCGetpgid, call(abi.HCGetpgid, getpgid))
	register(abi.HCGetsid, call(abi.HCGetsid, getsid))
	register(abi.HCSignalfd, call(abi.HCSignalfd, signalfd))
	register(abi.HCStop, call(abi.HCStop, stop))
}

// stop holds the process, stopped by a signal, until SIGCONT.
func stop(p *kernel.Task, _ machine.Memory, in abi.HCStopArgs, _ *abi.HCStopArgs) int64 {
	return errRet(p.Stop(int(in.Sig)))
}

func signalfd(p *kernel.Task, _ machine.Memory, in abi.HCSignalfdArgs, _ *abi.HCSignalfdArgs) int64 {
	if in.Flags&^(unix.SFD_CLOEXEC|unix.SFD_NONBLOCK) != 0 {
		return errRet(unix.EINVAL)
	}
	if in.Fd != -1 {
		f, e := p.FDs.Get(int(in.Fd))
		if e != 0 {
			return errRet(e)
		}
		s, ok := f.File.(*kernel.Signalfd)
		if !ok {
			return errRet(unix.EINVAL)
		}
		s.SetMask(in.Mask)
		return int64(in.Fd)
	}
	f := vfs.NewOpenFile(kernel.NewSignalfd(p.Process, in.Mask), unix.O_RDWR|int(in.Flags)&unix.O_NONBLOCK)
	return install(p, f, in.Flags&unix.SFD_CLOEXEC != 0)
}

func kill(p *kernel.Task, _ machine.Memory, in abi.HCKillArgs, _ *abi.HCKillArgs) int64 {
	if in.Pid == -1<<31 {
		return errRet(unix.ESRCH)
	}
	return errRet(p.Kill(in.Pid, int(in.Sig)))
}

func sigwait(p *kernel.Task, _ machine.Memory, in abi.HCSigwaitArgs, _ *abi.HCSigwaitArgs) int64 {
	return errRet(p.SigWait(in.Timeout))
}

func itimer(p *kernel.Task, _ machine.Memory, in abi.HCItimerArgs, out *abi.HCItimerArgs) int64 {
	if in.Interval_ns < 0 || in.Value_ns > kernel.MaxWait || in.Interval_ns > kernel.MaxWait {
		return errRet(unix.EINVAL)
	}
	value := time.Duration(in.Value_ns)
	if in.Value_ns < 0 {
		value = -1 // only read
	}
	left, every := p.Itimer(value, time.Duration(in.Interval_ns))
	out.Value_ns, out.Interval_ns = int64(left), int64(every)
	return 0
}

func setpgid(p *kernel.Task, _ machine.Memory, in abi.HCSetpgidArgs, _ *abi.HCSetpgidArgs) int64 {
	if in.Pid < 0 {
		return errRet(unix.EINVAL)
	}
	return errRet(p.Setpgid(in.Pid, in.Pgid))
}

func setsid(p *kernel.Task, _ machine.Memory, _ abi.HCSetsidArgs, _ *abi.HCSetsidArgs) int64 {
	sid, e := p.Setsid()
	if e != 0 {
		return errRet(e)
	}
	return int64(sid)
}

func getpgid(p *kernel.Task, _ machine.Memory, in abi.HCGetpgidArgs, _ *abi.HCGetpgidArgs) int64 {
	pgid, _, e := p.Ids(in.Pid)
	if e != 0 {
		return errRet(e)
	}
	return int64(pgid)
}

func getsid(p *kernel.Task, _ machine.Memory, in abi.HCGetsidArgs, _ *abi.HCGetsidArgs) int64 {
	_, sid, e := p.Ids(in.Pid)
	if e != 0 {
		return errRet(e)
	}
	return int64(sid)
}
