package kernel

import (
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/unixname"
)

// AF_UNIX names: package unixname maps them between the guests of this run
// and the host; here they are resolved against a task's working directory
// and file tree.

// UnixBind binds s to the guest sockaddr_un addr (addrlen bytes).
func (p *Process) UnixBind(s unixname.Socket, addr []byte) unix.Errno {
	return p.k.unix.Bind(s, addr, p.resolveSocket)
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
	dir := p.Cwd
	i := strings.LastIndexByte(name, '/')
	if i >= 0 {
		var e unix.Errno
		if dir, e = p.FS.Lookup(dir, name[:i+1], true); e != 0 {
			return unixname.Path{}, e
		}
	}
	base := name[i+1:]
	if base == "" { // the root
		return unixname.Path{Key: dir.Path(), Exists: true, Dir: true}, 0
	}
	n, e := p.FS.Lookup(dir, base, false)
	return unixname.Path{Key: path.Join(dir.Path(), base), Exists: e == 0, Dir: e == 0 && n.IsDir()}, 0
}
