// Tests of volumes: escapes by symlinks, "..", swaps, renames and links.

package vfs_test

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// volumeRun mounts a fresh host directory at /data; outside is a host
// directory beside it that nothing may reach.
func volumeRun(t *testing.T, ro bool) (ns *vfs.Namespace, vol, outside string) {
	t.Helper()
	top := t.TempDir()
	vol, outside = filepath.Join(top, "vol"), filepath.Join(top, "outside")
	must(t, os.Mkdir(vol, 0o755))
	must(t, os.Mkdir(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	must(t, os.Mkdir(filepath.Join(vol, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(vol, "sub", "f"), []byte("in the volume"), 0o644))
	must(t, os.Symlink(outside, filepath.Join(vol, "abs")))
	must(t, os.Symlink("../outside", filepath.Join(vol, "rel")))
	must(t, os.Symlink("../../../../../../..", filepath.Join(vol, "up")))
	ns = run(t, layerEnts(), 0, vfs.VolumeSpec{Host: vol, Guest: "/data", ReadOnly: ro})
	return ns, vol, outside
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// untouched fails if anything but the secret is in outside.
func untouched(t *testing.T, outside string) {
	t.Helper()
	es, err := os.ReadDir(outside)
	must(t, err)
	if len(es) != 1 || es[0].Name() != "secret" {
		var n []string
		for _, e := range es {
			n = append(n, e.Name())
		}
		t.Errorf("outside the volume now holds %v", n)
	}
}

// TestVolumeEscapes: symlinks (absolute, relative), ".." and names that
// climb are resolved in the guest's tree; nothing reaches the host past
// the volume's root.
func TestVolumeEscapes(t *testing.T) {
	ns, _, outside := volumeRun(t, false)
	root := ns.Root()
	for _, p := range []string{"/data/abs/secret", "/data/rel/secret", "/data/up" + outside + "/secret",
		"/data/../outside/secret", "/data/sub/../../outside/secret", "/data/up/tmp/../data/abs/secret"} {
		if got := readAll(t, ns, p); got == "secret" {
			t.Errorf("%s reads the host's file outside the volume", p)
		}
		for _, flags := range []int{unix.O_CREAT | unix.O_WRONLY, unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY} {
			if f, e := ns.Open(vfs.Root, root, filepath.Dir(p)+"/new", flags, 0o644); e == 0 {
				f.Close()
			}
		}
		ns.Mknod(vfs.Root, root, filepath.Dir(p)+"/newdir", unix.S_IFDIR|0o755, 0)
		ns.Symlink(vfs.Root, "x", root, filepath.Dir(p)+"/newlink")
	}
	untouched(t, outside)
	if got := readAll(t, ns, "/data/sub/f"); got != "in the volume" {
		t.Errorf("the volume's own file: %q", got)
	}
	// ".." of the volume's root is the guest directory it covers.
	if n, e := ns.Lookup(vfs.Root, root, "/data/..", true); e != 0 || n != root {
		t.Errorf("/data/.. is not the guest's root (%v)", e)
	}
	// Renames and links across the volume's edge: EXDEV, as across mounts.
	f := mustLookup2(t, ns, "/data/sub/f")
	if e := ns.Link(vfs.Root, f, root, "/tmp/f"); e != unix.EXDEV {
		t.Errorf("link out of the volume: %v", e)
	}
	if e := ns.Rename(vfs.Root, root, "/data/sub/f", root, "/f", 0); e != unix.EXDEV {
		t.Errorf("rename out of the volume: %v", e)
	}
	if e := ns.Rename(vfs.Root, root, "/etc/f", root, "/data/f", 0); e != unix.EXDEV {
		t.Errorf("rename into the volume: %v", e)
	}
	if e := ns.Unlink(vfs.Root, root, "/data", true); e != unix.EBUSY {
		t.Errorf("rmdir of the volume: %v", e)
	}
	if e := ns.Rename(vfs.Root, root, "/data/sub", root, "/data/abs/sub", 0); e != unix.ENOENT {
		t.Errorf("rename through a symlink out: %v", e)
	}
	untouched(t, outside)
}

// TestVolumeSwaps: a directory the namespace resolved, swapped on the host
// for a symlink out before it is used, still resolves inside the volume.
func TestVolumeSwaps(t *testing.T) {
	for _, target := range []string{"abs", "rel"} {
		t.Run(target, func(t *testing.T) {
			ns, vol, outside := volumeRun(t, false)
			d := mustLookup2(t, ns, "/data/sub")
			f := mustLookup2(t, ns, "/data/sub/f")
			must(t, os.Rename(filepath.Join(vol, "sub"), filepath.Join(vol, "moved")))
			link, _ := os.Readlink(filepath.Join(vol, target))
			must(t, os.Symlink(link, filepath.Join(vol, "sub")))
			d.Create("made", &vfs.NewInode{Mode: unix.S_IFREG | 0o644})
			d.Create("dir", &vfs.NewInode{Mode: unix.S_IFDIR | 0o755})
			d.Create("sym", &vfs.NewInode{Mode: unix.S_IFLNK | 0o777, Target: "x"})
			d.Unlink("secret", false)
			d.Rename("secret", d, "stolen", 0)
			d.Link("hl", f)
			f.Setattr(&vfs.SetAttr{SetSize: true, Size: 0})
			f.Setattr(&vfs.SetAttr{SetMode: true, Mode: 0o777})
			if b, err := os.ReadFile(filepath.Join(outside, "secret")); err != nil || string(b) != "secret" {
				t.Errorf("the secret outside: %q %v", b, err)
			}
			if of, e := f.Open(unix.O_RDONLY); e == 0 {
				buf := make([]byte, 16)
				if n, _ := of.Read([][]byte{buf}, -1); string(buf[:n]) == "secret" {
					t.Errorf("read the host's secret through a swapped directory")
				}
				of.Close()
			}
			untouched(t, outside)
		})
	}
}

// TestVolumeReadOnly: a :ro volume gives EROFS to every change.
func TestVolumeReadOnly(t *testing.T) {
	ns, vol, _ := volumeRun(t, true)
	root := ns.Root()
	if got := readAll(t, ns, "/data/sub/f"); got != "in the volume" {
		t.Errorf("read: %q", got)
	}
	if _, e := ns.Open(vfs.Root, root, "/data/sub/f", unix.O_WRONLY, 0); e != unix.EROFS {
		t.Errorf("open for writing: %v", e)
	}
	if _, e := ns.Open(vfs.Root, root, "/data/new", unix.O_CREAT|unix.O_WRONLY, 0o644); e != unix.EROFS {
		t.Errorf("create: %v", e)
	}
	if e := ns.Unlink(vfs.Root, root, "/data/sub/f", false); e != unix.EROFS {
		t.Errorf("unlink: %v", e)
	}
	if e := ns.Mknod(vfs.Root, root, "/data/sub", unix.S_IFDIR|0o755, 0); e != unix.EEXIST {
		t.Errorf("mkdir of an existing name: %v, want EEXIST before EROFS", e)
	}
	if e := ns.Chmod(vfs.Root, mustLookup2(t, ns, "/data/sub/f"), nil, 0o600); e != unix.EROFS {
		t.Errorf("chmod: %v", e)
	}
	if e := ns.Access(vfs.Root, mustLookup2(t, ns, "/data/sub/f"), unix.W_OK); e != unix.EROFS {
		t.Errorf("access W_OK: %v", e)
	}
	if st, _ := os.Stat(filepath.Join(vol, "sub", "f")); st.Mode().Perm() != 0o644 {
		t.Errorf("the host file changed: %v", st.Mode())
	}
}

// TestVolumeErrors: what cannot be a volume is refused before the run.
func TestVolumeErrors(t *testing.T) {
	for _, s := range []string{"a:/b", "/a:b", "/a", "/a:/b:x", "/a:/", ":/b", "/a:"} {
		if _, err := vfs.ParseVolume(s); err == nil {
			t.Errorf("ParseVolume(%q) accepted", s)
		}
	}
	if v, err := vfs.ParseVolume("/h:/g/../d/:ro"); err != nil || v.Guest != "/d" || !v.ReadOnly {
		t.Errorf("ParseVolume: %+v %v", v, err)
	}
	f := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(f, nil, 0o644))
	for _, h := range []string{"/nonexistent-ukfork", f} {
		if _, err := vfs.NewRun(vfs.RunConfig{Image: mkFS(t, nil), Volumes: []vfs.VolumeSpec{{Host: h, Guest: "/d"}}}); err == nil {
			t.Errorf("a volume of %s was mounted", h)
		}
	}
}
