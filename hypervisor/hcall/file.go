package hcall

import (
	"bytes"
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Files: open, read, write, stat and directories over the image's tree and
// the host's stdio.

func init() {
	register(abi.HCOpenat, call(abi.HCOpenat, openat))
	register(abi.HCClose, call(abi.HCClose, closeFD))
	register(abi.HCReadv, call(abi.HCReadv, readv))
	register(abi.HCWritev, call(abi.HCWritev, writev))
	register(abi.HCLseek, call(abi.HCLseek, lseek))
	register(abi.HCFstatat, call(abi.HCFstatat, fstatat))
	register(abi.HCGetdents64, call(abi.HCGetdents64, getdents64))
	register(abi.HCReadlinkat, call(abi.HCReadlinkat, readlinkat))
	register(abi.HCFaccessat, call(abi.HCFaccessat, faccessat))
	register(abi.HCGetcwd, call(abi.HCGetcwd, getcwd))
	register(abi.HCChdir, call(abi.HCChdir, chdir))
	register(abi.HCIoctl, call(abi.HCIoctl, ioctl))
	register(abi.HCUnlinkat, call(abi.HCUnlinkat, unlinkat))
	register(abi.HCFmap, call(abi.HCFmap, fmap))
}

// imageFile is a file whose bytes are a range of the image file.
type imageFile interface {
	ImageRange() (off, size uint64, ok bool)
}

// fmap tells the guest where a file's bytes are in the image it has mapped
// at abi.ImageGPA, so that it maps them instead of copying: ENODEV for a
// file that is not the image's, or when the image is not mapped.
func fmap(p *kernel.Task, m machine.Memory, in abi.HCFmapArgs, out *abi.HCFmapArgs) int64 {
	f, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return errRet(e)
	}
	img, ok := f.File.(imageFile)
	if !ok || !f.Readable() {
		return errRet(unix.ENODEV)
	}
	off, size, ok := img.ImageRange()
	if !ok || off%machine.PageSize != 0 {
		return errRet(unix.ENODEV)
	}
	end := (size + machine.PageSize - 1) &^ (machine.PageSize - 1)
	b, err := m.Slice(abi.ImageGPA+off, end)
	if err != nil {
		return errRet(unix.ENODEV)
	}
	// What follows the file in its last page must read zero, as past the
	// end of a mapped file.
	for _, c := range b[size:] {
		if c != 0 {
			return errRet(unix.ENODEV)
		}
	}
	out.Gpa, out.Size = abi.ImageGPA+off, size
	return 0
}

// oLargefile is the kernel's O_LARGEFILE on x86-64 (x/sys has 0 there):
// 64-bit programs may pass it, and it means nothing.
const oLargefile = 0x8000

const (
	maxIov   = 1024       // UIO_MAXIOV
	maxRW    = 0x7ffff000 // MAX_RW_COUNT: Linux's cap on one transfer
	maxDents = 64 << 10   // bytes of directory entries one getdents64 returns at most
	atFlags  = unix.AT_SYMLINK_NOFOLLOW | unix.AT_EMPTY_PATH | unix.AT_NO_AUTOMOUNT
	openMask = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
		unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT |
		oLargefile | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME |
		unix.O_CLOEXEC | unix.O_SYNC | unix.O_PATH | unix.O_TMPFILE
)

// guestPath reads a path the guest passed as pointer and length.
func guestPath(m machine.Memory, ptr, n uint64) (string, unix.Errno) {
	if n >= abi.PathMax {
		return "", unix.ENAMETOOLONG
	}
	b, e := copyIn(m, ptr, n)
	if e != 0 {
		return "", e
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), 0
}

// dirOf returns the directory a *at call starts from.
func dirOf(p *kernel.Task, dirfd int32) (vfs.Inode, unix.Errno) {
	if dirfd == abi.AtFDCWD {
		return p.Cwd(), 0
	}
	f, e := p.FDs.Get(int(dirfd))
	if e != 0 {
		return nil, e
	}
	n := f.Inode()
	if n == nil {
		return nil, unix.ENOTDIR
	}
	var st abi.Stat
	if e := n.Stat(&st); e != 0 {
		return nil, e
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	return n, 0
}

// pathAt reads a *at call's path and finds the directory it starts from
// (the root for an absolute path, whatever dirfd is, as Linux).
func pathAt(p *kernel.Task, m machine.Memory, at abi.At) (vfs.Inode, string, unix.Errno) {
	path, e := guestPath(m, at.Path, at.Pathlen)
	if e != 0 {
		return nil, "", e
	}
	if path == "" {
		return nil, "", unix.ENOENT
	}
	if path[0] == '/' {
		return p.NS.Root(), path, 0
	}
	dir, e := dirOf(p, at.Dirfd)
	return dir, path, e
}

// lookupAt resolves a *at call's (dirfd, path) to a file.
func lookupAt(p *kernel.Task, m machine.Memory, at abi.At, follow bool) (vfs.Inode, unix.Errno) {
	dir, path, e := pathAt(p, m, at)
	if e != 0 {
		return nil, e
	}
	return p.NS.Lookup(p.Cred(), dir, path, follow)
}

// fileAt is the file a call that takes AT_EMPTY_PATH names: dirfd's own
// (with its open description, f) for an empty path, else the path's.
func fileAt(p *kernel.Task, m machine.Memory, at abi.At, follow bool) (vfs.Inode, vfs.File, unix.Errno) {
	if at.Pathlen == 0 && at.Flags&unix.AT_EMPTY_PATH != 0 {
		if at.Dirfd == abi.AtFDCWD {
			return p.Cwd(), nil, 0
		}
		f, e := p.FDs.Get(int(at.Dirfd))
		if e != 0 {
			return nil, nil, e
		}
		if f.Inode() == nil {
			return nil, f.File, unix.EINVAL // a pipe, socket or the host's stdio
		}
		return f.Inode(), f.File, 0
	}
	n, e := lookupAt(p, m, at, follow)
	return n, nil, e
}

func openat(p *kernel.Task, m machine.Memory, in abi.HCOpenatArgs, _ *abi.HCOpenatArgs) int64 {
	// As Linux's open and openat: unknown flags are ignored; O_TMPFILE
	// without write access and O_CREAT|O_DIRECTORY are EINVAL before the
	// path is looked at.
	flags := int(in.Flags) & openMask
	tmpfile := flags&unix.O_TMPFILE == unix.O_TMPFILE
	if tmpfile && flags&unix.O_ACCMODE == unix.O_RDONLY ||
		!tmpfile && flags&(unix.O_CREAT|unix.O_DIRECTORY) == unix.O_CREAT|unix.O_DIRECTORY { // Linux 6.4 on
		return errRet(unix.EINVAL)
	}
	dir, path, e := pathAt(p, m, in.At)
	if e != 0 {
		return errRet(e)
	}
	f, e := p.NS.Open(p.Cred(), dir, path, flags, in.Mode&0o7777)
	if e != 0 {
		return errRet(e)
	}
	held := f.Held()
	fd, e := p.FDs.Install(f, flags&unix.O_CLOEXEC != 0)
	if held {
		f.Release() // Open's reference: the descriptor holds it now
	} else if e != 0 {
		f.Close() // no descriptor took a reference
	}
	if e != 0 {
		return errRet(e)
	}
	return int64(fd)
}

// Linux's close_range flags.
const (
	closeRangeUnshare = 1 << 1
	closeRangeCloexec = 1 << 2
)

func closeFD(p *kernel.Task, _ machine.Memory, in abi.HCCloseArgs, _ *abi.HCCloseArgs) int64 {
	if in.Flags&abi.CloseRange == 0 {
		return errRet(p.FDs.Close(int(in.Fd)))
	}
	first, last, flags := uint32(in.Fd), in.Last, in.Flags&^abi.CloseRange
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return errRet(unix.EINVAL)
	}
	// A process's table is its own already (no CLONE_FILES): UNSHARE
	// has nothing to do.
	p.FDs.CloseRange(int(min(first, 1<<30)), int(min(last, 1<<30)), flags&closeRangeCloexec != 0)
	return 0
}

// iovecs turns a guest iovec array into host slices of guest memory,
// capped at maxRW bytes in all as Linux does; write: the host writes them
// (a read from a file).
func iovecs(m machine.Memory, iov, cnt uint64, write bool) ([][]byte, unix.Errno) {
	if cnt > maxIov {
		return nil, unix.EINVAL
	}
	raw, e := copyIn(m, iov, cnt*uint64(unsafe.Sizeof(abi.Iovec{})))
	if e != 0 {
		return nil, e
	}
	// As Linux: a negative length anywhere is EINVAL before any buffer is
	// looked at; a buffer is EFAULT when its first page is not mapped or it
	// runs past the user address space (access_ok), and is otherwise cut
	// at the first page that is not, where Linux's copy stops.
	const taskSize = 0x7ffffffff000
	for i := uint64(0); i < cnt; i++ {
		if binary.LittleEndian.Uint64(raw[i*16+8:]) > 1<<63-1 {
			return nil, unix.EINVAL
		}
	}
	bufs := make([][]byte, 0, cnt)
	var total uint64
	for i := uint64(0); i < cnt; i++ {
		base := binary.LittleEndian.Uint64(raw[i*16:])
		n := binary.LittleEndian.Uint64(raw[i*16+8:])
		if n == 0 {
			continue
		}
		if n > taskSize || base > taskSize-n {
			return nil, unix.EFAULT
		}
		n = min(n, maxRW-total)
		segs, err := machine.Segments(m, base, n, write)
		if len(segs) == 0 && n > 0 {
			return nil, unix.EFAULT
		}
		bufs = append(bufs, segs...)
		if err != nil {
			break // the transfer stops at the fault
		}
		total += n
	}
	return bufs, 0
}

// rwArgs validates what readv and writev share.
func rwArgs(p *kernel.Task, m machine.Memory, in abi.HCRWArgs, write bool) (*vfs.OpenFile, [][]byte, int64, unix.Errno) {
	f, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return nil, nil, 0, e
	}
	if in.Flags&^abi.RWOffset != 0 {
		return nil, nil, 0, unix.EINVAL
	}
	off := int64(-1)
	if in.Flags&abi.RWOffset != 0 {
		if in.Offset < 0 {
			return nil, nil, 0, unix.EINVAL
		}
		off = in.Offset
		// pread on a pipe or socket is ESPIPE before anything else is
		// looked at, as Linux.
		if _, e := f.Lseek(0, unix.SEEK_CUR); e == unix.ESPIPE {
			return nil, nil, 0, e
		}
	}
	bufs, e := iovecs(m, in.Iov, in.Iovcnt, write)
	return f, bufs, off, e
}

func readv(p *kernel.Task, m machine.Memory, in abi.HCRWArgs, _ *abi.HCRWArgs) int64 {
	f, bufs, off, e := rwArgs(p, m, in, true)
	if f != nil && !f.Readable() { // before the buffers, as read(2)
		return errRet(unix.EBADF)
	}
	if e != 0 {
		return errRet(e)
	}
	n, e := fileRead(p, f, bufs, off)
	if e != 0 {
		return errRet(e)
	}
	return int64(n)
}

// fileRead reads from f, waiting (interruptibly) when it would block.
func fileRead(p *kernel.Task, f *vfs.OpenFile, bufs [][]byte, off int64) (int, unix.Errno) {
	if w, ok := f.File.(vfs.Blocking); ok {
		return w.ReadWait(bufs, off, f.Nonblock(), p)
	}
	return f.Read(bufs, off)
}

// fileWrite writes to f, waiting when it would block; EPIPE raises
// SIGPIPE as well, as on Linux.
func fileWrite(p *kernel.Task, f *vfs.OpenFile, bufs [][]byte, off int64) (n int, e unix.Errno) {
	if w, ok := f.File.(vfs.Blocking); ok {
		n, e = w.WriteWait(bufs, off, f.Nonblock(), p)
	} else {
		n, e = f.Write(bufs, off)
	}
	if e == unix.EPIPE {
		p.SendSelf(int(unix.SIGPIPE))
	}
	return n, e
}

func writev(p *kernel.Task, m machine.Memory, in abi.HCRWArgs, _ *abi.HCRWArgs) int64 {
	f, bufs, off, e := rwArgs(p, m, in, false)
	if f != nil && !f.Writable() { // before the buffers, as write(2)
		return errRet(unix.EBADF)
	}
	if e != 0 {
		return errRet(e)
	}
	n, e := fileWrite(p, f, bufs, off)
	if e != 0 {
		return errRet(e)
	}
	return int64(n)
}

func lseek(p *kernel.Task, _ machine.Memory, in abi.HCLseekArgs, _ *abi.HCLseekArgs) int64 {
	f, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return errRet(e)
	}
	if in.Whence < 0 || in.Whence > unix.SEEK_HOLE {
		return errRet(unix.EINVAL)
	}
	n, e := f.Lseek(in.Offset, int(in.Whence))
	if e != 0 {
		return errRet(e)
	}
	return n
}

func fstatat(p *kernel.Task, m machine.Memory, in abi.HCFstatatArgs, _ *abi.HCFstatatArgs) int64 {
	at := in.At
	if at.Flags&^atFlags != 0 {
		return errRet(unix.EINVAL)
	}
	var st abi.Stat
	if at.Pathlen == 0 && at.Flags&unix.AT_EMPTY_PATH != 0 && at.Dirfd != abi.AtFDCWD {
		of, e := p.FDs.Get(int(at.Dirfd))
		if e != 0 {
			return errRet(e)
		}
		if e := of.Stat(&st); e != 0 {
			return errRet(e)
		}
	} else {
		n, _, e := fileAt(p, m, at, at.Flags&unix.AT_SYMLINK_NOFOLLOW == 0)
		if e != 0 {
			return errRet(e)
		}
		if e := n.Stat(&st); e != 0 {
			return errRet(e)
		}
	}
	if machine.WriteValue(m, in.Statbuf, st) != nil { // after the lookup, as Linux
		return errRet(unix.EFAULT)
	}
	return 0
}

func getdents64(p *kernel.Task, m machine.Memory, in abi.HCGetdents64Args, _ *abi.HCGetdents64Args) int64 {
	f, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return errRet(e)
	}
	var st abi.Stat
	if n := f.Inode(); n == nil || n.Stat(&st) != 0 || st.Mode&unix.S_IFMT != unix.S_IFDIR { // before the buffer, as Linux
		return errRet(unix.ENOTDIR)
	}
	// Entries go through a buffer of ours, at most maxDents: fewer per
	// call is what a short buffer gives, and a guest's count must not size
	// a host allocation. Linux checks the whole buffer first.
	if _, err := machine.Segments(m, in.Dirp, min(in.Count, maxRW), true); err != nil {
		return errRet(unix.EFAULT)
	}
	buf := make([]byte, min(in.Count, maxDents))
	n, e := f.Getdents(buf)
	if e != 0 {
		return errRet(e)
	}
	return int64(n) + errRet(copyOut(m, in.Dirp, buf[:n]))
}

func readlinkat(p *kernel.Task, m machine.Memory, in abi.HCReadlinkatArgs, _ *abi.HCReadlinkatArgs) int64 {
	if int64(in.Bufsiz) <= 0 {
		return errRet(unix.EINVAL)
	}
	n, e := lookupAt(p, m, in.At, false)
	if e != 0 {
		return errRet(e)
	}
	target, e := vfs.ReadlinkAs(p.Cred(), n)
	if e != 0 {
		return errRet(e)
	}
	t := target[:min(in.Bufsiz, uint64(len(target)))]
	if e := copyOut(m, in.Buf, []byte(t)); e != 0 {
		return errRet(e)
	}
	return int64(len(t))
}

func faccessat(p *kernel.Task, m machine.Memory, in abi.HCFaccessatArgs, _ *abi.HCFaccessatArgs) int64 {
	mode := in.Mode
	if mode&^(unix.R_OK|unix.W_OK|unix.X_OK) != 0 || in.At.Flags&^(atFlags|unix.AT_EACCESS) != 0 {
		return errRet(unix.EINVAL)
	}
	n, _, e := fileAt(p, m, in.At, in.At.Flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return errRet(e)
	}
	return errRet(p.NS.Access(p.Cred(), n, mode))
}

func getcwd(p *kernel.Task, m machine.Memory, in abi.HCGetcwdArgs, _ *abi.HCGetcwdArgs) int64 {
	path := p.NS.Path(p.Cwd())
	if in.Size < uint64(len(path))+1 {
		return errRet(unix.ERANGE)
	}
	if e := copyOut(m, in.Buf, append([]byte(path), 0)); e != 0 {
		return errRet(e)
	}
	return int64(len(path)) + 1
}

func chdir(p *kernel.Task, m machine.Memory, in abi.HCChdirArgs, _ *abi.HCChdirArgs) int64 {
	var n vfs.Inode
	var e unix.Errno
	if in.At.Pathlen == 0 && in.At.Dirfd != abi.AtFDCWD {
		n, e = dirOf(p, in.At.Dirfd)
	} else {
		n, e = lookupAt(p, m, in.At, true)
	}
	if e != 0 {
		return errRet(e)
	}
	var st abi.Stat
	if e := n.Stat(&st); e != 0 {
		return errRet(e)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return errRet(unix.ENOTDIR)
	}
	if e := p.NS.Access(p.Cred(), n, unix.X_OK); e != 0 {
		return errRet(e)
	}
	p.SetCwd(n)
	return 0
}

// Linux's generic ioctl requests (asm-generic/ioctls.h).
const (
	fionbio  = 0x5421
	fioasync = 0x5452
	fionclex = 0x5450
	fioclex  = 0x5451
)

func ioctl(p *kernel.Task, m machine.Memory, in abi.HCIoctlArgs, _ *abi.HCIoctlArgs) int64 {
	f, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return errRet(e)
	}
	req := uint64(in.Request)
	// What Linux serves for any fd, before the file's own requests.
	switch req {
	case fioclex, fionclex:
		return errRet(p.FDs.SetCloexec(int(in.Fd), req == fioclex))
	case fionbio, fioasync:
		b, e := copyIn(m, in.Arg, 4)
		if e != 0 {
			return errRet(e)
		}
		bit := unix.O_NONBLOCK
		if req == fioasync {
			bit = unix.O_ASYNC
		}
		flags := f.Flags() &^ bit
		if binary.LittleEndian.Uint32(b) != 0 {
			flags |= bit
		}
		f.SetFlags(flags)
		return 0
	}
	a, ok := vfs.Ioctls[req]
	if !ok {
		return errRet(unix.ENOTTY)
	}
	// The file answers into a buffer of ours: a file that does not serve
	// the request gives ENOTTY whatever the pointer, and the copy out
	// faults only after, as Linux's drivers copy last.
	buf := make([]byte, a.BufSize())
	if a.Size == 0 {
		binary.LittleEndian.PutUint64(buf, in.Arg)
	} else if a.In {
		b, e := copyIn(m, in.Arg, uint64(a.Size))
		if e != 0 {
			return errRet(e)
		}
		copy(buf, b)
	}
	ret, e, handled := ttyIoctl(p, f, req, buf)
	if !handled {
		e = f.Ioctl(req, buf)
	}
	if e != 0 {
		return errRet(e)
	}
	if a.Out {
		if e := copyOut(m, in.Arg, buf); e != 0 {
			return errRet(e)
		}
	}
	return ret
}

// ttyIoctl serves what a terminal request needs the process for: job
// control, and TIOCGPTPEER's new descriptor.
func ttyIoctl(p *kernel.Task, f *vfs.OpenFile, req uint64, buf []byte) (ret int64, e unix.Errno, handled bool) {
	var t *vfs.Tty
	master := false
	switch tf := f.File.(type) {
	case *vfs.TtyFile:
		t = tf.Tty
	case *vfs.PtyMaster:
		t, master = tf.Tty, true
	default:
		return 0, 0, false
	}
	if req != unix.TIOCGPTPEER {
		handled, e = p.JobControl(t, master, req, buf)
		return 0, e, handled
	}
	if !master {
		return 0, unix.ENOTTY, true
	}
	flags := int(binary.LittleEndian.Uint64(buf))
	if flags&^(unix.O_ACCMODE|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC) != 0 {
		return 0, unix.EINVAL, true
	}
	peer, e := t.Open(flags)
	if e != 0 {
		return 0, e, true
	}
	fd, e := p.FDs.Install(vfs.NewOpenFile(peer, flags&^(unix.O_NOCTTY|unix.O_CLOEXEC)), flags&unix.O_CLOEXEC != 0)
	if e != 0 {
		peer.Close()
		return 0, e, true
	}
	return int64(fd), 0, true
}

// unlinkat removes a name; a bound AF_UNIX socket's name goes with it.
func unlinkat(p *kernel.Task, m machine.Memory, in abi.HCUnlinkatArgs, _ *abi.HCUnlinkatArgs) int64 {
	at := in.At
	if at.Flags&^unix.AT_REMOVEDIR != 0 {
		return errRet(unix.EINVAL)
	}
	dir, path, e := pathAt(p, m, at)
	if e != 0 {
		return errRet(e)
	}
	if e := p.NS.Unlink(p.Cred(), dir, path, at.Flags&unix.AT_REMOVEDIR != 0); e != 0 {
		return errRet(e)
	}
	if at.Flags == 0 {
		p.UnlinkSocket(path)
	}
	return 0
}
