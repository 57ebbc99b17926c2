package hcall

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Descriptors: pipe, dup, fcntl. The fd table and the open file
// descriptions live here on the host, so fork shares them as Linux does.

func init() {
	register(abi.HCPipe, call(abi.HCPipe, pipe))
	register(abi.HCRingWake, ringWake)
	register(abi.HCDup, call(abi.HCDup, dup))
	register(abi.HCFcntl, call(abi.HCFcntl, fcntl))
}

func pipe(p *kernel.Task, m machine.Memory, in abi.HCPipeArgs, _ *abi.HCPipeArgs) int64 {
	flags := int(in.Flags)
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return errRet(unix.EINVAL)
	}
	// Linux checks the array before it makes the pipe.
	if _, err := machine.Segments(m, in.Fds, 8, true); err != nil {
		return errRet(unix.EFAULT)
	}
	out := func(fds []byte) unix.Errno { return copyOut(m, in.Fds, fds) }
	// A ring both VMs map when the caller's VM has a slot for it (see
	// vfs.Ring); a host pipe otherwise.
	if p.CanMapRing() {
		if r, w, ring, e := newRingPipe(p, flags); e == 0 {
			if p.MapRing(ring) {
				ret := installPair(p, r, w, flags&unix.O_CLOEXEC != 0, out)
				p.DropRing(ring) // unless an fd names it now
				return ret
			}
			r.File.Close()
			w.File.Close()
		}
	}
	r, w, e := vfs.NewPipe(p.Budget(), flags)
	if e != 0 {
		return errRet(e)
	}
	return installPair(p, r, w, flags&unix.O_CLOEXEC != 0, out)
}

func newRingPipe(p *kernel.Task, flags int) (r, w *vfs.OpenFile, ring *vfs.Ring, e unix.Errno) {
	return vfs.NewRingPipe(p.Budget(), p.NewChunk, flags)
}

// ringWake: a guest changed a ring and found someone waiting on it.
func ringWake(p *kernel.Task, _ machine.Memory, slot uint64) *machine.Exit {
	if r := p.Ring(slot); r != nil {
		r.Wake()
	}
	return nil
}

// installPair gives two new descriptions (a pipe's ends, a socketpair) the
// lowest free descriptors and writes them with out (two int32s); on failure
// nothing stays open.
func installPair(p *kernel.Task, a, b *vfs.OpenFile, cloexec bool, out func([]byte) unix.Errno) int64 {
	fa, e := p.FDs.Install(a, cloexec)
	if e != 0 {
		a.File.Close()
		b.File.Close()
		return errRet(e)
	}
	fb, e := p.FDs.Install(b, cloexec)
	if e != 0 {
		p.FDs.Close(fa)
		b.File.Close()
		return errRet(e)
	}
	var fds [8]byte
	binary.LittleEndian.PutUint32(fds[0:], uint32(fa))
	binary.LittleEndian.PutUint32(fds[4:], uint32(fb))
	if e := out(fds[:]); e != 0 {
		p.FDs.Close(fa)
		p.FDs.Close(fb)
		return errRet(e)
	}
	return 0
}

func dup(p *kernel.Task, _ machine.Memory, in abi.HCDupArgs, _ *abi.HCDupArgs) int64 {
	mode := in.Mode
	if mode&^(abi.DupTo|abi.DupCloexec) != 0 || in.Newfd < 0 || in.Newfd > 1<<30 {
		if mode&abi.DupTo != 0 {
			return errRet(unix.EBADF)
		}
		return errRet(unix.EINVAL)
	}
	cloexec := mode&abi.DupCloexec != 0
	var fd int
	var e unix.Errno
	if mode&abi.DupTo != 0 {
		fd, e = p.FDs.Dup2(int(in.Fd), int(in.Newfd), cloexec)
	} else {
		fd, e = p.FDs.Dup(int(in.Fd), int(in.Newfd), cloexec)
	}
	if e != 0 {
		return errRet(e)
	}
	return int64(fd)
}

// Linux fcntl commands handled here.
const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fSetown       = 8
	fGetown       = 9
	fSetsig       = 10
	fGetsig       = 11
	fSetownEx     = 15
	fGetownEx     = 16
	fDupfdCloexec = 1030
	fdCloexec     = 1

	fOwnerTid  = 0
	fOwnerPid  = 1
	fOwnerPgrp = 2
)

// ownerExists checks an F_SETOWN target: ESRCH for a process or group
// the run does not have (0 is nobody).
func ownerExists(p *kernel.Task, o vfs.Owner) unix.Errno {
	if o.ID == 0 {
		return 0
	}
	if o.Type == fOwnerPgrp {
		if !p.GroupExists(o.ID) {
			return unix.ESRCH
		}
		return 0
	}
	_, _, e := p.Ids(o.ID)
	return e
}

func fcntl(p *kernel.Task, m machine.Memory, in abi.HCFcntlArgs, _ *abi.HCFcntlArgs) int64 {
	fd := int(in.Fd)
	f, e := p.FDs.Get(fd)
	if e != 0 {
		return errRet(e)
	}
	arg := in.Arg
	if isLockCmd(in.Cmd) {
		return lockCmd(p, m, f, in.Cmd, arg)
	}
	switch in.Cmd {
	case fDupfd, fDupfdCloexec:
		if arg >= uint64(p.FDs.Max()) { // a negative int64 too, as Linux's unsigned long
			return errRet(unix.EINVAL)
		}
		nfd, e := p.FDs.Dup(fd, int(arg), in.Cmd == fDupfdCloexec)
		if e != 0 {
			return errRet(e)
		}
		return int64(nfd)
	case fGetfd:
		on, _ := p.FDs.Cloexec(fd)
		if on {
			return fdCloexec
		}
		return 0
	case fSetfd:
		return errRet(p.FDs.SetCloexec(fd, arg&fdCloexec != 0))
	case fGetfl:
		return int64(f.Flags())
	case fSetfl:
		f.SetFlags(int(arg))
		return 0
	case fGetown:
		o := f.Owner()
		if o.Type == fOwnerPgrp {
			return -int64(o.ID)
		}
		return int64(o.ID)
	case fSetown:
		who := int32(arg)
		o := f.Owner()
		o.Type, o.ID = fOwnerPid, who
		if who < 0 {
			o.Type, o.ID = fOwnerPgrp, -who
		}
		if e := ownerExists(p, o); e != 0 {
			return errRet(e)
		}
		f.SetOwner(o)
		return 0
	case fGetownEx:
		o := f.Owner()
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(o.Type))
		binary.LittleEndian.PutUint32(b[4:], uint32(o.ID))
		return errRet(copyOut(m, arg, b))
	case fSetownEx:
		b, e := copyIn(m, arg, 8)
		if e != 0 {
			return errRet(e)
		}
		o := f.Owner()
		o.Type, o.ID = int32(binary.LittleEndian.Uint32(b)), int32(binary.LittleEndian.Uint32(b[4:]))
		if o.Type < fOwnerTid || o.Type > fOwnerPgrp || o.ID < 0 {
			return errRet(unix.EINVAL)
		}
		if o.Type == fOwnerTid {
			o.Type = fOwnerPid // one thread a process: the thread is the process
		}
		if e := ownerExists(p, o); e != 0 {
			return errRet(e)
		}
		f.SetOwner(o)
		return 0
	case fGetsig:
		return int64(f.Owner().Sig)
	case fSetsig:
		if arg > 64 {
			return errRet(unix.EINVAL)
		}
		o := f.Owner()
		o.Sig = int32(arg)
		f.SetOwner(o)
		return 0
	default:
		return errRet(unix.EINVAL)
	}
}
