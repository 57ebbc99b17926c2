// Tests of the tree: names, kinds, modes, owners and links as Linux shows them.

package procfs

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

type fakeSource struct {
	sys   System
	procs map[int32]*Proc
}

func (f *fakeSource) System() System { return f.sys }
func (f *fakeSource) Pids() []int32 {
	var pids []int32
	for pid := range f.procs {
		pids = append(pids, pid)
	}
	return pids
}
func (f *fakeSource) Proc(pid int32) (*Proc, bool) { p, ok := f.procs[pid]; return p, ok }

func newSource() *fakeSource {
	p := fakeProc()
	other := &Proc{Pid: 4200, PPid: 4097, Comm: "other", Exe: "/bin/other", Cwd: "/",
		UID: 2000, EUID: 2000, SUID: 2000, FSUID: 2000, GID: 2000, EGID: 2000, SGID: 2000, FSGID: 2000,
		Environ: []byte("SECRET=1\x00"), FDs: []FD{{Num: 1, Target: "socket:[77]", Flags: unix.O_RDWR}}}
	root := &Proc{Pid: 1, Comm: "init", Exe: "/sbin/init", Cwd: "/"}
	zombie := &Proc{Pid: 4300, PPid: 4097, Comm: "dead", State: Zombie, EUID: 1000, UID: 1000, SUID: 1000, FSUID: 1000,
		GID: 100, EGID: 100, SGID: 100, FSGID: 100, Exe: "/bin/dead"}
	return &fakeSource{sys: *fakeSystem(), procs: map[int32]*Proc{4097: p, 4200: other, 1: root, 4300: zombie}}
}

func split(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

func TestLookup(t *testing.T) {
	src := newSource()
	tests := []struct {
		path   string
		caller int32
		kind   Kind
		mode   fs.FileMode // as ls -l shows it
		uid    uint32
		link   string
		err    unix.Errno
	}{
		{"", 4097, Dir, fs.ModeDir | 0o555, 0, "", 0},
		{"self", 4097, Symlink, fs.ModeSymlink | 0o777, 0, "4097", 0},
		{"thread-self", 4097, Symlink, fs.ModeSymlink | 0o777, 0, "4097/task/4097", 0},
		{"mounts", 4097, Symlink, fs.ModeSymlink | 0o777, 0, "self/mounts", 0},
		{"4097", 4097, Dir, fs.ModeDir | 0o555, 1000, "", 0},
		{"self/stat", 4097, File, 0o444, 1000, "", 0},
		{"thread-self/status", 4097, File, 0o444, 1000, "", 0},
		{"4097/task/4097/maps", 4097, File, 0o444, 1000, "", 0},
		{"4097/comm", 4097, File, 0o644, 1000, "", 0},
		{"4097/environ", 4097, File, 0o400, 1000, "", 0},
		{"4097/exe", 4097, Symlink, fs.ModeSymlink | 0o777, 1000, "/bin/busybox", 0},
		{"4097/cwd", 4097, Symlink, fs.ModeSymlink | 0o777, 1000, "/data", 0},
		{"4097/root", 4097, Symlink, fs.ModeSymlink | 0o777, 1000, "/", 0},
		{"4097/fd", 4097, Dir, fs.ModeDir | 0o500, 1000, "", 0},
		{"4097/fd/0", 4097, Symlink, fs.ModeSymlink | 0o500, 1000, "/dev/null", 0},
		{"4097/fd/3", 4097, Symlink, fs.ModeSymlink | 0o300, 1000, "pipe:[12]", 0},
		{"4097/fdinfo", 4097, Dir, fs.ModeDir | 0o555, 1000, "", 0},
		{"4097/fdinfo/3", 4097, File, 0o444, 1000, "", 0},
		{"4200/fd/1", 0, Symlink, fs.ModeSymlink | 0o700, 2000, "socket:[77]", 0},
		{"sys/kernel/random/boot_id", 4097, File, 0o444, 0, "", 0},
		{"sys/kernel/pid_max", 4097, File, 0o644, 0, "", 0},
		{"sys/vm/overcommit_memory", 4097, File, 0o644, 0, "", 0},
		{"meminfo", 4097, File, 0o444, 0, "", 0},
		{"04097", 4097, 0, 0, 0, "", unix.ENOENT},
		{"+4097", 4097, 0, 0, 0, "", unix.ENOENT},
		{"4098", 4097, 0, 0, 0, "", unix.ENOENT},
		{"4097/fd/7", 4097, 0, 0, 0, "", unix.ENOENT},
		{"4097/task/4098", 4097, 0, 0, 0, "", unix.ENOENT},
		{"4097/task/4097/task", 4097, 0, 0, 0, "", unix.ENOENT},
		{"4097/stat/x", 4097, 0, 0, 0, "", unix.ENOTDIR},
		{"4097/exe/x", 4097, 0, 0, 0, "", unix.ENOTDIR},
		{"4097/..", 4097, 0, 0, 0, "", unix.EINVAL},
		{"self/stat", 0, 0, 0, 0, "", unix.ENOENT}, // the host is no process
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e, err := Lookup(src, tt.caller, split(tt.path))
			if err != tt.err {
				t.Fatalf("Lookup(%q) = %v, want %v", tt.path, err, tt.err)
			}
			if err != 0 {
				return
			}
			if e.Kind != tt.kind || modeOf(e.Mode) != tt.mode || e.UID != tt.uid {
				t.Errorf("Lookup(%q) = kind %d %v uid %d, want kind %d %v uid %d",
					tt.path, e.Kind, modeOf(e.Mode), e.UID, tt.kind, tt.mode, tt.uid)
			}
			if tt.kind == Symlink {
				if l, err := e.Readlink(); l != tt.link || err != 0 {
					t.Errorf("Readlink(%q) = %q, %v, want %q", tt.path, l, err, tt.link)
				}
			}
			if e.Ino == 0 {
				t.Errorf("Lookup(%q) has inode 0", tt.path)
			}
		})
	}
}

// modeOf converts S_IF* bits to fs.FileMode, as ls -l would print them.
func modeOf(m uint32) fs.FileMode {
	f := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		f |= fs.ModeDir
	case unix.S_IFLNK:
		f |= fs.ModeSymlink
	}
	return f
}

func read(t *testing.T, src Source, caller int32, path string) ([]byte, unix.Errno) {
	t.Helper()
	e, err := Lookup(src, caller, split(path))
	if err != 0 {
		t.Fatalf("Lookup(%q): %v", path, err)
	}
	return e.Read()
}

func TestRead(t *testing.T) {
	src := newSource()
	tests := []struct {
		path   string
		caller int32
		want   string
		err    unix.Errno
	}{
		{"self/comm", 4097, "a-very-long-com\n", 0},
		{"4200/comm", 4097, "other\n", 0},
		{"4097/fdinfo/0", 4097, "pos:\t17\nflags:\t02100000\nmnt_id:\t3\nino:\t5\n", 0},
		{"self/cmdline", 4097, "sh\x00-c\x00sleep 1\x00", 0},
		{"sys/kernel/hostname", 4097, "box\n", 0},
		{"sys/kernel/osrelease", 4097, "6.1.0-ukfork\n", 0},
		{"loadavg", 4097, "0.00 0.00 0.00 1/3 4099\n", 0},
		{"self/mounts", 4097, string(Mounts(&src.sys)), 0},
		{"self/mountinfo", 4097, string(MountInfo(&src.sys)), 0},
		{"4200/environ", 4097, "", unix.EACCES}, // another user's
		{"4200/maps", 4097, "", unix.EACCES},
		{"4200/environ", 4200, "SECRET=1\x00", 0},
		{"4200/environ", 1, "SECRET=1\x00", 0}, // root
		{"4200/environ", 0, "SECRET=1\x00", 0}, // the host
		{"4200/status", 4097, string(Status(src.procs[4200])), 0},
		{"self", 4097, "", unix.EINVAL},
		{"self/fd", 4097, "", unix.EISDIR},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := read(t, src, tt.caller, tt.path)
			if err != tt.err || string(got) != tt.want {
				t.Errorf("read %q as %d = %q, %v, want %q, %v", tt.path, tt.caller, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestReadlinkRefused(t *testing.T) {
	src := newSource()
	tests := []struct {
		path   string
		caller int32
		err    unix.Errno
	}{
		{"4200/exe", 4097, unix.EACCES},
		{"4200/cwd", 4097, unix.EACCES},
		{"4200/root", 4097, unix.EACCES},
		{"4300/exe", 4097, unix.ENOENT}, // a zombie's
	}
	for _, tt := range tests {
		e, err := Lookup(src, tt.caller, split(tt.path))
		if err != 0 {
			t.Fatalf("Lookup(%q): %v", tt.path, err)
		}
		if l, err := e.Readlink(); err != tt.err {
			t.Errorf("Readlink(%q) as %d = %q, %v, want %v", tt.path, tt.caller, l, err, tt.err)
		}
	}
	if ents, err := ReadDir(src, 4097, split("4200/fd")); err != 0 || len(ents) != 0 {
		t.Errorf("another user's fd/ lists %d entries, %v", len(ents), err)
	}
}

func names(es []Entry) []string {
	var n []string
	for _, e := range es {
		n = append(n, e.Name)
	}
	return n
}

func TestReadDir(t *testing.T) {
	src := newSource()
	pidDir := []string{"cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "limits", "maps",
		"mountinfo", "mounts", "root", "stat", "statm", "status"}
	tests := []struct {
		path string
		want []string
	}{
		{"", []string{"cpuinfo", "filesystems", "loadavg", "meminfo", "stat", "uptime", "version",
			"mounts", "self", "thread-self", "sys", "1", "4097", "4200", "4300"}},
		{"4097", append(slices.Clone(pidDir), "task")},
		{"self", append(slices.Clone(pidDir), "task")},
		{"thread-self", pidDir},
		{"4097/task", []string{"4097"}},
		{"4097/fd", []string{"0", "3"}},
		{"4097/fdinfo", []string{"0", "3"}},
		{"4300/fd", nil},
		{"sys", []string{"kernel", "vm"}},
		{"sys/kernel", []string{"hostname", "ngroups_max", "osrelease", "pid_max", "random"}},
		{"sys/kernel/random", []string{"boot_id", "uuid"}},
		{"sys/vm", []string{"overcommit_memory"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			es, err := ReadDir(src, 4097, split(tt.path))
			if err != 0 || !slices.Equal(names(es), tt.want) {
				t.Errorf("ReadDir(%q) = %q, %v, want %q", tt.path, names(es), err, tt.want)
			}
			for _, e := range es {
				l, err := Lookup(src, 4097, append(split(tt.path), e.Name))
				if err != 0 || l.Ino != e.Ino || l.Mode != e.Mode {
					t.Errorf("ReadDir(%q) lists %q, which Lookup finds as %v (%v)", tt.path, e.Name, l, err)
				}
			}
		})
	}
	if _, err := ReadDir(src, 4097, split("4097/stat")); err != unix.ENOTDIR {
		t.Errorf("ReadDir of a file: %v", err)
	}
}

// TestModesAsHost checks the modes we give against this host's /proc/self.
func TestModesAsHost(t *testing.T) {
	src := newSource()
	for _, name := range []string{"self", "thread-self", "meminfo", "self/stat", "self/status", "self/environ",
		"self/maps", "self/limits", "self/comm", "self/cmdline", "self/mountinfo", "self/exe", "self/cwd",
		"self/fd", "self/fdinfo", "self/fdinfo/0", "self/task", "sys/kernel/hostname", "sys/kernel/pid_max",
		"sys/kernel/osrelease", "sys/kernel/ngroups_max", "sys/kernel/random/boot_id", "sys/vm/overcommit_memory"} {
		fi, err := os.Lstat("/proc/" + name)
		if err != nil {
			t.Fatalf("the host's /proc/%s: %v", name, err)
		}
		e, errno := Lookup(src, 4097, split(name))
		if errno != 0 {
			t.Fatalf("Lookup(%q): %v", name, errno)
		}
		if got, want := modeOf(e.Mode), fi.Mode()&(fs.ModeType|fs.ModePerm); got != want {
			t.Errorf("/proc/%s: ours %v, the host's %v", name, got, want)
		}
	}
	fi, err := os.Lstat("/proc/" + strings.TrimPrefix(mustReadlink(t, "/proc/self"), "/proc/"))
	if err != nil || fi.Mode()&fs.ModePerm != 0o555 {
		t.Errorf("the host's pid dir: %v %v", fi, err)
	}
}

func mustReadlink(t *testing.T, p string) string {
	t.Helper()
	l, err := os.Readlink(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
