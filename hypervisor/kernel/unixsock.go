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
func (t *Task) UnixBind(s unixname.Socket, addr []byte) unix.Errno {
	if t.k == nil {
		return unix.EAFNOSUPPORT
	}
	return t.k.unix.Bind(s, addr, t.resolveSocket)
}

// UnixHostAddr maps the guest sockaddr_un of a connect or sendto to the
// host address to use.
func (t *Task) UnixHostAddr(addr []byte) ([]byte, unix.Errno) {
	if t.k == nil {
		return nil, unix.EAFNOSUPPORT
	}
	return t.k.unix.Connect(addr, t.resolveSocket)
}

// UnixGuestAddr maps a host sockaddr_un to what the guest calls it.
func (t *Task) UnixGuestAddr(host []byte) []byte {
	if t.k == nil {
		return host[:min(len(host), 2)]
	}
	return t.k.unix.GuestAddr(host)
}

// UnlinkSocket removes a bound socket's name (unlink(2) of its path),
// reporting whether there was one.
func (t *Task) UnlinkSocket(p string) bool {
	if t.k == nil {
		return false
	}
	r, e := t.resolveSocket(p)
	return e == 0 && t.k.unix.Unlink(r.Key)
}

// resolveSocket resolves a socket's path name: its directories in the tree
// (from the working directory if relative), and what the tree has there.
func (t *Task) resolveSocket(name string) (unixname.Path, unix.Errno) {
	dir := t.Cwd
	i := strings.LastIndexByte(name, '/')
	if i >= 0 {
		var e unix.Errno
		if dir, e = t.FS.Lookup(dir, name[:i+1], true); e != 0 {
			return unixname.Path{}, e
		}
	}
	base := name[i+1:]
	if base == "" { // the root
		return unixname.Path{Key: dir.Path(), Exists: true, Dir: true}, 0
	}
	n, e := t.FS.Lookup(dir, base, false)
	return unixname.Path{Key: path.Join(dir.Path(), base), Exists: e == 0, Dir: e == 0 && n.IsDir()}, 0
}
