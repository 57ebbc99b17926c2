// The mount table and path resolution: one component at a time, symlinks, "..", mounts.

package vfs

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Mount is a filesystem mounted on a directory of another.
type Mount struct {
	FS       Filesystem
	Point    Inode  // the directory it covers; nil for the root
	Path     string // where, as the guest names it
	ReadOnly bool
}

// Namespace is a run's tree: the root filesystem and the mounts over it.
// Every path a guest names is resolved here, one component at a time:
// "..", symlinks (at most 40 per lookup) and mount crossings are handled
// here and never by a filesystem, and ".." at the root stays at the root,
// so no path leads out of the tree.
type Namespace struct {
	mu      sync.RWMutex // guards the tables; mounts are made before the run
	root    *Mount
	byPoint map[Inode]*Mount
	byFS    map[Filesystem]*Mount

	// Ctty is the controlling terminal of process pid (/dev/tty), nil
	// if none; set before the run starts.
	Ctty func(pid int32) *Tty

	// Memfd holds memfd_create's files: a tmpfs no path reaches.
	Memfd *MemFS
}

// NewNamespace makes a namespace with root as its root filesystem.
func NewNamespace(root Filesystem) *Namespace {
	m := &Mount{FS: root, Path: "/"}
	return &Namespace{root: m, byPoint: map[Inode]*Mount{}, byFS: map[Filesystem]*Mount{root: m}}
}

// Mounts lists the mounts, the root first, in the order they were made.
func (ns *Namespace) Mounts() []Mount {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	out := []Mount{*ns.root}
	for _, m := range ns.byFS {
		if m != ns.root {
			out = append(out, *m)
		}
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Path < out[1+j].Path })
	return out
}

// Root is the root directory.
func (ns *Namespace) Root() Inode { return ns.root.FS.Root() }

// Mount mounts fs on the directory at guest path p, made (with its
// parents, 0755) if missing.
func (ns *Namespace) Mount(p string, fs Filesystem, readOnly bool) error {
	if !path.IsAbs(p) {
		return fmt.Errorf("mount point %s: not an absolute path", p)
	}
	p = path.Clean(p)
	if p == "/" {
		return fmt.Errorf("mount point /: the root cannot be covered")
	}
	dir, e := ns.MkdirAll(p)
	if e != 0 {
		return fmt.Errorf("mount point %s: %w", p, e)
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if _, ok := dir.(*memInode); !ok {
		return fmt.Errorf("mount point %s: only a directory of the image or of a memory file system can be covered", p)
	}
	if ns.byPoint[dir] != nil {
		return fmt.Errorf("mount point %s: already a mount", p)
	}
	m := &Mount{FS: fs, Point: dir, Path: p, ReadOnly: readOnly}
	ns.byPoint[dir], ns.byFS[fs] = m, m
	return nil
}

// MkdirAll makes the directory p and its parents as root (the run's set-up).
func (ns *Namespace) MkdirAll(p string) (Inode, unix.Errno) {
	cur := ns.Root()
	for _, c := range strings.Split(strings.Trim(p, "/"), "/") {
		if c == "" {
			continue
		}
		n, e := ns.Lookup(Root, cur, c, true)
		if e == unix.ENOENT {
			if e = ns.Mknod(Root, cur, c, unix.S_IFDIR|0o755, 0); e != 0 && e != unix.EEXIST {
				return nil, e
			}
			n, e = ns.Lookup(Root, cur, c, true)
		}
		if e != 0 {
			return nil, e
		}
		st, e := statOf(n)
		if e != 0 {
			return nil, e
		}
		if !isDir(&st) {
			return nil, unix.ENOTDIR
		}
		cur = n
	}
	return cur, 0
}

// mountOf is the mount holding n.
func (ns *Namespace) mountOf(n Inode) *Mount {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	if m := ns.byFS[n.FS()]; m != nil {
		return m
	}
	return ns.root
}

// writable gives EROFS for a file on a read-only mount.
func (ns *Namespace) writable(n Inode) unix.Errno {
	if ns.mountOf(n).ReadOnly {
		return unix.EROFS
	}
	return 0
}

// covered is the root of what is mounted on n, or n.
func (ns *Namespace) covered(n Inode) Inode {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	for {
		m := ns.byPoint[n]
		if m == nil {
			return n
		}
		n = m.FS.Root()
	}
}

// isMountPoint reports whether a filesystem is mounted on n (EBUSY to
// remove or rename it).
func (ns *Namespace) isMountPoint(n Inode) bool {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.byPoint[n] != nil
}

// parent is n's "..": the directory above, across the mounts; the root's
// is the root.
func (ns *Namespace) parent(n Inode) Inode {
	for {
		if p, _ := n.Parent(); p != nil {
			return p
		}
		m := ns.mountOf(n)
		if m.Point == nil {
			return n
		}
		n = m.Point
	}
}

// Path is the absolute path of directory n.
func (ns *Namespace) Path(n Inode) string {
	var parts []string
	for i := 0; i < 4096; i++ {
		p, name := n.Parent()
		if p == nil {
			m := ns.mountOf(n)
			if m.Point == nil {
				break
			}
			n = m.Point
			continue
		}
		parts = append(parts, name)
		n = p
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "/" + strings.Join(parts, "/")
}

// Lookup resolves p from dir (for a relative path) for c, following a
// final symlink if follow. A trailing slash demands a directory.
func (ns *Namespace) Lookup(c *Cred, dir Inode, p string, follow bool) (Inode, unix.Errno) {
	budget := maxSymlinks
	return ns.walk(c, dir, p, follow, &budget)
}

func (ns *Namespace) walk(c *Cred, dir Inode, p string, follow bool, budget *int) (Inode, unix.Errno) {
	d, name, slash, e := ns.walkParent(c, dir, p, budget)
	if e != 0 {
		return nil, e
	}
	if slash {
		follow = true
	}
	n, e := ns.step(c, d, name, follow, budget)
	if e != 0 {
		return nil, e
	}
	if slash {
		st, e := statOf(n)
		if e != 0 {
			return nil, e
		}
		if !isDir(&st) {
			return nil, unix.ENOTDIR
		}
	}
	return n, 0
}

// LookupParent resolves every component of p but the last, returning the
// directory and the last name ("." for "/" and for paths ending in "/."),
// and whether p ends in a slash.
func (ns *Namespace) LookupParent(c *Cred, dir Inode, p string) (Inode, string, bool, unix.Errno) {
	budget := maxSymlinks
	return ns.walkParent(c, dir, p, &budget)
}

func (ns *Namespace) walkParent(c *Cred, dir Inode, p string, budget *int) (Inode, string, bool, unix.Errno) {
	if p == "" {
		return nil, "", false, unix.ENOENT
	}
	if len(p) >= unix.PathMax {
		return nil, "", false, unix.ENAMETOOLONG
	}
	cur := dir
	if p[0] == '/' {
		cur = ns.Root()
	}
	slash := strings.HasSuffix(p, "/")
	comps := strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
	if len(comps) == 0 {
		return cur, ".", slash, 0
	}
	for _, name := range comps[:len(comps)-1] {
		next, e := ns.step(c, cur, name, true, budget)
		if e != 0 {
			return nil, "", false, e
		}
		cur = next
	}
	// The last component's directory must be one the caller may search.
	st, e := statOf(cur)
	if e != 0 {
		return nil, "", false, e
	}
	if !isDir(&st) {
		return nil, "", false, unix.ENOTDIR
	}
	last := comps[len(comps)-1]
	if len(last) > 255 {
		return nil, "", false, unix.ENAMETOOLONG
	}
	return cur, last, slash, 0
}

// step resolves one name in directory d: ".", "..", a mount crossing, a
// symlink followed if follow.
func (ns *Namespace) step(c *Cred, d Inode, name string, follow bool, budget *int) (Inode, unix.Errno) {
	st, e := statOf(d)
	if e != 0 {
		return nil, e
	}
	if !isDir(&st) {
		return nil, unix.ENOTDIR
	}
	if len(name) > 255 {
		return nil, unix.ENAMETOOLONG
	}
	if e := permission(c, &st, mayExec); e != 0 {
		return nil, e
	}
	switch name {
	case ".":
		return d, 0
	case "..":
		return ns.parent(d), 0
	}
	n, e := lookupAs(c, d, name)
	if e != 0 {
		return nil, e
	}
	n = ns.covered(n)
	if !follow {
		return n, 0
	}
	nst, e := statOf(n)
	if e != 0 {
		return nil, e
	}
	if !isLink(&nst) || isMagic(c, n) {
		return n, 0
	}
	if *budget--; *budget < 0 {
		return nil, unix.ELOOP
	}
	target, e := ReadlinkAs(c, n)
	if e != 0 {
		return nil, e
	}
	return ns.walk(c, d, target, true, budget)
}

// Stat stats n.
func Stat(n Inode, st *abi.Stat) unix.Errno { return n.Stat(st) }
