// The path calls (open, mknod, unlink, rename, link, chmod ...) with Linux's order of checks.

package vfs

import (
	"crypto/rand"
	"encoding/hex"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// The calls that name paths, with Linux's order of checks (fs/namei.c):
// what the syscall layer (hypervisor/hcall) delegates to once it has read
// the guest's arguments.

// Renameat2's flags.
const (
	renameNoreplace = 1
	renameExchange  = 2
	renameWhiteout  = 4
)

// newOwner is who owns a file c creates in directory dst: c, with the
// directory's group if it is set-group-ID (and then a new directory is too).
func newOwner(c *Cred, dst *abi.Stat, mode uint32) *NewInode {
	a := &NewInode{Mode: mode, UID: c.UID, GID: c.GID}
	if dst.Mode&unix.S_ISGID != 0 {
		a.GID = dst.Gid
		if mode&unix.S_IFMT == unix.S_IFDIR {
			a.Mode |= unix.S_ISGID
		}
	}
	return a
}

// mayCreate checks that c may add a name to directory d.
func (ns *Namespace) mayCreate(c *Cred, d Inode) (abi.Stat, unix.Errno) {
	st, e := statOf(d)
	if e != 0 {
		return st, e
	}
	if e := ns.writable(d); e != 0 {
		return st, e
	}
	return st, permission(c, &st, mayWrite|mayExec)
}

// Open opens p (from dir) for c with open(2)'s flags; mode (umask
// applied) for a file O_CREAT makes.
func (ns *Namespace) Open(c *Cred, dir Inode, p string, flags int, mode uint32) (*OpenFile, unix.Errno) {
	if flags&unix.O_TMPFILE == unix.O_TMPFILE {
		return ns.openTmpfile(c, dir, p, flags, mode)
	}
	var n Inode
	created := false
	if flags&unix.O_CREAT != 0 {
		budget := maxSymlinks
		for {
			d, name, slash, e := ns.walkParent(c, dir, p, &budget)
			if e != 0 {
				return nil, e
			}
			if slash || name == "." || name == ".." {
				return nil, unix.EISDIR
			}
			n, e = ns.step(c, d, name, false, &budget)
			if e == unix.ENOENT {
				dst, e := ns.mayCreate(c, d)
				if e != 0 {
					return nil, e
				}
				if n, e = d.Create(name, newOwner(c, &dst, unix.S_IFREG|mode&0o7777)); e != 0 {
					return nil, e
				}
				created = true
				break
			}
			if e != 0 {
				return nil, e
			}
			if flags&unix.O_EXCL != 0 {
				return nil, unix.EEXIST
			}
			st, e := statOf(n)
			if e != 0 {
				return nil, e
			}
			if !isLink(&st) || flags&unix.O_NOFOLLOW != 0 {
				break
			}
			if isMagic(c, n) { // /dev/stdout, created over: the file it names
				return reopen(c, n)
			}
			// A symlink: O_CREAT makes what it names if that is missing.
			if budget--; budget < 0 {
				return nil, unix.ELOOP
			}
			if p, e = ReadlinkAs(c, n); e != 0 {
				return nil, e
			}
			dir = d
		}
	} else {
		var e unix.Errno
		if n, e = ns.Lookup(c, dir, p, flags&unix.O_NOFOLLOW == 0); e != 0 {
			return nil, e
		}
		if flags&unix.O_NOFOLLOW == 0 && isMagic(c, n) {
			return reopen(c, n)
		}
	}
	return ns.openInode(c, n, flags, created)
}

// reopen opens what the magic link n names.
func reopen(c *Cred, n Inode) (*OpenFile, unix.Errno) {
	f, e := n.(MagicLink).Reopen(c)
	if e != 0 {
		return nil, e
	}
	f.refs.Add(1) // the opener's, until a descriptor holds it (Held)
	return f, 0
}

// openInode opens n after may_open's checks (none for a file just made).
func (ns *Namespace) openInode(c *Cred, n Inode, flags int, created bool) (*OpenFile, unix.Errno) {
	acc := flags & unix.O_ACCMODE
	if acc == 3 {
		return nil, unix.EINVAL
	}
	st, e := statOf(n)
	if e != 0 {
		return nil, e
	}
	typ := st.Mode & unix.S_IFMT
	switch {
	case flags&unix.O_DIRECTORY != 0 && typ != unix.S_IFDIR:
		return nil, unix.ENOTDIR
	case typ == unix.S_IFLNK:
		return nil, unix.ELOOP
	case typ == unix.S_IFDIR && (acc != unix.O_RDONLY || flags&(unix.O_TRUNC|unix.O_CREAT) != 0):
		return nil, unix.EISDIR
	case typ == unix.S_IFSOCK:
		return nil, unix.ENXIO
	}
	trunc := flags&unix.O_TRUNC != 0 && typ == unix.S_IFREG
	if !created && flags&unix.O_PATH == 0 {
		var mask uint32
		if acc != unix.O_WRONLY {
			mask |= mayRead
		}
		if acc != unix.O_RDONLY || trunc {
			mask |= mayWrite
		}
		if e := permission(c, &st, mask); e != 0 {
			return nil, e
		}
		if mask&mayWrite != 0 && (typ == unix.S_IFREG || typ == unix.S_IFDIR) {
			if e := ns.writable(n); e != 0 {
				return nil, e
			}
		}
	}
	var f File
	switch o, ok := n.(OpenerAs); {
	case typ == unix.S_IFCHR && st.Rdev == devTTY:
		f, e = ns.openCtty(c, n, flags)
	case ok:
		f, e = o.OpenAs(c, flags)
	default:
		f, e = n.Open(flags)
	}
	if e != 0 {
		return nil, e
	}
	if trunc && !created {
		if e := setattr(f, n, &SetAttr{SetSize: true}); e != 0 {
			f.Close()
			return nil, e
		}
	}
	return NewOpenFile(f, flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_NOCTTY|unix.O_TRUNC|unix.O_CLOEXEC)), 0
}

// openTmpfile is O_TMPFILE: an unnamed file in directory p, made as a
// named one and unlinked at once.
func (ns *Namespace) openTmpfile(c *Cred, dir Inode, p string, flags int, mode uint32) (*OpenFile, unix.Errno) {
	if flags&unix.O_ACCMODE == unix.O_RDONLY {
		return nil, unix.EINVAL
	}
	d, e := ns.Lookup(c, dir, p, true)
	if e != 0 {
		return nil, e
	}
	st, e := statOf(d)
	if e != 0 {
		return nil, e
	}
	if !isDir(&st) {
		return nil, unix.ENOTDIR
	}
	if _, e := ns.mayCreate(c, d); e != 0 {
		return nil, e
	}
	var r [8]byte
	rand.Read(r[:])
	name := ".ukf-tmpfile-" + hex.EncodeToString(r[:])
	n, e := d.Create(name, newOwner(c, &st, unix.S_IFREG|mode&0o7777))
	if e != 0 {
		return nil, e
	}
	f, e := ns.openInode(c, n, flags&^(unix.O_TMPFILE&^unix.O_DIRECTORY|unix.O_DIRECTORY), true)
	d.Unlink(name, false)
	return f, e
}

// Mknod makes p: a directory (mkdir) or another file (mknod).
func (ns *Namespace) Mknod(c *Cred, dir Inode, p string, mode uint32, dev uint64) unix.Errno {
	d, name, slash, e := ns.LookupParent(c, dir, p)
	if e != 0 {
		return e
	}
	typ := mode & unix.S_IFMT
	if name == "." || name == ".." {
		return unix.EEXIST
	}
	if slash && typ != unix.S_IFDIR {
		budget := 0
		if _, e := ns.step(c, d, name, false, &budget); e == 0 {
			return unix.EEXIST
		}
		return unix.ENOENT
	}
	budget := 0
	if _, e := ns.step(c, d, name, false, &budget); e == 0 {
		return unix.EEXIST
	} else if e != unix.ENOENT {
		return e
	}
	dst, e := ns.mayCreate(c, d)
	if e != 0 {
		return e
	}
	switch typ {
	case unix.S_IFDIR, unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		if c.UID != 0 {
			return unix.EPERM
		}
	default:
		return unix.EINVAL
	}
	a := newOwner(c, &dst, mode&(unix.S_IFMT|0o7777))
	a.Rdev = dev
	_, e = d.Create(name, a)
	return e
}

// MayCreate reports what making p would fail with (EEXIST, ENOENT,
// EACCES, EROFS ...), without making it: for a call that must know before
// it commits anything else (bind).
func (ns *Namespace) MayCreate(c *Cred, dir Inode, p string) unix.Errno {
	d, name, _, e := ns.LookupParent(c, dir, p)
	if e != 0 {
		return e
	}
	if name == "." || name == ".." {
		return unix.EEXIST
	}
	budget := 0
	if _, e := ns.step(c, d, name, false, &budget); e == 0 {
		return unix.EEXIST
	} else if e != unix.ENOENT {
		return e
	}
	_, e = ns.mayCreate(c, d)
	return e
}

// Symlink makes p a symlink to target.
func (ns *Namespace) Symlink(c *Cred, target string, dir Inode, p string) unix.Errno {
	if target == "" {
		return unix.ENOENT
	}
	d, name, slash, e := ns.LookupParent(c, dir, p)
	if e != 0 {
		return e
	}
	budget := 0
	if name == "." || name == ".." {
		return unix.EEXIST
	}
	if _, e := ns.step(c, d, name, false, &budget); e == 0 {
		return unix.EEXIST
	} else if e != unix.ENOENT {
		return e
	}
	if slash {
		return unix.ENOENT
	}
	dst, e := ns.mayCreate(c, d)
	if e != 0 {
		return e
	}
	a := newOwner(c, &dst, unix.S_IFLNK|0o777)
	a.Target = target
	_, e = d.Create(name, a)
	return e
}

// Unlink removes p: a directory if rmdir (rmdir), else another file.
func (ns *Namespace) Unlink(c *Cred, dir Inode, p string, rmdir bool) unix.Errno {
	d, name, slash, e := ns.LookupParent(c, dir, p)
	if e != 0 {
		return e
	}
	switch {
	case rmdir && name == ".":
		if p == "/" || p[len(p)-1] == '/' && trimmedIsRoot(p) {
			return unix.EBUSY
		}
		return unix.EINVAL
	case rmdir && name == "..":
		return unix.ENOTEMPTY
	case name == "." || name == "..":
		return unix.EISDIR
	}
	if e := ns.writable(d); e != 0 {
		return e
	}
	budget := 0
	n, e := ns.step(c, d, name, false, &budget)
	if e != 0 {
		return e
	}
	dst, e := statOf(d)
	if e != 0 {
		return e
	}
	vst, e := statOf(n)
	if e != 0 {
		return e
	}
	if e := mayDelete(c, &dst, &vst); e != 0 {
		return e
	}
	switch {
	case rmdir && !isDir(&vst):
		return unix.ENOTDIR
	case !rmdir && isDir(&vst):
		return unix.EISDIR
	case !rmdir && slash:
		return unix.ENOTDIR
	case isDir(&vst) && (ns.isMountPoint(n) || n.FS() != d.FS()):
		return unix.EBUSY
	}
	return d.Unlink(name, rmdir)
}

func trimmedIsRoot(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			return false
		}
	}
	return true
}

// Rename is renameat2.
func (ns *Namespace) Rename(c *Cred, odir Inode, op string, ndir Inode, np string, flags uint32) unix.Errno {
	if flags&^(renameNoreplace|renameExchange|renameWhiteout) != 0 ||
		flags&(renameNoreplace|renameExchange) == renameNoreplace|renameExchange ||
		flags&renameWhiteout != 0 {
		return unix.EINVAL
	}
	od, oname, oslash, e := ns.LookupParent(c, odir, op)
	if e != 0 {
		return e
	}
	nd, nname, nslash, e := ns.LookupParent(c, ndir, np)
	if e != 0 {
		return e
	}
	if oname == "." || oname == ".." || nname == "." || nname == ".." {
		return unix.EBUSY
	}
	if od.FS() != nd.FS() {
		return unix.EXDEV
	}
	if e := ns.writable(od); e != 0 {
		return e
	}
	budget := 0
	on, e := ns.step(c, od, oname, false, &budget)
	if e != 0 {
		return e
	}
	if on.FS() != od.FS() { // a mount's root
		return unix.EBUSY
	}
	ost, e := statOf(on)
	if e != 0 {
		return e
	}
	nn, e := ns.step(c, nd, nname, false, &budget)
	switch {
	case e == unix.ENOENT:
		nn = nil
		if flags&renameExchange != 0 {
			return unix.ENOENT
		}
	case e != 0:
		return e
	case flags&renameNoreplace != 0:
		return unix.EEXIST
	}
	if (oslash || (nslash && flags&renameExchange == 0 && nn == nil)) && !isDir(&ost) {
		return unix.ENOTDIR
	}
	var nst abi.Stat
	if nn != nil {
		if nst, e = statOf(nn); e != 0 {
			return e
		}
		if nslash && !isDir(&nst) && flags&renameExchange != 0 {
			return unix.ENOTDIR
		}
		if nst.Ino == ost.Ino && nn.FS() == on.FS() && nst.Dev == ost.Dev {
			return 0 // two names of one file: nothing to do
		}
	}
	odst, e := statOf(od)
	if e != 0 {
		return e
	}
	if e := mayDelete(c, &odst, &ost); e != 0 {
		return e
	}
	ndst, e := statOf(nd)
	if e != 0 {
		return e
	}
	if nn != nil {
		if e := mayDelete(c, &ndst, &nst); e != 0 {
			return e
		}
	} else if e := permission(c, &ndst, mayWrite|mayExec); e != 0 {
		return e
	}
	if nn != nil && flags&renameExchange == 0 {
		switch {
		case isDir(&ost) && !isDir(&nst):
			return unix.ENOTDIR
		case !isDir(&ost) && isDir(&nst):
			return unix.EISDIR
		}
	}
	if ns.isMountPoint(on) || (nn != nil && (ns.isMountPoint(nn) || nn.FS() != nd.FS())) {
		return unix.EBUSY
	}
	// A directory cannot move below itself.
	if isDir(&ost) && ns.under(nd, on) {
		return unix.EINVAL
	}
	if nn != nil && flags&renameExchange != 0 && isDir(&nst) && ns.under(od, nn) {
		return unix.EINVAL
	}
	return od.Rename(oname, nd, nname, flags)
}

// under reports whether d is dir or lies below it, in one filesystem.
func (ns *Namespace) under(d, dir Inode) bool {
	// No bound on the depth: the walk ends at the root, as no rename may
	// make a loop (this check is what prevents one).
	for d != nil {
		if d == dir {
			return true
		}
		d, _ = d.Parent()
	}
	return false
}

// Link is linkat: a new name np for the file old names.
func (ns *Namespace) Link(c *Cred, old Inode, ndir Inode, np string) unix.Errno {
	nd, name, slash, e := ns.LookupParent(c, ndir, np)
	if e != 0 {
		return e
	}
	if name == "." || name == ".." {
		return unix.EEXIST
	}
	budget := 0
	if _, e := ns.step(c, nd, name, false, &budget); e == 0 {
		return unix.EEXIST
	} else if e != unix.ENOENT {
		return e
	}
	if slash {
		return unix.ENOENT
	}
	if old.FS() != nd.FS() {
		return unix.EXDEV
	}
	if _, e := ns.mayCreate(c, nd); e != 0 {
		return e
	}
	st, e := statOf(old)
	if e != 0 {
		return e
	}
	if isDir(&st) {
		return unix.EPERM
	}
	// fs.protected_hardlinks: only the owner links a file it may not
	// read and write, or a set-user-ID one.
	if !c.owns(&st) && (st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&unix.S_ISUID != 0 ||
		permission(c, &st, mayRead|mayWrite) != 0) {
		return unix.EPERM
	}
	return nd.Link(name, old)
}

// Chmod is fchmodat: only the owner (or root) changes a mode; a group
// the caller is not in loses the set-group-ID bit.
func (ns *Namespace) Chmod(c *Cred, n Inode, f File, mode uint32) unix.Errno {
	st, e := statOf(n)
	if e != 0 {
		return e
	}
	if e := ns.writable(n); e != 0 {
		return e
	}
	if !c.owns(&st) {
		return unix.EPERM
	}
	mode &= 0o7777
	if c.UID != 0 && !isDir(&st) && !c.InGroup(st.Gid) {
		mode &^= unix.S_ISGID
	}
	return setattr(f, n, &SetAttr{SetMode: true, Mode: mode})
}

// Chown is fchownat; -1 leaves an id as it is.
func (ns *Namespace) Chown(c *Cred, n Inode, f File, uid, gid uint32) unix.Errno {
	st, e := statOf(n)
	if e != 0 {
		return e
	}
	if e := ns.writable(n); e != 0 {
		return e
	}
	a := &SetAttr{SetUID: uid != ^uint32(0), UID: uid, SetGID: gid != ^uint32(0), GID: gid}
	if e := chownAllowed(c, &st, a); e != 0 {
		return e
	}
	// As Linux: a changed regular file loses set-user-ID, and set-group-ID
	// when the group may execute it.
	if (a.SetUID || a.SetGID) && st.Mode&unix.S_IFMT == unix.S_IFREG {
		kill := uint32(unix.S_ISUID)
		if st.Mode&unix.S_IXGRP != 0 {
			kill |= unix.S_ISGID
		}
		if st.Mode&kill != 0 {
			a.SetMode, a.Mode = true, st.Mode&0o7777&^kill
		}
	}
	return setattr(f, n, a)
}

// Utimes is utimensat with times already read (UTIME_NOW and UTIME_OMIT
// in Nsec).
func (ns *Namespace) Utimes(c *Cred, n Inode, f File, times [2]unix.Timespec) unix.Errno {
	st, e := statOf(n)
	if e != 0 {
		return e
	}
	for _, t := range times {
		if t.Nsec != unix.UTIME_NOW && t.Nsec != unix.UTIME_OMIT && (t.Nsec < 0 || t.Nsec >= 1e9) {
			return unix.EINVAL
		}
	}
	if times[0].Nsec == unix.UTIME_OMIT && times[1].Nsec == unix.UTIME_OMIT {
		return 0
	}
	if e := ns.writable(n); e != 0 {
		return e
	}
	now := nowSpec()
	a := &SetAttr{}
	explicit := false
	for i, t := range times {
		switch t.Nsec {
		case unix.UTIME_OMIT:
			continue
		case unix.UTIME_NOW:
			t = now
		default:
			explicit = true
		}
		if i == 0 {
			a.SetAtime, a.Atime = true, t
		} else {
			a.SetMtime, a.Mtime = true, t
		}
	}
	if !c.owns(&st) {
		if explicit {
			return unix.EPERM
		}
		if permission(c, &st, mayWrite) != 0 {
			return unix.EACCES
		}
	}
	return setattr(f, n, a)
}

// Truncate is truncate(2) of a path (f nil) or ftruncate(2) of an open
// file, whose access was checked at open.
func (ns *Namespace) Truncate(c *Cred, n Inode, f File, size int64) unix.Errno {
	if size < 0 {
		return unix.EINVAL
	}
	st, e := statOf(n)
	if e != 0 {
		return e
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		if f != nil {
			return unix.EINVAL
		}
		return unix.EISDIR
	default:
		return unix.EINVAL
	}
	if f == nil {
		if e := permission(c, &st, mayWrite); e != 0 {
			return e
		}
		if e := ns.writable(n); e != 0 {
			return e
		}
	}
	return setattr(f, n, &SetAttr{SetSize: true, Size: size})
}

// Access is faccessat's check of mode (R_OK, W_OK, X_OK) for c.
func (ns *Namespace) Access(c *Cred, n Inode, mode uint32) unix.Errno {
	st, e := statOf(n)
	if e != 0 {
		return e
	}
	if mode == 0 {
		return 0
	}
	var mask uint32
	if mode&unix.R_OK != 0 {
		mask |= mayRead
	}
	if mode&unix.W_OK != 0 {
		mask |= mayWrite
	}
	if mode&unix.X_OK != 0 {
		mask |= mayExec
	}
	if e := permission(c, &st, mask); e != 0 {
		return e
	}
	if mask&mayWrite != 0 {
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
			return ns.writable(n)
		}
	}
	return 0
}

// Statfs describes the filesystem holding n.
func (ns *Namespace) Statfs(n Inode, st *abi.Statfs) {
	*st = abi.Statfs{}
	n.FS().Statfs(st)
	if ns.mountOf(n).ReadOnly {
		st.Flags |= unix.ST_RDONLY
	}
}

// fileSetattr is implemented by open files that change their file
// themselves (a volume's host descriptor), not through its inode.
type fileSetattr interface {
	Setattr(a *SetAttr) unix.Errno
}

func setattr(f File, n Inode, a *SetAttr) unix.Errno {
	if fs, ok := f.(fileSetattr); ok {
		return fs.Setattr(a)
	}
	return n.Setattr(a)
}
