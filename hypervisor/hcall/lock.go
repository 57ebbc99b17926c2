package hcall

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// File locks: fcntl's record locks (POSIX and OFD) and flock, kept by the
// run (vfs.Locks).

const (
	fGetlk      = 5
	fSetlk      = 6
	fSetlkw     = 7
	fOfdGetlk   = 36
	fOfdSetlk   = 37
	fOfdSetlkw  = 38
	sizeofFlock = 32 // struct flock on x86-64: type, whence, start, len, pid
)

func isLockCmd(cmd int32) bool {
	switch cmd {
	case fGetlk, fSetlk, fSetlkw, fOfdGetlk, fOfdSetlk, fOfdSetlkw, abi.FFlock:
		return true
	}
	return false
}

func lockCmd(p *kernel.Task, m machine.Memory, f *vfs.OpenFile, cmd int32, arg uint64) int64 {
	if cmd == abi.FFlock {
		return errRet(p.Locks().Flock(f, int(int32(arg)), p))
	}
	b, e := copyIn(m, arg, sizeofFlock)
	if e != 0 {
		return errRet(e)
	}
	le := binary.LittleEndian
	typ, whence := int16(le.Uint16(b)), int16(le.Uint16(b[2:]))
	start, length, pid := int64(le.Uint64(b[8:])), int64(le.Uint64(b[16:])), int32(le.Uint32(b[24:]))
	ofd := cmd >= fOfdGetlk
	if ofd && pid != 0 {
		return errRet(unix.EINVAL)
	}
	if typ != unix.F_RDLCK && typ != unix.F_WRLCK && typ != unix.F_UNLCK {
		return errRet(unix.EINVAL)
	}
	// The range, absolute: from the whence as lseek has it.
	var base int64
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		pos, e := f.Lseek(0, unix.SEEK_CUR)
		if e != 0 {
			return errRet(e)
		}
		base = pos
	case unix.SEEK_END:
		var st abi.Stat
		if e := f.Stat(&st); e != 0 {
			return errRet(e)
		}
		base = st.Size
	default:
		return errRet(unix.EINVAL)
	}
	if (start > 0 && base > 1<<63-1-start) || (start < 0 && base < -1<<63-start) {
		return errRet(unix.EOVERFLOW)
	}
	r := vfs.Record{Type: typ, Start: base + start, End: -1}
	switch {
	case length > 0:
		if r.Start > 1<<63-1-length {
			return errRet(unix.EOVERFLOW)
		}
		r.End = r.Start + length
	case length < 0:
		r.End, r.Start = r.Start, r.Start+length
	}
	if r.Start < 0 {
		return errRet(unix.EINVAL)
	}
	owner := vfs.LockOwner{Pid: p.Pid}
	if ofd {
		owner = vfs.LockOwner{OFD: f}
	}
	if cmd == fGetlk || cmd == fOfdGetlk {
		if typ == unix.F_UNLCK {
			return errRet(unix.EINVAL)
		}
		got := p.Locks().Getlk(f, owner, r)
		le.PutUint16(b, uint16(got.Type))
		if got.Type != unix.F_UNLCK {
			le.PutUint16(b[2:], unix.SEEK_SET)
			le.PutUint64(b[8:], uint64(got.Start))
			n := int64(0)
			if got.End >= 0 {
				n = got.End - got.Start
			}
			le.PutUint64(b[16:], uint64(n))
			le.PutUint32(b[24:], uint32(got.Pid))
		}
		return errRet(copyOut(m, arg, b))
	}
	if (typ == unix.F_RDLCK && !f.Readable()) || (typ == unix.F_WRLCK && !f.Writable()) {
		return errRet(unix.EBADF)
	}
	return errRet(p.Locks().Setlk(f, owner, r, cmd == fSetlkw || cmd == fOfdSetlkw, p))
}
