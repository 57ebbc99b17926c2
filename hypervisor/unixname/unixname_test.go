package unixname

import (
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hostSock is a host AF_UNIX socket, as vfs.Socket is.
type hostSock int

func sys(trap uintptr, fd int, b []byte, n uintptr) (uintptr, unix.Errno) {
	var p uintptr
	if len(b) > 0 {
		p = uintptr(unsafe.Pointer(&b[0]))
	}
	r, _, e := unix.Syscall(trap, uintptr(fd), p, n)
	return r, e
}

func (s hostSock) Bind(addr []byte) unix.Errno {
	_, e := sys(unix.SYS_BIND, int(s), addr, uintptr(len(addr)))
	return e
}

func (s hostSock) Name(peer bool, buf []byte) (int, unix.Errno) {
	n := uint32(len(buf))
	trap := uintptr(unix.SYS_GETSOCKNAME)
	if peer {
		trap = unix.SYS_GETPEERNAME
	}
	_, e := sys(trap, int(s), buf, uintptr(unsafe.Pointer(&n)))
	return int(min(n, uint32(len(buf)))), e
}

func (s hostSock) connect(addr []byte) unix.Errno {
	_, e := sys(unix.SYS_CONNECT, int(s), addr, uintptr(len(addr)))
	return e
}

// tree is a guest file tree: /etc/passwd a file, /tmp and /etc directories,
// /link a symlink to /tmp, the working directory /tmp.
func resolve(name string) (Path, unix.Errno) {
	if !path.IsAbs(name) {
		name = "/tmp/" + name
	}
	dir, base := path.Split(name)
	dir = path.Clean(dir)
	if dir == "/link" {
		dir = "/tmp"
	}
	switch dir {
	case "/", "/tmp", "/etc":
	case "/etc/passwd":
		return Path{}, unix.ENOTDIR
	default:
		return Path{}, unix.ENOENT
	}
	key := path.Join(dir, base)
	isDir := key == "/" || key == "/tmp" || key == "/etc" || key == "/link"
	return Path{Key: key, Exists: isDir || key == "/etc/passwd", Dir: isDir}, 0
}

func guestAddr(n string) []byte { return sockaddr(n) }

type step struct {
	op   string // bind, connect, close, unlink, autobind; name: getsockname must give arg
	sock string
	arg  string // guest sun_path (a leading NUL for abstract names)
	want unix.Errno
}

// run plays steps on one Space with real host sockets: each bound socket
// listens, and a connect must reach the socket last bound to that name.
func run(t *testing.T, sp *Space, steps []step) {
	t.Helper()
	socks := map[string]hostSock{}
	get := func(n string) hostSock {
		s, ok := socks[n]
		if !ok {
			fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			s = hostSock(fd)
			socks[n] = s
		}
		return s
	}
	defer func() {
		for _, s := range socks {
			unix.Close(int(s))
		}
	}()
	// The socket last bound to each name, and the name it was given.
	type bound struct{ sock, name string }
	owner := map[string]bound{}
	key := func(n string) string {
		if p, e := resolve(n); e == 0 && n != "" && n[0] != 0 {
			return p.Key
		}
		return n
	}
	for i, st := range steps {
		var e unix.Errno
		switch st.op {
		case "bind", "autobind":
			s := get(st.sock)
			addr := guestAddr(st.arg)
			if st.op == "autobind" {
				addr = addr[:2]
			}
			if e = sp.Bind(s, addr, resolve); e == 0 {
				unix.Listen(int(s), 4)
				owner[key(st.arg)] = bound{st.sock, st.arg}
			}
		case "connect":
			var h []byte
			if h, e = sp.Connect(guestAddr(st.arg), resolve); e == 0 {
				c := get(st.sock)
				if e = c.connect(h); e == 0 {
					// The connection reached the right listener: its
					// accept queue holds it, and the peer is its name.
					o := owner[key(st.arg)]
					nfd, _, err := unix.Accept4(int(socks[o.sock]), unix.SOCK_CLOEXEC)
					if err != nil {
						t.Errorf("step %d: %+v: the listener %q has no connection: %v", i, st, o.sock, err)
					} else {
						unix.Close(nfd)
					}
					buf := make([]byte, 110)
					n, _ := c.Name(true, buf)
					if got := string(sp.GuestAddr(buf[:n])[2:]); strings.TrimSuffix(got, "\x00") != o.name {
						t.Errorf("step %d: %+v: getpeername %q, want %q", i, st, got, o.name)
					}
				}
			}
		case "close":
			unix.Close(int(socks[st.sock]))
			delete(socks, st.sock)
		case "unlink":
			p, _ := resolve(st.arg)
			if !sp.Unlink(p.Key) {
				e = unix.ENOENT
			}
		case "name":
			buf := make([]byte, 110)
			n, _ := get(st.sock).Name(false, buf)
			g := sp.GuestAddr(buf[:n])
			want := guestAddr(st.arg)
			if len(st.arg) > 0 && st.arg[0] != 0 {
				want = append(want, 0)
			}
			if string(g) != string(want) {
				t.Errorf("step %d: getsockname of %s = %q, want %q", i, st.sock, g, want)
			}
		}
		if e != st.want {
			t.Errorf("step %d: %+v: got %v (%d), want %v", i, st, e, int(e), st.want)
		}
	}
}

// TestPathNames: guest path names behave as Linux's: EADDRINUSE while the
// name exists (even with its socket closed) and not after unlink; ENOENT
// where nothing is, ECONNREFUSED where no socket listens or something else
// is; a failed bind keeps nothing; connections reach the socket bound last.
func TestPathNames(t *testing.T) {
	sp := New(filepath.Join(t.TempDir(), "socks"))
	defer sp.Close()
	run(t, sp, []step{
		{"bind", "a", "/tmp/s", 0},
		{"name", "a", "/tmp/s", 0},
		{"bind", "b", "/tmp/s", unix.EADDRINUSE},
		{"bind", "b", "s", unix.EADDRINUSE},       // the same file, relative
		{"bind", "b", "/link/s", unix.EADDRINUSE}, // the same file, through a symlink
		{"bind", "b", "/tmp/s/", unix.EADDRINUSE}, // Linux: EADDRINUSE too
		{"bind", "b", "/tmp/new/", unix.ENOENT},
		{"connect", "c", "/tmp/s/", unix.ENOTDIR},
		{"connect", "c", "/etc/passwd/", unix.ENOTDIR},
		{"connect", "c", "/tmp/", unix.ECONNREFUSED},
		{"connect", "c", "/tmp", unix.ECONNREFUSED},
		{"bind", "b", "/tmp", unix.EADDRINUSE},
		{"bind", "b", "/", unix.EADDRINUSE},
		{"connect", "c1", "/tmp/s", 0},                // reaches a
		{"bind", "b", "/etc/passwd", unix.EADDRINUSE}, // a file of the image
		{"connect", "c", "/etc/passwd", unix.ECONNREFUSED},
		{"connect", "c", "/tmp/nothing", unix.ENOENT},
		{"bind", "b", "/nodir/s", unix.ENOENT},
		{"connect", "c", "/nodir/s", unix.ENOENT},
		{"bind", "b", "/etc/passwd/s", unix.ENOTDIR},
		// a closed, its file remains until unlinked.
		{"close", "a", "", 0},
		{"connect", "c", "/tmp/s", unix.ECONNREFUSED},
		{"bind", "b", "/tmp/s", unix.EADDRINUSE},
		{"unlink", "", "/tmp/s", 0},
		{"unlink", "", "/tmp/s", unix.ENOENT},
		{"connect", "c", "/tmp/s", unix.ENOENT},
		{"bind", "b", "s", 0}, // relative this time
		{"name", "b", "s", 0}, // getsockname says what bind was given
		{"connect", "c", "/tmp/s", 0},
		// A failed host bind (b is bound already) leaves the name free.
		{"bind", "b", "/tmp/other", unix.EINVAL},
		{"bind", "d", "/tmp/other", 0},
		{"connect", "c2", "/tmp/other", 0}, // reaches d, not b
		// Unlinked, a socket keeps its name; a new one takes the path.
		{"unlink", "", "/tmp/other", 0},
		{"name", "d", "/tmp/other", 0},
		{"bind", "e", "/tmp/other", 0},
		{"connect", "c3", "/tmp/other", 0}, // reaches e, not d
		{"name", "e", "/tmp/other", 0},
	})
}

// TestAbstractNames: abstract names are the run's own, may use all 107
// bytes, are free again once their socket is closed; autobind gives five
// hex digits and leaves a bound socket alone.
func TestAbstractNames(t *testing.T) {
	sp := New(filepath.Join(t.TempDir(), "socks"))
	defer sp.Close()
	long := "\x00" + strings.Repeat("L", 107)
	run(t, sp, []step{
		{"connect", "c", "\x00srv", unix.ECONNREFUSED},
		{"bind", "a", "\x00srv", 0},
		{"name", "a", "\x00srv", 0},
		{"bind", "b", "\x00srv", unix.EADDRINUSE},
		{"connect", "c", "\x00srv", 0},
		{"bind", "a", "\x00again", unix.EINVAL}, // bound already
		{"connect", "c2", "\x00again", unix.ECONNREFUSED},
		{"close", "a", "", 0},
		{"connect", "c3", "\x00srv", unix.ECONNREFUSED},
		{"bind", "b", "\x00srv", 0},
		{"connect", "c4", "\x00srv", 0},
		{"bind", "l", long, 0},
		{"name", "l", long, 0},
		{"connect", "c5", long, 0},
		{"bind", "x", "\x00" + strings.Repeat("L", 108), unix.EINVAL}, // longer than sun_path
		{"autobind", "b", "", 0},                                      // bound: nothing changes
		{"name", "b", "\x00srv", 0},
	})
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if e := sp.Bind(hostSock(fd), guestAddr("")[:2], resolve); e != 0 {
		t.Fatalf("autobind: %v", e)
	}
	buf := make([]byte, 110)
	n, _ := hostSock(fd).Name(false, buf)
	g := sp.GuestAddr(buf[:n])
	if !regexp.MustCompile(`^\x00[0-9a-f]{5}$`).Match(g[2:]) {
		t.Errorf("autobound to %q, want NUL and 5 hex digits", g[2:])
	}
	if _, e := sp.Connect(g, resolve); e != 0 {
		t.Errorf("the autobound name does not connect: %v", e)
	}
}

// TestRunsApart: one run's names, path or abstract, mean nothing in
// another's, and host names of a run never repeat.
func TestRunsApart(t *testing.T) {
	a, b := New(filepath.Join(t.TempDir(), "a")), New(filepath.Join(t.TempDir(), "b"))
	defer a.Close()
	defer b.Close()
	run(t, a, []step{{"bind", "s", "/tmp/s", 0}, {"bind", "t", "\x00srv", 0}})
	run(t, b, []step{
		{"connect", "c", "/tmp/s", unix.ENOENT},
		{"connect", "c", "\x00srv", unix.ECONNREFUSED},
		{"bind", "s", "/tmp/s", 0},
		{"bind", "t", "\x00srv", 0},
	})
	seen := map[string]bool{}
	for range 1000 {
		n := a.fresh()
		if seen[n] {
			t.Fatalf("host name %q twice", n)
		}
		seen[n] = true
	}
	if a.tag == b.tag {
		t.Errorf("two runs share the abstract tag %q", a.tag)
	}
}

// TestUnnamed: unnamed sockets and host paths the run did not bind give the
// guest no name; bad lengths are EINVAL.
func TestUnnamed(t *testing.T) {
	sp := New(filepath.Join(t.TempDir(), "socks"))
	defer sp.Close()
	for _, tc := range []struct{ host, want string }{
		{"\x01\x00", "\x01\x00"},
		{"\x01\x00/etc/secret\x00", "\x01\x00"},
	} {
		if g := sp.GuestAddr([]byte(tc.host)); string(g) != tc.want {
			t.Errorf("GuestAddr(%q) = %q, want %q", tc.host, g, tc.want)
		}
	}
	for _, addr := range [][]byte{guestAddr("")[:1], guestAddr("")[:2], guestAddr("/" + strings.Repeat("p", 108))} {
		if _, e := sp.Connect(addr, resolve); e != unix.EINVAL {
			t.Errorf("Connect(%d bytes) = %v, want EINVAL", len(addr), e)
		}
	}
}
