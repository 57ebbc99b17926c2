// Package unixname maps the AF_UNIX names of one run's guests to host names
// private to that run, and back.
//
// A guest must reach no host socket it was not given, and the sockets of one
// run must be invisible to another. So a guest path names a socket in the
// run's own directory (0700) and a guest abstract name maps, through a
// table, to a short abstract host name carrying a random tag of the run.
// Host names never repeat within a run, and a name enters the tables only
// once its host bind has succeeded: every bind, connect and getsockname
// then behaves as on Linux, the host kernel deciding what is in use.
package unixname

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	sunPathOff = 2   // offsetof(struct sockaddr_un, sun_path)
	sunPathLen = 108 // sizeof sun_path
	// MaxNames bounds the names one run may bind (a name is kept for the
	// run: a socket still reports it after unlink). Beyond, bind gives
	// ENOSPC, as Linux's autobind does when it runs out of names.
	MaxNames = 1 << 16
	// autoNames is how many names autobind may choose from ("%05x").
	autoNames = 1 << 20
)

// Socket is the host socket a guest binds.
type Socket interface {
	Bind(addr []byte) unix.Errno                  // a host sockaddr_un
	Name(peer bool, buf []byte) (int, unix.Errno) // getsockname, getpeername
}

// Path is a guest path name resolved in the guest's file tree.
type Path struct {
	Key    string // absolute, its directories resolved: one per file
	Exists bool   // something of the tree is there already
	Dir    bool   // a directory
}

// Resolve resolves a guest path name without a trailing slash (absolute or
// relative to the caller's working directory; "/" is the root); it fails as
// resolving the directories fails (ENOENT, ENOTDIR, ELOOP).
type Resolve func(name string) (Path, unix.Errno)

// Space is the AF_UNIX namespace of one run.
type Space struct {
	mu    sync.Mutex
	dir   string            // host directory of path names
	made  bool              // dir exists
	tag   string            // in every abstract host name of this run
	next  uint64            // host names never repeat
	auto  uint32            // the next name autobind tries
	paths map[string]string // Path.Key -> host path, from bind to unlink
	abs   map[string]string // guest abstract name -> host abstract name (without their NUL)
	guest map[string]string // host sun_path -> the guest's sun_path as bound
}

// New makes the namespace of a run whose path names live in dir (made at
// the first bind, removed by Close); "" for a temporary directory.
func New(dir string) *Space {
	var r [10]byte
	rand.Read(r[:])
	return &Space{dir: dir, tag: "ukf" + hex.EncodeToString(r[:6]) + "-", auto: binary.LittleEndian.Uint32(r[6:]),
		paths: map[string]string{}, abs: map[string]string{}, guest: map[string]string{}}
}

// Close removes the run's socket directory.
func (sp *Space) Close() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.made {
		os.RemoveAll(sp.dir)
		sp.made = false
	}
}

// name splits a guest sockaddr_un (family first, addrlen bytes) into an
// abstract name (its leading NUL dropped) or a path.
func name(addr []byte) (n string, abstract bool, e unix.Errno) {
	if len(addr) <= sunPathOff || len(addr) > sunPathOff+sunPathLen {
		return "", false, unix.EINVAL
	}
	sun := addr[sunPathOff:]
	if sun[0] == 0 {
		return string(sun[1:]), true, 0
	}
	for i, c := range sun {
		if c == 0 {
			sun = sun[:i]
			break
		}
	}
	return string(sun), false, 0
}

// PathName is the path a guest sockaddr_un names, if it names one (not an
// abstract name, nor autobind).
func PathName(addr []byte) (string, bool) {
	if len(addr) == sunPathOff {
		return "", false
	}
	n, abstract, e := name(addr)
	if e != 0 || abstract {
		return "", false
	}
	return n, true
}

// sockaddr makes a sockaddr_un of a sun_path.
func sockaddr(sun string) []byte {
	return append(binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX), sun...)
}

// Bind binds s to the guest address addr, a sockaddr_un of addrlen bytes;
// addrlen 2 autobinds to an abstract name of 5 hex digits, as on Linux.
func (sp *Space) Bind(s Socket, addr []byte, resolve Resolve) unix.Errno {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if len(addr) == sunPathOff {
		return sp.autobind(s)
	}
	n, abstract, e := name(addr)
	if e != 0 {
		return e
	}
	if abstract {
		return sp.bindAbstract(s, n)
	}
	p, slash, e := resolvePath(n, resolve)
	if e != 0 {
		return e
	}
	if _, bound := sp.paths[p.Key]; bound || p.Exists {
		return unix.EADDRINUSE
	}
	if slash {
		return unix.ENOENT // as Linux: a new name cannot end in "/"
	}
	if len(sp.guest) >= MaxNames {
		return unix.ENOSPC
	}
	if err := sp.mkdir(); err != nil {
		return errno(err)
	}
	h := filepath.Join(sp.dir, sp.fresh())
	if len(h) >= sunPathLen {
		return unix.ENAMETOOLONG // the control directory's path is too long
	}
	if e := s.Bind(sockaddr(h + "\x00")); e != 0 {
		return e
	}
	sp.paths[p.Key], sp.guest[h] = h, n
	return 0
}

// bindAbstract binds s to the guest abstract name n; sp.mu held.
func (sp *Space) bindAbstract(s Socket, n string) unix.Errno {
	h, known := sp.abs[n]
	if !known {
		if len(sp.guest) >= MaxNames {
			return unix.ENOSPC
		}
		h = sp.tag + sp.fresh()
	}
	if e := s.Bind(sockaddr("\x00" + h)); e != 0 {
		return e
	}
	if !known {
		sp.abs[n], sp.guest["\x00"+h] = h, "\x00"+n
	}
	return 0
}

// autobind binds s to a free abstract name "%05x" unless it is bound
// already (then, as on Linux, it succeeds and changes nothing); sp.mu held.
func (sp *Space) autobind(s Socket) unix.Errno {
	buf := make([]byte, sunPathOff+sunPathLen)
	if n, e := s.Name(false, buf); e != 0 || n > sunPathOff {
		return e
	}
	for range autoNames {
		n := fmt.Sprintf("%05x", sp.auto%autoNames)
		sp.auto++
		if e := sp.bindAbstract(s, n); e != unix.EADDRINUSE {
			return e
		}
	}
	return unix.ENOSPC
}

// Connect maps the guest address addr of a connect or sendto to the host
// address: ENOENT for a path where nothing is, ECONNREFUSED for a path that
// is no socket or an abstract name nobody bound, as on Linux.
func (sp *Space) Connect(addr []byte, resolve Resolve) ([]byte, unix.Errno) {
	n, abstract, e := name(addr)
	if e != 0 {
		return nil, e
	}
	var p Path
	var slash bool
	if !abstract {
		if p, slash, e = resolvePath(n, resolve); e != 0 {
			return nil, e
		}
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if abstract {
		h, ok := sp.abs[n]
		if !ok {
			return nil, unix.ECONNREFUSED
		}
		return sockaddr("\x00" + h), 0
	}
	h, ok := sp.paths[p.Key]
	switch {
	case ok && slash, p.Exists && slash && !p.Dir:
		return nil, unix.ENOTDIR
	case ok:
		return sockaddr(h + "\x00"), 0
	case p.Exists:
		return nil, unix.ECONNREFUSED
	}
	return nil, unix.ENOENT
}

// resolvePath resolves a guest path name, reporting whether it ended in "/".
func resolvePath(n string, resolve Resolve) (Path, bool, unix.Errno) {
	t := strings.TrimRight(n, "/")
	if t == "" {
		t = "/"
	}
	p, e := resolve(t)
	return p, t != n && t != "/", e
}

// GuestAddr maps a host sockaddr_un (from getsockname, getpeername, accept
// or recvfrom) to what the guest bound; unnamed sockets stay unnamed.
func (sp *Space) GuestAddr(host []byte) []byte {
	if len(host) <= sunPathOff {
		return host
	}
	sun := string(host[sunPathOff:])
	if sun[0] != 0 {
		for i := range len(sun) {
			if sun[i] == 0 {
				sun = sun[:i]
				break
			}
		}
	}
	sp.mu.Lock()
	g, ok := sp.guest[sun]
	sp.mu.Unlock()
	switch {
	case !ok && sun[0] == 0:
		return host // autobound by the host itself: no name of a run
	case !ok:
		return host[:sunPathOff] // no host path reaches the guest
	case g[0] == 0:
		return sockaddr(g)
	}
	return sockaddr(g + "\x00")
}

// Unlink removes the path name resolved to key, as unlink(2) of a bound
// socket's file, reporting whether there was one. A socket bound to it
// keeps reporting its name.
func (sp *Space) Unlink(key string) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	h, ok := sp.paths[key]
	if ok {
		delete(sp.paths, key)
		os.Remove(h)
	}
	return ok
}

// fresh returns a host name never used by this run; sp.mu held.
func (sp *Space) fresh() string {
	sp.next++
	return strconv.FormatUint(sp.next, 36)
}

// mkdir makes the socket directory at the first bind; sp.mu held.
func (sp *Space) mkdir() error {
	if sp.made {
		return nil
	}
	if sp.dir == "" {
		d, err := os.MkdirTemp("", "ukfork-sock-")
		if err != nil {
			return err
		}
		sp.dir, sp.made = d, true
		return nil
	}
	if err := os.Mkdir(sp.dir, 0o700); err != nil {
		return err
	}
	sp.made = true
	return nil
}

func errno(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}
