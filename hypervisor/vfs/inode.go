// The interface a mounted filesystem implements: Filesystem and Inode.

package vfs

import (
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Filesystem is what a mount holds: the run's writable root (the image
// under a memory layer), a tmpfs, a host volume; /proc and /dev/fd later.
// A filesystem serves one name at a time: the namespace (namespace.go)
// walks paths, follows symlinks, crosses mounts and checks permissions,
// so a filesystem never sees "..", a "/" or a symlink to follow.
type Filesystem interface {
	Root() Inode
	Statfs(st *abi.Statfs)
	Sync() unix.Errno
}

// Inode is a file of a filesystem. Directory operations take one name
// (never "", ".", ".." or one holding "/"); the namespace has checked
// permissions and that the mount is writable. Errors are Linux's.
type Inode interface {
	FS() Filesystem
	Stat(st *abi.Stat) unix.Errno
	// Parent is the directory holding a directory and its name there;
	// nil at the filesystem's root (other files: their last known one).
	Parent() (Inode, string)
	Lookup(name string) (Inode, unix.Errno)
	Readlink() (string, unix.Errno)
	// Open makes an open file description's file; flags are open(2)'s,
	// the type and access checks done.
	Open(flags int) (File, unix.Errno)
	// Create makes name: a file, directory, symlink (Target) or node, of
	// a's mode (type and permissions), owned by a's ids. EEXIST if taken.
	Create(name string, a *NewInode) (Inode, unix.Errno)
	Link(name string, target Inode) unix.Errno
	Unlink(name string, dir bool) unix.Errno
	// Rename moves name to newName in newDir (same filesystem), with
	// renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE.
	Rename(name string, newDir Inode, newName string, flags uint32) unix.Errno
	Setattr(a *SetAttr) unix.Errno
}

// ByCaller is an Inode whose names and link targets depend on who looks
// (/proc/self and all below /proc): the namespace asks it with the caller.
type ByCaller interface {
	LookupAs(c *Cred, name string) (Inode, unix.Errno)
	ReadlinkAs(c *Cred) (string, unix.Errno)
}

// OpenerAs is an Inode whose open depends on who opens it (a pty master
// belongs to its opener): the namespace opens it with the caller.
type OpenerAs interface {
	OpenAs(c *Cred, flags int) (File, unix.Errno)
}

// MagicLink is a link that names an open file rather than a path, when
// Magic says so (/proc/PID/fd/N of a pipe or socket): following it ends at
// the link itself, and opening that reopens the file: the same open file
// description, as a dup gives.
type MagicLink interface {
	Magic(c *Cred) bool
	Reopen(c *Cred) (*OpenFile, unix.Errno)
}

func isMagic(c *Cred, n Inode) bool {
	m, ok := n.(MagicLink)
	return ok && m.Magic(c)
}

// lookupAs looks name up in d as c.
func lookupAs(c *Cred, d Inode, name string) (Inode, unix.Errno) {
	if b, ok := d.(ByCaller); ok {
		return b.LookupAs(c, name)
	}
	return d.Lookup(name)
}

// ReadlinkAs is n's target as c sees it.
func ReadlinkAs(c *Cred, n Inode) (string, unix.Errno) {
	if b, ok := n.(ByCaller); ok {
		return b.ReadlinkAs(c)
	}
	return n.Readlink()
}

// NewInode describes a file to create.
type NewInode struct {
	Mode     uint32 // S_IF* | permissions
	UID, GID uint32
	Rdev     uint64
	Target   string // symlinks
}

// SetAttr changes the attributes whose Set* flag is on.
type SetAttr struct {
	SetMode, SetUID, SetGID, SetSize, SetAtime, SetMtime bool

	Mode         uint32 // permissions only
	UID, GID     uint32
	Size         int64
	Atime, Mtime unix.Timespec
}

// apply sets what a changes (not the size) in an inode's fields.
func (a *SetAttr) apply(mode, uid, gid *uint32, atime, mtime *unix.Timespec) {
	if a.SetMode {
		*mode = *mode&unix.S_IFMT | a.Mode&0o7777
	}
	if a.SetUID {
		*uid = a.UID
	}
	if a.SetGID {
		*gid = a.GID
	}
	if a.SetAtime {
		*atime = a.Atime
	}
	if a.SetMtime {
		*mtime = a.Mtime
	}
}

// readOnly gives the answers of a filesystem that cannot be changed; a
// read-only Inode embeds it.
type readOnly struct{}

func (readOnly) Create(string, *NewInode) (Inode, unix.Errno)    { return nil, unix.EROFS }
func (readOnly) Link(string, Inode) unix.Errno                   { return unix.EROFS }
func (readOnly) Unlink(string, bool) unix.Errno                  { return unix.EROFS }
func (readOnly) Rename(string, Inode, string, uint32) unix.Errno { return unix.EROFS }
func (readOnly) Setattr(*SetAttr) unix.Errno                     { return unix.EROFS }

// Filesystem magic numbers statfs reports (linux/magic.h).
const (
	tmpfsMagic   = 0x01021994
	overlayMagic = 0x794c7630
)

// validName reports whether name is one component a directory may hold.
func validName(name string) unix.Errno {
	switch {
	case name == "" || name == "." || name == "..":
		return unix.EINVAL
	case len(name) > 255:
		return unix.ENAMETOOLONG
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return unix.EINVAL
		}
	}
	return 0
}

func isDir(st *abi.Stat) bool  { return st.Mode&unix.S_IFMT == unix.S_IFDIR }
func isLink(st *abi.Stat) bool { return st.Mode&unix.S_IFMT == unix.S_IFLNK }

// statOf stats an inode; a file that went away reads as ENOENT.
func statOf(n Inode) (abi.Stat, unix.Errno) {
	var st abi.Stat
	e := n.Stat(&st)
	return st, e
}
