package vfs

import (
	"crypto/rand"

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
	Inode() Inode // nil for host files
	Close()
}

// base gives the errors Linux returns for operations a kind of file lacks.
type base struct{}

// Base is base for files made outside this package (kernel.Signalfd).
type Base = base

func (base) Read([][]byte, int64) (int, unix.Errno)  { return 0, unix.EINVAL }
func (base) Write([][]byte, int64) (int, unix.Errno) { return 0, unix.EBADF }
func (base) Lseek(int64, int) (int64, unix.Errno)    { return 0, unix.ESPIPE }
func (base) Getdents([]byte) (int, unix.Errno)       { return 0, unix.ENOTDIR }
func (base) Ioctl(uint64, []byte) unix.Errno         { return unix.ENOTTY }
func (base) Inode() Inode                            { return nil }
func (base) Close()                                  {}

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

func dtype(mode uint32) byte {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFCHR:
		return unix.DT_CHR
	case unix.S_IFBLK:
		return unix.DT_BLK
	case unix.S_IFIFO:
		return unix.DT_FIFO
	case unix.S_IFSOCK:
		return unix.DT_SOCK
	default:
		return unix.DT_REG
	}
}

// devFile is one of the synthetic character devices.
type devFile struct {
	base
	n    Inode
	rdev uint64
}

func (f *devFile) Inode() Inode                         { return f.n }
func (f *devFile) Stat(st *abi.Stat) unix.Errno         { return f.n.Stat(st) }
func (f *devFile) Lseek(int64, int) (int64, unix.Errno) { return 0, 0 }

func (f *devFile) Read(dst [][]byte, _ int64) (int, unix.Errno) {
	total := 0
	for _, b := range dst {
		switch f.rdev {
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

// Dirent is one entry a directory cursor gives: Skip for one gone since the
// listing was taken, Name "" at the end.
type Dirent struct {
	Name string
	Ino  uint64
	Type byte
	Skip bool
}

// FillDirents writes getdents64 records into buf for the entries at(*pos),
// at(*pos+1) ... as they fit, advancing *pos: ".", "..", then the
// directory's own, as each open directory's cursor counts them. EINVAL when
// not even the first fits, as Linux.
func FillDirents(buf []byte, pos *int64, at func(i int64) Dirent) (int, unix.Errno) {
	n := 0
	for ; ; *pos++ {
		d := at(*pos)
		if d.Skip {
			continue
		}
		if d.Name == "" {
			return n, 0
		}
		w := PutDirent(buf[n:], d.Ino, *pos+1, d.Type, d.Name)
		if w == 0 {
			if n == 0 {
				return 0, unix.EINVAL
			}
			return n, 0
		}
		n += w
	}
}

// PutDirent writes one linux_dirent64 record at the start of buf: its
// length, or 0 if it does not fit.
func PutDirent(buf []byte, ino uint64, next int64, typ byte, name string) int {
	reclen := (19 + len(name) + 1 + 7) &^ 7
	if reclen > len(buf) {
		return 0
	}
	r := buf[:reclen]
	clear(r)
	le.PutUint64(r[0:], ino)
	le.PutUint64(r[8:], uint64(next))
	le.PutUint16(r[16:], uint16(reclen))
	r[18] = typ
	copy(r[19:], name)
	return reclen
}
