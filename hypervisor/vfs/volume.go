// Host directories mounted in the guest's tree, reached only through openat2 RESOLVE_IN_ROOT.

package vfs

import (
	"fmt"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Volume is a host directory mounted in the guest's tree (ukfork run
// --volume). The namespace hands it single names, symlinks already
// followed in the guest's tree; every host path it opens is opened
// relative to the volume's root with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS), and every change is made relative to a
// directory so opened with one name that holds no "/": "..", symlinks
// (absolute or relative, even ones swapped in by another process), renames
// and links cannot reach past the volume's root.
type Volume struct {
	root   int    // O_PATH descriptor of the host directory
	host   string // the host directory, for messages
	chown  bool   // ukfork is root: what the guest makes gets its ids
	budget *Budget
}

// NewVolume opens host directory dir for a run; budget counts the host
// descriptors its open files hold.
func NewVolume(dir string, budget *Budget) (*Volume, error) {
	if !path.IsAbs(dir) {
		return nil, fmt.Errorf("%s: not an absolute path", dir)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOTDIR {
			return nil, fmt.Errorf("%s: not a directory", dir)
		}
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &Volume{root: fd, host: dir, chown: os.Geteuid() == 0, budget: budget}, nil
}

// Close closes the volume's root descriptor (the run has ended).
func (v *Volume) Close() { unix.Close(v.root) }

func (v *Volume) Root() Inode { return &volInode{v: v} }

func (v *Volume) Sync() unix.Errno {
	fd, e := v.open("", unix.O_RDONLY|unix.O_DIRECTORY, 0) // syncfs wants more than O_PATH
	if e != 0 {
		return e
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return Errno(err)
	}
	return 0
}

func (v *Volume) Statfs(st *abi.Statfs) {
	var s unix.Statfs_t
	if unix.Fstatfs(v.root, &s) != nil {
		return
	}
	*st = abi.Statfs{Type: s.Type, Bsize: s.Bsize, Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail,
		Files: s.Files, Ffree: s.Ffree, Fsid: s.Fsid.Val, Namelen: s.Namelen, Frsize: s.Frsize,
		Flags: s.Flags &^ unix.ST_RDONLY}
}

// open opens rel (canonical, relative to the root) confined to the root.
func (v *Volume) open(rel string, flags int, mode uint32) (int, unix.Errno) {
	if rel == "" {
		rel = "."
	}
	for {
		fd, err := unix.Openat2(v.root, rel, &unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Mode:    uint64(mode),
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == unix.EINTR || err == unix.EAGAIN { // EAGAIN: a rename raced the lookup
			continue
		}
		if err != nil {
			return -1, Errno(err)
		}
		return fd, 0
	}
}

// dir opens rel as a directory to change names in.
func (v *Volume) dir(rel string) (int, unix.Errno) {
	return v.open(rel, unix.O_PATH|unix.O_DIRECTORY, 0)
}

// volInode is a file of a volume, named by its path from the root.
type volInode struct {
	v   *Volume
	rel string
}

func (n *volInode) FS() Filesystem { return n.v }

func (n *volInode) child(name string) string {
	if n.rel == "" {
		return name
	}
	return n.rel + "/" + name
}

func (n *volInode) Parent() (Inode, string) {
	if n.rel == "" {
		return nil, ""
	}
	d := path.Dir(n.rel)
	if d == "." {
		d = ""
	}
	return &volInode{v: n.v, rel: d}, path.Base(n.rel)
}

// pathFD opens the file itself (a symlink too) as O_PATH.
func (n *volInode) pathFD() (int, unix.Errno) {
	return n.v.open(n.rel, unix.O_PATH|unix.O_NOFOLLOW, 0)
}

func (n *volInode) Stat(st *abi.Stat) unix.Errno {
	fd, e := n.pathFD()
	if e != 0 {
		return e
	}
	defer unix.Close(fd)
	return fstat(fd, st)
}

func fstat(fd int, st *abi.Stat) unix.Errno {
	var s unix.Stat_t
	if err := unix.Fstat(fd, &s); err != nil {
		return Errno(err)
	}
	*st = abi.Stat{
		Dev: s.Dev, Ino: s.Ino, Nlink: s.Nlink, Mode: s.Mode, Uid: s.Uid, Gid: s.Gid,
		Rdev: s.Rdev, Size: s.Size, Blksize: s.Blksize, Blocks: s.Blocks,
		Atime_sec: s.Atim.Sec, Atime_nsec: s.Atim.Nsec,
		Mtime_sec: s.Mtim.Sec, Mtime_nsec: s.Mtim.Nsec,
		Ctime_sec: s.Ctim.Sec, Ctime_nsec: s.Ctim.Nsec,
	}
	return 0
}

func (n *volInode) Lookup(name string) (Inode, unix.Errno) {
	if e := validName(name); e != 0 {
		return nil, e
	}
	c := &volInode{v: n.v, rel: n.child(name)}
	fd, e := c.pathFD()
	if e != 0 {
		return nil, e
	}
	unix.Close(fd)
	return c, 0
}

func (n *volInode) Readlink() (string, unix.Errno) {
	fd, e := n.pathFD()
	if e != 0 {
		return "", e
	}
	defer unix.Close(fd)
	buf := make([]byte, unix.PathMax)
	k, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		if err == unix.ENOENT {
			return "", unix.EINVAL // not a symlink
		}
		return "", Errno(err)
	}
	return string(buf[:k]), 0
}

// openFlags are what the guest's open flags become on the host: the file
// exists and is no symlink (the namespace saw to both), so never create,
// never follow, never make the host's terminal ours.
const openKeep = unix.O_ACCMODE | unix.O_APPEND | unix.O_NONBLOCK | unix.O_DIRECTORY | unix.O_DSYNC | unix.O_SYNC | unix.O_NOATIME

func (n *volInode) Open(flags int) (File, unix.Errno) {
	if e := n.v.budget.takeFDs(1); e != 0 {
		return nil, e
	}
	// Non-blocking on the host, as every descriptor ukfork owns: a FIFO
	// or device a volume holds waits through the task (HostFile.ReadWait),
	// where signals and the run's end interrupt it, never in the host call.
	fd, e := n.v.open(n.rel, flags&openKeep|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if e != 0 {
		n.v.budget.giveFDs(1)
		return nil, e
	}
	return &volFile{HostFile: HostFile{FD: fd, Owned: true, budget: n.v.budget}, n: n}, 0
}

// owned gives what the guest made its ids when ukfork runs as root.
func (n *volInode) owned(dfd int, name string, a *NewInode) unix.Errno {
	if !n.v.chown {
		return 0
	}
	if err := unix.Fchownat(dfd, name, int(a.UID), int(a.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Errno(err)
	}
	return 0
}

func (n *volInode) Create(name string, a *NewInode) (Inode, unix.Errno) {
	if e := validName(name); e != 0 {
		return nil, e
	}
	dfd, e := n.v.dir(n.rel)
	if e != 0 {
		return nil, e
	}
	defer unix.Close(dfd)
	perm := a.Mode & 0o7777
	switch a.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		// O_EXCL never follows a symlink; the mode is set again on the
		// descriptor, past the host's umask.
		fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm&0o777)
		if err != nil {
			return nil, Errno(err)
		}
		defer unix.Close(fd)
		if v := n.v; v.chown {
			if err := unix.Fchown(fd, int(a.UID), int(a.GID)); err != nil {
				return nil, Errno(err)
			}
		}
		if err := unix.Fchmod(fd, perm); err != nil {
			return nil, Errno(err)
		}
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return nil, Errno(err)
		}
		fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, Errno(err)
		}
		defer unix.Close(fd)
		if n.v.chown {
			if err := unix.Fchown(fd, int(a.UID), int(a.GID)); err != nil {
				return nil, Errno(err)
			}
		}
		if err := unix.Fchmod(fd, perm); err != nil {
			return nil, Errno(err)
		}
	case unix.S_IFLNK:
		if err := unix.Symlinkat(a.Target, dfd, name); err != nil {
			return nil, Errno(err)
		}
		if e := n.owned(dfd, name, a); e != 0 {
			return nil, e
		}
	case unix.S_IFIFO, unix.S_IFSOCK:
		if err := unix.Mknodat(dfd, name, a.Mode&unix.S_IFMT|perm&0o777, 0); err != nil {
			return nil, Errno(err)
		}
		if e := n.owned(dfd, name, a); e != 0 {
			return nil, e
		}
	default:
		return nil, unix.EPERM // no devices on a volume
	}
	return &volInode{v: n.v, rel: n.child(name)}, 0
}

func (n *volInode) Link(name string, target Inode) unix.Errno {
	t, ok := target.(*volInode)
	if !ok || t.v != n.v || t.rel == "" {
		return unix.EXDEV
	}
	tp, tname := t.Parent()
	ofd, e := n.v.dir(tp.(*volInode).rel)
	if e != 0 {
		return e
	}
	defer unix.Close(ofd)
	nfd, e := n.v.dir(n.rel)
	if e != 0 {
		return e
	}
	defer unix.Close(nfd)
	if err := unix.Linkat(ofd, tname, nfd, name, 0); err != nil {
		return Errno(err)
	}
	return 0
}

func (n *volInode) Unlink(name string, dir bool) unix.Errno {
	dfd, e := n.v.dir(n.rel)
	if e != 0 {
		return e
	}
	defer unix.Close(dfd)
	flags := 0
	if dir {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(dfd, name, flags); err != nil {
		return Errno(err)
	}
	return 0
}

func (n *volInode) Rename(name string, newDir Inode, newName string, flags uint32) unix.Errno {
	nd, ok := newDir.(*volInode)
	if !ok || nd.v != n.v {
		return unix.EXDEV
	}
	ofd, e := n.v.dir(n.rel)
	if e != 0 {
		return e
	}
	defer unix.Close(ofd)
	nfd, e := n.v.dir(nd.rel)
	if e != 0 {
		return e
	}
	defer unix.Close(nfd)
	if err := unix.Renameat2(ofd, name, nfd, newName, uint(flags)); err != nil {
		return Errno(err)
	}
	return 0
}

func (n *volInode) Setattr(a *SetAttr) unix.Errno {
	if a.SetSize {
		fd, e := n.v.open(n.rel, unix.O_WRONLY|unix.O_NOFOLLOW, 0)
		if e != 0 {
			return e
		}
		defer unix.Close(fd)
		return setattrFD(fd, a)
	}
	fd, e := n.pathFD()
	if e != 0 {
		return e
	}
	defer unix.Close(fd)
	return setattrFD(fd, a)
}

// setattrFD applies a to the file fd holds (O_PATH or open). Mode and
// times go through /proc/self/fd: a path of ukfork's own that names
// exactly the inode fd holds, never one the guest gave.
func setattrFD(fd int, a *SetAttr) unix.Errno {
	self := "/proc/self/fd/" + strconv.Itoa(fd)
	if a.SetSize {
		if err := unix.Ftruncate(fd, a.Size); err != nil {
			return Errno(err)
		}
	}
	if a.SetUID || a.SetGID {
		uid, gid := -1, -1
		if a.SetUID {
			uid = int(a.UID)
		}
		if a.SetGID {
			gid = int(a.GID)
		}
		if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
			return Errno(err)
		}
	}
	if a.SetMode {
		if err := unix.Fchmodat(unix.AT_FDCWD, self, a.Mode&0o7777, 0); err != nil {
			return Errno(err)
		}
	}
	if a.SetAtime || a.SetMtime {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if a.SetAtime {
			ts[0] = a.Atime
		}
		if a.SetMtime {
			ts[1] = a.Mtime
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, self, ts, 0); err != nil {
			return Errno(err)
		}
	}
	return 0
}

// volFile is an open file of a volume: a host descriptor.
type volFile struct {
	HostFile
	n *volInode
}

func (f *volFile) Inode() Inode                  { return f.n }
func (f *volFile) Setattr(a *SetAttr) unix.Errno { return setattrFD(f.FD, a) }

func (f *volFile) Getdents(buf []byte) (int, unix.Errno) {
	k, err := unix.Getdents(f.FD, buf)
	if err != nil {
		return 0, Errno(err)
	}
	return k, 0
}

func (f *volFile) Allocate(mode uint32, off, length int64) unix.Errno {
	if err := unix.Fallocate(f.FD, mode, off, length); err != nil {
		return Errno(err)
	}
	return 0
}
