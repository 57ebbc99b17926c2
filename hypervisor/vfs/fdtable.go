package vfs

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

var le = binary.LittleEndian

// OpenFile is an open file description with its status flags. Processes
// (VMs, each on its own thread) share it after fork or dup.
type OpenFile struct {
	File
	mu    sync.Mutex
	flags int // O_ACCMODE | O_APPEND | O_NONBLOCK ...
	refs  atomic.Int32
	epoll map[*Epoll]struct{} // instances watching it, told at its last close
	owner Owner               // F_SETOWN: who O_ASYNC signals
	locks *Locks              // where it holds OFD locks or a flock, dropped at its last close
}

// lockedIn records that f holds locks of t.
func (f *OpenFile) lockedIn(t *Locks) {
	f.mu.Lock()
	f.locks = t
	f.mu.Unlock()
}

// Owner is who an open file's O_ASYNC signals go to (F_SETOWN,
// F_SETOWN_EX), and with which signal (F_SETSIG; 0: SIGIO).
type Owner struct {
	Type int32 // F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP
	ID   int32 // 0: nobody
	Sig  int32
}

// Owner is f's async owner.
func (f *OpenFile) Owner() Owner {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.owner
}

// SetOwner changes it.
func (f *OpenFile) SetOwner(o Owner) {
	f.mu.Lock()
	f.owner = o
	f.mu.Unlock()
}

// watch records that ep watches f: false if f is closed already.
func (f *OpenFile) watch(ep *Epoll) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refs.Load() <= 0 {
		return false
	}
	if f.epoll == nil {
		f.epoll = map[*Epoll]struct{}{}
	}
	f.epoll[ep] = struct{}{}
	return true
}

func (f *OpenFile) unwatch(ep *Epoll) {
	f.mu.Lock()
	delete(f.epoll, ep)
	f.mu.Unlock()
}

// NewOpenFile makes a description of f with open(2) flags.
func NewOpenFile(f File, flags int) *OpenFile { return &OpenFile{File: f, flags: flags} }

// Flags returns the status flags.
func (f *OpenFile) Flags() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flags
}

// settable are the status flags F_SETFL may change.
const settable = unix.O_APPEND | unix.O_NONBLOCK | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME

// SetFlags changes the status flags F_SETFL may change.
func (f *OpenFile) SetFlags(v int) {
	f.mu.Lock()
	f.flags = f.flags&^settable | v&settable
	flags := f.flags
	f.mu.Unlock()
	if w, ok := f.File.(interface{ FlagsChanged(int) }); ok {
		w.FlagsChanged(flags)
	}
}

// Nonblock reports O_NONBLOCK.
func (f *OpenFile) Nonblock() bool { return f.Flags()&unix.O_NONBLOCK != 0 }

// Readable and Writable check the access mode.
func (f *OpenFile) Readable() bool { return f.flags&unix.O_ACCMODE != unix.O_WRONLY }
func (f *OpenFile) Writable() bool { return f.flags&unix.O_ACCMODE != unix.O_RDONLY }

type fdEntry struct {
	f       *OpenFile
	cloexec bool
}

// FDTable maps a process's descriptor numbers to open file descriptions.
// Its lock guards the numbers; the descriptions have their own.
type FDTable struct {
	mu  sync.Mutex
	fds []fdEntry
	max int
	// Watch, if set, learns every change, under the table's lock: fd now
	// names f (nil: closed). It must not call back into the table.
	Watch func(fd int, f *OpenFile)
	// Limit, if set, is RLIMIT_NOFILE as the process has set it now (0:
	// the table's default).
	Limit func() int
	// Closed, if set, learns that a descriptor of the table no longer
	// names f (a process's record locks on the file go then), outside
	// the table's lock.
	Closed func(f *OpenFile)
}

// drop gives up a descriptor's reference to f.
func (t *FDTable) drop(f *OpenFile) {
	if t.Closed != nil {
		t.Closed(f)
	}
	f.Release()
}

// limit is how many descriptors the table allows now; t.mu held.
func (t *FDTable) limit() int {
	if t.Limit != nil {
		if l := t.Limit(); l > 0 {
			return l
		}
	}
	return t.max
}

// NewFDTable makes an empty table allowing max descriptors.
func NewFDTable(max int) *FDTable { return &FDTable{max: max} }

// Get returns the description behind fd, or EBADF.
func (t *FDTable) Get(fd int) (*OpenFile, unix.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(fd)
}

func (t *FDTable) get(fd int) (*OpenFile, unix.Errno) {
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].f == nil {
		return nil, unix.EBADF
	}
	return t.fds[fd].f, 0
}

// Install puts f at the lowest free descriptor, or EMFILE.
func (t *FDTable) Install(f *OpenFile, cloexec bool) (int, unix.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.install(f, 0, cloexec)
}

// install puts f at the lowest free descriptor >= min; t.mu held.
func (t *FDTable) install(f *OpenFile, min int, cloexec bool) (int, unix.Errno) {
	for i := min; ; i++ {
		if i >= t.limit() {
			return -1, unix.EMFILE
		}
		for len(t.fds) <= i {
			t.fds = append(t.fds, fdEntry{})
		}
		if t.fds[i].f == nil {
			t.set(i, f, cloexec)
			return i, 0
		}
	}
}

// set makes fd name f; t.mu held.
func (t *FDTable) set(fd int, f *OpenFile, cloexec bool) {
	f.refs.Add(1)
	t.fds[fd] = fdEntry{f: f, cloexec: cloexec}
	if t.Watch != nil {
		t.Watch(fd, f)
	}
}

// clear empties fd and returns what it named, to Release once t.mu is
// dropped (closing a description may wake other tasks).
func (t *FDTable) clear(fd int) *OpenFile {
	f := t.fds[fd].f
	t.fds[fd] = fdEntry{}
	if t.Watch != nil {
		t.Watch(fd, nil)
	}
	return f
}

// Held reports whether f is referenced already: a description Open found
// (a magic link) rather than made, which the opener releases after it
// installs it.
func (f *OpenFile) Held() bool { return f.refs.Load() > 0 }

// Release drops a reference taken outside a table (a description being
// opened); the last one closes it.
func (f *OpenFile) Release() {
	if f.refs.Add(-1) == 0 {
		f.mu.Lock()
		eps, locks := f.epoll, f.locks
		f.epoll, f.locks = nil, nil
		f.mu.Unlock()
		for ep := range eps {
			ep.forget(f)
		}
		if locks != nil {
			locks.ReleaseOFD(f)
		}
		f.File.Close()
	}
}

// Close releases fd; the description closes with its last reference.
func (t *FDTable) Close(fd int) unix.Errno {
	t.mu.Lock()
	if _, e := t.get(fd); e != 0 {
		t.mu.Unlock()
		return e
	}
	f := t.clear(fd)
	t.mu.Unlock()
	t.drop(f)
	return 0
}

// Each calls fn for every open descriptor, on a snapshot of the table.
func (t *FDTable) Each(fn func(fd int, f *OpenFile)) {
	t.mu.Lock()
	snap := append([]fdEntry(nil), t.fds...)
	t.mu.Unlock()
	for fd, e := range snap {
		if e.f != nil {
			fn(fd, e.f)
		}
	}
}

// closeIf closes every descriptor for which pick holds.
func (t *FDTable) closeIf(pick func(fd int, e fdEntry) bool) {
	t.mu.Lock()
	var gone []*OpenFile
	for fd, e := range t.fds {
		if e.f != nil && pick(fd, e) {
			gone = append(gone, t.clear(fd))
		}
	}
	t.mu.Unlock()
	for _, f := range gone {
		t.drop(f)
	}
}

// CloseAll closes every descriptor.
func (t *FDTable) CloseAll() { t.closeIf(func(int, fdEntry) bool { return true }) }

// CloseRange closes the descriptors first..last (close_range(2)), or
// marks them close-on-exec.
func (t *FDTable) CloseRange(first, last int, cloexec bool) {
	if !cloexec {
		t.closeIf(func(fd int, _ fdEntry) bool { return fd >= first && fd <= last })
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for fd := first; fd < len(t.fds) && fd <= last; fd++ {
		if t.fds[fd].f != nil {
			t.fds[fd].cloexec = true
		}
	}
}
