// Tests of the memory layer, mounts, the budget and permissions.

package vfs_test

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// run makes a run's tree over an image of ents, its memory files bounded
// by space bytes.
func run(t *testing.T, ents []ent, space int64, vols ...vfs.VolumeSpec) *vfs.Namespace {
	t.Helper()
	r, err := vfs.NewRun(vfs.RunConfig{Image: mkFS(t, ents), Space: space, Volumes: vols})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r.NS
}

func layerEnts() []ent {
	return []ent{dir("/etc"), file("/etc/f", "0123456789abcdef"), dir("/etc/sub"), file("/etc/sub/g", "gee"),
		symlink("/etc/l", "f")}
}

var user = &vfs.Cred{UID: 1000, GID: 1000}

func mustOpen(t *testing.T, ns *vfs.Namespace, c *vfs.Cred, p string, flags int, mode uint32) *vfs.OpenFile {
	t.Helper()
	f, e := ns.Open(c, ns.Root(), p, flags, mode)
	if e != 0 {
		t.Fatalf("open %s: %v", p, e)
	}
	return f
}

func readAll(t *testing.T, ns *vfs.Namespace, p string) string {
	t.Helper()
	f, e := ns.Open(vfs.Root, ns.Root(), p, unix.O_RDONLY, 0)
	if e != 0 {
		return "<" + e.Error() + ">"
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, e := f.Read([][]byte{b}, -1)
	if e != 0 {
		t.Fatalf("read %s: %v", p, e)
	}
	return string(b[:n])
}

func write(t *testing.T, ns *vfs.Namespace, p, data string, flags int) unix.Errno {
	t.Helper()
	f, e := ns.Open(vfs.Root, ns.Root(), p, unix.O_WRONLY|flags, 0o644)
	if e != 0 {
		return e
	}
	defer f.Close()
	n, e := f.Write([][]byte{[]byte(data)}, -1)
	if e == 0 && n < len(data) {
		return unix.ENOSPC // short: full
	}
	return e
}

func names(t *testing.T, ns *vfs.Namespace, p string) string {
	t.Helper()
	f := mustOpen(t, ns, vfs.Root, p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	defer f.Close()
	buf := make([]byte, 8192)
	n, e := f.Getdents(buf)
	if e != 0 {
		t.Fatalf("getdents %s: %v", p, e)
	}
	var out []string
	for _, d := range parseDirents(t, buf[:n]) {
		out = append(out, d.name)
	}
	return strings.Join(out, " ")
}

// TestLayerCopyUp: a change copies an image file into the run; the image,
// which another run shares, keeps its bytes.
func TestLayerCopyUp(t *testing.T) {
	img := mkFS(t, layerEnts())
	a, _ := vfs.NewRun(vfs.RunConfig{Image: img})
	b, _ := vfs.NewRun(vfs.RunConfig{Image: img})
	if e := write(t, a.NS, "/etc/f", "NEW", 0); e != 0 {
		t.Fatal(e)
	}
	if got := readAll(t, a.NS, "/etc/f"); got != "NEW3456789abcdef" {
		t.Errorf("after a write: %q", got)
	}
	if got := readAll(t, a.NS, "/etc/l"); got != "NEW3456789abcdef" {
		t.Errorf("through the image's symlink: %q", got)
	}
	if got := readAll(t, b.NS, "/etc/f"); got != "0123456789abcdef" {
		t.Errorf("another run of the image sees %q", got)
	}
	// An open description sees the copy-up made through another.
	f := mustOpen(t, b.NS, vfs.Root, "/etc/sub/g", unix.O_RDONLY, 0)
	defer f.Close()
	if e := write(t, b.NS, "/etc/sub/g", "G", unix.O_APPEND); e != 0 {
		t.Fatal(e)
	}
	buf := make([]byte, 10)
	if n, _ := f.Read([][]byte{buf}, -1); string(buf[:n]) != "geeG" {
		t.Errorf("an open file after another's append: %q", buf[:n])
	}
}

// TestLayerWhiteouts: names removed from image directories stay removed,
// listings merge the image's names and the run's.
func TestLayerWhiteouts(t *testing.T) {
	ns := run(t, layerEnts(), 0)
	if e := ns.Unlink(vfs.Root, ns.Root(), "/etc/f", false); e != 0 {
		t.Fatal(e)
	}
	if _, e := ns.Lookup(vfs.Root, ns.Root(), "/etc/f", false); e != unix.ENOENT {
		t.Errorf("lookup of a removed image file: %v", e)
	}
	if _, e := ns.Lookup(vfs.Root, ns.Root(), "/etc/l", true); e != unix.ENOENT {
		t.Errorf("a symlink to a removed file: %v", e)
	}
	if got := names(t, ns, "/etc"); got != ". .. l sub" {
		t.Errorf("listing after unlink: %q", got)
	}
	if e := ns.Unlink(vfs.Root, ns.Root(), "/etc/sub", true); e != unix.ENOTEMPTY {
		t.Errorf("rmdir of an image dir with files: %v", e)
	}
	ns.Unlink(vfs.Root, ns.Root(), "/etc/sub/g", false)
	if e := ns.Unlink(vfs.Root, ns.Root(), "/etc/sub", true); e != 0 {
		t.Errorf("rmdir once empty: %v", e)
	}
	if e := write(t, ns, "/etc/f", "again", unix.O_CREAT|unix.O_EXCL); e != 0 {
		t.Fatal(e)
	}
	if got, n := readAll(t, ns, "/etc/f"), names(t, ns, "/etc"); got != "again" || n != ". .. f l" {
		t.Errorf("made again over a whiteout: %q, listing %q", got, n)
	}
	if e := ns.Mknod(vfs.Root, ns.Root(), "/etc/sub", unix.S_IFDIR|0o700, 0); e != 0 {
		t.Fatal(e)
	}
	if got := names(t, ns, "/etc/sub"); got != ". .." {
		t.Errorf("a directory made over a removed image one is not empty: %q", got)
	}
}

// TestLayerRename: an image directory moves with what is under it; EXDEV
// and EBUSY at mounts; ".." of a mount's root is the directory above it.
func TestLayerRename(t *testing.T) {
	ns := run(t, layerEnts(), 0)
	root := ns.Root()
	if e := ns.Rename(vfs.Root, root, "/etc", root, "/etc2", 0); e != 0 {
		t.Fatal(e)
	}
	if got := readAll(t, ns, "/etc2/sub/g"); got != "gee" {
		t.Errorf("under a renamed image dir: %q", got)
	}
	if _, e := ns.Lookup(vfs.Root, root, "/etc", false); e != unix.ENOENT {
		t.Errorf("old name: %v", e)
	}
	d, _ := ns.Lookup(vfs.Root, root, "/etc2/sub", false)
	if p := ns.Path(d); p != "/etc2/sub" {
		t.Errorf("path of a moved dir: %q", p)
	}
	if e := ns.Rename(vfs.Root, root, "/etc2", root, "/etc2/sub/x", 0); e != unix.EINVAL {
		t.Errorf("a dir into itself: %v", e)
	}
	if e := ns.Rename(vfs.Root, root, "/etc2/f", root, "/tmp/f", 0); e != unix.EXDEV {
		t.Errorf("rename to /tmp: %v", e)
	}
	f, _ := ns.Lookup(vfs.Root, root, "/etc2/f", false)
	if e := ns.Link(vfs.Root, f, root, "/tmp/f"); e != unix.EXDEV {
		t.Errorf("link into /tmp: %v", e)
	}
	if e := ns.Unlink(vfs.Root, root, "/tmp", true); e != unix.EBUSY {
		t.Errorf("rmdir of a mount point: %v", e)
	}
	if e := ns.Rename(vfs.Root, root, "/tmp", root, "/tmp2", 0); e != unix.EBUSY {
		t.Errorf("rename of a mount point: %v", e)
	}
	ns.Mknod(vfs.Root, root, "/tmp/x", unix.S_IFDIR|0o755, 0)
	up, e := ns.Lookup(vfs.Root, root, "/tmp/x/../..", false)
	if e != 0 || up != root {
		t.Errorf("/tmp/x/../.. is not the root: %v", e)
	}
	if x, _ := ns.Lookup(vfs.Root, root, "/tmp/x", false); ns.Path(x) != "/tmp/x" {
		t.Errorf("path in a mount: %q", ns.Path(x))
	}
	var st abi.Statfs
	ns.Statfs(up, &st)
	var tst abi.Statfs
	tmp, _ := ns.Lookup(vfs.Root, root, "/dev/shm", false)
	ns.Statfs(tmp, &tst)
	if st.Type != 0x794c7630 || tst.Type != 0x01021994 {
		t.Errorf("statfs types %#x %#x, want overlayfs and tmpfs", st.Type, tst.Type)
	}
}

// TestSpace: the run's memory files are bounded; what a removed file held
// comes back once nothing holds it.
func TestSpace(t *testing.T) {
	ns := run(t, layerEnts(), 64<<10)
	big := strings.Repeat("x", 40<<10)
	if e := write(t, ns, "/tmp/a", big, unix.O_CREAT); e != 0 {
		t.Fatal(e)
	}
	f0 := mustOpen(t, ns, vfs.Root, "/b", unix.O_CREAT|unix.O_WRONLY, 0o644)
	if n, e := f0.Write([][]byte{[]byte(big)}, -1); e != 0 || n <= 0 || n >= len(big) {
		t.Errorf("past the budget: %d %v, want as much as fits", n, e)
	}
	if n, e := f0.Write([][]byte{[]byte("more")}, -1); e != unix.ENOSPC {
		t.Errorf("once full: %d %v, want ENOSPC", n, e)
	}
	f0.Close()
	// An unlinked file that is still open keeps its data and its space.
	f := mustOpen(t, ns, vfs.Root, "/tmp/a", unix.O_RDONLY, 0)
	ns.Unlink(vfs.Root, ns.Root(), "/tmp/a", false)
	ns.Unlink(vfs.Root, ns.Root(), "/b", false)
	if e := write(t, ns, "/b", big, unix.O_CREAT); e != unix.ENOSPC {
		t.Errorf("while the unlinked file is open: %v, want ENOSPC", e)
	}
	buf := make([]byte, 10)
	if n, _ := f.Read([][]byte{buf}, -1); n != 10 {
		t.Errorf("reading an unlinked open file: %d", n)
	}
	f.Close()
	ns.Unlink(vfs.Root, ns.Root(), "/b", false)
	if e := write(t, ns, "/b", big, unix.O_CREAT); e != 0 {
		t.Errorf("after the last close: %v", e)
	}
	// Empty files cost too: a guest cannot make them without end.
	var e unix.Errno
	for i := 0; i < 1000 && e == 0; i++ {
		e = ns.Mknod(vfs.Root, ns.Root(), "/tmp/n"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+string(rune('a'+i/26)), unix.S_IFREG|0o644, 0)
	}
	if e != unix.ENOSPC {
		t.Errorf("1000 empty files in 24 KiB: %v, want ENOSPC", e)
	}
	// Files are sparse, as on tmpfs: holes cost nothing and read as zeros.
	r := run(t, layerEnts(), 1<<20)
	big1 := mustLookup2(t, r, "/etc/f")
	if e := r.Truncate(vfs.Root, big1, nil, 1<<30); e != 0 {
		t.Errorf("a 1 GiB truncate in 1 MiB: %v", e)
	}
	f = mustOpen(t, r, vfs.Root, "/etc/f", unix.O_RDWR, 0)
	defer f.Close()
	buf = make([]byte, 8)
	if n, e := f.Read([][]byte{buf}, 512<<20); n != 8 || e != 0 || string(buf) != "\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("in the hole: %d %v %q", n, e, buf)
	}
	if n, e := f.Read([][]byte{buf}, 0); string(buf[:n]) != "01234567" || e != 0 {
		t.Errorf("the image's bytes after the truncate: %q %v", buf[:n], e)
	}
	var st abi.Stat
	big1.Stat(&st)
	if st.Size != 1<<30 || st.Blocks != 8 {
		t.Errorf("size %d blocks %d, want 1 GiB in one page", st.Size, st.Blocks)
	}
	if n, e := f.Write([][]byte{make([]byte, 2<<20)}, 100<<20); e != 0 || n <= 0 || n >= 2<<20 {
		t.Errorf("2 MiB into 1 MiB: %d %v, want a short write", n, e)
	}
	if e := r.Truncate(vfs.Root, big1, nil, 3); e != 0 {
		t.Fatal(e)
	}
	if got := readAll(t, r, "/etc/f"); got != "012" {
		t.Errorf("truncated back: %q", got)
	}
	if e := write(t, r, "/tmp/after", strings.Repeat("y", 900<<10), unix.O_CREAT); e != 0 {
		t.Errorf("the space a truncate gave back: %v", e)
	}
}

func mustLookup2(t *testing.T, ns *vfs.Namespace, p string) vfs.Inode {
	t.Helper()
	n, e := ns.Lookup(vfs.Root, ns.Root(), p, true)
	if e != 0 {
		t.Fatalf("lookup %s: %v", p, e)
	}
	return n
}

// TestPermissions: a non-root caller against the image's root-owned files.
func TestPermissions(t *testing.T) {
	ns := run(t, layerEnts(), 0)
	root := ns.Root()
	if _, e := ns.Open(user, root, "/etc/new", unix.O_CREAT|unix.O_WRONLY, 0o644); e != unix.EACCES {
		t.Errorf("create in /etc as 1000: %v", e)
	}
	if _, e := ns.Open(user, root, "/etc/f", unix.O_WRONLY, 0); e != unix.EACCES {
		t.Errorf("write a 0644 root file as 1000: %v", e)
	}
	if _, e := ns.Open(user, root, "/etc/f", unix.O_RDONLY, 0); e != 0 {
		t.Errorf("read it: %v", e)
	}
	if e := ns.Unlink(user, root, "/etc/f", false); e != unix.EACCES {
		t.Errorf("unlink in /etc as 1000: %v", e)
	}
	if e := ns.Chmod(user, mustLookup2(t, ns, "/etc/f"), nil, 0o777); e != unix.EPERM {
		t.Errorf("chmod of root's file: %v", e)
	}
	f, e := ns.Open(user, root, "/tmp/mine", unix.O_CREAT|unix.O_WRONLY, 0o400)
	if e != 0 {
		t.Fatalf("create in /tmp as 1000: %v", e)
	}
	f.Close()
	var st abi.Stat
	mine := mustLookup2(t, ns, "/tmp/mine")
	mine.Stat(&st)
	if st.Uid != 1000 || st.Gid != 1000 || st.Mode != unix.S_IFREG|0o400 {
		t.Errorf("a new file: uid %d gid %d mode %o", st.Uid, st.Gid, st.Mode)
	}
	if _, e := ns.Open(user, root, "/tmp/mine", unix.O_WRONLY, 0); e != unix.EACCES {
		t.Errorf("write my own 0400 file: %v", e)
	}
	if _, e := ns.Open(vfs.Root, root, "/tmp/mine", unix.O_WRONLY, 0); e != 0 {
		t.Errorf("root writes a 0400 file: %v", e)
	}
	other := &vfs.Cred{UID: 1001, GID: 1001}
	if e := ns.Unlink(other, root, "/tmp/mine", false); e != unix.EPERM {
		t.Errorf("unlink another's file in sticky /tmp: %v", e)
	}
	if e := ns.Chown(user, mine, nil, ^uint32(0), 1001); e != unix.EPERM {
		t.Errorf("chown to a group I am not in: %v", e)
	}
	if e := ns.Chown(&vfs.Cred{UID: 1000, GID: 1000, Groups: []uint32{1001}}, mine, nil, ^uint32(0), 1001); e != 0 {
		t.Errorf("chown to one of my groups: %v", e)
	}
}
