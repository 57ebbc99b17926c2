// Open files and directories of a memory filesystem.

package vfs

import (
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// memFile is an open regular file of a MemFS. Its position is guarded by
// the filesystem's lock, as descriptions are shared between VMs.
type memFile struct {
	base
	n      *memInode
	pos    int64
	append bool
}

func (f *memFile) Inode() Inode { return f.n }

// ImageRange is where the file's bytes are in the image file while the run
// has not changed it, so a guest may map them (UKF_HC_FMAP). A mapping
// made before a change keeps the image's bytes, as a private mapping's
// copied pages would.
func (f *memFile) ImageRange() (off, size uint64, ok bool) {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	if f.n.copied || f.n.lower == nil {
		return 0, 0, false
	}
	return f.n.lower.Data.Off, f.n.lower.Data.Size, f.n.lower.Data.Size > 0
}

func (f *memFile) FlagsChanged(flags int) {
	f.n.fs.mu.Lock()
	f.append = flags&unix.O_APPEND != 0
	f.n.fs.mu.Unlock()
}

func (f *memFile) Stat(st *abi.Stat) unix.Errno { return f.n.Stat(st) }

func (f *memFile) Close() {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	f.n.opens--
	f.n.release()
}

func (f *memFile) Read(dst [][]byte, off int64) (int, unix.Errno) {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	at := off
	if off < 0 {
		at = f.pos
	}
	total := 0
	for _, b := range dst {
		k, e := f.n.readAt(b, at)
		if e != 0 {
			if total > 0 {
				break
			}
			return 0, e
		}
		total += k
		at += int64(k)
		if k < len(b) {
			break
		}
	}
	if off < 0 {
		f.pos = at
	}
	return total, 0
}

func (f *memFile) Write(src [][]byte, off int64) (int, unix.Errno) {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	n := f.n
	at := off
	switch {
	case f.append: // pwrite too, as Linux (pwrite(2), BUGS)
		at = n.size
	case off < 0:
		at = f.pos
	}
	total := int64(0)
	for _, b := range src {
		total += int64(len(b))
	}
	if total == 0 {
		return 0, 0
	}
	if at > maxFileSize-total {
		return 0, unix.EFBIG
	}
	if e := n.copyUp(); e != 0 {
		return 0, e
	}
	p := at
	for _, b := range src {
		k, e := n.writeAt(b, p)
		p += int64(k)
		if e != 0 || k < len(b) {
			if p == at {
				return 0, e
			}
			break
		}
	}
	now := nowSpec()
	n.mtime, n.ctime = now, now
	if off < 0 {
		f.pos = p
	}
	return int(p - at), 0
}

func (f *memFile) Lseek(off int64, whence int) (int64, unix.Errno) {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	n := f.n
	if (whence == unix.SEEK_DATA || whence == unix.SEEK_HOLE) && n.store != nil && off >= 0 && off < n.size {
		at, e := n.store.seekData(off, n.size, whence)
		if e == 0 {
			f.pos = at
		}
		return at, e
	}
	if (whence == unix.SEEK_DATA || whence == unix.SEEK_HOLE) && n.copied && off >= 0 && off < n.size {
		// Holes are the pages never written, as tmpfs finds them.
		i := off / pageSize
		for ; i*pageSize < n.size && (n.pages[i] != nil) != (whence == unix.SEEK_DATA); i++ {
		}
		at := min(max(off, i*pageSize), n.size)
		if whence == unix.SEEK_DATA && at >= n.size {
			return 0, unix.ENXIO
		}
		f.pos = at
		return at, 0
	}
	return seek(&f.pos, n.size, off, whence)
}

// Allocate is fallocate: the pages of [off, off+length) hold memory (and
// count against the space); mode 0 makes the file at least that long,
// FALLOC_FL_KEEP_SIZE keeps its size.
func (f *memFile) Allocate(mode uint32, off, length int64) unix.Errno {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	if mode&^unix.FALLOC_FL_KEEP_SIZE != 0 {
		return unix.EOPNOTSUPP
	}
	n := f.n
	if e := n.copyUp(); e != 0 {
		return e
	}
	end := off + length
	if e := n.allocate(off, end); e != 0 {
		return e
	}
	if mode == 0 && end > n.size {
		n.size = end
	}
	n.ctime = nowSpec()
	return 0
}

// memDir is an open directory of a MemFS: its entries as they were when
// it was first read (or rewound), as a tmpfs cursor would give them.
type memDir struct {
	base
	n     *memInode
	pos   int64
	names []string
	snap  bool
}

func (f *memDir) Inode() Inode                           { return f.n }
func (f *memDir) Read([][]byte, int64) (int, unix.Errno) { return 0, unix.EISDIR }
func (f *memDir) Stat(st *abi.Stat) unix.Errno           { return f.n.Stat(st) }

func (f *memDir) Close() {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	f.n.opens--
	f.n.release()
}

func (f *memDir) Lseek(off int64, whence int) (int64, unix.Errno) {
	f.n.fs.mu.Lock()
	defer f.n.fs.mu.Unlock()
	if whence != unix.SEEK_SET && whence != unix.SEEK_CUR {
		return 0, unix.EINVAL
	}
	r, e := seek(&f.pos, 0, off, whence)
	if e == 0 && r == 0 {
		f.snap = false
	}
	return r, e
}

// Getdents writes linux_dirent64 records: ".", "..", then the children.
func (f *memDir) Getdents(buf []byte) (int, unix.Errno) {
	fs := f.n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !f.snap {
		f.names, f.snap = f.n.names(), true
	}
	return FillDirents(buf, &f.pos, func(i int64) Dirent {
		switch {
		case i == 0:
			return Dirent{Name: ".", Ino: f.n.ino, Type: unix.DT_DIR}
		case i == 1:
			ino := f.n.ino
			if f.n.parent != nil {
				ino = f.n.parent.ino
			}
			return Dirent{Name: "..", Ino: ino, Type: unix.DT_DIR}
		case i-2 < int64(len(f.names)):
			c := f.n.child(f.names[i-2])
			if c == nil { // removed since
				return Dirent{Skip: true}
			}
			return Dirent{Name: f.names[i-2], Ino: c.ino, Type: dtype(c.mode)}
		}
		return Dirent{}
	})
}
