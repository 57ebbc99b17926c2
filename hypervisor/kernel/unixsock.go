package kernel

import (
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/unixname"
)

// AF_UNIX names: package unixname maps them between the guests of this run
// and the host; here they are resolved against a task's working directory
// and file tree.

// UnixBind binds s to the guest sockaddr_un addr (addrlen bytes). A path
// name is made in the tree too, as a socket file, as Linux does: stat and
// ls see it, unlink removes it, and what cannot be created there (a
// read-only volume, a directory the caller may not write) fails the bind.
func (p *Process) UnixBind(s unixname.Socket, addr []byte) unix.Errno {
	name, path := unixname.PathName(addr)
	c := p.Cred()
	// What the tree refuses is known before the socket is bound on the
	// host (an existing name is unixname's EADDRINUSE, in its order).
	if path && !strings.HasSuffix(name, "/") {
		if e := p.NS.MayCreate(c, p.Cwd(), name); e != 0 && e != unix.EEXIST {
			return e
		}
	}
	if e := p.k.unix.Bind(s, addr, p.resolveSocket); e != 0 {
		return e
	}
	if !path {
		return 0
	}
	e := p.NS.Mknod(c, p.Cwd(), name, unix.S_IFSOCK|0o755, 0)
	if e == 0 {
		return 0
	}
	if r, re := p.resolveSocket(strings.TrimRight(name, "/")); re == 0 {
		p.k.unix.Unlink(r.Key)
	}
	if e == unix.EEXIST {
		e = unix.EADDRINUSE
	}
	return e
}

// UnixHostAddr maps the guest sockaddr_un of a connect or sendto to the
// host address to use.
func (p *Process) UnixHostAddr(addr []byte) ([]byte, unix.Errno) {
	return p.k.unix.Connect(addr, p.resolveSocket)
}

// UnixGuestAddr maps a host sockaddr_un to what the guest calls it.
func (p *Process) UnixGuestAddr(host []byte) []byte {
	return p.k.unix.GuestAddr(host)
}

// UnlinkSocket removes a bound socket's name (unlink(2) of its path),
// reporting whether there was one.
func (p *Process) UnlinkSocket(name string) bool {
	r, e := p.resolveSocket(name)
	return e == 0 && p.k.unix.Unlink(r.Key)
}

// resolveSocket resolves a socket's path name: its directories in the tree
// (from the working directory if relative), and what the tree has there.
func (p *Process) resolveSocket(name string) (unixname.Path, unix.Errno) {
	dir := p.Cwd()
	i := strings.LastIndexByte(name, '/')
	c := p.Cred()
	if i >= 0 {
		var e unix.Errno
		if dir, e = p.NS.Lookup(c, dir, name[:i+1], true); e != 0 {
			return unixname.Path{}, e
		}
	}
	base := name[i+1:]
	if base == "" { // the root
		return unixname.Path{Key: p.NS.Path(dir), Exists: true, Dir: true}, 0
	}
	n, e := p.NS.Lookup(c, dir, base, false)
	var st abi.Stat
	exists := e == 0 && n.Stat(&st) == 0
	return unixname.Path{Key: path.Join(p.NS.Path(dir), base), Exists: exists, Dir: exists && st.Mode&unix.S_IFMT == unix.S_IFDIR}, 0
}
