package vfs_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/toolchain/image"
)

// ent is an image entry with its content; mkFS lays the contents out in one
// buffer, with junk around each blob so that a read using the wrong offset
// or running past the blob shows.
type ent struct {
	path, typ string
	mode      uint32
	data      string
	target    string
}

func dir(p string) ent          { return ent{path: p, typ: image.TypeDir, mode: 0o755} }
func file(p, data string) ent   { return ent{path: p, typ: image.TypeFile, mode: 0o644, data: data} }
func symlink(p, tgt string) ent { return ent{path: p, typ: image.TypeSymlink, target: tgt} }

func mkFS(t *testing.T, ents []ent) *vfs.FS {
	t.Helper()
	src := []byte("JUNKJUNKJUNK")
	var files []image.Entry
	for i, e := range ents {
		ie := image.Entry{Path: e.path, Type: e.typ, Mode: e.mode, MTime: int64(1000 + i), Target: e.target}
		if e.typ == image.TypeFile {
			ie.Data = image.Blob{Off: uint64(len(src)), Size: uint64(len(e.data))}
			src = append(src, e.data...)
			src = append(src, "@@@"...)
		}
		files = append(files, ie)
	}
	return vfs.New(files, bytes.NewReader(src))
}

const passwd = "root:x:0:0\n" // 11 bytes

var longName = strings.Repeat("n", 255)

// bigData is a few KiB of non-repeating bytes.
var bigData = func() string {
	var b strings.Builder
	for i := 0; b.Len() < 10000; i++ {
		fmt.Fprintf(&b, "%d,", i)
	}
	return b.String()
}()

// treeEnts is the tree most tests use.
func treeEnts() []ent {
	es := []ent{
		dir("/a"), dir("/a/b"), file("/a/b/c", "abc"),
		symlink("/a/b/up", "../../../../etc/passwd"), // climbs above the root
		symlink("/a/rel", "b/c"),                     // relative to /a
		symlink("/a/dirlink", "b"),
		dir("/etc"), file("/etc/passwd", passwd), file("/etc/big", bigData),
		file("/etc/empty", ""), file("/etc/4k", strings.Repeat("x", 4096)),
		file("/etc/4k1", strings.Repeat("x", 4097)),
		dir("/usr"), dir("/usr/lib"), file("/usr/lib/libc.so", "ELF"),
		symlink("/abs", "/etc/passwd"),
		symlink("/libdir", "/usr/lib"),
		symlink("/hostonly", "/proc/self/exe"), // exists on the host, not in the image
		symlink("/esc", "../../../../../../etc"),
		symlink("/chain1", "/chain2"), symlink("/chain2", "chain3"), symlink("/chain3", "/etc/passwd"),
		symlink("/loop1", "/loop2"), symlink("/loop2", "loop1"),
		symlink("/self", "self"),
		symlink("/dangling", "/nonexistent"),
		file("/"+longName, "long"),
		// /g: children listed unsorted; Getdents must sort them.
		dir("/g"), file("/g/zeta", "z"), dir("/g/alpha"), dir("/g/alpha/inner"), symlink("/g/mid", "alpha"),
	}
	// /c0 -> /c1 -> ... -> /c40 -> /etc/passwd: 41 links from /c0, 40 from /c1.
	for i := 0; i < 40; i++ {
		es = append(es, symlink(fmt.Sprintf("/c%d", i), fmt.Sprintf("/c%d", i+1)))
	}
	return append(es, symlink("/c40", "/etc/passwd"))
}

func mustLookup(t *testing.T, fs *vfs.FS, p string, follow bool) *vfs.Node {
	t.Helper()
	n, e := fs.Lookup(fs.Root, p, follow)
	if e != 0 {
		t.Fatalf("Lookup(%q): %v", p, e)
	}
	return n
}

func TestLookup(t *testing.T) {
	fs := mkFS(t, treeEnts())
	tests := []struct {
		from   string // start directory; "" for the root
		path   string
		follow bool
		want   string // Path() of the result
		err    unix.Errno
	}{
		{path: "/etc/passwd", follow: true, want: "/etc/passwd"},
		{path: "/", follow: true, want: "/"},
		{path: "//etc///passwd", follow: true, want: "/etc/passwd"},
		{from: "/etc", path: "passwd", follow: true, want: "/etc/passwd"},
		{from: "/a", path: "b/c", follow: true, want: "/a/b/c"},
		{from: "/a", path: ".", follow: true, want: "/a"},
		{from: "/a/b", path: "..", follow: true, want: "/a"},
		{from: "/a", path: "./b/../b/./c", follow: true, want: "/a/b/c"},
		{from: "/a/b", path: "/etc/passwd", follow: true, want: "/etc/passwd"}, // absolute ignores dir
		{path: "..", follow: true, want: "/"},                                  // .. at the root stays there
		{from: "/a", path: "../../..", follow: true, want: "/"},
		{path: "/../../etc/passwd", follow: true, want: "/etc/passwd"},
		{path: "/etc/", follow: true, want: "/etc"},
		{path: "/etc/.", follow: true, want: "/etc"},
		{path: "/etc/passwd/", follow: true, err: unix.ENOTDIR},
		{path: "/etc/passwd/.", follow: true, err: unix.ENOTDIR},
		{path: "/etc/passwd/..", follow: true, err: unix.ENOTDIR},
		{path: "/etc/passwd/x", follow: true, err: unix.ENOTDIR},
		{path: "/nonexistent", follow: true, err: unix.ENOENT},
		{path: "/nonexistent/x", follow: true, err: unix.ENOENT},
		{path: "", follow: true, err: unix.ENOENT},
		{from: "/a", path: "", follow: true, err: unix.ENOENT},
		// Symlinks.
		{path: "/abs", follow: true, want: "/etc/passwd"},
		{path: "/abs", follow: false, want: "/abs"},
		{path: "/abs/", follow: false, err: unix.ENOTDIR}, // the slash follows, to a file
		{path: "/hostonly", follow: true, err: unix.ENOENT},
		{path: "/esc", follow: true, want: "/etc"},
		{path: "/esc/passwd", follow: false, want: "/etc/passwd"},
		{path: "/a/b/up", follow: true, want: "/etc/passwd"},
		{path: "/a/rel", follow: true, want: "/a/b/c"},
		{from: "/usr", path: "../a/rel", follow: true, want: "/a/b/c"},
		{path: "/a/dirlink/c", follow: false, want: "/a/b/c"},
		{path: "/libdir/libc.so", follow: true, want: "/usr/lib/libc.so"},
		{path: "/libdir/..", follow: true, want: "/usr"}, // the target's parent, as Linux
		{path: "/libdir", follow: false, want: "/libdir"},
		{path: "/libdir/", follow: false, want: "/usr/lib"},
		{path: "/chain1", follow: true, want: "/etc/passwd"},
		{path: "/chain1", follow: false, want: "/chain1"},
		{path: "/c1", follow: true, want: "/etc/passwd"}, // 40 links: Linux's limit
		{path: "/c0", follow: true, err: unix.ELOOP},     // 41
		{path: "/loop1", follow: true, err: unix.ELOOP},
		{path: "/self", follow: true, err: unix.ELOOP},
		{path: "/loop1", follow: false, want: "/loop1"},
		{path: "/loop1/x", follow: false, err: unix.ELOOP},
		{path: "/dangling", follow: true, err: unix.ENOENT},
		{path: "/dangling", follow: false, want: "/dangling"},
		{path: "/dangling/", follow: false, err: unix.ENOENT},
		// Lengths.
		{path: "/" + longName, follow: true, want: "/" + longName},
		{path: "/" + longName + "x", follow: true, err: unix.ENAMETOOLONG},
		{path: "/nonexistent/" + longName + "x", follow: true, err: unix.ENOENT},
		{path: "/etc/" + longName + "x", follow: true, err: unix.ENAMETOOLONG},
		{path: strings.Repeat("./", 2047) + ".", follow: true, want: "/"},              // 4095 bytes
		{path: strings.Repeat("./", 2048), follow: true, err: unix.ENAMETOOLONG},       // 4096 bytes
		{path: "/" + strings.Repeat("a/", 2048), follow: true, err: unix.ENAMETOOLONG}, // would be ENOENT
	}
	for _, tc := range tests {
		name := tc.from + " " + tc.path
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(fmt.Sprintf("%s/follow=%v", name, tc.follow), func(t *testing.T) {
			start := fs.Root
			if tc.from != "" {
				start = mustLookup(t, fs, tc.from, true)
			}
			n, e := fs.Lookup(start, tc.path, tc.follow)
			if e != tc.err {
				t.Fatalf("err = %v, want %v", e, tc.err)
			}
			if e != 0 {
				if n != nil {
					t.Errorf("node %q with error", n.Path())
				}
				return
			}
			if got := n.Path(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDevices(t *testing.T) {
	devs := []struct {
		name string
		rdev uint64
	}{{"null", unix.Mkdev(1, 3)}, {"zero", unix.Mkdev(1, 5)}, {"random", unix.Mkdev(1, 8)}, {"urandom", unix.Mkdev(1, 9)}}
	t.Run("synthetic", func(t *testing.T) {
		fs := mkFS(t, []ent{file("/f", "x")})
		d := mustLookup(t, fs, "/dev", true)
		if !d.IsDir() {
			t.Fatalf("/dev mode %#o", d.Mode)
		}
		for _, dv := range devs {
			n := mustLookup(t, fs, "/dev/"+dv.name, true)
			if n.Mode != unix.S_IFCHR|0o666 || n.Rdev != dv.rdev {
				t.Errorf("/dev/%s: mode %#o rdev %#x, want %#o %#x", dv.name, n.Mode, n.Rdev, unix.S_IFCHR|0o666, dv.rdev)
			}
		}
	})
	t.Run("image brings /dev", func(t *testing.T) {
		fs := mkFS(t, []ent{dir("/dev"), file("/dev/console", "")})
		for _, dv := range devs {
			if n, e := fs.Lookup(fs.Root, "/dev/"+dv.name, true); e != unix.ENOENT {
				t.Errorf("/dev/%s: %v %v, want ENOENT", dv.name, n, e)
			}
		}
		mustLookup(t, fs, "/dev/console", true)
		// One /dev in the root, the image's.
		buf := make([]byte, 4096)
		n, _ := openPath(t, fs, "/").Getdents(buf)
		var names []string
		for _, d := range parseDirents(t, buf[:n]) {
			names = append(names, d.name)
		}
		if strings.Join(names, " ") != ". .. dev" {
			t.Errorf("root lists %q, want . .. dev", names)
		}
	})
	t.Run("io", func(t *testing.T) {
		fs := mkFS(t, nil)
		open := func(p string, flags int) *vfs.OpenFile {
			f, e := layerOpen(t, fs, p, flags)
			if e != 0 {
				t.Fatalf("open %s: %v", p, e)
			}
			return f
		}
		buf := [][]byte{bytes.Repeat([]byte{0xaa}, 5), bytes.Repeat([]byte{0xaa}, 7)}
		if n, e := open("/dev/zero", unix.O_RDONLY).Read(buf, -1); n != 12 || e != 0 ||
			!bytes.Equal(bytes.Join(buf, nil), make([]byte, 12)) {
			t.Errorf("/dev/zero read: %d %v %x", n, e, buf)
		}
		if n, e := open("/dev/null", unix.O_RDONLY).Read(buf, -1); n != 0 || e != 0 {
			t.Errorf("/dev/null read: %d %v, want 0 (EOF)", n, e)
		}
		if n, e := open("/dev/null", unix.O_WRONLY).Write(buf, -1); n != 12 || e != 0 {
			t.Errorf("/dev/null write: %d %v, want 12", n, e)
		}
	})
}

func TestOpenFlags(t *testing.T) {
	fs := mkFS(t, treeEnts())
	tests := []struct {
		path   string
		follow bool
		flags  int
		err    unix.Errno
	}{
		{"/etc/passwd", true, unix.O_RDONLY, 0},
		{"/etc/passwd", true, unix.O_RDONLY | unix.O_CREAT | unix.O_NOCTTY, 0}, // O_CREAT of an existing file
		{"/etc/passwd", true, unix.O_WRONLY, 0},                                // the run's layer makes the image writable
		{"/etc/passwd", true, unix.O_RDWR, 0},
		{"/etc/passwd", true, unix.O_RDONLY | unix.O_TRUNC, 0},
		{"/etc/passwd", true, unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{"/etc/passwd", true, unix.O_WRONLY | unix.O_DIRECTORY, unix.ENOTDIR}, // Linux checks O_DIRECTORY first
		{"/etc", true, unix.O_RDONLY, 0},
		{"/etc", true, unix.O_RDONLY | unix.O_DIRECTORY, 0},
		{"/etc", true, unix.O_WRONLY, unix.EISDIR},
		{"/etc", true, unix.O_RDWR, unix.EISDIR},
		{"/etc", true, unix.O_WRONLY | unix.O_DIRECTORY, unix.EISDIR},
		{"/etc", true, unix.O_RDONLY | unix.O_TRUNC, unix.EISDIR}, // as Linux: O_TRUNC asks for write
		{"/etc", true, unix.O_RDONLY | unix.O_CREAT, unix.EISDIR}, // as Linux
		{"/abs", false, unix.O_RDONLY, unix.ELOOP},                // O_NOFOLLOW on a symlink
		{"/abs", false, unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{"/dev/null", true, unix.O_RDWR, 0},
		{"/dev/null", true, unix.O_WRONLY | unix.O_TRUNC, 0},
		{"/dev/null", true, unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%#x", tc.path, tc.flags), func(t *testing.T) {
			flags := tc.flags
			if !tc.follow {
				flags |= unix.O_NOFOLLOW
			}
			f, e := layerOpen(t, fs, tc.path, flags)
			if e != tc.err {
				t.Fatalf("Open = %v, want %v", e, tc.err)
			}
			if e != 0 {
				return
			}
			var st abi.Stat
			if f.Inode().Stat(&st); st.Ino != mustLookup(t, fs, tc.path, tc.follow).Ino {
				t.Errorf("Inode() is inode %d, want %s's", st.Ino, tc.path)
			}
			acc := tc.flags & unix.O_ACCMODE
			if f.Readable() != (acc != unix.O_WRONLY) || f.Writable() != (acc != unix.O_RDONLY) {
				t.Errorf("Readable %v Writable %v for access mode %d", f.Readable(), f.Writable(), acc)
			}
			if f.Flags()&(unix.O_CREAT|unix.O_EXCL|unix.O_NOCTTY|unix.O_TRUNC|unix.O_CLOEXEC) != 0 {
				t.Errorf("Flags %#x keep open-time-only flags", f.Flags())
			}
		})
	}
	// Status flags that stay with the description.
	f, e := layerOpen(t, fs, "/etc/passwd", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC)
	if e != 0 || f.Flags() != unix.O_RDONLY|unix.O_NONBLOCK {
		t.Errorf("Flags = %#x (%v), want O_NONBLOCK", f.Flags(), e)
	}
}

func openPath(t *testing.T, fs *vfs.FS, p string) *vfs.OpenFile {
	t.Helper()
	f, e := layerOpen(t, fs, p, unix.O_RDONLY)
	if e != 0 {
		t.Fatalf("open %s: %v", p, e)
	}
	return f
}

// layerOpen opens p, as root, in a fresh run's layer over image fs.
func layerOpen(t *testing.T, fs *vfs.FS, p string, flags int) (*vfs.OpenFile, unix.Errno) {
	t.Helper()
	ns := vfs.NewNamespace(vfs.NewLayer(fs, vfs.NewSpace(1<<20), 0x75))
	return ns.Open(vfs.Root, ns.Root(), p, flags, 0)
}

func bufs(sizes ...int) [][]byte {
	var b [][]byte
	for _, n := range sizes {
		b = append(b, bytes.Repeat([]byte{'#'}, n))
	}
	return b
}

func TestRegRead(t *testing.T) {
	fs := mkFS(t, treeEnts())
	// Each step reads from one open /etc/big (or /etc/passwd) in turn.
	type step struct {
		sizes []int
		off   int64 // -1: at the position
		want  string
		pos   int64 // position after the read
	}
	tests := []struct {
		name  string
		path  string
		steps []step
	}{
		{"sequential", "/etc/passwd", []step{
			{[]int{4}, -1, "root", 4},
			{[]int{2}, -1, ":x", 6},
			{[]int{100}, -1, ":0:0\n", 11}, // short read at EOF
			{[]int{100}, -1, "", 11},       // then EOF
		}},
		{"offset leaves the position", "/etc/passwd", []step{
			{[]int{4}, -1, "root", 4},
			{[]int{3}, 7, "0:0", 4},
			{[]int{3}, 0, "roo", 4},
			{[]int{2}, -1, ":x", 6},
			{[]int{5}, 9, "0\n", 6}, // short at EOF
			{[]int{5}, 11, "", 6},   // at EOF
			{[]int{5}, 1000, "", 6}, // past EOF
			{[]int{1}, -1, ":", 7},
		}},
		{"several buffers", "/etc/big", []step{
			{[]int{3, 0, 5, 1000, 4096}, -1, bigData[:5104], 5104},
			{[]int{1, 2}, 5, bigData[5:8], 5104},
			{[]int{1000, 10000, 7}, -1, bigData[5104:], int64(len(bigData))}, // short, mid-buffer
			{[]int{10}, -1, "", int64(len(bigData))},
		}},
		{"buffers past EOF", "/etc/passwd", []step{
			{[]int{8, 8, 8}, -1, passwd, 11},
		}},
		{"empty file", "/etc/empty", []step{
			{[]int{8}, -1, "", 0},
			{[]int{8}, 0, "", 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := openPath(t, fs, tc.path)
			for i, s := range tc.steps {
				b := bufs(s.sizes...)
				n, e := f.Read(b, s.off)
				if e != 0 {
					t.Fatalf("step %d: %v", i, e)
				}
				got := string(bytes.Join(b, nil))[:n]
				if n != len(s.want) || got != s.want {
					t.Errorf("step %d: read %d %q, want %d %q", i, n, trunc(got), len(s.want), trunc(s.want))
				}
				// Bytes past n are untouched.
				if rest := bytes.Join(b, nil)[n:]; len(bytes.Trim(rest, "#")) != 0 {
					t.Errorf("step %d: wrote past the count: %q", i, trunc(string(rest)))
				}
				if pos, _ := f.Lseek(0, unix.SEEK_CUR); pos != s.pos {
					t.Errorf("step %d: position %d, want %d", i, pos, s.pos)
				}
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// failingReader fails every read, as a disk error would.
type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("I/O error") }

func TestRegReadError(t *testing.T) {
	fs := vfs.New([]image.Entry{{Path: "/f", Type: image.TypeFile, Mode: 0o644, Data: image.Blob{Off: 0, Size: 10}}}, failingReader{})
	f := openPath(t, fs, "/f")
	if n, e := f.Read(bufs(4), -1); n != 0 || e != unix.EIO {
		t.Errorf("Read = %d %v, want EIO", n, e)
	}
	if pos, _ := f.Lseek(0, unix.SEEK_CUR); pos != 0 {
		t.Errorf("position %d after a failed read", pos)
	}
}

func TestRegLseek(t *testing.T) {
	fs := mkFS(t, treeEnts())
	const size = int64(len(passwd))
	tests := []struct {
		start  int64
		off    int64
		whence int
		want   int64
		err    unix.Errno
	}{
		{0, 5, unix.SEEK_SET, 5, 0},
		{5, 0, unix.SEEK_SET, 0, 0},
		{0, 100, unix.SEEK_SET, 100, 0}, // past the end is fine
		{3, -1, unix.SEEK_SET, 0, unix.EINVAL},
		{5, 3, unix.SEEK_CUR, 8, 0},
		{5, -5, unix.SEEK_CUR, 0, 0},
		{5, -6, unix.SEEK_CUR, 0, unix.EINVAL},
		{5, 0, unix.SEEK_CUR, 5, 0},
		{0, 0, unix.SEEK_END, size, 0},
		{0, -size, unix.SEEK_END, 0, 0},
		{0, -size - 1, unix.SEEK_END, 0, unix.EINVAL},
		{0, 5, unix.SEEK_END, size + 5, 0},
		{0, math.MaxInt64, unix.SEEK_END, 0, unix.EINVAL}, // overflows
		{math.MaxInt64 - 1, 2, unix.SEEK_CUR, 0, unix.EINVAL},
		{0, 0, unix.SEEK_DATA, 0, 0},
		{0, 10, unix.SEEK_DATA, 10, 0},
		{0, size, unix.SEEK_DATA, 0, unix.ENXIO},
		{0, -1, unix.SEEK_DATA, 0, unix.ENXIO}, // as Linux (ext4 and the generic code)
		{0, 0, unix.SEEK_HOLE, size, 0},
		{0, 10, unix.SEEK_HOLE, size, 0},
		{0, size, unix.SEEK_HOLE, 0, unix.ENXIO},
		{0, -1, unix.SEEK_HOLE, 0, unix.ENXIO},
		{0, 0, 5, 0, unix.EINVAL},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("from%d/%d/whence%d", tc.start, tc.off, tc.whence), func(t *testing.T) {
			f := openPath(t, fs, "/etc/passwd")
			if tc.start != 0 {
				if _, e := f.Lseek(tc.start, unix.SEEK_SET); e != 0 {
					t.Fatal(e)
				}
			}
			got, e := f.Lseek(tc.off, tc.whence)
			if e != tc.err || got != tc.want {
				t.Fatalf("Lseek = %d %v, want %d %v", got, e, tc.want, tc.err)
			}
			wantPos := tc.want
			if e != 0 {
				wantPos = tc.start
			}
			if pos, _ := f.Lseek(0, unix.SEEK_CUR); pos != wantPos {
				t.Errorf("position %d, want %d", pos, wantPos)
			}
		})
	}
	// A read starts at the new position.
	f := openPath(t, fs, "/etc/passwd")
	f.Lseek(-5, unix.SEEK_END)
	b := make([]byte, 10)
	if n, e := f.Read([][]byte{b}, -1); string(b[:n]) != passwd[size-5:] || e != 0 {
		t.Errorf("read after SEEK_END -5 = %q %v, want %q", b[:n], e, passwd[size-5:])
	}
}

// dirent is one decoded linux_dirent64.
type dirent struct {
	ino    uint64
	off    int64
	reclen uint16
	typ    byte
	name   string
}

func parseDirents(t *testing.T, b []byte) []dirent {
	t.Helper()
	var ds []dirent
	for len(b) > 0 {
		if len(b) < 20 {
			t.Fatalf("%d bytes left, too short for a record", len(b))
		}
		d := dirent{
			ino:    binary.LittleEndian.Uint64(b),
			off:    int64(binary.LittleEndian.Uint64(b[8:])),
			reclen: binary.LittleEndian.Uint16(b[16:]),
			typ:    b[18],
		}
		if int(d.reclen) > len(b) || d.reclen < 20 || d.reclen%8 != 0 {
			t.Fatalf("bad d_reclen %d (%d bytes left)", d.reclen, len(b))
		}
		name := b[19:d.reclen]
		i := bytes.IndexByte(name, 0)
		if i < 0 {
			t.Fatalf("record without a NUL: %q", name)
		}
		d.name = string(name[:i])
		if want := (19 + len(d.name) + 1 + 7) &^ 7; int(d.reclen) != want {
			t.Errorf("%q: d_reclen %d, want %d (smallest 8-byte multiple)", d.name, d.reclen, want)
		}
		ds = append(ds, d)
		b = b[d.reclen:]
	}
	return ds
}

func TestGetdents(t *testing.T) {
	fs := mkFS(t, treeEnts())
	g := mustLookup(t, fs, "/g", true)
	ino := func(p string) uint64 { return mustLookup(t, fs, p, false).Ino }
	want := []dirent{
		{ino: g.Ino, off: 1, reclen: 24, typ: unix.DT_DIR, name: "."},
		{ino: fs.Root.Ino, off: 2, reclen: 24, typ: unix.DT_DIR, name: ".."},
		{ino: ino("/g/alpha"), off: 3, reclen: 32, typ: unix.DT_DIR, name: "alpha"},
		{ino: ino("/g/mid"), off: 4, reclen: 24, typ: unix.DT_LNK, name: "mid"},
		{ino: ino("/g/zeta"), off: 5, reclen: 24, typ: unix.DT_REG, name: "zeta"},
	}
	readAll := func(f *vfs.OpenFile, size int) ([]dirent, []int) {
		var all []dirent
		var counts []int
		for i := 0; i < 20; i++ {
			buf := make([]byte, size)
			n, e := f.Getdents(buf)
			if e != 0 {
				t.Fatalf("Getdents(%d bytes): %v", size, e)
			}
			if n == 0 {
				return all, counts
			}
			ds := parseDirents(t, buf[:n])
			counts = append(counts, len(ds))
			all = append(all, ds...)
		}
		t.Fatal("Getdents never reaches the end")
		return nil, nil
	}
	tests := []struct {
		bufSize int
		counts  []int // records per call
	}{
		{4096, []int{5}},
		{24, nil}, // "." and "..", then "alpha" needs 32: EINVAL
		{32, []int{1, 1, 1, 1, 1}},
		{50, []int{2, 1, 2}}, // resumes where it stopped
		{56, []int{2, 2, 1}},
		{128, []int{5}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.bufSize), func(t *testing.T) {
			f := openPath(t, fs, "/g")
			if tc.counts == nil {
				got, e := readAllUntilErr(t, f, tc.bufSize)
				if fmt.Sprint(got) != fmt.Sprint(want[:2]) || e != unix.EINVAL {
					t.Errorf("got %v %v, want %v EINVAL", got, e, want[:2])
				}
				return
			}
			got, counts := readAll(f, tc.bufSize)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
			if fmt.Sprint(counts) != fmt.Sprint(tc.counts) {
				t.Errorf("records per call %v, want %v", counts, tc.counts)
			}
		})
	}
	t.Run("root", func(t *testing.T) {
		f := openPath(t, fs, "/")
		got, _ := readAll(f, 4096)
		if len(got) < 3 || got[0].name != "." || got[1].name != ".." || got[1].ino != fs.Root.Ino {
			t.Fatalf("root: %v", got[:min(3, len(got))])
		}
		for i := 3; i < len(got); i++ {
			if got[i-1].name >= got[i].name {
				t.Errorf("not sorted: %q before %q", got[i-1].name, got[i].name)
			}
		}
	})
	t.Run("too small", func(t *testing.T) {
		f := openPath(t, fs, "/g")
		if n, e := f.Getdents(make([]byte, 23)); n != 0 || e != unix.EINVAL {
			t.Errorf("23 bytes: %d %v, want EINVAL", n, e)
		}
		// Nothing was consumed.
		if got, _ := readAll(f, 4096); len(got) != 5 || got[0].name != "." {
			t.Errorf("after EINVAL: %v", got)
		}
		if n, e := f.Getdents(nil); n != 0 || e != 0 {
			t.Errorf("at the end: %d %v, want 0 (end of directory beats a small buffer)", n, e)
		}
	})
	t.Run("seek", func(t *testing.T) {
		f := openPath(t, fs, "/g")
		readAll(f, 4096)
		if pos, e := f.Lseek(0, unix.SEEK_SET); pos != 0 || e != 0 {
			t.Fatalf("rewind: %d %v", pos, e)
		}
		if got, _ := readAll(f, 4096); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after rewind: %v", got)
		}
		// seekdir(telldir()): a record's d_off resumes after it.
		for _, d := range want {
			if _, e := f.Lseek(d.off, unix.SEEK_SET); e != 0 {
				t.Fatal(e)
			}
			got, _ := readAll(f, 4096)
			if fmt.Sprint(got) != fmt.Sprint(want[d.off:]) {
				t.Errorf("from d_off %d: %v, want %v", d.off, got, want[d.off:])
			}
		}
		for _, whence := range []int{unix.SEEK_DATA, unix.SEEK_HOLE} {
			if _, e := f.Lseek(0, whence); e != unix.EINVAL {
				t.Errorf("whence %d on a directory: %v, want EINVAL", whence, e)
			}
		}
		if _, e := f.Lseek(-1, unix.SEEK_SET); e != unix.EINVAL {
			t.Errorf("SEEK_SET -1: %v, want EINVAL", e)
		}
	})
	t.Run("not a dir", func(t *testing.T) {
		if _, e := openPath(t, fs, "/etc/passwd").Getdents(make([]byte, 4096)); e != unix.ENOTDIR {
			t.Errorf("Getdents on a file: %v, want ENOTDIR", e)
		}
		if _, e := openPath(t, fs, "/g").Read(bufs(10), -1); e != unix.EISDIR {
			t.Errorf("Read on a directory: %v, want EISDIR", e)
		}
	})
}

// readAllUntilErr reads records until an error or the end.
func readAllUntilErr(t *testing.T, f *vfs.OpenFile, size int) ([]dirent, unix.Errno) {
	var all []dirent
	for {
		buf := make([]byte, size)
		n, e := f.Getdents(buf)
		if e != 0 || n == 0 {
			return all, e
		}
		all = append(all, parseDirents(t, buf[:n])...)
	}
}

func TestStatImage(t *testing.T) {
	fs := mkFS(t, treeEnts())
	tests := []struct {
		path         string
		mode         uint32
		size, blocks int64
		nlink        uint64
		rdev         uint64
	}{
		{"/etc/passwd", unix.S_IFREG | 0o644, 11, 8, 1, 0},
		{"/etc/empty", unix.S_IFREG | 0o644, 0, 0, 1, 0},
		{"/etc/4k", unix.S_IFREG | 0o644, 4096, 8, 1, 0},
		{"/etc/4k1", unix.S_IFREG | 0o644, 4097, 16, 1, 0},
		{"/etc/big", unix.S_IFREG | 0o644, int64(len(bigData)), 24, 1, 0},
		{"/g", unix.S_IFDIR | 0o755, -1, -1, 3, 0},       // alpha; the symlink mid does not count
		{"/g/alpha", unix.S_IFDIR | 0o755, -1, -1, 3, 0}, // inner
		{"/g/alpha/inner", unix.S_IFDIR | 0o755, -1, -1, 2, 0},
		{"/", unix.S_IFDIR | 0o755, -1, -1, 2 + 5, 0}, // a dev etc g usr; not the links esc, libdir
		{"/abs", unix.S_IFLNK | 0o777, int64(len("/etc/passwd")), -1, 1, 0},
		{"/dev/zero", unix.S_IFCHR | 0o666, 0, 0, 1, unix.Mkdev(1, 5)},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			n := mustLookup(t, fs, tc.path, false)
			var st abi.Stat
			ns := vfs.NewNamespace(vfs.NewLayer(fs, vfs.NewSpace(1<<20), 0x75))
			ln, e := ns.Lookup(vfs.Root, ns.Root(), tc.path, false)
			if e != 0 {
				t.Fatal(e)
			}
			ln.Stat(&st)
			// -1: not checked (directory sizes and symlink blocks differ between Linux filesystems).
			if tc.size < 0 {
				tc.size = st.Size
			}
			if tc.blocks < 0 {
				tc.blocks = st.Blocks
			}
			if st.Mode != tc.mode || st.Size != tc.size || st.Blocks != tc.blocks || st.Nlink != tc.nlink || st.Rdev != tc.rdev {
				t.Errorf("mode %#o size %d blocks %d nlink %d rdev %#x, want %#o %d %d %d %#x",
					st.Mode, st.Size, st.Blocks, st.Nlink, st.Rdev, tc.mode, tc.size, tc.blocks, tc.nlink, tc.rdev)
			}
			if st.Ino != n.Ino || st.Ino == 0 || st.Blksize != 4096 || st.Mtime_sec != n.MTime || st.Ctime_sec != n.MTime {
				t.Errorf("ino %d (node %d) blksize %d mtime %d ctime %d (node %d)", st.Ino, n.Ino, st.Blksize, st.Mtime_sec, st.Ctime_sec, n.MTime)
			}
			// Through an open file, the same.
			if n.Mode&unix.S_IFMT != unix.S_IFLNK {
				var st2 abi.Stat
				if e := openPath(t, fs, tc.path).Stat(&st2); e != 0 || st2 != st {
					t.Errorf("fstat %+v (%v), want %+v", st2, e, st)
				}
			}
		})
	}
	// Inode numbers are distinct.
	seen := map[uint64]string{}
	for _, p := range []string{"/", "/a", "/a/b", "/a/b/c", "/etc", "/etc/passwd", "/abs", "/dev", "/dev/null", "/g/zeta"} {
		n := mustLookup(t, fs, p, false)
		if q, dup := seen[n.Ino]; dup {
			t.Errorf("%s and %s share inode %d", p, q, n.Ino)
		}
		seen[n.Ino] = p
	}
}

// countFile is a File that counts its Close calls.
type countFile struct {
	vfs.File
	closes int
}

func (f *countFile) Close() { f.closes++ }

func TestFDTable(t *testing.T) {
	type op struct {
		do   string // install, close, get, dup
		file int    // index into files (install, get)
		fd   int
		want int // install: fd; get: file index
		err  unix.Errno
	}
	tests := []struct {
		name   string
		max    int
		ops    []op
		closes []int // per file, at the end (before CloseAll)
	}{
		{"lowest free reused", 8, []op{
			{do: "install", file: 0, want: 0}, {do: "install", file: 1, want: 1}, {do: "install", file: 2, want: 2},
			{do: "close", fd: 1}, {do: "install", file: 3, want: 1},
			{do: "close", fd: 0}, {do: "close", fd: 2}, {do: "install", file: 4, want: 0}, {do: "install", file: 5, want: 2},
			{do: "install", file: 6, want: 3},
			{do: "get", fd: 1, want: 3}, {do: "get", fd: 0, want: 4}, {do: "get", fd: 3, want: 6},
		}, []int{1, 1, 1, 0, 0, 0, 0}},
		{"EBADF", 8, []op{
			{do: "install", file: 0, want: 0},
			{do: "get", fd: -1, err: unix.EBADF}, {do: "get", fd: 1, err: unix.EBADF}, {do: "get", fd: 1000, err: unix.EBADF},
			{do: "close", fd: -1, err: unix.EBADF}, {do: "close", fd: 5, err: unix.EBADF},
			{do: "close", fd: 0}, {do: "get", fd: 0, err: unix.EBADF}, {do: "close", fd: 0, err: unix.EBADF},
		}, []int{1}},
		{"EMFILE", 3, []op{
			{do: "install", file: 0, want: 0}, {do: "install", file: 1, want: 1}, {do: "install", file: 2, want: 2},
			{do: "install", file: 3, want: -1, err: unix.EMFILE},
			{do: "close", fd: 1}, {do: "install", file: 3, want: 1},
			{do: "install", file: 4, want: -1, err: unix.EMFILE},
		}, []int{0, 1, 0, 0, 0}},
		{"shared description closes with its last fd", 8, []op{
			{do: "install", file: 0, want: 0}, {do: "install", file: 0, want: 1}, {do: "install", file: 0, want: 2},
			{do: "close", fd: 0}, {do: "close", fd: 2}, {do: "get", fd: 1, want: 0},
		}, []int{0}},
		{"dup past the end of the table", 16, []op{
			{do: "install", file: 0, want: 0}, {do: "dup", fd: 0, file: 10, want: 10},
			{do: "get", fd: 10, want: 0}, {do: "dup", fd: 0, file: 10, want: 11}, {do: "dup", fd: 0, file: 16, err: unix.EINVAL},
			{do: "dup", fd: 5, file: 1, err: unix.EBADF}, {do: "close", fd: 0}, {do: "close", fd: 10}, {do: "get", fd: 11, want: 0},
		}, []int{0}},
		{"last reference", 8, []op{
			{do: "install", file: 0, want: 0}, {do: "install", file: 0, want: 1},
			{do: "close", fd: 1}, {do: "close", fd: 0}, {do: "install", file: 1, want: 0},
		}, []int{1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := vfs.NewFDTable(tc.max)
			var files []*vfs.OpenFile
			var counts []*countFile
			installed := map[int]bool{}
			for i := 0; i < 8; i++ {
				c := &countFile{}
				counts = append(counts, c)
				files = append(files, vfs.NewOpenFile(c, 0))
			}
			for i, o := range tc.ops {
				switch o.do {
				case "install":
					fd, e := tab.Install(files[o.file], i%2 == 0)
					installed[o.file] = installed[o.file] || e == 0
					if fd != o.want || e != o.err {
						t.Fatalf("op %d: Install = %d %v, want %d %v", i, fd, e, o.want, o.err)
					}
				case "dup": // Dup(fd, file as the lowest number)
					fd, e := tab.Dup(o.fd, o.file, false)
					if e != o.err || (e == 0 && fd != o.want) {
						t.Fatalf("op %d: Dup(%d, %d) = %d %v, want %d %v", i, o.fd, o.file, fd, e, o.want, o.err)
					}
				case "close":
					if e := tab.Close(o.fd); e != o.err {
						t.Fatalf("op %d: Close(%d) = %v, want %v", i, o.fd, e, o.err)
					}
				case "get":
					f, e := tab.Get(o.fd)
					if e != o.err {
						t.Fatalf("op %d: Get(%d) = %v, want %v", i, o.fd, e, o.err)
					}
					if e == 0 && f != files[o.want] {
						t.Fatalf("op %d: Get(%d) is not file %d", i, o.fd, o.want)
					}
				}
			}
			for i, want := range tc.closes {
				if counts[i].closes != want {
					t.Errorf("file %d closed %d times, want %d", i, counts[i].closes, want)
				}
			}
			// CloseAll closes every description exactly once in all.
			tab.CloseAll()
			for i, c := range counts {
				if want := btoi(installed[i]); c.closes != want {
					t.Errorf("after CloseAll, file %d closed %d times, want %d", i, c.closes, want)
				}
			}
			for fd := 0; fd < tc.max; fd++ {
				if _, e := tab.Get(fd); e != unix.EBADF {
					t.Errorf("fd %d open after CloseAll", fd)
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
