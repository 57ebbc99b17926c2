// Memory filesystems: the run's layer over the image (copy-up, whiteouts) and tmpfs.

package vfs

import (
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Space bounds the bytes a run's memory files hold (the layer over the
// image, /tmp, /run, /dev/shm): past it writes and new files get ENOSPC.
// Every VM of a run lives in one host process, so one guest must not take
// the host memory the others need.
type Space struct {
	used atomic.Int64
	max  int64
}

// DefaultSpace is what a run's memory files may hold unless told.
const DefaultSpace = 256 << 20

// NewSpace allows max bytes.
func NewSpace(max int64) *Space { return &Space{max: max} }

func (s *Space) take(n int64) bool {
	if s.used.Add(n) > s.max {
		s.used.Add(-n)
		return false
	}
	return true
}

func (s *Space) give(n int64) { s.used.Add(-n) }

// room is how many bytes may still be taken (at this moment).
func (s *Space) room() int64 { return max(s.max-s.used.Load(), 0) }

// Used is how many bytes are held now.
func (s *Space) Used() int64 { return s.used.Load() }

// inodeCost is what a file costs the space besides its data: its inode
// and name, so that a guest cannot make unbounded empty files.
const inodeCost = 256

// MemFS is a filesystem in host memory: a tmpfs, or (with an image tree
// below) the image made writable for a run. Changes go to the run's
// inodes only: a file of the image is copied up at its first change, a
// name removed from an image directory leaves a whiteout over it, and the
// image itself, shared by every run of it, is never written.
type MemFS struct {
	mu    sync.Mutex // guards every inode of the filesystem
	lower *FS        // the image below, or nil
	space *Space
	dev   uint64
	magic int64
	nino  uint64
	cache map[*Node]*memInode // an image file -> its inode in this run
	root  *memInode
}

// NewLayer makes image writable for one run, its changes bounded by space.
func NewLayer(image *FS, space *Space, dev uint64) *MemFS {
	fs := &MemFS{lower: image, space: space, dev: dev, magic: overlayMagic, nino: image.nino,
		cache: map[*Node]*memInode{}}
	fs.root = fs.wrap(image.Root, nil, "")
	return fs
}

// NewTmpfs makes an empty memory filesystem whose root has mode (S_ISVTX
// and permissions).
func NewTmpfs(space *Space, dev uint64, mode uint32) *MemFS {
	fs := &MemFS{space: space, dev: dev, magic: tmpfsMagic, cache: map[*Node]*memInode{}}
	fs.root = fs.newInode(unix.S_IFDIR|mode&0o7777, 0, 0, nil, "")
	return fs
}

func (fs *MemFS) Root() Inode      { return fs.root }
func (fs *MemFS) Sync() unix.Errno { return 0 }

func (fs *MemFS) Statfs(st *abi.Statfs) {
	used := fs.space.Used()
	total := fs.space.max
	free := max(total-used, 0)
	*st = abi.Statfs{
		Type: fs.magic, Bsize: 4096, Frsize: 4096, Namelen: 255,
		Blocks: uint64(total / 4096), Bfree: uint64(free / 4096), Bavail: uint64(free / 4096),
		Files: uint64(total / inodeCost), Ffree: uint64(free / inodeCost),
		Fsid: [2]int32{int32(fs.dev), 0},
	}
}

// memInode is a file of a MemFS: one made in the run, or one of the image
// as this run sees it (lower set), whose data stays in the image until it
// is first changed.
type memInode struct {
	fs      *MemFS
	lower   *Node // the image's file, nil if made in the run
	ino     uint64
	mode    uint32
	uid     uint32
	gid     uint32
	nlink   int // names it has (directories: computed)
	rdev    uint64
	atime   unix.Timespec
	mtime   unix.Timespec
	ctime   unix.Timespec
	size    int64
	pages   map[int64]*page // the contents, once copied (or made) in the run: holes read as zeros
	copied  bool
	store   *memStore // the contents once mapped shared (pages then nil)
	charged int64     // what the space holds for it
	target  string
	label   string // a memfd's "/memfd:NAME (deleted)"
	opens   int    // open file descriptions: an unlinked file lives on
	// Directories: their place, and the names the run changed (a nil
	// value is a whiteout over the image's name).
	parent  *memInode
	name    string
	entries map[string]*memInode
}

func nowSpec() unix.Timespec { return unix.NsecToTimespec(time.Now().UnixNano()) }

// newInode makes an inode of the run; fs.mu held (or fs being made).
func (fs *MemFS) newInode(mode, uid, gid uint32, parent *memInode, name string) *memInode {
	fs.nino++
	now := nowSpec()
	n := &memInode{fs: fs, ino: fs.nino, mode: mode, uid: uid, gid: gid, nlink: 1,
		atime: now, mtime: now, ctime: now, copied: true, parent: parent, name: name}
	return n
}

// wrap is the run's inode for an image file; fs.mu held.
func (fs *MemFS) wrap(l *Node, parent *memInode, name string) *memInode {
	if n := fs.cache[l]; n != nil {
		return n
	}
	t := unix.Timespec{Sec: l.MTime}
	n := &memInode{fs: fs, lower: l, ino: l.Ino, mode: l.Mode, nlink: 1, rdev: l.Rdev,
		atime: t, mtime: t, ctime: t, size: l.Size, target: l.Target, parent: parent, name: name}
	fs.cache[l] = n
	return n
}

func (n *memInode) isDir() bool { return n.mode&unix.S_IFMT == unix.S_IFDIR }

// child is the inode name names in directory n, nil if none; fs.mu held.
func (n *memInode) child(name string) *memInode {
	if c, ok := n.entries[name]; ok {
		return c
	}
	if n.lower == nil {
		return nil
	}
	if l := n.lower.child(name); l != nil {
		return n.fs.wrap(l, n, name)
	}
	return nil
}

// names lists directory n's children in order; fs.mu held.
func (n *memInode) names() []string {
	var out []string
	if n.lower != nil {
		for _, l := range n.lower.children {
			if _, changed := n.entries[l.Name]; !changed {
				out = append(out, l.Name)
			}
		}
	}
	for name, c := range n.entries {
		if c != nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// setEntry makes name in n refer to c (nil: removed); fs.mu held.
func (n *memInode) setEntry(name string, c *memInode) {
	if n.entries == nil {
		n.entries = map[string]*memInode{}
	}
	if c == nil && (n.lower == nil || n.lower.child(name) == nil) {
		delete(n.entries, name) // nothing of the image to hide
		return
	}
	n.entries[name] = c
}

func (n *memInode) FS() Filesystem { return n.fs }

func (n *memInode) Parent() (Inode, string) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if n.parent == nil {
		return nil, ""
	}
	return n.parent, n.name
}

func (n *memInode) Stat(st *abi.Stat) unix.Errno {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	n.stat(st)
	return 0
}

func (n *memInode) stat(st *abi.Stat) {
	nlink := uint64(max(n.nlink, 0))
	if n.isDir() {
		nlink = 2
		for _, name := range n.names() {
			if c := n.child(name); c != nil && c.isDir() {
				nlink++
			}
		}
	}
	*st = abi.Stat{
		Dev: n.fs.dev, Ino: n.ino, Nlink: nlink, Mode: n.mode, Uid: n.uid, Gid: n.gid, Rdev: n.rdev,
		Size: n.size, Blksize: 4096, Blocks: n.blocks(),
		Atime_sec: n.atime.Sec, Atime_nsec: n.atime.Nsec,
		Mtime_sec: n.mtime.Sec, Mtime_nsec: n.mtime.Nsec,
		Ctime_sec: n.ctime.Sec, Ctime_nsec: n.ctime.Nsec,
	}
	if n.isDir() {
		st.Size, st.Blocks = 4096, 8
	}
}

func (n *memInode) Lookup(name string) (Inode, unix.Errno) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	if c := n.child(name); c != nil {
		return c, 0
	}
	return nil, unix.ENOENT
}

func (n *memInode) Readlink() (string, unix.Errno) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if n.mode&unix.S_IFMT != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	return n.target, 0
}

func (n *memInode) Open(flags int) (File, unix.Errno) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	switch n.mode & unix.S_IFMT {
	case unix.S_IFDIR:
		n.opens++
		return &memDir{n: n}, 0
	case unix.S_IFREG:
		n.opens++
		return &memFile{n: n, append: flags&unix.O_APPEND != 0}, 0
	case unix.S_IFCHR:
		return &devFile{n: n, rdev: n.rdev}, 0
	}
	return nil, unix.ENXIO // FIFOs and devices other than the synthetic ones
}

func (n *memInode) Create(name string, a *NewInode) (Inode, unix.Errno) {
	if e := validName(name); e != 0 {
		return nil, e
	}
	fs := n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	if n.nlink == 0 {
		return nil, unix.ENOENT // a removed directory takes no new names
	}
	if n.child(name) != nil {
		return nil, unix.EEXIST
	}
	cost := int64(inodeCost + len(name) + len(a.Target))
	if !fs.space.take(cost) {
		return nil, unix.ENOSPC
	}
	c := fs.newInode(a.Mode, a.UID, a.GID, n, name)
	c.rdev, c.target, c.charged = a.Rdev, a.Target, cost
	if a.Mode&unix.S_IFMT == unix.S_IFLNK {
		c.size = int64(len(a.Target))
	}
	n.setEntry(name, c)
	n.touch()
	return c, 0
}

// touch marks a directory changed; fs.mu held.
func (n *memInode) touch() {
	now := nowSpec()
	n.mtime, n.ctime = now, now
}

func (n *memInode) Link(name string, target Inode) unix.Errno {
	if e := validName(name); e != 0 {
		return e
	}
	t, ok := target.(*memInode)
	if !ok || t.fs != n.fs {
		return unix.EXDEV
	}
	fs := n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n.child(name) != nil {
		return unix.EEXIST
	}
	if t.nlink == 0 && t.opens == 0 {
		return unix.ENOENT
	}
	if !fs.space.take(int64(inodeCost + len(name))) {
		return unix.ENOSPC
	}
	t.charged += int64(inodeCost + len(name))
	t.nlink++
	t.ctime = nowSpec()
	n.setEntry(name, t)
	n.touch()
	return 0
}

func (n *memInode) Unlink(name string, dir bool) unix.Errno {
	fs := n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := n.child(name)
	if c == nil {
		return unix.ENOENT
	}
	if c.isDir() != dir {
		if dir {
			return unix.ENOTDIR
		}
		return unix.EISDIR
	}
	if dir && len(c.names()) > 0 {
		return unix.ENOTEMPTY
	}
	n.setEntry(name, nil)
	n.touch()
	c.dropLink()
	return 0
}

// dropLink takes one name from c; fs.mu held. The space comes back when
// no name and no open file is left.
func (c *memInode) dropLink() {
	if c.isDir() {
		c.nlink = 0
	} else {
		c.nlink--
	}
	c.ctime = nowSpec()
	c.release()
}

// release gives c's space back once nothing holds it; fs.mu held.
func (c *memInode) release() {
	if c.nlink <= 0 && c.opens == 0 && c.charged > 0 {
		if c.store != nil {
			unix.Close(c.store.fd)
		}
		c.fs.space.give(c.charged)
		c.charged, c.pages, c.store = 0, nil, nil
	}
}

func (n *memInode) Rename(name string, newDir Inode, newName string, flags uint32) unix.Errno {
	if e := validName(newName); e != 0 {
		return e
	}
	nd, ok := newDir.(*memInode)
	if !ok || nd.fs != n.fs {
		return unix.EXDEV
	}
	fs := n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := n.child(name)
	if c == nil {
		return unix.ENOENT
	}
	if nd.nlink == 0 {
		return unix.ENOENT
	}
	old := nd.child(newName)
	switch {
	case flags&renameExchange != 0:
		if old == nil {
			return unix.ENOENT
		}
		n.setEntry(name, old)
		nd.setEntry(newName, c)
		if old.isDir() {
			old.parent, old.name = n, name
		}
	case old != nil && flags&renameNoreplace != 0:
		return unix.EEXIST
	default:
		if old == c {
			return 0
		}
		if old != nil {
			switch {
			case c.isDir() && !old.isDir():
				return unix.ENOTDIR
			case !c.isDir() && old.isDir():
				return unix.EISDIR
			case old.isDir() && len(old.names()) > 0:
				return unix.ENOTEMPTY
			}
			// The name's cost moves with it; the old file drops one name.
			old.dropLink()
		}
		n.setEntry(name, nil)
		nd.setEntry(newName, c)
	}
	if c.isDir() {
		c.parent, c.name = nd, newName
	}
	now := nowSpec()
	c.ctime = now
	n.touch()
	nd.touch()
	return 0
}

func (n *memInode) Setattr(a *SetAttr) unix.Errno {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.setattr(a)
}

// setattr applies a; fs.mu held.
func (n *memInode) setattr(a *SetAttr) unix.Errno {
	now := nowSpec()
	if a.SetSize {
		if n.mode&unix.S_IFMT != unix.S_IFREG {
			return unix.EINVAL
		}
		if e := n.truncate(a.Size); e != 0 {
			return e
		}
		n.mtime = now
	}
	a.apply(&n.mode, &n.uid, &n.gid, &n.atime, &n.mtime)
	n.ctime = now
	return 0
}

// page is a page of a memory file's data. Files are sparse, as on tmpfs:
// only pages written (or allocated) hold memory and count against the
// space, so a large ftruncate costs nothing.
const pageSize = 4096

type page [pageSize]byte

// copyUp brings an image file's data into the run before its first
// change (its pages of zeros stay holes); fs.mu held.
func (n *memInode) copyUp() unix.Errno {
	if n.copied {
		return 0
	}
	pages := map[int64]*page{}
	var cost int64
	for off := int64(0); off < n.lower.Size; off += pageSize {
		pg := new(page)
		k, err := n.fs.lower.src.ReadAt(pg[:min(pageSize, n.lower.Size-off)], int64(n.lower.Data.Off)+off)
		if err != nil && err != io.EOF && k < int(min(pageSize, n.lower.Size-off)) {
			n.fs.space.give(cost)
			return unix.EIO
		}
		if *pg == (page{}) {
			continue
		}
		if !n.fs.space.take(pageSize) {
			n.fs.space.give(cost)
			return unix.ENOSPC
		}
		cost += pageSize
		pages[off/pageSize] = pg
	}
	n.pages, n.copied, n.charged = pages, true, n.charged+cost
	return 0
}

// maxFileSize is Linux's MAX_LFS_FILESIZE: EFBIG past it.
const maxFileSize = 1<<63 - 1

// truncate sets the size; what lies past it goes; fs.mu held.
func (n *memInode) truncate(size int64) unix.Errno {
	if e := n.copyUp(); e != 0 {
		return e
	}
	if size < n.size && n.store != nil {
		n.store.truncate(size)
	} else if size < n.size {
		for i := range n.pages {
			if i*pageSize >= size {
				delete(n.pages, i)
				n.fs.space.give(pageSize)
				n.charged -= pageSize
			}
		}
		if pg := n.pages[size/pageSize]; pg != nil {
			clear(pg[size%pageSize:])
		}
	}
	n.size = size
	return 0
}

// page returns page i, allocated if need be; nil when the space is full;
// fs.mu held.
func (n *memInode) page(i int64) *page {
	if pg := n.pages[i]; pg != nil {
		return pg
	}
	if !n.fs.space.take(pageSize) {
		return nil
	}
	if n.pages == nil {
		n.pages = map[int64]*page{}
	}
	pg := new(page)
	n.pages[i] = pg
	n.charged += pageSize
	return pg
}

// writeAt copies b into the file at off, growing it: as much as fits,
// then ENOSPC, as a full tmpfs; fs.mu held (copied up).
func (n *memInode) writeAt(b []byte, off int64) (int, unix.Errno) {
	if n.store != nil {
		done, e := n.store.writeAt(n, b, off)
		if end := off + int64(done); end > n.size {
			n.size = end
		}
		return done, e
	}
	done := 0
	for done < len(b) {
		at := off + int64(done)
		pg := n.page(at / pageSize)
		if pg == nil {
			if done == 0 {
				return 0, unix.ENOSPC
			}
			break
		}
		done += copy(pg[at%pageSize:], b[done:])
	}
	if end := off + int64(done); end > n.size {
		n.size = end
	}
	return done, 0
}

// allocate gives [off, end) memory (fallocate); fs.mu held (copied up).
func (n *memInode) allocate(off, end int64) unix.Errno {
	if n.store != nil {
		return n.store.allocate(n, off, end)
	}
	for i := off / pageSize; i*pageSize < end; i++ {
		if n.page(i) == nil {
			return unix.ENOSPC
		}
	}
	return 0
}

// readAt copies the file's bytes at off into b; fs.mu held.
func (n *memInode) readAt(b []byte, off int64) (int, unix.Errno) {
	if off >= n.size {
		return 0, 0
	}
	if rem := n.size - off; int64(len(b)) > rem {
		b = b[:rem]
	}
	if n.store != nil {
		return n.store.readAt(b, off)
	}
	if n.copied {
		done := 0
		for done < len(b) {
			at := off + int64(done)
			var k int
			if pg := n.pages[at/pageSize]; pg != nil {
				k = copy(b[done:], pg[at%pageSize:])
			} else {
				k = len(clear2(b[done:min(len(b), done+pageSize-int(at%pageSize))]))
			}
			done += k
		}
		return done, 0
	}
	k, err := n.fs.lower.src.ReadAt(b, int64(n.lower.Data.Off)+off)
	if err != nil && err != io.EOF && k == 0 {
		return 0, unix.EIO
	}
	return k, 0
}

// blocks is st_blocks: the pages that hold memory (an image file not
// copied up: the whole 4 KiB blocks of its size, as ext4 allocates them).
func (n *memInode) blocks() int64 {
	if !n.copied {
		return (n.size + 4095) / 4096 * 8
	}
	if n.store != nil {
		return n.store.blocks()
	}
	return int64(len(n.pages)) * pageSize / 512
}

// clear2 zeroes b and returns it.
func clear2(b []byte) []byte {
	clear(b)
	return b
}
