package vfs

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// Socket is a host socket handed to a guest: on the host's network for now.
// The host descriptor is non-blocking; guests block through Waitable and
// the helpers here, so that signals interrupt them.
type Socket struct {
	HostFile
	Domain int
}

// NewSocket makes a socket of domain, type (SOCK_* and its flags) and
// protocol.
func NewSocket(b *Budget, domain, typ, proto int) (*OpenFile, unix.Errno) {
	fd, e := newHostFD(b, func() (int, error) {
		return unix.Socket(domain, typ&0xf|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	})
	if e != 0 {
		return nil, e
	}
	return sockFile(b, fd, domain, typ), 0
}

// sockFile wraps a socket whose descriptor b already counts.
func sockFile(b *Budget, fd, domain, typ int) *OpenFile {
	flags := unix.O_RDWR
	if typ&unix.SOCK_NONBLOCK != 0 {
		flags |= unix.O_NONBLOCK
	}
	return NewOpenFile(&Socket{HostFile: HostFile{FD: fd, Owned: true, budget: b}, Domain: domain}, flags)
}

// NewSocketpair makes a connected pair (AF_UNIX).
func NewSocketpair(b *Budget, domain, typ, proto int) (x, y *OpenFile, e unix.Errno) {
	if e := b.takeFDs(2); e != 0 {
		return nil, nil, e
	}
	fds, err := unix.Socketpair(domain, typ&0xf|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		b.giveFDs(2)
		return nil, nil, Errno(err)
	}
	return sockFile(b, fds[0], domain, typ), sockFile(b, fds[1], domain, typ), 0
}

func raw(trap uintptr, a ...uintptr) (uintptr, unix.Errno) {
	var args [6]uintptr
	copy(args[:], a)
	for {
		r, _, e := unix.Syscall6(trap, args[0], args[1], args[2], args[3], args[4], args[5])
		if e != unix.EINTR {
			return r, e
		}
	}
}

func ptr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

// Bind binds to a host address (already translated).
func (s *Socket) Bind(addr []byte) unix.Errno {
	_, e := raw(unix.SYS_BIND, uintptr(s.FD), ptr(addr), uintptr(len(addr)))
	return e
}

// Listen marks the socket passive.
func (s *Socket) Listen(backlog int) unix.Errno {
	_, e := raw(unix.SYS_LISTEN, uintptr(s.FD), uintptr(backlog))
	return e
}

// Connect connects, waiting for the handshake unless nonblock.
func (s *Socket) Connect(addr []byte, nonblock bool, intr waiter.Blocker) unix.Errno {
	_, e := raw(unix.SYS_CONNECT, uintptr(s.FD), ptr(addr), uintptr(len(addr)))
	if e != unix.EINPROGRESS || nonblock {
		return e
	}
	if e := wait(s.FD, unix.POLLOUT, false, intr); e != 0 {
		return e
	}
	v, err := unix.GetsockoptInt(s.FD, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return Errno(err)
	}
	return unix.Errno(v)
}

// Accept takes a connection; addr receives the peer's host address.
func (s *Socket) Accept(addr []byte, flags int, nonblock bool, intr waiter.Blocker) (*OpenFile, int, unix.Errno) {
	for {
		if e := s.budget.takeFDs(1); e != 0 {
			return nil, 0, e
		}
		alen := uint32(len(addr))
		fd, e := raw(unix.SYS_ACCEPT4, uintptr(s.FD), ptr(addr), uintptr(unsafe.Pointer(&alen)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if e == 0 {
			return sockFile(s.budget, int(fd), s.Domain, flags), int(alen), 0
		}
		s.budget.giveFDs(1)
		if e != unix.EAGAIN || nonblock {
			return nil, 0, e
		}
		if e := wait(s.FD, unix.POLLIN, false, intr); e != 0 {
			return nil, 0, e
		}
	}
}

// Name returns the socket's own (peer false) or its peer's host address.
func (s *Socket) Name(peer bool, buf []byte) (int, unix.Errno) {
	trap := uintptr(unix.SYS_GETSOCKNAME)
	if peer {
		trap = unix.SYS_GETPEERNAME
	}
	alen := uint32(len(buf))
	_, e := raw(trap, uintptr(s.FD), ptr(buf), uintptr(unsafe.Pointer(&alen)))
	return int(alen), e
}

// Setsockopt and Getsockopt pass an option the caller has allowed.
func (s *Socket) Setsockopt(level, name int, val []byte) unix.Errno {
	_, e := raw(unix.SYS_SETSOCKOPT, uintptr(s.FD), uintptr(level), uintptr(name), ptr(val), uintptr(len(val)))
	return e
}

func (s *Socket) Getsockopt(level, name int, val []byte) (int, unix.Errno) {
	vlen := uint32(len(val))
	_, e := raw(unix.SYS_GETSOCKOPT, uintptr(s.FD), uintptr(level), uintptr(name), ptr(val), uintptr(unsafe.Pointer(&vlen)))
	return int(vlen), e
}

// Shutdown shuts down part of a connection.
func (s *Socket) Shutdown(how int) unix.Errno {
	_, e := raw(unix.SYS_SHUTDOWN, uintptr(s.FD), uintptr(how))
	return e
}

// Sendmsg sends iov to name (nil: the connected peer) with host control
// messages control, waiting for room unless nonblock.
func (s *Socket) Sendmsg(name []byte, iov [][]byte, control []byte, flags int, nonblock bool, intr waiter.Blocker) (int, unix.Errno) {
	msg, keep := msghdr(name, iov, control)
	for {
		n, e := raw(unix.SYS_SENDMSG, uintptr(s.FD), uintptr(unsafe.Pointer(msg)), uintptr(flags|unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT))
		if e != unix.EAGAIN || nonblock {
			_ = keep
			return int(n), e
		}
		if e := wait(s.FD, unix.POLLOUT, false, intr); e != 0 {
			return 0, e
		}
	}
}

// Recvmsg receives into iov, and host control messages into control; name
// receives the sender's host address. It returns the bytes, the address
// and control lengths and msg_flags. Descriptors received come with
// MSG_CMSG_CLOEXEC: they are ours until the caller installs them.
func (s *Socket) Recvmsg(name []byte, iov [][]byte, control []byte, flags int, nonblock bool, intr waiter.Blocker) (n, alen, clen, mflags int, e unix.Errno) {
	msg, keep := msghdr(name, iov, control)
	for {
		r, e := raw(unix.SYS_RECVMSG, uintptr(s.FD), uintptr(unsafe.Pointer(msg)), uintptr(flags|unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC))
		if e != unix.EAGAIN || nonblock {
			_ = keep
			return int(r), int(msg.Namelen), int(msg.Controllen), int(msg.Flags), e
		}
		if e := wait(s.FD, unix.POLLIN, false, intr); e != 0 {
			return 0, 0, 0, 0, e
		}
	}
}

// msghdr builds a host msghdr; keep holds what it points to.
func msghdr(name []byte, iov [][]byte, control []byte) (*unix.Msghdr, []unix.Iovec) {
	vec := make([]unix.Iovec, 0, len(iov))
	for _, b := range iov {
		if len(b) > 0 {
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			vec = append(vec, v)
		}
	}
	msg := &unix.Msghdr{}
	if len(name) > 0 {
		msg.Name = &name[0]
		msg.Namelen = uint32(len(name))
	}
	if len(vec) > 0 {
		msg.Iov = &vec[0]
		msg.SetIovlen(len(vec))
	}
	if len(control) > 0 {
		msg.Control = &control[0]
		msg.SetControllen(len(control))
	}
	return msg, vec
}
