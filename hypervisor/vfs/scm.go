// Descriptor passing (SCM_RIGHTS) between the run's processes.

package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// A passed descriptor travels as a token: a memfd of its own, which the
// host kernel carries in the message over the host socket as it would any
// descriptor, so it arrives with the message, in order, and only where the
// message goes. The open file description itself stays here, held by the
// table of files in flight under the token's inode number; the receiver's
// side finds it by that number and installs the same description, as Linux
// does. A descriptor that is not one of our tokens (a peer outside the run
// passed it) becomes a host file of the receiver's.

// maxInFlight bounds the files a run has in flight (Linux bounds a user's
// by RLIMIT_NOFILE: ETOOMANYREFS past it).
const maxInFlight = 4096

// InFlight is the run's table of passed files.
type InFlight struct {
	mu    sync.Mutex
	byIno map[uint64]*OpenFile
}

// Token holds f in flight and gives the host descriptor that stands for
// it, for the caller to send and then close.
func (t *InFlight) Token(f *OpenFile) (int, unix.Errno) {
	fd, err := unix.MemfdCreate("ukfork-passed-fd", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, Errno(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, Errno(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byIno == nil {
		t.byIno = map[uint64]*OpenFile{}
	}
	if old := t.byIno[st.Ino]; old != nil {
		// A token's inode is only reused once the token is gone: its
		// message was dropped unread, and the file with it.
		delete(t.byIno, st.Ino)
		defer old.Release()
	} else if len(t.byIno) >= maxInFlight {
		unix.Close(fd)
		return -1, unix.ETOOMANYREFS
	}
	f.refs.Add(1)
	t.byIno[st.Ino] = f
	return fd, 0
}

// Take is the file a received host descriptor stands for, holding one
// reference the caller gives up (Release) once a descriptor holds it;
// hostfd is closed unless it became the file.
func (t *InFlight) Take(hostfd int, b *Budget) (*OpenFile, unix.Errno) {
	var st unix.Stat_t
	if err := unix.Fstat(hostfd, &st); err != nil {
		unix.Close(hostfd)
		return nil, Errno(err)
	}
	t.mu.Lock()
	f := t.byIno[st.Ino]
	if f != nil {
		delete(t.byIno, st.Ino)
	}
	t.mu.Unlock()
	if f != nil {
		unix.Close(hostfd)
		return f, 0
	}
	if e := b.takeFDs(1); e != 0 {
		unix.Close(hostfd)
		return nil, e
	}
	flags, err := unix.FcntlInt(uintptr(hostfd), unix.F_GETFL, 0)
	if err != nil {
		flags = unix.O_RDWR
	}
	unix.SetNonblock(hostfd, true)
	of := NewOpenFile(&HostFile{FD: hostfd, Owned: true, budget: b}, flags)
	of.refs.Add(1)
	return of, 0
}

// Close drops what is still in flight at the run's end.
func (t *InFlight) Close() {
	t.mu.Lock()
	files := t.byIno
	t.byIno = nil
	t.mu.Unlock()
	for _, f := range files {
		f.Release()
	}
}
