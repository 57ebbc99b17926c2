package hcall

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// Event and notification descriptors: epoll, eventfd, timerfd.

func init() {
	register(abi.HCEpollCreate, call(abi.HCEpollCreate, epollCreate))
	register(abi.HCEpollCtl, call(abi.HCEpollCtl, epollCtl))
	register(abi.HCEpollWait, call(abi.HCEpollWait, epollWait))
	register(abi.HCEventfd, call(abi.HCEventfd, eventfd))
	register(abi.HCTimerfd, call(abi.HCTimerfd, timerfd))
}

// sizeofEpollEvent is struct epoll_event on x86-64: packed, 12 bytes.
const sizeofEpollEvent = 12

// install puts a new description at the lowest free fd.
func install(p *kernel.Task, f *vfs.OpenFile, cloexec bool) int64 {
	fd, e := p.FDs.Install(f, cloexec)
	if e != 0 {
		f.File.Close()
		return errRet(e)
	}
	return int64(fd)
}

func epollCreate(p *kernel.Task, _ machine.Memory, in abi.HCEpollCreateArgs, _ *abi.HCEpollCreateArgs) int64 {
	if in.Flags&^unix.EPOLL_CLOEXEC != 0 {
		return errRet(unix.EINVAL)
	}
	ep, e := vfs.NewEpoll(p.Budget())
	if e != 0 {
		return errRet(e)
	}
	return install(p, vfs.NewOpenFile(ep, unix.O_RDWR), in.Flags&unix.EPOLL_CLOEXEC != 0)
}

// epollCtl checks in Linux's order: the event, both fds, that the target
// can be waited for, then that epfd is an epoll other than the target.
func epollCtl(p *kernel.Task, m machine.Memory, in abi.HCEpollCtlArgs, _ *abi.HCEpollCtlArgs) int64 {
	var events uint32
	var data uint64
	if in.Op != unix.EPOLL_CTL_DEL {
		b, e := copyIn(m, in.Event, sizeofEpollEvent)
		if e != 0 {
			return errRet(e)
		}
		events, data = binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[4:])
	}
	epf, e := p.FDs.Get(int(in.Epfd))
	if e != 0 {
		return errRet(e)
	}
	tf, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return errRet(e)
	}
	if _, ok := tf.File.(waiter.Waitable); !ok {
		return errRet(unix.EPERM)
	}
	ep, ok := epf.File.(*vfs.Epoll)
	if !ok {
		return errRet(unix.EINVAL)
	}
	return errRet(ep.Ctl(int(in.Op), int(in.Fd), tf, events, data))
}

func epollWait(p *kernel.Task, m machine.Memory, in abi.HCEpollWaitArgs, _ *abi.HCEpollWaitArgs) int64 {
	if in.Maxevents <= 0 || in.Maxevents > (1<<31-1)/sizeofEpollEvent {
		return errRet(unix.EINVAL)
	}
	max := int(in.Maxevents)
	if _, err := machine.Segments(m, in.Events, uint64(max)*sizeofEpollEvent, true); err != nil {
		return errRet(unix.EFAULT)
	}
	f, e := p.FDs.Get(int(in.Epfd))
	if e != 0 {
		return errRet(e)
	}
	ep, ok := f.File.(*vfs.Epoll)
	if !ok {
		return errRet(unix.EINVAL)
	}
	deadline := kernel.Deadline(in.Timeout)
	wait := []waiter.Entry{{W: ep, Events: unix.POLLIN}}
	for {
		if evs := ep.Collect(max); len(evs) > 0 {
			out := make([]byte, len(evs)*sizeofEpollEvent)
			for i, ev := range evs {
				binary.LittleEndian.PutUint32(out[i*sizeofEpollEvent:], ev.Events)
				binary.LittleEndian.PutUint64(out[i*sizeofEpollEvent+4:], ev.Data)
			}
			if e := copyOut(m, in.Events, out); e != 0 {
				return errRet(e)
			}
			return int64(len(evs))
		}
		if in.Timeout == 0 {
			return 0
		}
		switch e := p.Block(wait, deadline); e {
		case 0:
		case unix.ETIMEDOUT:
			in.Timeout = 0 // one last look
		default:
			return errRet(e)
		}
	}
}

func eventfd(p *kernel.Task, _ machine.Memory, in abi.HCEventfdArgs, _ *abi.HCEventfdArgs) int64 {
	f, e := vfs.NewEventfd(p.Budget(), in.Initval, int(in.Flags))
	if e != 0 {
		return errRet(e)
	}
	return install(p, f, in.Flags&unix.EFD_CLOEXEC != 0)
}

func timerfd(p *kernel.Task, m machine.Memory, in abi.HCTimerfdArgs, _ *abi.HCTimerfdArgs) int64 {
	if in.Op == abi.TimerfdCreate {
		f, e := vfs.NewTimerfd(p.Budget(), int(in.Fd), int(in.Flags))
		if e != 0 {
			return errRet(e)
		}
		return install(p, f, in.Flags&unix.TFD_CLOEXEC != 0)
	}
	var nv []byte
	if in.Op == abi.TimerfdSet {
		// Linux reads the new value before it looks at the fd.
		b, e := copyIn(m, in.New_value, vfs.ItimerspecSize)
		if e != 0 {
			return errRet(e)
		}
		nv = b
	}
	f, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return errRet(e)
	}
	t, ok := f.File.(*vfs.Timerfd)
	if !ok {
		return errRet(unix.EINVAL)
	}
	cur := make([]byte, vfs.ItimerspecSize)
	switch in.Op {
	case abi.TimerfdSet:
		old := cur
		if in.Old_value == 0 {
			old = nil
		}
		if e := t.Settime(int(in.Flags), nv, old); e != 0 {
			return errRet(e)
		}
		if old == nil {
			return 0
		}
	case abi.TimerfdGet:
		if e := t.Gettime(cur); e != 0 {
			return errRet(e)
		}
	default:
		return errRet(unix.EINVAL)
	}
	return errRet(copyOut(m, in.Old_value, cur))
}
