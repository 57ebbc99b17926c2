package hcall

import (
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Memory the run's processes share: MAP_SHARED objects, memfd_create and
// System V shared memory.

func init() {
	register(abi.HCShm, call(abi.HCShm, shm))
	register(abi.HCMemfd, call(abi.HCMemfd, memfd))
	register(abi.HCIpc, call(abi.HCIpc, ipc))
}

// shm makes and drops the shared objects of MAP_SHARED.
func shm(p *kernel.Task, _ machine.Memory, in abi.HCShmArgs, out *abi.HCShmArgs) int64 {
	switch in.Op {
	case abi.ShmFile:
		f, e := p.FDs.Get(int(in.Fd))
		if e != 0 {
			return errRet(e)
		}
		if in.Prot&^(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) != 0 {
			return errRet(unix.EINVAL)
		}
		gpa, may, e := p.ShmFile(f, in.Off, in.Size, in.Prot&unix.PROT_WRITE != 0)
		if e != 0 {
			return errRet(e)
		}
		out.Gpa, out.Prot = gpa, 0
		if may {
			out.Prot = unix.PROT_WRITE
		}
		return 0
	case abi.ShmAnon:
		gpa, e := p.ShmAnon(in.Size)
		if e != 0 {
			return errRet(e)
		}
		out.Gpa = gpa
		return 0
	case abi.ShmUnmap:
		return errRet(p.ShmUnmap(in.Gpa))
	}
	return errRet(unix.EINVAL)
}

// Flags of memfd_create(2); MFD_HUGETLB's pages are ordinary ones here.
const (
	mfdCloexec  = 0x1
	mfdSealing  = 0x2
	mfdHugetlb  = 0x4
	mfdNoexec   = 0x8
	mfdExec     = 0x10
	mfdHugeMask = 0x3f << 26
	memfdName   = 249 // NAME_MAX - len("memfd:")
)

func memfd(p *kernel.Task, m machine.Memory, in abi.HCMemfdArgs, _ *abi.HCMemfdArgs) int64 {
	known := uint32(mfdCloexec | mfdSealing | mfdHugetlb | mfdNoexec | mfdExec)
	if in.Flags&mfdHugetlb != 0 {
		known |= mfdHugeMask
	}
	if in.Flags&^known != 0 || in.Flags&mfdNoexec != 0 && in.Flags&mfdExec != 0 || in.Namelen > memfdName {
		return errRet(unix.EINVAL)
	}
	name, e := copyIn(m, in.Name, in.Namelen)
	if e != 0 {
		return errRet(e)
	}
	if p.NS.Memfd == nil { // a tree made without a run's filesystems
		return errRet(unix.ENOSYS)
	}
	c := p.Cred()
	f, e := p.NS.Memfd.Anon("/memfd:"+string(name)+" (deleted)", c.UID, c.GID)
	if e != 0 {
		return errRet(e)
	}
	return install(p, vfs.NewOpenFile(f, unix.O_RDWR|oLargefile), in.Flags&mfdCloexec != 0)
}

// ipc64 is the IPC_64 bit a program may add to a command; x86-64 has
// only the 64-bit structures.
const ipc64 = 0x100

func ipc(p *kernel.Task, m machine.Memory, in abi.HCIpcArgs, out *abi.HCIpcArgs) int64 {
	switch in.Op {
	case abi.IpcShmget:
		id, e := p.Shmget(in.Key, in.Size, in.Flags)
		if e != 0 {
			return errRet(e)
		}
		return int64(id)
	case abi.IpcShmat:
		gpa, size, e := p.Shmat(in.Id, in.Flags)
		if e != 0 {
			return errRet(e)
		}
		out.Gpa, out.Size = gpa, size
		return 0
	case abi.IpcShmctl:
		return shmctl(p, m, in.Id, in.Flags&^ipc64, in.Buf)
	}
	return errRet(unix.EINVAL)
}

func shmctl(p *kernel.Task, m machine.Memory, id, cmd int32, buf uint64) int64 {
	var c kernel.ShmCtl
	if cmd == unix.IPC_SET {
		ds, err := machine.ReadValue[abi.ShmidDs](m, buf)
		if err != nil {
			return errRet(unix.EFAULT)
		}
		c.Ds = ds
	}
	r, e := p.Shmctl(id, cmd, &c)
	if e != 0 {
		return errRet(e)
	}
	var err error
	switch cmd {
	case unix.IPC_STAT, kernel.ShmStat, kernel.ShmStatAny:
		err = machine.WriteValue(m, buf, c.Ds)
	case kernel.IpcInfo:
		err = machine.WriteValue(m, buf, c.Info)
	case kernel.ShmInfo:
		err = machine.WriteValue(m, buf, c.Used)
	}
	if err != nil {
		return errRet(unix.EFAULT)
	}
	return int64(r)
}
