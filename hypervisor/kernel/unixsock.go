package kernel

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// AF_UNIX addresses name host objects: a path in the host's file system, or
// a name in the host's abstract namespace. A guest must reach neither: its
// paths map to sockets in a directory private to this run, and its abstract
// names get a prefix private to this run.
type unixNames struct {
	mu     sync.Mutex
	dir    string
	prefix string
	toHost map[string]string
	toGst  map[string]string
}

func (u *unixNames) init() error {
	if u.dir != "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "ukfork-sock-")
	if err != nil {
		return err
	}
	var r [6]byte
	rand.Read(r[:])
	u.dir, u.prefix = dir, "ukfork-"+hex.EncodeToString(r[:])+"-"
	u.toHost, u.toGst = map[string]string{}, map[string]string{}
	return nil
}

func (u *unixNames) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.dir != "" {
		os.RemoveAll(u.dir)
	}
}

// UnixPath maps a guest socket path (absolute, or relative to t's working
// directory) to the host path of its socket; bind makes new ones.
func (p *Process) UnixPath(name string, bind bool) (string, unix.Errno) {
	if !path.IsAbs(name) {
		name = path.Join(p.Cwd.Path(), name)
	}
	name = path.Clean(name)
	u := &p.k.unix
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.init(); err != nil {
		return "", unix.ENOMEM
	}
	if h, ok := u.toHost[name]; ok {
		if bind {
			return "", unix.EADDRINUSE
		}
		return h, 0
	}
	if !bind {
		return "", unix.ENOENT
	}
	h := filepath.Join(u.dir, fmt.Sprint(len(u.toHost)))
	u.toHost[name], u.toGst[h] = h, name
	return h, 0
}

// GuestUnixPath maps a host socket path back to what the guest called it.
func (p *Process) GuestUnixPath(h string) string {
	u := &p.k.unix
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.toGst[h]
}

// AbstractPrefix is prepended to the guest's abstract socket names.
func (p *Process) AbstractPrefix() string {
	u := &p.k.unix
	u.mu.Lock()
	defer u.mu.Unlock()
	u.init()
	return u.prefix
}

// UnlinkSocket removes a bound socket's name (unlink(2) of its path),
// reporting whether there was one.
func (p *Process) UnlinkSocket(name string) bool {
	if !path.IsAbs(name) {
		name = path.Join(p.Cwd.Path(), name)
	}
	name = path.Clean(name)
	u := &p.k.unix
	u.mu.Lock()
	defer u.mu.Unlock()
	h, ok := u.toHost[name]
	if !ok {
		return false
	}
	delete(u.toHost, name)
	delete(u.toGst, h)
	os.Remove(h)
	return true
}
