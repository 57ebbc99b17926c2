// Writable files: wfiles and busybox beside native, the run's mounts, volumes.

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteFiles runs wfiles (create, write, truncate, rename, link,
// symlink, remove, mkdir, sync, fallocate, times, modes, owners, listings,
// O_TMPFILE, and a non-root child's EACCES and EPERM) in each kind of
// mount of the run's tree, the image's layer, /tmp and a volume, and
// natively in a temporary directory: the same lines, errnos included. What
// it left in the volume is on the host afterwards, owned by who made it.
func TestWriteFiles(t *testing.T) {
	for _, libc := range libcs {
		prog := app(libc, "wfiles")
		img := bake(t, prog)
		want := native(t, t.TempDir(), prog, "w")
		if want.status != 0 {
			t.Fatalf("native wfiles: %s", want)
		}
		t.Run(libc+"/layer", func(t *testing.T) { same(t, ukfork(t, img, "/w"), want) })
		t.Run(libc+"/tmp", func(t *testing.T) { same(t, ukfork(t, img, "/tmp/w"), want) })
		t.Run(libc+"/volume", func(t *testing.T) {
			vol := t.TempDir()
			got := runCmd(t, exec.Command(ukforkBin, "run", "--volume", vol+":/data", img, "/data/w"))
			same(t, got, want)
			for _, f := range []struct {
				path     string
				uid, gid uint32
			}{{"w/pub/mine", 1000, 1000}, {"w/pub/mydir", 1000, 1000}, {"w/m", 1000, 1000}, {"w/ro", 0, 0}} {
				st, err := os.Lstat(filepath.Join(vol, f.path))
				if err != nil {
					t.Errorf("not on the host after the run: %v", err)
					continue
				}
				s := st.Sys().(*syscall.Stat_t)
				if s.Uid != f.uid || s.Gid != f.gid {
					t.Errorf("%s is %d:%d on the host, want %d:%d", f.path, s.Uid, s.Gid, f.uid, f.gid)
				}
			}
			if b, err := os.ReadFile(filepath.Join(vol, "w", "r2")); err != nil || string(b) != "ONE" {
				t.Errorf("w/r2 on the host: %q %v, want \"ONE\"", b, err)
			}
		})
	}
}

// TestWriteFilesUser runs wfiles as uid 1000, under ukfork with --user
// and natively with those ids in a directory of theirs: every change to
// what it does not own fails as on Linux.
func TestWriteFilesUser(t *testing.T) {
	for _, libc := range libcs {
		prog := app(libc, "wfiles")
		img := bake(t, prog)
		dir, err := os.MkdirTemp("", "wfiles-user-")
		must(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		must(t, os.Chown(dir, 1000, 1000))
		cmd := exec.Command(prog, "w")
		cmd.Args[0] = "wfiles"
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
		want := runCmd(t, cmd)
		if !strings.Contains(want.stdout, "root writes a 0444 file: EACCES") {
			t.Fatalf("native wfiles as 1000: %s", want)
		}
		t.Run(libc+"/tmp", func(t *testing.T) {
			same(t, runCmd(t, exec.Command(ukforkBin, "run", "--user", "1000:1000", img, "/tmp/w")), want)
		})
		t.Run(libc+"/volume", func(t *testing.T) {
			vol, err := os.MkdirTemp("", "wfiles-vol-")
			must(t, err)
			defer os.RemoveAll(vol)
			must(t, os.Chown(vol, 1000, 1000))
			same(t, runCmd(t, exec.Command(ukforkBin, "run", "--user", "1000:1000", "--volume", vol+":/data", img, "/data/w")), want)
		})
	}
}

// bbShell runs a busybox sh script under ukfork (with runFlags) and
// natively, where $D is a temporary directory (under ukfork: what dir
// says, "" for the image's root).
func bbShell(t *testing.T, img, dir, script string, runFlags ...string) (got, want result) {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed (apt-get install busybox-static): %v", err)
	}
	args := append([]string{"run", "--env", "D=" + dir}, runFlags...)
	script = "cd ${D:-/} && " + script
	got = runCmd(t, exec.Command(ukforkBin, append(args, img, "sh", "-c", script)...))
	cmd := exec.Command(bb, "sh", "-c", script)
	cmd.Args[0] = "busybox"
	cmd.Env = []string{"PATH=" + bbBin(t, bb), "HOME=/", "D=" + t.TempDir()}
	return got, runCmd(t, cmd)
}

// bbBin is a directory of busybox's applets, for native runs.
func bbBin(t *testing.T, bb string) string {
	bin := filepath.Join(t.TempDir(), "bin")
	must(t, os.MkdirAll(bin, 0o755))
	out, err := exec.Command(bb, "--list").Output()
	must(t, err)
	for _, a := range strings.Fields(string(out)) {
		must(t, os.Symlink(bb, filepath.Join(bin, a)))
	}
	return bin
}

// TestShellWrites: what shells do with files, under ukfork at the image's
// root and in /tmp, and natively in a temporary directory.
func TestShellWrites(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed: %v", err)
	}
	img := bake(t, bb, "--applets")
	// Each starts in $D (the guest's root when empty) and names files
	// relative to it, so that the output is the same.
	scripts := map[string]string{
		"heredoc":  "cat <<EOF > h\nline $((1+2))\n  indented\nEOF\ncat h; wc -l < h; cat <<'X'\n$HOME `x`\nX",
		"redirect": `echo x > f; cat f; echo y >> f; cat f; : > f; wc -c < f; exec 3> g; echo three >&3; exec 3>&-; cat g`,
		"mkdir":    `mkdir -p a/b && echo y > a/b/c && cat a/b/c; ls -R a; rm -r a; ls a 2>&1`,
		"moves":    `echo 1 > one; mv one two; cat two; cp two three; ln -s two l; cat l; ln two hard; stat -c '%A %h' hard; rm two; cat hard three; ls -l l | cut -c1-10`,
		"sort":     `seq 20 | sort -rn > s; head -3 s; sort -n s | tail -1; sort -o s s; head -1 s`,
		"perms":    `echo s > p; chmod 600 p; stat -c '%A %u %g %s' p; touch -d '2020-02-03 04:05:06' p; stat -c %Y p; chmod u+x,g+s p; stat -c %A p`,
		"tools":    `mkdir src; echo a > src/x; ln -s x src/l; chmod 640 src/x; touch -d '2001-01-01 00:00:00' src/x; cp -a src dst; stat -c '%A %Y %N' dst/x; stat -c '%A %N' dst/l; sed -i s/a/b/ dst/x; cat dst/x src/x; tar cf t.tar src && mkdir out && tar xf t.tar -C out && stat -c '%A %s %n' out/src/x out/src/l; find . -name x | sort; rm -rf src dst out t.tar; ls src 2>&1`,
		"errors":   `mkdir x/y 2>&1; cat nope 2>&1; mkdir e; touch e/f; rmdir e 2>&1; rm e 2>&1; echo > e/f/g 2>&1; ls -d e/f/ 2>&1; echo $?`,
	}
	for name, script := range scripts {
		for _, dir := range []string{"", "/tmp"} {
			t.Run(name+dir, func(t *testing.T) {
				got, want := bbShell(t, img, dir, script)
				same(t, got, want)
			})
		}
	}
}

// TestRunFiles: what a run writes is its own: memory-backed where Linux
// has tmpfs, bounded by --files-size, gone when it ends.
func TestRunFiles(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed: %v", err)
	}
	img := bake(t, bb, "--applets")
	run := func(flags []string, script string) result {
		return runCmd(t, exec.Command(ukforkBin, append(append([]string{"run"}, flags...), img, "sh", "-c", script)...))
	}
	if r := run(nil, `stat -f -c %T /tmp /run /dev/shm; mkdir -p /a/b && echo y > /a/b/c && cat /a/b/c; echo x > /tmp/f; cat /tmp/f`); r.stdout != "tmpfs\ntmpfs\ntmpfs\ny\nx\n" {
		t.Errorf("tmpfs mounts and writes: %s", r)
	}
	if r := run(nil, `ls /a /tmp/f 2>&1; echo $?`); !strings.HasSuffix(r.stdout, "1\n") || strings.Contains(r.stdout, "/tmp/f\n") {
		t.Errorf("a second run sees the first one's files: %s", r)
	}
	r := run([]string{"--files-size", "1M"}, `dd if=/dev/zero of=/tmp/big bs=64k count=32 2>&1 | grep -o 'No space left on device'; ls -l /tmp/big | cut -c1-10; rm /tmp/big; dd if=/dev/zero of=/big bs=64k count=8 2>/dev/null && echo fits`)
	if !strings.Contains(r.stdout, "No space left on device") || !strings.Contains(r.stdout, "fits") {
		t.Errorf("--files-size 1M: want ENOSPC, then room again once the file is gone: %s", r)
	}
	// Programs and scripts the run wrote are executed from memory.
	if r := run(nil, `cp /bin/busybox /tmp/busybox && /tmp/busybox echo ran; printf '#!/bin/sh\necho script $0\n' > /tmp/s; chmod +x /tmp/s; /tmp/s; chmod -x /tmp/s; /tmp/s 2>/dev/null; echo $?`); r.stdout != "ran\nscript /tmp/s\n126\n" {
		t.Errorf("exec of written files: %s", r)
	}
	// A forked child writes, its parent reads at once: one tree per run.
	if r := run(nil, `(echo from child > /tmp/c) & wait; cat /tmp/c; echo from parent > /p; sh -c 'cat /p'`); r.stdout != "from child\nfrom parent\n" {
		t.Errorf("files between processes: %s", r)
	}
}

// TestVolumes: a host directory mounted with --volume persists, belongs to
// the ids the program runs as, and keeps the guest inside it.
func TestVolumes(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed: %v", err)
	}
	img := bake(t, bb, "--applets")
	top := t.TempDir()
	vol := filepath.Join(top, "vol")
	must(t, os.Mkdir(vol, 0o777))
	must(t, os.Chmod(vol, 0o777))
	secret := filepath.Join(top, "secret")
	must(t, os.WriteFile(secret, []byte("host secret\n"), 0o644))
	must(t, os.Symlink("../secret", filepath.Join(vol, "up")))
	must(t, os.Symlink(secret, filepath.Join(vol, "abs")))
	must(t, os.Symlink("/", filepath.Join(vol, "root")))
	must(t, os.WriteFile(filepath.Join(vol, "hostfile"), []byte("from the host\n"), 0o644))
	run := func(flags []string, script string) result {
		return runCmd(t, exec.Command(ukforkBin, append(append([]string{"run"}, flags...), img, "sh", "-c", script)...))
	}
	v := []string{"--volume", vol + ":/data"}

	r := run(append(v, "--user", "1000:1000"), `cat /data/hostfile; echo made > /data/mine; mkdir /data/dir; ls -ln /data/mine | cut -c1-30`)
	if r.status != 0 || !strings.HasPrefix(r.stdout, "from the host\n") {
		t.Errorf("volume round trip: %s", r)
	}
	for _, f := range []string{"mine", "dir"} {
		st, err := os.Stat(filepath.Join(vol, f))
		if err != nil {
			t.Fatalf("%s not on the host after the run: %v", f, err)
		}
		if s := st.Sys().(*syscall.Stat_t); s.Uid != 1000 || s.Gid != 1000 {
			t.Errorf("%s is %d:%d on the host, want 1000:1000", f, s.Uid, s.Gid)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(vol, "mine")); string(b) != "made\n" {
		t.Errorf("mine on the host: %q", b)
	}
	// Nothing the guest names leads past the volume's root: symlinks, ".."
	// and renames resolve in the guest's tree, never the host's.
	r = run(v, `cat /data/up /data/abs /data/../secret /data/root/secret /data/root`+top+`/secret 2>&1; ls /data/root/ | tr '\n' ' '; echo; cd /data/..; pwd; echo new > /data/root/tmp/via; cat /tmp/via; mv /data/hostfile /moved && cat /moved && ls /data/hostfile 2>&1`)
	if strings.Contains(r.stdout, "host secret") || !strings.Contains(r.stdout, "new\n") || !strings.Contains(r.stdout, "\n/\n") {
		t.Errorf("escapes through the volume: %s", r)
	}
	if _, err := os.Stat(filepath.Join(top, "tmp")); err == nil {
		t.Errorf("a write through a symlink in the volume landed on the host outside it")
	}
	// :ro gives EROFS and changes nothing.
	r = run([]string{"--volume", vol + ":/data:ro"}, `cat /data/mine; echo x > /data/new 2>&1; rm /data/mine 2>&1; touch /data/mine 2>&1; stat -f -c %T /tmp`)
	if !strings.HasPrefix(r.stdout, "made\n") || strings.Count(r.stdout+r.stderr, "Read-only file system") != 3 {
		t.Errorf(":ro volume: %s", r)
	}
	if _, err := os.Stat(filepath.Join(vol, "mine")); err != nil {
		t.Errorf(":ro volume: mine went: %v", err)
	}
	// One line for what cannot be mounted, exit 125.
	for _, tc := range []struct{ arg, want string }{
		{filepath.Join(top, "none") + ":/data", "does not exist"},
		{secret + ":/data", "not a directory"},
		{"rel:/data", "must be absolute"},
		{vol + ":data", "must be absolute"},
		{vol + ":/", "cannot cover the guest's root"},
		{vol, "HOSTDIR:GUESTDIR"},
		{vol + ":/data:rx", "HOSTDIR:GUESTDIR"},
	} {
		r := run([]string{"--volume", tc.arg}, "true")
		if r.status != 125 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("--volume %s: want one line with %q and 125: %s", tc.arg, tc.want, r)
		}
	}
}
