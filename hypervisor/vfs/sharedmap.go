// Shared file mappings (MAP_SHARED of a file descriptor).

package vfs

import (
	"golang.org/x/sys/unix"
)

// A file mapped shared is host memory that VMs map as a window (a memory
// slot): the program's stores are the file's bytes for read(2), for the
// other VMs that map it and, in a volume, for the host. A memory file
// (the run's layer, /tmp, /dev/shm, memfd_create) moves its data into a
// host memfd at its first shared mapping; a volume's file is mapped from
// its host descriptor, so the host's page cache keeps both coherent.

// Mapping is a range of a file mapped shared in the host.
type Mapping struct {
	Host []byte
	ID   any // the file's memory, the same for every mapping of it
	done func()
}

// Release unmaps it from the host (its windows are gone).
func (m *Mapping) Release() { m.done() }

// SharedMapper is a file that may be mapped shared; write: the mapping
// may be written (the description was checked for it).
type SharedMapper interface {
	MapShared(off, size int64, write bool) (*Mapping, unix.Errno)
}

// hostMap maps [off, off+size) of the host descriptor fd.
func hostMap(fd int, off, size int64, write bool) (*Mapping, unix.Errno) {
	prot := unix.PROT_READ
	if write {
		prot |= unix.PROT_WRITE
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, Errno(err)
	}
	b, err := unix.Mmap(fd, off, int(size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, Errno(err)
	}
	return &Mapping{Host: b, ID: [2]uint64{st.Dev, st.Ino}, done: func() { unix.Munmap(b) }}, 0
}

// MapShared maps a volume's file from its host descriptor. Pages past the
// file's end stay unbacked, as on Linux; a guest touching one is stopped.
func (f *volFile) MapShared(off, size int64, write bool) (*Mapping, unix.Errno) {
	return hostMap(f.FD, off, size, write)
}

// memStore is a memory file's data once it is mapped shared: a host memfd
// whose length only grows (pages past the file's size are holes, read as
// zeros), so no window ever maps past it.
type memStore struct {
	fd  int
	len int64 // the memfd's length, a page multiple; charged to the space
}

// MapShared maps a memory file. Mapped pages past its size read zero and
// stay the file's, where Linux would signal SIGBUS.
func (f *memFile) MapShared(off, size int64, write bool) (*Mapping, unix.Errno) {
	n := f.n
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if e := n.share(); e != 0 {
		return nil, e
	}
	if e := n.store.grow(n, off+size); e != 0 {
		return nil, e
	}
	m, e := hostMap(n.store.fd, off, size, true)
	if e != 0 {
		return nil, e
	}
	n.opens++ // a mapping holds the file, as an open description does
	m.ID = n
	unmap := m.done
	m.done = func() {
		unmap()
		n.fs.mu.Lock()
		n.opens--
		n.release()
		n.fs.mu.Unlock()
	}
	return m, 0
}

// share moves n's data into a memfd; fs.mu held.
func (n *memInode) share() unix.Errno {
	if n.store != nil {
		return 0
	}
	if e := n.copyUp(); e != 0 {
		return e
	}
	fd, err := unix.MemfdCreate("ukfork-file", unix.MFD_CLOEXEC)
	if err != nil {
		return unix.ENOMEM
	}
	s := &memStore{fd: fd}
	if e := s.grow(n, n.size); e != 0 {
		s.free(n)
		return e
	}
	for i, pg := range n.pages {
		if i*pageSize >= n.size {
			continue
		}
		if _, err := unix.Pwrite(fd, pg[:], i*pageSize); err != nil {
			s.free(n)
			return unix.ENOMEM
		}
	}
	n.fs.space.give(int64(len(n.pages)) * pageSize)
	n.charged -= int64(len(n.pages)) * pageSize
	n.pages, n.store = nil, s
	return 0
}

// grow makes the memfd at least end bytes long, charging the space.
func (s *memStore) grow(n *memInode, end int64) unix.Errno {
	end = (end + pageSize - 1) &^ (pageSize - 1)
	if end <= s.len {
		return 0
	}
	if !n.fs.space.take(end - s.len) {
		return unix.ENOSPC
	}
	if err := unix.Ftruncate(s.fd, end); err != nil {
		n.fs.space.give(end - s.len)
		return unix.ENOSPC
	}
	n.charged += end - s.len
	s.len = end
	return 0
}

// free closes a memfd n does not use and gives its space back; fs.mu held.
func (s *memStore) free(n *memInode) {
	unix.Close(s.fd)
	n.fs.space.give(s.len)
	n.charged -= s.len
}

func (s *memStore) readAt(b []byte, off int64) (int, unix.Errno) {
	done := 0
	for done < len(b) {
		k, err := unix.Pread(s.fd, b[done:], off+int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, unix.EIO
		}
		if k == 0 { // past the memfd: a hole
			clear(b[done:])
			return len(b), 0
		}
		done += k
	}
	return done, 0
}

func (s *memStore) writeAt(n *memInode, b []byte, off int64) (int, unix.Errno) {
	if e := s.grow(n, off+int64(len(b))); e != 0 {
		return 0, e
	}
	done := 0
	for done < len(b) {
		k, err := unix.Pwrite(s.fd, b[done:], off+int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, unix.ENOSPC
		}
		done += k
	}
	return done, 0
}

// truncate drops what lies past size (the memfd keeps its length: windows
// may map it).
func (s *memStore) truncate(size int64) {
	if size >= s.len {
		return
	}
	if tail := size % pageSize; tail != 0 {
		var zero [pageSize]byte
		unix.Pwrite(s.fd, zero[:pageSize-tail], size)
	}
	from := (size + pageSize - 1) &^ (pageSize - 1)
	if from < s.len {
		unix.Fallocate(s.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, from, s.len-from)
	}
}

func (s *memStore) allocate(n *memInode, off, end int64) unix.Errno {
	if e := s.grow(n, end); e != 0 {
		return e
	}
	if err := unix.Fallocate(s.fd, 0, off, end-off); err != nil {
		return unix.ENOSPC
	}
	return 0
}

// blocks is st_blocks: what the memfd holds.
func (s *memStore) blocks() int64 {
	var st unix.Stat_t
	if unix.Fstat(s.fd, &st) != nil {
		return 0
	}
	return st.Blocks
}

// seekData is SEEK_DATA or SEEK_HOLE within size.
func (s *memStore) seekData(off, size int64, whence int) (int64, unix.Errno) {
	at, err := unix.Seek(s.fd, off, whence)
	if err != nil {
		if whence == unix.SEEK_DATA {
			return 0, unix.ENXIO
		}
		return size, 0
	}
	if at >= size {
		if whence == unix.SEEK_DATA {
			return 0, unix.ENXIO
		}
		return size, 0
	}
	return at, 0
}

// Anon opens a new regular file with no name (memfd_create): label is
// what /proc/PID/fd shows of it.
func (fs *MemFS) Anon(label string, uid, gid uint32) (File, unix.Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	cost := int64(inodeCost + len(label))
	if !fs.space.take(cost) {
		return nil, unix.ENOMEM
	}
	n := fs.newInode(unix.S_IFREG|0o777, uid, gid, nil, "")
	n.nlink, n.opens, n.label, n.charged = 0, 1, label, cost
	return &memFile{n: n}, 0
}

// Target is what readlink of /proc/PID/fd/N shows of a file with no name,
// "" for the others.
func (f *memFile) Target() string { return f.n.label }
