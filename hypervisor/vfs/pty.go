// Terminals: the run's /dev/pts, pseudo-terminals on the host's, /dev/tty.

package vfs

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// A run's terminals live in its own devpts, numbered from 0 as a fresh
// Linux devpts instance numbers them: the terminal `ukfork run` was started
// on (if it was) is 0, and each open of /dev/ptmx makes a pseudo-terminal
// on the host's /dev/ptmx and gives it the next free number. The host pty
// does the terminal work (line discipline, echo, window size); the run
// sees only its own numbers, never the host's, and the host opens no path
// a guest names: a slave is opened from its master (TIOCGPTPEER).

// Device numbers, as Linux has them.
const (
	devTTY     = 5<<8 | 0
	devPtmx    = 5<<8 | 2
	ptsMajor   = 136
	ttyGID     = 5 // Debian's tty group, which owns slaves
	devptsIno  = 1
	ptmxIno    = 2
	devptsMode = unix.S_IFDIR | 0o755
)

// maxPtys bounds the run's pseudo-terminals (Linux's default
// kernel.pty.max is 4096 for the whole system).
const maxPtys = 256

func ptsRdev(n uint32) uint64 { return uint64(ptsMajor)<<8 | uint64(n&0xff) | uint64(n>>8)<<20 }

// Devpts is the run's /dev/pts.
type Devpts struct {
	budget *Budget
	dev    uint64

	mu   sync.Mutex
	ttys map[uint32]*Tty
	root *ptsInode
	ptmx *ptsInode

	saved   *unix.Termios // the run's terminal's settings at its start
	savedFD int
}

// Close gives the run's terminal back as it found it: a program that set
// it raw and died does not leave the user's shell raw.
func (d *Devpts) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.saved != nil {
		unix.IoctlSetTermios(d.savedFD, unix.TCSETS, d.saved)
		d.saved = nil
	}
}

// NewDevpts makes an empty devpts; its files count against b.
func NewDevpts(b *Budget, dev uint64) *Devpts {
	d := &Devpts{budget: b, dev: dev, ttys: map[uint32]*Tty{}}
	d.root = &ptsInode{pts: d, ino: devptsIno, mode: devptsMode}
	d.ptmx = &ptsInode{pts: d, ino: ptmxIno, mode: unix.S_IFCHR | 0o666, rdev: devPtmx}
	return d
}

func (d *Devpts) Root() Inode      { return d.root }
func (d *Devpts) Sync() unix.Errno { return 0 }
func (d *Devpts) Statfs(st *abi.Statfs) {
	*st = abi.Statfs{Type: devptsMagic, Bsize: 4096, Namelen: 255, Frsize: 4096}
}

const devptsMagic = 0x1cd1

// Tty is one terminal of the run: a host pty, or the run's own terminal.
// Its foreground process group and session are the run's numbers, kept
// here: the host's job control never sees the guests.
type Tty struct {
	Index  uint32
	pts    *Devpts
	inode  *ptsInode
	master int    // the host pty's master; -1 for the run's terminal
	term   int    // the run's terminal (borrowed), -1 for a pty
	rdev   uint64 // the host device of term

	mu      sync.Mutex
	fg, sid int32
}

// gone is a closed pty's master.
const gone = -2

// Gone reports a pty whose master was closed.
func (t *Tty) Gone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.master == gone
}

// Session is the session the terminal controls (0: none) and its
// foreground process group.
func (t *Tty) Session() (sid, fg int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sid, t.fg
}

// SetSession makes the terminal control session sid, with fg in front;
// 0 frees it.
func (t *Tty) SetSession(sid, fg int32) {
	t.mu.Lock()
	t.sid, t.fg = sid, fg
	t.mu.Unlock()
}

// SetForeground changes the foreground process group.
func (t *Tty) SetForeground(pgid int32) {
	t.mu.Lock()
	t.fg = pgid
	t.mu.Unlock()
}

// Open opens the terminal's slave side anew (/dev/pts/N, /dev/tty): EIO
// while a pty is locked, as Linux.
func (t *Tty) Open(flags int) (*TtyFile, unix.Errno) {
	if e := t.pts.budget.takeFDs(1); e != 0 {
		return nil, e
	}
	var fd int
	var err error
	const how = unix.O_RDWR | unix.O_NOCTTY | unix.O_NONBLOCK | unix.O_CLOEXEC
	t.mu.Lock() // the master stays open while its peer opens
	defer t.mu.Unlock()
	if t.master == gone {
		err = unix.EIO // hung up, as a closed pty's slave
	} else if t.master >= 0 {
		var r uintptr
		var en unix.Errno
		r, _, en = unix.Syscall(unix.SYS_IOCTL, uintptr(t.master), unix.TIOCGPTPEER, how)
		fd, err = int(r), errnoErr(en)
	} else {
		// The same terminal, in a description of our own so that it
		// can be non-blocking on the host as owned descriptors are.
		fd, err = unix.Open(fmt.Sprintf("/proc/self/fd/%d", t.term), how, 0)
	}
	if err != nil {
		t.pts.budget.giveFDs(1)
		return nil, Errno(err)
	}
	return &TtyFile{HostFile: HostFile{FD: fd, Owned: true, budget: t.pts.budget}, Tty: t}, 0
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// Terminal is the file the run's first process, as c, has for host
// descriptor fd (borrowed) if fd is a terminal: the run's terminal, /dev/pts/0, is the
// first terminal of its stdio. nil if fd is not that terminal.
func (d *Devpts) Terminal(fd int, c *Cred) *TtyFile {
	var st unix.Stat_t
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil || unix.Fstat(fd, &st) != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.ttys[0]
	if t == nil {
		t = d.addLocked(0, -1, fd, c.UID, ttyGID)
		t.rdev = st.Rdev
		d.saved, _ = unix.IoctlGetTermios(fd, unix.TCGETS)
		d.savedFD = fd
	} else if t.rdev != st.Rdev {
		return nil
	}
	return &TtyFile{HostFile: HostFile{FD: fd}, Tty: t}
}

func (d *Devpts) addLocked(n uint32, master, term int, uid, gid uint32) *Tty {
	t := &Tty{Index: n, pts: d, master: master, term: term}
	t.inode = &ptsInode{pts: d, ino: uint64(n) + 3, mode: unix.S_IFCHR | 0o620, uid: uid, gid: gid, rdev: ptsRdev(n), tty: t}
	d.ttys[n] = t
	return t
}

// openMaster is an open of ptmx: a new pty, under the lowest free number.
func (d *Devpts) openMaster(c *Cred) (File, unix.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := uint32(0)
	for ; n < maxPtys; n++ {
		if d.ttys[n] == nil {
			break
		}
	}
	if n == maxPtys {
		return nil, unix.ENOSPC // as Linux past kernel.pty.max
	}
	fd, e := newHostFD(d.budget, func() (int, error) {
		return unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	})
	if e != 0 {
		return nil, e
	}
	uid := uint32(0)
	if c != nil {
		uid = c.UID
	}
	t := d.addLocked(n, fd, -1, uid, ttyGID)
	return &PtyMaster{HostFile: HostFile{FD: fd, Owned: true, budget: d.budget}, Tty: t}, 0
}

func (d *Devpts) remove(t *Tty) {
	d.mu.Lock()
	if d.ttys[t.Index] == t {
		delete(d.ttys, t.Index)
	}
	d.mu.Unlock()
}

func (d *Devpts) lookup(name string) (*Tty, bool) {
	n, err := strconv.ParseUint(name, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != name {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.ttys[uint32(n)]
	return t, ok
}

func (d *Devpts) names() []uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]uint32, 0, len(d.ttys))
	for n := range d.ttys {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ptsInode is /dev/pts, /dev/pts/ptmx or /dev/pts/N.
type ptsInode struct {
	readOnly
	pts  *Devpts
	ino  uint64
	rdev uint64
	tty  *Tty // /dev/pts/N

	mu        sync.Mutex
	mode      uint32
	uid, gid  uint32
	atim, mtm unix.Timespec
}

func (n *ptsInode) FS() Filesystem { return n.pts }

func (n *ptsInode) Stat(st *abi.Stat) unix.Errno {
	n.mu.Lock()
	defer n.mu.Unlock()
	nlink := uint64(1)
	if n == n.pts.root {
		nlink = 2
	}
	*st = abi.Stat{Dev: n.pts.dev, Ino: n.ino, Nlink: nlink, Mode: n.mode, Uid: n.uid, Gid: n.gid,
		Rdev: n.rdev, Blksize: 1024,
		Atime_sec: n.atim.Sec, Atime_nsec: n.atim.Nsec, Mtime_sec: n.mtm.Sec, Mtime_nsec: n.mtm.Nsec,
		Ctime_sec: n.mtm.Sec, Ctime_nsec: n.mtm.Nsec}
	return 0
}

func (n *ptsInode) Parent() (Inode, string) {
	switch {
	case n == n.pts.root:
		return nil, ""
	case n.tty != nil:
		return n.pts.root, strconv.FormatUint(uint64(n.tty.Index), 10)
	}
	return n.pts.root, "ptmx"
}

func (n *ptsInode) Lookup(name string) (Inode, unix.Errno) {
	if n != n.pts.root {
		return nil, unix.ENOTDIR
	}
	if name == "ptmx" {
		return n.pts.ptmx, 0
	}
	if t, ok := n.pts.lookup(name); ok {
		return t.inode, 0
	}
	return nil, unix.ENOENT
}

func (n *ptsInode) Readlink() (string, unix.Errno) { return "", unix.EINVAL }

func (n *ptsInode) Open(flags int) (File, unix.Errno) { return n.OpenAs(nil, flags) }

// OpenAs opens as c: a new pty for ptmx, owned by c.
func (n *ptsInode) OpenAs(c *Cred, flags int) (File, unix.Errno) {
	switch {
	case n == n.pts.root:
		return &ptsDir{n: n}, 0
	case n.tty != nil:
		f, e := n.tty.Open(flags)
		if e != 0 {
			return nil, e
		}
		return f, 0
	}
	return n.pts.openMaster(c)
}

// Setattr changes a slave's mode and owner (grantpt's chown and chmod);
// the others are fixed, as devpts's root and ptmx are to a program.
func (n *ptsInode) Setattr(a *SetAttr) unix.Errno {
	if n.tty == nil {
		return unix.EPERM
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	a.apply(&n.mode, &n.uid, &n.gid, &n.atim, &n.mtm)
	return 0
}

// ptsDir is /dev/pts opened: its listing.
type ptsDir struct {
	base
	n   *ptsInode
	pos int64
}

func (f *ptsDir) Inode() Inode                 { return f.n }
func (f *ptsDir) Stat(st *abi.Stat) unix.Errno { return f.n.Stat(st) }
func (f *ptsDir) Read([][]byte, int64) (int, unix.Errno) {
	return 0, unix.EISDIR
}

func (f *ptsDir) Lseek(off int64, whence int) (int64, unix.Errno) {
	if whence != unix.SEEK_SET || off < 0 {
		return 0, unix.EINVAL
	}
	f.pos = off
	return off, 0
}

func (f *ptsDir) Getdents(buf []byte) (int, unix.Errno) {
	names := f.n.pts.names()
	return FillDirents(buf, &f.pos, func(i int64) Dirent {
		switch {
		case i == 0:
			return Dirent{Name: ".", Ino: devptsIno, Type: unix.DT_DIR}
		case i == 1:
			return Dirent{Name: "..", Ino: devptsIno, Type: unix.DT_DIR}
		case i == 2:
			return Dirent{Name: "ptmx", Ino: ptmxIno, Type: unix.DT_CHR}
		case i-3 < int64(len(names)):
			k := names[i-3]
			return Dirent{Name: strconv.FormatUint(uint64(k), 10), Ino: uint64(k) + 3, Type: unix.DT_CHR}
		}
		return Dirent{}
	})
}

// TtyFile is a terminal's slave side opened: /dev/pts/N, /dev/tty, or the
// run's terminal as its first process's stdio.
type TtyFile struct {
	HostFile
	Tty *Tty
	via Inode // /dev/tty, if opened through it: what fstat and /proc show
}

func (f *TtyFile) Inode() Inode {
	if f.via != nil {
		return f.via
	}
	return f.Tty.inode
}
func (f *TtyFile) Stat(st *abi.Stat) unix.Errno { return f.Inode().Stat(st) }
func (f *TtyFile) Lseek(int64, int) (int64, unix.Errno) {
	return 0, unix.ESPIPE
}

// Ioctl serves the terminal requests from the host's terminal. Job
// control (TIOC[GS]PGRP, TIOCSCTTY ...) is the caller's, which knows the
// processes.
func (f *TtyFile) Ioctl(req uint64, arg []byte) unix.Errno {
	switch req {
	case unix.TIOCGPTN, unix.TIOCSPTLCK, unix.TIOCGPTLCK, unix.TIOCPKT, unix.TIOCGPKT, unix.TIOCGPTPEER:
		return unix.ENOTTY // a master's
	}
	return hostTtyIoctl(f.FD, req, arg)
}

// PtyMaster is a pty's master side: what an open of /dev/ptmx gives.
type PtyMaster struct {
	HostFile
	Tty *Tty
}

func (f *PtyMaster) Inode() Inode                 { return f.Tty.pts.ptmx }
func (f *PtyMaster) Stat(st *abi.Stat) unix.Errno { return f.Tty.pts.ptmx.Stat(st) }
func (f *PtyMaster) Lseek(int64, int) (int64, unix.Errno) {
	return 0, unix.ESPIPE
}

// Ioctl: the pty's number is the run's; the rest is the host pty's.
func (f *PtyMaster) Ioctl(req uint64, arg []byte) unix.Errno {
	if req == unix.TIOCGPTN {
		le.PutUint32(arg, f.Tty.Index)
		return 0
	}
	return hostTtyIoctl(f.FD, req, arg) // which refuses job control: the caller's
}

// Close closes the host pty and takes its number out of /dev/pts.
func (f *PtyMaster) Close() {
	t := f.Tty
	t.pts.remove(t)
	t.mu.Lock()
	t.master = gone
	f.HostFile.Close()
	t.mu.Unlock()
}

// hostTtyIoctl makes a terminal request of the host's terminal fd with the
// guest's argument bytes (or value). Only requests of the table reach it,
// and of those only the terminal's own: job control stays in the run.
func hostTtyIoctl(fd int, req uint64, arg []byte) unix.Errno {
	a, ok := Ioctls[req]
	if !ok {
		return unix.ENOTTY
	}
	switch req {
	case unix.TIOCSCTTY, unix.TIOCNOTTY, unix.TIOCGPGRP, unix.TIOCSPGRP, unix.TIOCGSID, unix.TIOCGPTPEER:
		return unix.ENOTTY
	}
	var e unix.Errno
	if a.Size == 0 {
		_, _, e = unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(le.Uint64(arg)))
	} else {
		_, _, e = unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&arg[0])))
	}
	return e
}

// openCtty is an open of /dev/tty: the caller's controlling terminal
// opened anew; ENXIO without one, as Linux.
func (ns *Namespace) openCtty(c *Cred, n Inode, flags int) (File, unix.Errno) {
	if ns.Ctty == nil {
		return nil, unix.ENXIO
	}
	t := ns.Ctty(c.Pid)
	if t == nil {
		return nil, unix.ENXIO
	}
	f, e := t.Open(flags)
	if e != 0 {
		return nil, e
	}
	f.via = n
	return f, 0
}
