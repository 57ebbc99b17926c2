package vfs

import (
	"crypto/rand"
	"io"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// File is an open file description: what an fd points at. Offsets below 0
// mean "at the file position, and advance it".
type File interface {
	Read(dst [][]byte, off int64) (int, unix.Errno)
	Write(src [][]byte, off int64) (int, unix.Errno)
	Lseek(off int64, whence int) (int64, unix.Errno)
	Stat(st *abi.Stat) unix.Errno
	Getdents(buf []byte) (int, unix.Errno)
	// Ioctl serves a request; out is where the result goes, sized by the
	// caller from the request (nil for requests it does not know).
	Ioctl(req uint64, out []byte) unix.Errno
	Node() *Node // nil for host files
	Close()
}

// base gives the errors Linux returns for operations a kind of file lacks.
type base struct{}

func (base) Read([][]byte, int64) (int, unix.Errno)  { return 0, unix.EINVAL }
func (base) Write([][]byte, int64) (int, unix.Errno) { return 0, unix.EBADF }
func (base) Lseek(int64, int) (int64, unix.Errno)    { return 0, unix.ESPIPE }
func (base) Getdents([]byte) (int, unix.Errno)       { return 0, unix.ENOTDIR }
func (base) Ioctl(uint64, []byte) unix.Errno         { return unix.ENOTTY }
func (base) Node() *Node                             { return nil }
func (base) Close()                                  {}

// StatNode fills st from a tree node.
func StatNode(n *Node, st *abi.Stat) {
	nlink := uint64(1)
	if n.IsDir() {
		nlink = 2
		for _, c := range n.children {
			if c.IsDir() {
				nlink++
			}
		}
	}
	*st = abi.Stat{
		Dev: 0x75, Ino: n.Ino, Nlink: nlink, Mode: n.Mode, Rdev: n.Rdev,
		Size: n.Size, Blksize: 4096, Blocks: (n.Size + 4095) / 4096 * 8, // whole 4 KiB blocks, as ext4 allocates
		Atime_sec: n.MTime, Mtime_sec: n.MTime, Ctime_sec: n.MTime,
	}
}

// seek computes a new position per lseek(2).
func seek(pos *int64, size, off int64, whence int) (int64, unix.Errno) {
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = off
	case unix.SEEK_CUR:
		n = *pos + off
	case unix.SEEK_END:
		n = size + off
	case unix.SEEK_DATA:
		if off < 0 || off >= size { // ENXIO for negative offsets too, as Linux
			return 0, unix.ENXIO
		}
		n = off
	case unix.SEEK_HOLE:
		if off < 0 || off >= size { // ENXIO for negative offsets too, as Linux
			return 0, unix.ENXIO
		}
		n = size
	default:
		return 0, unix.EINVAL
	}
	if n < 0 || (whence == unix.SEEK_CUR && off > 0 && n < *pos) {
		return 0, unix.EINVAL
	}
	*pos = n
	return n, 0
}

// regFile is a regular file of the image.
type regFile struct {
	base
	n   *Node
	src io.ReaderAt
	pos int64
}

func (f *regFile) Node() *Node { return f.n }

// ImageRange is where the file's bytes are in the image file: a file of the
// image never changes, so a guest may map them.
func (f *regFile) ImageRange() (off, size uint64, ok bool) {
	return f.n.Data.Off, f.n.Data.Size, f.n.Data.Size > 0
}

func (f *regFile) Read(dst [][]byte, off int64) (int, unix.Errno) {
	at := off
	if off < 0 {
		at = f.pos
	}
	total := 0
	for _, b := range dst {
		if at >= f.n.Size {
			break
		}
		if rem := f.n.Size - at; int64(len(b)) > rem {
			b = b[:rem]
		}
		k, err := f.src.ReadAt(b, int64(f.n.Data.Off)+at)
		total += k
		at += int64(k)
		if err != nil && err != io.EOF {
			if total > 0 {
				break
			}
			return 0, unix.EIO
		}
	}
	if off < 0 {
		f.pos = at
	}
	return total, 0
}

func (f *regFile) Lseek(off int64, whence int) (int64, unix.Errno) {
	return seek(&f.pos, f.n.Size, off, whence)
}

func (f *regFile) Stat(st *abi.Stat) unix.Errno { StatNode(f.n, st); return 0 }

// dirFile is an open directory; its position counts entries read.
type dirFile struct {
	base
	n   *Node
	pos int64
}

func (f *dirFile) Node() *Node                            { return f.n }
func (f *dirFile) Read([][]byte, int64) (int, unix.Errno) { return 0, unix.EISDIR }
func (f *dirFile) Stat(st *abi.Stat) unix.Errno           { StatNode(f.n, st); return 0 }

func (f *dirFile) Lseek(off int64, whence int) (int64, unix.Errno) {
	if whence != unix.SEEK_SET && whence != unix.SEEK_CUR {
		return 0, unix.EINVAL
	}
	return seek(&f.pos, 0, off, whence)
}

// Getdents writes linux_dirent64 records: ".", "..", then the children.
func (f *dirFile) Getdents(buf []byte) (int, unix.Errno) {
	n := 0
	for {
		var name string
		var node *Node
		switch i := f.pos; {
		case i == 0:
			name, node = ".", f.n
		case i == 1:
			name, node = "..", f.n
			if f.n.Parent != nil {
				node = f.n.Parent
			}
		case i-2 < int64(len(f.n.children)):
			node = f.n.children[i-2]
			name = node.Name
		default:
			return n, 0
		}
		reclen := (19 + len(name) + 1 + 7) &^ 7
		if n+reclen > len(buf) {
			if n == 0 {
				return 0, unix.EINVAL
			}
			return n, 0
		}
		r := buf[n : n+reclen]
		clear(r)
		le.PutUint64(r[0:], node.Ino)
		le.PutUint64(r[8:], uint64(f.pos+1))
		le.PutUint16(r[16:], uint16(reclen))
		r[18] = dtype(node.Mode)
		copy(r[19:], name)
		n += reclen
		f.pos++
	}
}

func dtype(mode uint32) byte {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFCHR:
		return unix.DT_CHR
	default:
		return unix.DT_REG
	}
}

// devFile is one of the synthetic character devices.
type devFile struct {
	base
	n *Node
}

func (f *devFile) Node() *Node                          { return f.n }
func (f *devFile) Stat(st *abi.Stat) unix.Errno         { StatNode(f.n, st); return 0 }
func (f *devFile) Lseek(int64, int) (int64, unix.Errno) { return 0, 0 }

func (f *devFile) Read(dst [][]byte, _ int64) (int, unix.Errno) {
	total := 0
	for _, b := range dst {
		switch f.n.Rdev {
		case devNull:
			return 0, 0
		case devZero:
			clear(b)
		default:
			rand.Read(b)
		}
		total += len(b)
	}
	return total, 0
}

func (f *devFile) Write(src [][]byte, _ int64) (int, unix.Errno) {
	total := 0
	for _, b := range src {
		total += len(b)
	}
	return total, 0
}
