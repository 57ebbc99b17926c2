// The tree of /proc: names, kinds, modes and owners as Linux shows them, over a Source.

package procfs

import (
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Source is what the tree is read from: the run's process table. Proc
// gives a copy the table no longer changes: entries keep it and read it
// later, from whichever goroutine reads the file.
type Source interface {
	System() System
	Pids() []int32
	Proc(pid int32) (*Proc, bool)
}

// Kind is an entry's file type.
type Kind int

const (
	Dir Kind = iota + 1
	File
	Symlink
)

// Entry is one file of the tree as it was at Lookup: it keeps the Proc and
// System the Source gave then, and makes its contents from them when read,
// as Linux makes a /proc file's text at read.
type Entry struct {
	Name     string
	Kind     Kind
	Mode     uint32 // S_IF* | permissions, as ls -l shows them
	UID, GID uint32
	Ino      uint64
	Nlink    uint32
	Size     int64

	read   func() ([]byte, unix.Errno)
	link   func() (string, unix.Errno)
	lookup func(name string) (Entry, bool)
	list   func() []Entry
}

// Read makes a file's contents. Files that need ptrace access to their
// process (environ, maps, fdinfo) give EACCES to a caller without it.
func (e *Entry) Read() ([]byte, unix.Errno) {
	switch e.Kind {
	case Dir:
		return nil, unix.EISDIR
	case Symlink:
		return nil, unix.EINVAL
	}
	return e.read()
}

// Readlink gives a symlink's target: "4097" for self, a path or
// "pipe:[ino]" for fd/N; EACCES where Linux's ptrace check refuses,
// ENOENT for a zombie's exe, cwd and root.
func (e *Entry) Readlink() (string, unix.Errno) {
	if e.Kind != Symlink {
		return "", unix.EINVAL
	}
	return e.link()
}

// Lookup finds the entry at path (components under /proc; none is the
// root) as process caller sees it (0: the host, which may see all).
// self and thread-self are followed when a path goes through them (and
// by ReadDir); any other symlink is the namespace's to follow, and going
// through it is ENOTDIR.
func Lookup(src Source, caller int32, path []string) (Entry, unix.Errno) {
	e := root(src, caller)
	if len(path) > 1 && (path[0] == "self" || path[0] == "thread-self") {
		l, _ := e.lookup(path[0])
		t, err := l.Readlink()
		if err != 0 {
			return Entry{}, err
		}
		path = append(strings.Split(t, "/"), path[1:]...)
	}
	for _, name := range path {
		if e.Kind != Dir {
			return Entry{}, unix.ENOTDIR
		}
		if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
			return Entry{}, unix.EINVAL
		}
		next, ok := e.lookup(name)
		if !ok {
			return Entry{}, unix.ENOENT
		}
		e = next
	}
	return e, 0
}

// ReadDir lists the directory at path, in Linux's order, without "." and "..".
func ReadDir(src Source, caller int32, path []string) ([]Entry, unix.Errno) {
	e, err := Lookup(src, caller, path)
	if err != 0 {
		return nil, err
	}
	if e.Kind == Symlink && len(path) == 1 && (path[0] == "self" || path[0] == "thread-self") {
		t, err := e.Readlink()
		if err != 0 {
			return nil, err
		}
		return ReadDir(src, caller, strings.Split(t, "/"))
	}
	if e.Kind != Dir {
		return nil, unix.ENOTDIR
	}
	return e.list(), 0
}

// ino numbers an entry by its path, so it stays the same between lookups.
func ino(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return h.Sum64() | 1<<63 // never 1, the root's
}

func file(path, name string, mode uint32, uid, gid uint32, read func() ([]byte, unix.Errno)) Entry {
	return Entry{Name: name, Kind: File, Mode: unix.S_IFREG | mode, UID: uid, GID: gid,
		Ino: ino(path + "/" + name), Nlink: 1, read: read}
}

func symlink(path, name string, mode uint32, uid, gid uint32, link func() (string, unix.Errno)) Entry {
	return Entry{Name: name, Kind: Symlink, Mode: unix.S_IFLNK | mode, UID: uid, GID: gid,
		Ino: ino(path + "/" + name), Nlink: 1, link: link}
}

// staticDir makes a directory of the entries given, looked up by name.
func staticDir(path, name string, mode uint32, uid, gid uint32, entries func() []Entry) Entry {
	d := Entry{Name: name, Kind: Dir, Mode: unix.S_IFDIR | mode, UID: uid, GID: gid,
		Ino: ino(path + "/" + name), Nlink: 2, list: entries}
	d.lookup = func(n string) (Entry, bool) {
		for _, e := range entries() {
			if e.Name == n {
				return e, true
			}
		}
		return Entry{}, false
	}
	return d
}

func text(b []byte) func() ([]byte, unix.Errno) { return func() ([]byte, unix.Errno) { return b, 0 } }

func target(t string) func() (string, unix.Errno) { return func() (string, unix.Errno) { return t, 0 } }

// parsePid reads a directory name as a pid: decimal, no sign, no leading zero.
func parsePid(name string) (int32, bool) {
	if name == "" || name[0] == '0' && len(name) > 1 {
		return 0, false
	}
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil || n <= 0 || name[0] == '+' {
		return 0, false
	}
	return int32(n), true
}

// sysFiles are the files of /proc from System, in the order ls shows them.
var sysFiles = []struct {
	name string
	gen  func(*System) []byte
}{
	{"cpuinfo", CPUInfo}, {"filesystems", Filesystems}, {"loadavg", Loadavg},
	{"meminfo", Meminfo}, {"stat", KernelStat}, {"uptime", Uptime}, {"version", KernelVersion},
}

func root(src Source, caller int32) Entry {
	sys := src.System()
	s := &sys
	static := func() []Entry {
		es := []Entry{}
		for _, f := range sysFiles {
			es = append(es, file("", f.name, 0o444, 0, 0, func() ([]byte, unix.Errno) { return f.gen(s), 0 }))
		}
		es = append(es,
			symlink("", "mounts", 0o777, 0, 0, target("self/mounts")),
			symlink("", "self", 0o777, 0, 0, func() (string, unix.Errno) {
				if _, ok := src.Proc(caller); !ok || caller == 0 {
					return "", unix.ENOENT
				}
				return strconv.Itoa(int(caller)), 0
			}),
			symlink("", "thread-self", 0o777, 0, 0, func() (string, unix.Errno) {
				if _, ok := src.Proc(caller); !ok || caller == 0 {
					return "", unix.ENOENT
				}
				c := strconv.Itoa(int(caller))
				return c + "/task/" + c, 0
			}),
			sysDir(s))
		return es
	}
	pidDir := func(pid int32) (Entry, bool) {
		p, ok := src.Proc(pid)
		if !ok {
			return Entry{}, false
		}
		var cp *Proc
		if caller != 0 {
			if cp, ok = src.Proc(caller); !ok { // gone from the table: no one's ids
				cp = &Proc{Pid: caller, UID: ^uint32(0), EUID: ^uint32(0), FSUID: ^uint32(0)}
			}
		}
		return procDir("", p, s, mayTrace(cp, p), true), true
	}
	r := Entry{Name: "", Kind: Dir, Mode: unix.S_IFDIR | 0o555, Ino: 1, Nlink: 3}
	r.list = func() []Entry {
		es := static()
		pids := slices.Clone(src.Pids())
		slices.Sort(pids)
		for _, pid := range pids {
			if d, ok := pidDir(pid); ok {
				es = append(es, d)
			}
		}
		return es
	}
	r.lookup = func(n string) (Entry, bool) {
		if pid, ok := parsePid(n); ok {
			return pidDir(pid)
		}
		for _, e := range static() {
			if e.Name == n {
				return e, true
			}
		}
		return Entry{}, false
	}
	return r
}

// sysDir is /proc/sys, the few files programs read at start.
func sysDir(s *System) Entry {
	kernel := func() []Entry {
		const p = "/sys/kernel"
		random := staticDir(p, "random", 0o555, 0, 0, func() []Entry {
			return []Entry{
				file(p+"/random", "boot_id", 0o444, 0, 0, text(BootID(s))),
				file(p+"/random", "uuid", 0o444, 0, 0, func() ([]byte, unix.Errno) { return UUID(s), 0 }),
			}
		})
		return []Entry{
			file(p, "hostname", 0o644, 0, 0, text(Hostname(s))),
			file(p, "ngroups_max", 0o444, 0, 0, text(NgroupsMax(s))),
			file(p, "osrelease", 0o444, 0, 0, text(OSRelease(s))),
			file(p, "pid_max", 0o644, 0, 0, text(PidMax(s))),
			random,
		}
	}
	vm := func() []Entry {
		return []Entry{file("/sys/vm", "overcommit_memory", 0o644, 0, 0, text(OvercommitMemory(s)))}
	}
	d := staticDir("", "sys", 0o555, 0, 0, func() []Entry {
		return []Entry{staticDir("/sys", "kernel", 0o555, 0, 0, kernel), staticDir("/sys", "vm", 0o555, 0, 0, vm)}
	})
	return d
}

// mayTrace is proc's PTRACE_MODE_READ_FSCREDS check: the host, the
// process itself, root, or a caller whose fs ids are all of the target's.
func mayTrace(c, t *Proc) bool {
	switch {
	case c == nil || c.Pid == t.Pid || c.EUID == 0:
		return true
	}
	u, g := c.FSUID, c.FSGID
	return u == t.UID && u == t.EUID && u == t.SUID && g == t.GID && g == t.EGID && g == t.SGID
}

// procDir is /proc/PID (top) or /proc/PID/task/PID, owned by the process's
// effective ids as Linux's task_dump_owner gives them.
func procDir(parent string, p *Proc, s *System, traced, top bool) Entry {
	pid := strconv.Itoa(int(p.Pid))
	path := parent + "/" + pid
	uid, gid := p.EUID, p.EGID
	zombie := p.state() == Zombie
	gen := func(g func(*Proc) []byte, private bool) func() ([]byte, unix.Errno) {
		return func() ([]byte, unix.Errno) {
			if private && !traced {
				return nil, unix.EACCES
			}
			return g(p), 0
		}
	}
	pathLink := func(t string) func() (string, unix.Errno) {
		return func() (string, unix.Errno) {
			switch {
			case !traced:
				return "", unix.EACCES
			case zombie || t == "":
				return "", unix.ENOENT
			}
			return t, 0
		}
	}
	rootPath := p.Root
	if rootPath == "" {
		rootPath = "/"
	}
	mounts := func(*Proc) []byte { return Mounts(s) }
	mountinfo := func(*Proc) []byte { return MountInfo(s) }
	entries := func() []Entry {
		es := []Entry{
			file(path, "cmdline", 0o444, uid, gid, gen(Cmdline, false)),
			file(path, "comm", 0o644, uid, gid, gen(Comm, false)),
			symlink(path, "cwd", 0o777, uid, gid, pathLink(p.Cwd)),
			file(path, "environ", 0o400, uid, gid, gen(Environ, true)),
			symlink(path, "exe", 0o777, uid, gid, pathLink(p.Exe)),
			fdDir(path, p, traced),
			fdinfoDir(path, p, traced),
			file(path, "limits", 0o444, uid, gid, gen(Limits, false)),
			file(path, "maps", 0o444, uid, gid, gen(Maps, true)),
			file(path, "mountinfo", 0o444, uid, gid, gen(mountinfo, false)),
			file(path, "mounts", 0o444, uid, gid, gen(mounts, false)),
			symlink(path, "root", 0o777, uid, gid, pathLink(rootPath)),
			file(path, "stat", 0o444, uid, gid, gen(Stat, false)),
			file(path, "statm", 0o444, uid, gid, gen(Statm, false)),
			file(path, "status", 0o444, uid, gid, gen(Status, false)),
		}
		if top {
			es = append(es, staticDir(path, "task", 0o555, uid, gid, func() []Entry {
				return []Entry{procDir(path+"/task", p, s, traced, false)}
			}))
		}
		return es
	}
	d := staticDir(parent, pid, 0o555, uid, gid, entries)
	d.Nlink = 4 // fd, fdinfo and the parent's link
	if top {
		d.Nlink++
	}
	return d
}

// fdLinkMode is fd/N's mode: the descriptor's access mode, for its owner.
func fdLinkMode(flags int) uint32 {
	switch flags & unix.O_ACCMODE {
	case unix.O_WRONLY:
		return 0o300
	case unix.O_RDWR:
		return 0o700
	}
	return 0o500
}

func fdDir(parent string, p *Proc, traced bool) Entry {
	path := parent + "/fd"
	uid, gid := p.EUID, p.EGID
	fds := func() []Entry {
		if !traced || p.state() == Zombie {
			return []Entry{}
		}
		es := make([]Entry, 0, len(p.FDs))
		for _, f := range sortedFDs(p) {
			l := symlink(path, strconv.Itoa(f.Num), fdLinkMode(f.Flags), uid, gid, target(f.Target))
			l.Size = 64
			es = append(es, l)
		}
		return es
	}
	d := staticDir(parent, "fd", 0o500, uid, gid, fds)
	d.Size = int64(len(p.FDs))
	return d
}

func fdinfoDir(parent string, p *Proc, traced bool) Entry {
	path := parent + "/fdinfo"
	uid, gid := p.EUID, p.EGID
	infos := func() []Entry {
		if !traced || p.state() == Zombie {
			return []Entry{}
		}
		es := make([]Entry, 0, len(p.FDs))
		for _, f := range sortedFDs(p) {
			es = append(es, file(path, strconv.Itoa(f.Num), 0o444, uid, gid, text(FDInfo(&f))))
		}
		return es
	}
	return staticDir(parent, "fdinfo", 0o555, uid, gid, infos)
}

func sortedFDs(p *Proc) []FD {
	fds := slices.Clone(p.FDs)
	slices.SortFunc(fds, func(a, b FD) int { return a.Num - b.Num })
	return fds
}
