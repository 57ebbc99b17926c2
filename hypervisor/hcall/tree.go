// Hypercalls that change the tree: mknodat ... statfs (numbers 42-52).

package hcall

import (
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Changing the tree: mkdir and mknod, rename, link, symlink, truncate,
// fallocate, the syncs, times, modes, owners and statfs. Each reads and
// checks the guest's arguments and hands the rest to the namespace
// (vfs/ops.go), which has Linux's order of checks.

func init() {
	register(abi.HCMknodat, call(abi.HCMknodat, mknodat))
	register(abi.HCRenameat, call(abi.HCRenameat, renameat))
	register(abi.HCLinkat, call(abi.HCLinkat, linkat))
	register(abi.HCSymlinkat, call(abi.HCSymlinkat, symlinkat))
	register(abi.HCTruncate, call(abi.HCTruncate, truncate))
	register(abi.HCFallocate, call(abi.HCFallocate, fallocate))
	register(abi.HCFsync, call(abi.HCFsync, fsync))
	register(abi.HCUtimensat, call(abi.HCUtimensat, utimensat))
	register(abi.HCFchmodat, call(abi.HCFchmodat, fchmodat))
	register(abi.HCFchownat, call(abi.HCFchownat, fchownat))
	register(abi.HCStatfs, call(abi.HCStatfs, statfs))
}

func mknodat(p *kernel.Task, m machine.Memory, in abi.HCMknodatArgs, _ *abi.HCMknodatArgs) int64 {
	if in.At.Flags != 0 {
		return errRet(unix.EINVAL)
	}
	dir, path, e := pathAt(p, m, in.At)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Mknod(p.Cred(), dir, path, in.Mode, in.Dev))
}

func renameat(p *kernel.Task, m machine.Memory, in abi.HCAt2Args, _ *abi.HCAt2Args) int64 {
	if in.From.Flags != 0 || in.To.Flags != 0 {
		return errRet(unix.EINVAL)
	}
	// Both names are read before anything is looked up, as Linux.
	if _, e := guestPath(m, in.To.Path, in.To.Pathlen); e != 0 {
		return errRet(e)
	}
	odir, op, e := pathAt(p, m, in.From)
	if e != 0 {
		return errRet(e)
	}
	ndir, np, e := pathAt(p, m, in.To)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Rename(p.Cred(), odir, op, ndir, np, in.Flags))
}

func linkat(p *kernel.Task, m machine.Memory, in abi.HCAt2Args, _ *abi.HCAt2Args) int64 {
	if in.From.Flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 || in.To.Flags != 0 || in.Flags != 0 {
		return errRet(unix.EINVAL)
	}
	c := p.Cred()
	if in.From.Pathlen == 0 && in.From.Flags&unix.AT_EMPTY_PATH != 0 && c.UID != 0 {
		return errRet(unix.ENOENT) // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH
	}
	old, _, e := fileAt(p, m, in.From, in.From.Flags&unix.AT_SYMLINK_FOLLOW != 0)
	if e != 0 {
		return errRet(e)
	}
	ndir, np, e := pathAt(p, m, in.To)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Link(c, old, ndir, np))
}

func symlinkat(p *kernel.Task, m machine.Memory, in abi.HCSymlinkatArgs, _ *abi.HCSymlinkatArgs) int64 {
	if in.At.Flags != 0 {
		return errRet(unix.EINVAL)
	}
	target, e := guestPath(m, in.Target, in.Targetlen)
	if e != 0 {
		return errRet(e)
	}
	if target == "" {
		return errRet(unix.ENOENT)
	}
	dir, path, e := pathAt(p, m, in.At)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Symlink(p.Cred(), target, dir, path))
}

// openFD is the description behind fd, for the calls on an open file.
func openFD(p *kernel.Task, fd int32) (*vfs.OpenFile, unix.Errno) {
	return p.FDs.Get(int(fd))
}

func truncate(p *kernel.Task, m machine.Memory, in abi.HCTruncateArgs, _ *abi.HCTruncateArgs) int64 {
	if in.At.Flags&^unix.AT_EMPTY_PATH != 0 {
		return errRet(unix.EINVAL)
	}
	if in.At.Pathlen == 0 && in.At.Flags&unix.AT_EMPTY_PATH != 0 { // ftruncate
		f, e := openFD(p, in.At.Dirfd)
		if e != 0 {
			return errRet(e)
		}
		if in.Length < 0 || f.Inode() == nil || !f.Writable() {
			return errRet(unix.EINVAL)
		}
		return errRet(p.NS.Truncate(p.Cred(), f.Inode(), f.File, in.Length))
	}
	if in.Length < 0 {
		return errRet(unix.EINVAL)
	}
	n, e := lookupAt(p, m, in.At, true)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Truncate(p.Cred(), n, nil, in.Length))
}

// allocator is an open file that fallocate can grow.
type allocator interface {
	Allocate(mode uint32, off, length int64) unix.Errno
}

func fallocate(p *kernel.Task, _ machine.Memory, in abi.HCFallocateArgs, _ *abi.HCFallocateArgs) int64 {
	f, e := openFD(p, in.Fd)
	if e != 0 {
		return errRet(e)
	}
	if in.Offset < 0 || in.Len <= 0 {
		return errRet(unix.EINVAL)
	}
	if in.Mode&^(unix.FALLOC_FL_KEEP_SIZE) != 0 {
		return errRet(unix.EOPNOTSUPP)
	}
	if !f.Writable() {
		return errRet(unix.EBADF)
	}
	n := f.Inode()
	if n == nil {
		return errRet(unix.ESPIPE)
	}
	var st abi.Stat
	if e := n.Stat(&st); e != 0 {
		return errRet(e)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return errRet(unix.EISDIR)
	default:
		return errRet(unix.ENODEV)
	}
	if in.Offset > 1<<63-1-in.Len {
		return errRet(unix.EFBIG)
	}
	a, ok := f.File.(allocator)
	if !ok {
		return errRet(unix.EOPNOTSUPP)
	}
	return errRet(a.Allocate(uint32(in.Mode), in.Offset, in.Len))
}

// syncer is an open file with data to write back.
type syncer interface {
	Sync(data bool) unix.Errno
}

func fsync(p *kernel.Task, _ machine.Memory, in abi.HCFsyncArgs, _ *abi.HCFsyncArgs) int64 {
	f, e := openFD(p, in.Fd)
	if e != 0 {
		return errRet(e)
	}
	switch in.Op {
	case abi.Syncfs:
		if n := f.Inode(); n != nil {
			return errRet(n.FS().Sync())
		}
		return 0
	case abi.Fsync, abi.Fdatasync:
		if s, ok := f.File.(syncer); ok {
			return errRet(s.Sync(in.Op == abi.Fdatasync))
		}
		if f.Inode() != nil {
			return 0 // in memory: nothing to write back
		}
		return errRet(unix.EINVAL) // a pipe ring
	}
	return errRet(unix.EINVAL)
}

func utimensat(p *kernel.Task, m machine.Memory, in abi.HCUtimensatArgs, _ *abi.HCUtimensatArgs) int64 {
	if in.At.Flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return errRet(unix.EINVAL)
	}
	times := [2]unix.Timespec{{Sec: in.Times[0].Sec, Nsec: in.Times[0].Nsec}, {Sec: in.Times[1].Sec, Nsec: in.Times[1].Nsec}}
	n, f, e := fileAt(p, m, in.At, in.At.Flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Utimes(p.Cred(), n, f, times))
}

func fchmodat(p *kernel.Task, m machine.Memory, in abi.HCFchmodatArgs, _ *abi.HCFchmodatArgs) int64 {
	if in.At.Flags&^unix.AT_EMPTY_PATH != 0 {
		return errRet(unix.EINVAL)
	}
	n, f, e := fileAt(p, m, in.At, true)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Chmod(p.Cred(), n, f, in.Mode))
}

func fchownat(p *kernel.Task, m machine.Memory, in abi.HCFchownatArgs, _ *abi.HCFchownatArgs) int64 {
	if in.At.Flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return errRet(unix.EINVAL)
	}
	n, f, e := fileAt(p, m, in.At, in.At.Flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Chown(p.Cred(), n, f, in.Uid, in.Gid))
}

// pipefsMagic is what fstatfs says of a pipe, socket or the host's stdio.
const pipefsMagic = 0x50495045

func statfs(p *kernel.Task, m machine.Memory, in abi.HCStatfsArgs, _ *abi.HCStatfsArgs) int64 {
	if in.At.Flags&^unix.AT_EMPTY_PATH != 0 {
		return errRet(unix.EINVAL)
	}
	var st abi.Statfs
	n, f, e := fileAt(p, m, in.At, true)
	switch {
	case e == unix.EINVAL && f != nil:
		st = abi.Statfs{Type: pipefsMagic, Bsize: 4096, Frsize: 4096, Namelen: 255}
	case e != 0:
		return errRet(e)
	default:
		p.NS.Statfs(n, &st)
	}
	if machine.WriteValue(m, in.Buf, st) != nil { // after the lookup, as Linux
		return errRet(unix.EFAULT)
	}
	return 0
}
