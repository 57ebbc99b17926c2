// /proc as a vfs filesystem: the tree, resolved for the process that looks.

package procfs

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

const (
	procSuperMagic = 0x9fa0
	procDev        = 0x16 // the device number stat shows for /proc files
)

// FS is a run's /proc over src. Every name under it depends on who looks
// (self, and what a process may see of another), so its inodes answer
// through vfs.ByCaller with the caller's pid.
type FS struct {
	src     Source
	mounted time.Time
}

// NewFS makes /proc over src.
func NewFS(src Source) *FS { return &FS{src: src, mounted: time.Now()} }

func (f *FS) Root() vfs.Inode {
	e, _ := Lookup(f.src, 0, nil)
	return &inode{fs: f, e: e}
}

func (f *FS) Statfs(st *abi.Statfs) {
	*st = abi.Statfs{Type: procSuperMagic, Bsize: 4096, Namelen: 255, Frsize: 4096}
}

func (f *FS) Sync() unix.Errno { return 0 }

// inode is one entry of the tree, as the caller saw it at lookup.
type inode struct {
	fs     *FS
	caller int32
	path   []string // under /proc
	e      Entry
	lazy   bool // e is found at first use (see Parent)
	once   sync.Once
}

func (n *inode) child(c *vfs.Cred, name string) (vfs.Inode, unix.Errno) {
	path := append(append([]string(nil), n.path...), name)
	e, err := Lookup(n.fs.src, c.Pid, path)
	if err != 0 {
		return nil, err
	}
	return &inode{fs: n.fs, caller: c.Pid, path: path, e: e}, 0
}

func (n *inode) LookupAs(c *vfs.Cred, name string) (vfs.Inode, unix.Errno) { return n.child(c, name) }
func (n *inode) Lookup(name string) (vfs.Inode, unix.Errno) {
	return n.child(&vfs.Cred{Pid: n.caller}, name)
}

// ReadlinkAs reads the link again for c: a link's target is the caller's
// (self) and follows the process as it is now.
func (n *inode) ReadlinkAs(c *vfs.Cred) (string, unix.Errno) {
	e, err := Lookup(n.fs.src, c.Pid, n.path)
	if err != 0 {
		return "", err
	}
	return e.Readlink()
}

func (n *inode) Readlink() (string, unix.Errno) { return n.entry().Readlink() }

// FDOpener is what a Source offers to reopen a process's descriptors.
type FDOpener interface {
	OpenFD(pid int32, fd int) (*vfs.OpenFile, bool)
}

// fd is the open file description n names, if n is PID/fd/N (or
// self/fd/N, PID/task/TID/fd/N) as c sees it.
func (n *inode) fd(c *vfs.Cred) *vfs.OpenFile {
	o, ok := n.fs.src.(FDOpener)
	k := len(n.path)
	if !ok || k < 3 || n.path[k-2] != "fd" || n.entry().Kind != Symlink {
		return nil
	}
	pid := c.Pid
	if n.path[0] != "self" && n.path[0] != "thread-self" {
		p, ok := parsePid(n.path[0])
		if !ok {
			return nil
		}
		pid = p
	}
	num, err := strconv.Atoi(n.path[k-1])
	if err != nil || num < 0 {
		return nil
	}
	f, _ := o.OpenFD(pid, num)
	return f
}

// Magic: a descriptor without a path (a pipe, a socket, the terminal) is
// reopened by following its link, as Linux's magic links are.
func (n *inode) Magic(c *vfs.Cred) bool {
	f := n.fd(c)
	return f != nil && f.Inode() == nil
}

func (n *inode) Reopen(c *vfs.Cred) (*vfs.OpenFile, unix.Errno) {
	if f := n.fd(c); f != nil {
		return f, 0
	}
	return nil, unix.ENOENT
}

func (n *inode) FS() vfs.Filesystem { return n.fs }

func (n *inode) Stat(st *abi.Stat) unix.Errno {
	t := n.fs.mounted
	e := n.entry()
	*st = abi.Stat{
		Dev: procDev, Ino: e.Ino, Nlink: uint64(max(e.Nlink, 1)), Mode: e.Mode,
		Uid: e.UID, Gid: e.GID, Size: e.Size, Blksize: 1024,
		Atime_sec: t.Unix(), Atime_nsec: int64(t.Nanosecond()),
		Mtime_sec: t.Unix(), Mtime_nsec: int64(t.Nanosecond()),
		Ctime_sec: t.Unix(), Ctime_nsec: int64(t.Nanosecond()),
	}
	return 0
}

// Parent names the directory above without looking it up: a path is made
// of parents (fd targets, getcwd), and a lookup asks the Source, which
// would ask for paths again. Its entry is found when it is used.
func (n *inode) Parent() (vfs.Inode, string) {
	if len(n.path) == 0 {
		return nil, ""
	}
	up := n.path[:len(n.path)-1]
	return &inode{fs: n.fs, caller: n.caller, path: up, lazy: true}, n.path[len(n.path)-1]
}

// entry is n's entry, found now if n was named by Parent.
func (n *inode) entry() *Entry {
	n.once.Do(func() {
		if !n.lazy {
			return
		}
		e, err := Lookup(n.fs.src, n.caller, n.path)
		if err != 0 {
			e = Entry{Kind: Dir, Mode: unix.S_IFDIR | 0o555, Ino: 1}
		}
		n.e = e
	})
	return &n.e
}

// Open gives the file's text as it is now, or the directory's listing.
// Nothing under /proc is written (Linux's writable files are not served).
func (n *inode) Open(flags int) (vfs.File, unix.Errno) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EACCES
	}
	e := n.entry()
	switch e.Kind {
	case Dir:
		list, err := ReadDir(n.fs.src, n.caller, n.path)
		if err != 0 {
			return nil, err
		}
		return &dirFile{n: n, list: list}, 0
	case File:
		b, err := e.Read()
		if err != 0 {
			return nil, err
		}
		return &textFile{n: n, b: b}, 0
	}
	return nil, unix.ELOOP
}

func (n *inode) Create(string, *vfs.NewInode) (vfs.Inode, unix.Errno) { return nil, unix.EACCES }
func (n *inode) Link(string, vfs.Inode) unix.Errno                    { return unix.EPERM }
func (n *inode) Unlink(string, bool) unix.Errno                       { return unix.EACCES }
func (n *inode) Rename(string, vfs.Inode, string, uint32) unix.Errno  { return unix.EACCES }
func (n *inode) Setattr(*vfs.SetAttr) unix.Errno                      { return unix.EPERM }

// textFile is an open /proc file: its text, made at open.
type textFile struct {
	n   *inode
	mu  sync.Mutex
	b   []byte
	pos int64
}

func (f *textFile) Read(dst [][]byte, off int64) (int, unix.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := off
	if off < 0 {
		at = f.pos
	}
	n := 0
	for _, d := range dst {
		if at >= int64(len(f.b)) {
			break
		}
		c := copy(d, f.b[at:])
		at += int64(c)
		n += c
	}
	if off < 0 {
		f.pos = at
	}
	return n, 0
}

func (f *textFile) Write([][]byte, int64) (int, unix.Errno) { return 0, unix.EBADF }

func (f *textFile) Lseek(off int64, whence int) (int64, unix.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var at int64
	switch whence {
	case unix.SEEK_SET:
		at = off
	case unix.SEEK_CUR:
		at = f.pos + off
	case unix.SEEK_END:
		at = int64(len(f.b)) + off
	default:
		return 0, unix.EINVAL
	}
	if at < 0 {
		return 0, unix.EINVAL
	}
	f.pos = at
	return at, 0
}

func (f *textFile) Stat(st *abi.Stat) unix.Errno      { return f.n.Stat(st) }
func (f *textFile) Getdents([]byte) (int, unix.Errno) { return 0, unix.ENOTDIR }
func (f *textFile) Ioctl(uint64, []byte) unix.Errno   { return unix.ENOTTY }
func (f *textFile) Inode() vfs.Inode                  { return f.n }
func (f *textFile) Close()                            {}

// dirFile is an open /proc directory: its listing, made at open.
type dirFile struct {
	n    *inode
	mu   sync.Mutex
	list []Entry
	pos  int64
}

func (f *dirFile) Read([][]byte, int64) (int, unix.Errno)  { return 0, unix.EISDIR }
func (f *dirFile) Write([][]byte, int64) (int, unix.Errno) { return 0, unix.EBADF }
func (f *dirFile) Stat(st *abi.Stat) unix.Errno            { return f.n.Stat(st) }
func (f *dirFile) Ioctl(uint64, []byte) unix.Errno         { return unix.ENOTTY }
func (f *dirFile) Inode() vfs.Inode                        { return f.n }
func (f *dirFile) Close()                                  {}

func (f *dirFile) Lseek(off int64, whence int) (int64, unix.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if whence != unix.SEEK_SET || off < 0 {
		return 0, unix.EINVAL
	}
	f.pos = off
	return off, 0
}

// Getdents writes linux_dirent64 records: ".", "..", then the entries.
func (f *dirFile) Getdents(buf []byte) (int, unix.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return vfs.FillDirents(buf, &f.pos, func(i int64) vfs.Dirent {
		switch {
		case i == 0:
			return vfs.Dirent{Name: ".", Ino: f.n.entry().Ino, Type: unix.DT_DIR}
		case i == 1:
			return vfs.Dirent{Name: "..", Ino: 1, Type: unix.DT_DIR}
		case i-2 < int64(len(f.list)):
			e := f.list[i-2]
			typ := byte(unix.DT_DIR)
			switch e.Kind {
			case File:
				typ = unix.DT_REG
			case Symlink:
				typ = unix.DT_LNK
			}
			return vfs.Dirent{Name: e.Name, Ino: e.Ino, Type: typ}
		}
		return vfs.Dirent{}
	})
}
