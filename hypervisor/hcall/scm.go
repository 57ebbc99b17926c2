package hcall

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Control messages: SCM_RIGHTS between the run's processes, through
// vfs.InFlight's tokens.

const (
	cmsgHdr    = 16    // struct cmsghdr on x86-64
	scmMaxFD   = 253   // Linux's SCM_MAX_FD: descriptors in one message
	optmemMax  = 20480 // Linux's net.core.optmem_max: control bytes a send may have
	sizeofFd32 = 4
)

func cmsgAlign(n uint64) uint64 { return (n + 7) &^ 7 }

// sendControl reads the guest's control messages and makes the host's:
// each descriptor of SCM_RIGHTS becomes a token in flight.
func sendControl(p *kernel.Task, m machine.Memory, at, n uint64) ([]byte, []int, unix.Errno) {
	if n == 0 {
		return nil, nil, 0
	}
	if n > optmemMax {
		return nil, nil, unix.ENOBUFS
	}
	raw, e := copyIn(m, at, n)
	if e != 0 {
		return nil, nil, e
	}
	var tokens []int
	fail := func(e unix.Errno) ([]byte, []int, unix.Errno) {
		doneTokens(p, tokens, false)
		return nil, nil, e
	}
	le := binary.LittleEndian
	for off := uint64(0); off+cmsgHdr <= n; {
		clen := le.Uint64(raw[off:])
		level, typ := int32(le.Uint32(raw[off+8:])), int32(le.Uint32(raw[off+12:]))
		if clen < cmsgHdr || clen > n-off {
			return fail(unix.EINVAL)
		}
		if level != unix.SOL_SOCKET || typ != unix.SCM_RIGHTS {
			return fail(unix.EINVAL) // SCM_CREDENTIALS is not carried yet
		}
		data := raw[off+cmsgHdr : off+clen]
		if len(tokens)+len(data)/sizeofFd32 > scmMaxFD {
			return fail(unix.EINVAL)
		}
		for i := 0; i+sizeofFd32 <= len(data); i += sizeofFd32 {
			f, e := p.FDs.Get(int(int32(le.Uint32(data[i:]))))
			if e != 0 {
				return fail(e)
			}
			fd, e := p.InFlight().Token(f)
			if e != 0 {
				return fail(e)
			}
			tokens = append(tokens, fd)
		}
		off += cmsgAlign(clen)
	}
	if len(tokens) == 0 {
		return nil, nil, 0
	}
	return unix.UnixRights(tokens...), tokens, 0
}

// doneTokens closes the tokens of a send: they are in the message if it
// went, and their files come back out of flight if it did not.
func doneTokens(p *kernel.Task, tokens []int, sent bool) {
	for _, fd := range tokens {
		if sent {
			unix.Close(fd)
		} else if f, e := p.InFlight().Take(fd, p.Budget()); e == 0 {
			f.Release()
		}
	}
}

// rightsRoom is how many descriptors a guest control buffer of n bytes
// can take.
func rightsRoom(n uint64) int {
	if n < cmsgHdr+sizeofFd32 {
		return 0
	}
	return int(min((n-cmsgHdr)/sizeofFd32, scmMaxFD))
}

// recvControl installs the descriptors of the host's control messages in
// p (as many as the guest's buffer of n bytes at at can name; the others
// are closed and MSG_CTRUNC says so) and writes the guest's SCM_RIGHTS
// message: its length.
func recvControl(p *kernel.Task, m machine.Memory, control []byte, at, n uint64, cloexec bool) (uint64, bool, unix.Errno) {
	if len(control) == 0 {
		return 0, false, 0
	}
	var hostFDs []int
	msgs, _ := unix.ParseSocketControlMessage(control)
	for i := range msgs {
		if fds, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			hostFDs = append(hostFDs, fds...)
		}
	}
	room := rightsRoom(n)
	trunc := false
	var fds []int32
	for _, h := range hostFDs {
		f, e := p.InFlight().Take(h, p.Budget())
		if e != 0 || len(fds) >= room {
			trunc = true
			if e == 0 {
				f.Release()
			}
			continue
		}
		fd, e := p.FDs.Install(f, cloexec)
		f.Release() // the descriptor's reference holds it now, or nothing does
		if e != 0 {
			trunc = true
			continue
		}
		fds = append(fds, int32(fd))
	}
	if len(fds) == 0 {
		return 0, trunc, 0
	}
	clen := uint64(cmsgHdr + sizeofFd32*len(fds))
	out := make([]byte, clen)
	le := binary.LittleEndian
	le.PutUint64(out, clen)
	le.PutUint32(out[8:], unix.SOL_SOCKET)
	le.PutUint32(out[12:], unix.SCM_RIGHTS)
	for i, fd := range fds {
		le.PutUint32(out[cmsgHdr+sizeofFd32*i:], uint32(fd))
	}
	if e := copyOut(m, at, out); e != 0 {
		return 0, trunc, e
	}
	return min(cmsgAlign(clen), n), trunc, 0
}
