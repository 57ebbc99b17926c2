// Package vfs serves a run's file tree to its guests: the mounts of a
// Namespace (the image under a memory layer, tmpfs, host volumes), path
// resolution confined to it, open file descriptions, pipes, sockets and the
// fd table. A host path is opened only inside a volume, with openat2's
// RESOLVE_IN_ROOT: a guest can name only what was baked, what the run made,
// and what a volume holds.
package vfs

// This file: the image's own tree, read-only, shared by every run of it.

import (
	"io"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/toolchain/image"
)

// maxSymlinks is Linux's limit on symlinks followed in one lookup.
const maxSymlinks = 40

// Node is a file, directory, symlink or device of the tree.
type Node struct {
	Name     string
	Mode     uint32 // S_IF* | permissions
	Ino      uint64
	Size     int64
	MTime    int64
	Data     image.Blob
	Target   string
	Rdev     uint64
	Parent   *Node // nil only for the root
	children []*Node
}

// IsDir reports whether n is a directory.
func (n *Node) IsDir() bool { return n.Mode&unix.S_IFMT == unix.S_IFDIR }

func (n *Node) isLink() bool { return n.Mode&unix.S_IFMT == unix.S_IFLNK }

func (n *Node) child(name string) *Node {
	i := sort.Search(len(n.children), func(i int) bool { return n.children[i].Name >= name })
	if i < len(n.children) && n.children[i].Name == name {
		return n.children[i]
	}
	return nil
}

// Path is n's absolute path in the tree.
func (n *Node) Path() string {
	if n.Parent == nil {
		return "/"
	}
	var parts []string
	for ; n.Parent != nil; n = n.Parent {
		parts = append(parts, n.Name)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "/" + strings.Join(parts, "/")
}

// FS is one image's tree with the file that holds the data.
type FS struct {
	Root *Node
	src  io.ReaderAt
	nino uint64
}

// New builds the tree from a manifest (already checked by image.Open).
func New(files []image.Entry, src io.ReaderAt) *FS {
	fs := &FS{src: src}
	fs.Root = fs.node("", unix.S_IFDIR|0o755, nil)
	byPath := map[string]*Node{"/": fs.Root}
	for _, e := range files {
		parent := byPath[path.Dir(e.Path)]
		if parent == nil || !parent.IsDir() {
			continue // image.Open rejects this; be safe anyway
		}
		var n *Node
		switch e.Type {
		case image.TypeDir:
			n = fs.node(path.Base(e.Path), unix.S_IFDIR|e.Mode&0o7777, parent)
		case image.TypeSymlink:
			n = fs.node(path.Base(e.Path), unix.S_IFLNK|0o777, parent)
			n.Target, n.Size = e.Target, int64(len(e.Target))
		default:
			n = fs.node(path.Base(e.Path), unix.S_IFREG|e.Mode&0o7777, parent)
			n.Data, n.Size = e.Data, int64(e.Data.Size)
		}
		n.MTime = e.MTime
		byPath[e.Path] = n
	}
	fs.addDevices()
	fs.sortAll(fs.Root)
	return fs
}

func (fs *FS) node(name string, mode uint32, parent *Node) *Node {
	fs.nino++
	n := &Node{Name: name, Mode: mode, Ino: fs.nino, Parent: parent}
	if parent != nil {
		parent.children = append(parent.children, n)
	}
	return n
}

func (fs *FS) sortAll(n *Node) {
	sort.Slice(n.children, func(i, j int) bool { return n.children[i].Name < n.children[j].Name })
	for _, c := range n.children {
		if c.IsDir() {
			fs.sortAll(c)
		}
	}
}

// Device numbers of the synthetic devices, as on Linux.
const (
	devNull    = 1<<8 | 3
	devZero    = 1<<8 | 5
	devRandom  = 1<<8 | 8
	devURandom = 1<<8 | 9
)

// addDevices gives every image /dev/null, /dev/zero and the random devices
// unless the image brings its own /dev: programs expect them.
func (fs *FS) addDevices() {
	for _, c := range fs.Root.children {
		if c.Name == "dev" {
			return
		}
	}
	dev := fs.node("dev", unix.S_IFDIR|0o755, fs.Root)
	for _, d := range []struct {
		name string
		rdev uint64
	}{{"null", devNull}, {"zero", devZero}, {"random", devRandom}, {"urandom", devURandom}} {
		fs.node(d.name, unix.S_IFCHR|0o666, dev).Rdev = d.rdev
	}
}

// Lookup resolves p from dir (for relative paths) to a node, following
// symlinks (the last component only if follow). ".." at the root stays at
// the root and symlink targets resolve inside the tree: no way out.
func (fs *FS) Lookup(dir *Node, p string, follow bool) (*Node, unix.Errno) {
	budget := maxSymlinks
	return fs.walk(dir, p, follow, &budget)
}

func (fs *FS) walk(dir *Node, p string, follow bool, budget *int) (*Node, unix.Errno) {
	if p == "" {
		return nil, unix.ENOENT
	}
	if len(p) >= unix.PathMax {
		return nil, unix.ENAMETOOLONG
	}
	cur := dir
	if p[0] == '/' {
		cur = fs.Root
	}
	// A trailing slash demands a directory, and follows a final symlink.
	mustDir := strings.HasSuffix(p, "/")
	if mustDir {
		follow = true
	}
	comps := strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
	for i, c := range comps {
		if !cur.IsDir() {
			return nil, unix.ENOTDIR
		}
		if len(c) > 255 {
			return nil, unix.ENAMETOOLONG
		}
		switch c {
		case ".":
			continue
		case "..":
			if cur.Parent != nil {
				cur = cur.Parent
			}
			continue
		}
		next := cur.child(c)
		if next == nil {
			return nil, unix.ENOENT
		}
		if next.isLink() && (i < len(comps)-1 || follow) {
			if *budget--; *budget < 0 {
				return nil, unix.ELOOP
			}
			t, err := fs.walk(cur, next.Target, true, budget)
			if err != 0 {
				return nil, err
			}
			next = t
		}
		cur = next
	}
	if mustDir && !cur.IsDir() {
		return nil, unix.ENOTDIR
	}
	return cur, 0
}

// ReadFile is the contents of the regular file at p (following links), at
// most max bytes: ENOENT if the image lacks it, EFBIG past max.
func (fs *FS) ReadFile(p string, max int64) ([]byte, unix.Errno) {
	n, e := fs.Lookup(fs.Root, p, true)
	if e != 0 {
		return nil, e
	}
	if n.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, unix.EINVAL
	}
	if n.Size > max {
		return nil, unix.EFBIG
	}
	b := make([]byte, n.Size)
	if k, err := fs.src.ReadAt(b, int64(n.Data.Off)); err != nil && k < len(b) {
		return nil, unix.EIO
	}
	return b, 0
}
