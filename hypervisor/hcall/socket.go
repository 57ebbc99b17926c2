package hcall

import (
	"encoding/binary"
	"math"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Sockets: host sockets on the host's network (AF_INET, AF_INET6) and
// AF_UNIX ones confined to this run (see package unixname), shared across
// fork like every other descriptor.

func init() {
	register(abi.HCSocket, call(abi.HCSocket, socket))
	register(abi.HCSendfile, call(abi.HCSendfile, sendfile))
}

const (
	maxSockaddr = 128 // sizeof(struct sockaddr_storage)
	maxOptlen   = 256
	sunPathOff  = 2
)

func socket(p *kernel.Task, m machine.Memory, in abi.HCSockArgs, _ *abi.HCSockArgs) int64 {
	switch in.Op {
	case abi.SockSocket, abi.SockSocketpair:
		return newSocket(p, m, in)
	}
	f, e := p.FDs.Get(int(in.Fd))
	if e != 0 {
		return errRet(e)
	}
	s, ok := f.File.(*vfs.Socket)
	if !ok {
		return errRet(unix.ENOTSOCK)
	}
	nb, intr := f.Nonblock(), p
	switch in.Op {
	case abi.SockBind, abi.SockConnect:
		addr, e := hostAddr(p, m, s, in.Addr, in.Addrlen, in.Op == abi.SockBind)
		if e != 0 {
			return errRet(e)
		}
		if in.Op == abi.SockBind && s.Domain == unix.AF_UNIX {
			return errRet(p.UnixBind(s, addr))
		}
		if in.Op == abi.SockBind {
			return errRet(s.Bind(addr))
		}
		return errRet(s.Connect(addr, nb, intr))
	case abi.SockListen:
		return errRet(s.Listen(int(min(max(in.A[0], 0), 4096))))
	case abi.SockAccept:
		flags := int(in.A[0])
		if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
			return errRet(unix.EINVAL)
		}
		buf := make([]byte, maxSockaddr)
		nf, alen, e := s.Accept(buf, flags, nb, intr)
		if e != 0 {
			return errRet(e)
		}
		fd, e := p.FDs.Install(nf, flags&unix.SOCK_CLOEXEC != 0)
		if e != 0 {
			nf.File.Close()
			return errRet(e)
		}
		if in.Addr != 0 {
			if e := putAddr(p, m, s, buf[:alen], in.Addr, in.Addrlen); e != 0 {
				return errRet(e)
			}
		}
		return int64(fd)
	case abi.SockGetsockname, abi.SockGetpeername:
		buf := make([]byte, maxSockaddr)
		n, e := s.Name(in.Op == abi.SockGetpeername, buf)
		if e != 0 {
			return errRet(e)
		}
		return errRet(putAddr(p, m, s, buf[:n], in.Addr, in.Addrlen))
	case abi.SockSetsockopt, abi.SockGetsockopt:
		return sockopt(m, s, in)
	case abi.SockShutdown:
		return errRet(s.Shutdown(int(in.A[0])))
	case abi.SockSendmsg, abi.SockRecvmsg:
		return sockmsg(p, m, f, s, in)
	}
	return errRet(unix.EINVAL)
}

func newSocket(p *kernel.Task, m machine.Memory, in abi.HCSockArgs) int64 {
	domain, typ, proto := int(in.A[0]), int(in.A[1]), int(in.A[2])
	switch domain {
	case unix.AF_UNIX, unix.AF_INET, unix.AF_INET6:
	default:
		return errRet(unix.EAFNOSUPPORT)
	}
	if typ&^(0xf|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return errRet(unix.EINVAL)
	}
	switch typ & 0xf {
	case unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET:
	default:
		return errRet(unix.ESOCKTNOSUPPORT) // no raw sockets
	}
	cloexec := typ&unix.SOCK_CLOEXEC != 0
	if in.Op == abi.SockSocket {
		f, e := vfs.NewSocket(p.Budget(), domain, typ, proto)
		if e != 0 {
			return errRet(e)
		}
		fd, e := p.FDs.Install(f, cloexec)
		if e != 0 {
			f.File.Close()
			return errRet(e)
		}
		return int64(fd)
	}
	if _, err := machine.Segments(m, in.Buf, 8, true); err != nil {
		return errRet(unix.EFAULT)
	}
	out := func(fds []byte) unix.Errno { return copyOut(m, in.Buf, fds) }
	if domain != unix.AF_UNIX {
		return errRet(unix.EOPNOTSUPP)
	}
	a, b, e := vfs.NewSocketpair(p.Budget(), domain, typ, proto)
	if e != 0 {
		return errRet(e)
	}
	return installPair(p, a, b, cloexec, out)
}

// hostAddr reads a guest sockaddr and makes it a host one: AF_UNIX names
// are mapped into this run's private places (package unixname).
func hostAddr(p *kernel.Task, m machine.Memory, s *vfs.Socket, gpa, n uint64, bind bool) ([]byte, unix.Errno) {
	if n < 2 || n > maxSockaddr {
		return nil, unix.EINVAL
	}
	addr, e := copyIn(m, gpa, n)
	if e != 0 {
		return nil, e
	}
	family := int(binary.LittleEndian.Uint16(addr))
	if family != s.Domain && !(s.Domain == unix.AF_INET6 && family == unix.AF_INET) {
		return nil, unix.EAFNOSUPPORT
	}
	if family != unix.AF_UNIX || bind {
		return addr, 0 // an AF_UNIX name to bind is the guest's: UnixBind maps it
	}
	return p.UnixHostAddr(addr)
}

// putAddr writes a host address back as the guest knows it; lenp is the
// guest's socklen_t pointer (in: room, out: the full length).
func putAddr(p *kernel.Task, m machine.Memory, s *vfs.Socket, addr []byte, gpa, lenp uint64) unix.Errno {
	lb, e := copyIn(m, lenp, 4)
	if e != 0 {
		return e
	}
	room := binary.LittleEndian.Uint32(lb)
	if int32(room) < 0 {
		return unix.EINVAL
	}
	if len(addr) >= sunPathOff && binary.LittleEndian.Uint16(addr) == unix.AF_UNIX {
		addr = p.UnixGuestAddr(addr)
	}
	n := min(uint64(room), uint64(len(addr)))
	if e := copyOut(m, gpa, addr[:n]); e != 0 {
		return e
	}
	binary.LittleEndian.PutUint32(lb, uint32(len(addr)))
	return copyOut(m, lenp, lb)
}

// Socket options a guest may use: the ones that touch only its socket.
var sockopts = map[[2]int]bool{
	{unix.SOL_SOCKET, unix.SO_REUSEADDR}: true, {unix.SOL_SOCKET, unix.SO_REUSEPORT}: true,
	{unix.SOL_SOCKET, unix.SO_TYPE}: true, {unix.SOL_SOCKET, unix.SO_ERROR}: true,
	{unix.SOL_SOCKET, unix.SO_BROADCAST}: true, {unix.SOL_SOCKET, unix.SO_SNDBUF}: true,
	{unix.SOL_SOCKET, unix.SO_RCVBUF}: true, {unix.SOL_SOCKET, unix.SO_KEEPALIVE}: true,
	{unix.SOL_SOCKET, unix.SO_OOBINLINE}: true, {unix.SOL_SOCKET, unix.SO_LINGER}: true,
	{unix.SOL_SOCKET, unix.SO_RCVLOWAT}: true, {unix.SOL_SOCKET, unix.SO_SNDLOWAT}: true,
	{unix.SOL_SOCKET, unix.SO_RCVTIMEO}: true, {unix.SOL_SOCKET, unix.SO_SNDTIMEO}: true,
	{unix.SOL_SOCKET, unix.SO_ACCEPTCONN}: true, {unix.SOL_SOCKET, unix.SO_PROTOCOL}: true,
	{unix.SOL_SOCKET, unix.SO_DOMAIN}: true, {unix.SOL_SOCKET, unix.SO_PASSCRED}: true,
	{unix.IPPROTO_TCP, unix.TCP_NODELAY}: true, {unix.IPPROTO_TCP, unix.TCP_CORK}: true,
	{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE}: true, {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL}: true,
	{unix.IPPROTO_TCP, unix.TCP_KEEPCNT}: true, {unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT}: true,
	{unix.IPPROTO_TCP, unix.TCP_QUICKACK}: true, {unix.IPPROTO_TCP, unix.TCP_MAXSEG}: true,
	{unix.IPPROTO_IP, unix.IP_TOS}: true, {unix.IPPROTO_IP, unix.IP_TTL}: true,
	{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY}: true,
}

func sockopt(m machine.Memory, s *vfs.Socket, in abi.HCSockArgs) int64 {
	level, name := int(in.A[0]), int(in.A[1])
	if !sockopts[[2]int{level, name}] {
		return errRet(unix.ENOPROTOOPT)
	}
	if in.Op == abi.SockSetsockopt {
		if in.Len > maxOptlen {
			return errRet(unix.EINVAL)
		}
		v, e := copyIn(m, in.Buf, in.Len)
		if e != 0 {
			return errRet(e)
		}
		return errRet(s.Setsockopt(level, name, v))
	}
	lb, e := copyIn(m, in.Addrlen, 4)
	if e != 0 {
		return errRet(e)
	}
	room := binary.LittleEndian.Uint32(lb)
	if int32(room) < 0 {
		return errRet(unix.EINVAL)
	}
	buf := make([]byte, min(room, maxOptlen))
	n, e := s.Getsockopt(level, name, buf)
	if e != 0 {
		return errRet(e)
	}
	if e := copyOut(m, in.Buf, buf[:n]); e != 0 {
		return errRet(e)
	}
	binary.LittleEndian.PutUint32(lb, uint32(n))
	return errRet(copyOut(m, in.Addrlen, lb))
}

// The guest's struct msghdr.
type guestMsghdr struct {
	Name       uint64
	Namelen    uint32
	_          uint32
	Iov        uint64
	Iovlen     uint64
	Control    uint64
	Controllen uint64
	Flags      int32
	_          int32
}

const msgFlags = unix.MSG_OOB | unix.MSG_PEEK | unix.MSG_DONTROUTE | unix.MSG_DONTWAIT |
	unix.MSG_EOR | unix.MSG_WAITALL | unix.MSG_NOSIGNAL | unix.MSG_MORE | unix.MSG_TRUNC | unix.MSG_CMSG_CLOEXEC

func sockmsg(p *kernel.Task, m machine.Memory, f *vfs.OpenFile, s *vfs.Socket, in abi.HCSockArgs) int64 {
	flags := int(in.A[0])
	if flags&^msgFlags != 0 {
		return errRet(unix.EOPNOTSUPP)
	}
	hp, err := machine.Ptr[guestMsghdr](m, in.Buf)
	if err != nil {
		return errRet(unix.EFAULT)
	}
	h := *hp
	bufs, e := iovecs(m, h.Iov, h.Iovlen, in.Op != abi.SockSendmsg)
	if e != 0 {
		return errRet(e)
	}
	nb := f.Nonblock() || flags&unix.MSG_DONTWAIT != 0
	cloexec := flags&unix.MSG_CMSG_CLOEXEC != 0
	flags &^= unix.MSG_DONTWAIT | unix.MSG_CMSG_CLOEXEC
	if in.Op == abi.SockSendmsg {
		var name []byte
		if h.Name != 0 && h.Namelen != 0 {
			if name, e = hostAddr(p, m, s, h.Name, uint64(h.Namelen), false); e != 0 {
				return errRet(e)
			}
		}
		control, tokens, e := sendControl(p, m, h.Control, h.Controllen)
		if e != 0 {
			return errRet(e)
		}
		n, e := s.Sendmsg(name, bufs, control, flags&^unix.MSG_NOSIGNAL, nb, p)
		doneTokens(p, tokens, e == 0)
		if e == unix.EPIPE && flags&unix.MSG_NOSIGNAL == 0 {
			p.SendSelf(int(unix.SIGPIPE))
		}
		if e != 0 {
			return errRet(e)
		}
		return int64(n)
	}
	name := make([]byte, maxSockaddr)
	var control []byte
	if room := rightsRoom(h.Controllen); room > 0 {
		control = make([]byte, unix.CmsgSpace(room*4))
	}
	n, alen, clen, mflags, e := s.Recvmsg(name, bufs, control, flags, nb, p)
	if e != 0 {
		return errRet(e)
	}
	gclen, ctrunc, e := recvControl(p, m, control[:clen], h.Control, h.Controllen, cloexec)
	if e != 0 {
		return errRet(e)
	}
	if ctrunc {
		mflags |= unix.MSG_CTRUNC
	}
	if h.Name != 0 {
		if alen > 0 {
			lenAt := in.Buf + uint64(unsafe.Offsetof(guestMsghdr{}.Namelen))
			// The guest's namelen is a socklen_t inside the msghdr.
			if e := putAddr(p, m, s, name[:min(alen, len(name))], h.Name, lenAt); e != 0 {
				return errRet(e)
			}
		} else {
			hp.Namelen = 0
		}
	}
	hp.Controllen = gclen
	hp.Flags = int32(mflags)
	return int64(n)
}

// sendfile copies from a file to a descriptor (a socket, most often)
// through the host, 64 KiB at a time.
func sendfile(p *kernel.Task, _ machine.Memory, in abi.HCSendfileArgs, _ *abi.HCSendfileArgs) int64 {
	out, e := p.FDs.Get(int(in.Out_fd))
	if e != 0 {
		return errRet(e)
	}
	src, e := p.FDs.Get(int(in.In_fd))
	if e != 0 {
		return errRet(e)
	}
	if !src.Readable() || !out.Writable() {
		return errRet(unix.EBADF)
	}
	off := in.Offset
	count := min(in.Count, maxRW)
	if off < -1 || off > math.MaxInt64-int64(count) {
		return errRet(unix.EINVAL)
	}
	buf := make([]byte, min(count, 64<<10))
	var total int64
	for uint64(total) < count {
		chunk := buf[:min(uint64(len(buf)), count-uint64(total))]
		at := int64(-1)
		if off >= 0 {
			at = off + total
		}
		n, e := fileRead(p, src, [][]byte{chunk}, at)
		if e != 0 || n == 0 {
			if total == 0 && e != 0 {
				return errRet(e)
			}
			break
		}
		w, e := fileWrite(p, out, [][]byte{chunk[:n]}, -1)
		total += int64(w)
		if e != 0 || w < n {
			if total == 0 && e != 0 {
				return errRet(e)
			}
			break
		}
	}
	return total
}
