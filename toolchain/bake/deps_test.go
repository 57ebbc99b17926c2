// The libraries bake adds, checked by the host's own ld.so run inside the
// image's tree (extracted, chrooted): it must list what it lists for the
// same program on the host, so the image's loader finds the same files.
package bake

import (
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ukfork/ukfork/toolchain/image"
)

const hostLoader = "/lib64/ld-linux-x86-64.so.2"

// bakeTo bakes o (Runtime and Output filled in) and returns the result and
// the image's tree extracted under a new directory.
func bakeTo(t *testing.T, o Options) (*Result, string) {
	t.Helper()
	dir := t.TempDir()
	o.Output = filepath.Join(dir, "out.img")
	o.Runtime = []byte("not a runtime: never booted")
	o.MemSize = 128 << 20
	res, err := Bake(o)
	if err != nil {
		t.Fatalf("Bake(%s): %v", o.Program, err)
	}
	return res, extract(t, o.Output, filepath.Join(dir, "root"))
}

// extract writes the image's tree under root.
func extract(t *testing.T, img, root string) string {
	t.Helper()
	im, err := image.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	must(t, os.Mkdir(root, 0o755))
	for _, e := range im.Manifest.Files {
		p := filepath.Join(root, e.Path)
		switch e.Type {
		case image.TypeDir:
			must(t, os.Mkdir(p, 0o755))
		case image.TypeSymlink:
			must(t, os.Symlink(e.Target, p))
		case image.TypeFile:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, os.FileMode(e.Mode))
			must(t, err)
			_, err = io.Copy(f, io.NewSectionReader(im.File, int64(e.Data.Off), int64(e.Data.Size)))
			must(t, err)
			must(t, f.Close())
		}
	}
	return root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var listLine = regexp.MustCompile(`^\s*(\S+)(?: => (\S+))? \(0x[0-9a-f]+\)$`)

// list runs ld.so --list on prog (in root, "" for the host's tree) and
// returns "NAME => PATH" lines (PATH alone for the loader), sorted; dlopen
// names are loaded with --preload as if the program had asked for them.
func list(t *testing.T, root, prog string, preload ...string) []string {
	t.Helper()
	return listBy(t, hostLoader, root, prog, preload...)
}

// listBy is list with another loader (musl's).
func listBy(t *testing.T, loader, root, prog string, preload ...string) []string {
	t.Helper()
	args := []string{"--list"}
	if len(preload) > 0 {
		args = append(args, "--preload", strings.Join(preload, " "))
	}
	cmd := exec.Command(loader, append(args, prog)...)
	cmd.Env = []string{}
	if root != "" {
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
		if os.Geteuid() != 0 {
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER
			cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
			cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		}
		cmd.Dir = "/"
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v (root %q): %v\n%s", loader, args, root, err, out)
	}
	var set []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := listLine.FindStringSubmatch(l)
		switch {
		case l == "statically linked": // a shared object that needs nothing
		case m == nil:
			t.Fatalf("ld.so --list %s: unexpected line %q", prog, l)
		case m[1] == "linux-vdso.so.1":
		case m[2] == "":
			set = append(set, m[1])
		default:
			set = append(set, m[1]+" => "+m[2])
		}
	}
	sort.Strings(set)
	return set
}

// realFiles lists the regular files of the tree at root that bake added.
func addedFiles(res *Result) []string {
	var files []string
	for _, a := range res.Added {
		if a.Type == image.TypeFile {
			files = append(files, a.Path)
		}
	}
	sort.Strings(files)
	return files
}

// hostReal lists the real paths of what ld.so lists, the cache added.
func hostReal(t *testing.T, listed []string) []string {
	t.Helper()
	files := []string{cachePath}
	for _, l := range listed {
		p := l
		if _, after, ok := strings.Cut(l, " => "); ok {
			p = after
		}
		r, err := filepath.EvalSymlinks(p)
		must(t, err)
		files = append(files, r)
	}
	sort.Strings(files)
	return files
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// TestDebianBinaries: ls, python3.11 (with its extension modules and
// libpython given with --file) and perl. The files bake adds are exactly
// those ld.so lists on the host, and ld.so in the image lists the same
// objects at the same paths, with the image's ld.so.cache and without.
func TestDebianBinaries(t *testing.T) {
	const dynload = "/usr/lib/python3.11/lib-dynload"
	const libpython = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"
	for _, tc := range []struct {
		prog  string
		files []Mapping
	}{
		{"/bin/ls", nil},
		{"/usr/bin/perl", nil},
		{"/usr/bin/python3.11", []Mapping{{dynload, dynload}, {libpython, libpython}}},
	} {
		t.Run(path.Base(tc.prog), func(t *testing.T) {
			res, root := bakeTo(t, Options{Program: tc.prog, Files: tc.files})
			guest := "/bin/" + path.Base(tc.prog)
			host := list(t, "", tc.prog)
			want := hostReal(t, host)
			var extra []string // what --file ELFs load
			for _, m := range tc.files {
				filepath.WalkDir(m.Host, func(p string, d os.DirEntry, err error) error {
					if err == nil && d.Type().IsRegular() && strings.Contains(d.Name(), ".so") {
						extra = append(extra, p)
						for _, r := range hostReal(t, list(t, "", p)) {
							if !strings.HasPrefix(r, m.Host) && r != p {
								want = append(want, r)
							}
						}
					}
					return nil
				})
			}
			want = dedupe(want)
			if got := addedFiles(res); !equal(got, want) {
				t.Errorf("bake added files\n%s\nld.so on the host loads\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := list(t, root, guest); !equal(got, host) {
				t.Errorf("ld.so in the image lists\n%s\non the host\n%s", strings.Join(got, "\n"), strings.Join(host, "\n"))
			}
			for _, p := range extra {
				if got, want := list(t, root, p), list(t, "", p); !equal(got, want) {
					t.Errorf("%s: ld.so in the image lists\n%s\non the host\n%s", p, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
			// Without a cache, ld.so searches the system directories (all
			// Debian's libraries are there) and finds the same files.
			must(t, os.Remove(filepath.Join(root, cachePath)))
			if got := list(t, root, guest); !equal(got, host) {
				t.Errorf("without ld.so.cache, ld.so in the image lists\n%s\non the host\n%s", strings.Join(got, "\n"), strings.Join(host, "\n"))
			}
		})
	}
}

func dedupe(s []string) []string {
	sort.Strings(s)
	var out []string
	for i, e := range s {
		if i == 0 || e != s[i-1] {
			out = append(out, e)
		}
	}
	return out
}

// gcc builds a C source into out with extra arguments.
func gcc(t *testing.T, src, out string, args ...string) {
	t.Helper()
	c := filepath.Join(t.TempDir(), "src.c")
	must(t, os.WriteFile(c, []byte(src), 0o644))
	if b, err := exec.Command("gcc", append([]string{"-o", out, c}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, b)
	}
}

// origin builds DIR/bin/prog with RUNPATH $ORIGIN/../lib needing
// libfoo.so.1 (DIR/lib/libfoo.so.1 -> libfoo.so.1.0.1), which needs
// libbar.so (found by libfoo's own $ORIGIN RUNPATH).
func origin(t *testing.T) string {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "lib"), 0o755))
	lib := filepath.Join(dir, "lib")
	gcc(t, "int bar(void) { return 2; }\n", filepath.Join(lib, "libbar.so"), "-shared", "-fPIC", "-Wl,-soname,libbar.so")
	gcc(t, "int bar(void);\nint foo(void) { return bar() + 1; }\n", filepath.Join(lib, "libfoo.so.1.0.1"),
		"-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-L"+lib, "-lbar", "-Wl,-rpath,$ORIGIN")
	must(t, os.Symlink("libfoo.so.1.0.1", filepath.Join(lib, "libfoo.so.1")))
	must(t, os.Symlink("libfoo.so.1", filepath.Join(lib, "libfoo.so")))
	prog := filepath.Join(dir, "bin", "prog")
	gcc(t, "int foo(void);\nint main(void) { return foo(); }\n", prog,
		"-L"+lib, "-lfoo", "-Wl,-rpath,$ORIGIN/../lib", "-Wl,--enable-new-dtags")
	return prog
}

// TestOrigin: $ORIGIN takes where the program sits in the image (/bin):
// its libraries go to /bin/../lib there, their symlink chain kept.
func TestOrigin(t *testing.T) {
	prog := origin(t)
	res, root := bakeTo(t, Options{Program: prog})
	got := list(t, root, "/bin/prog")
	for _, want := range []string{"libfoo.so.1 => /bin/../lib/libfoo.so.1", "libbar.so => /bin/../lib/libbar.so"} {
		if !contains(got, want) {
			t.Errorf("ld.so in the image lists\n%s\nwithout %q", strings.Join(got, "\n"), want)
		}
	}
	// The chain libfoo.so.1 -> libfoo.so.1.0.1 is a symlink in the image
	// (in /usr/lib: the image's /lib mirrors the host's /lib -> usr/lib).
	lib := filepath.Join(root, "lib")
	if t1, err := os.Readlink(filepath.Join(lib, "libfoo.so.1")); err != nil || t1 != "libfoo.so.1.0.1" {
		t.Errorf("/lib/libfoo.so.1 in the image: %q, %v; want a symlink to libfoo.so.1.0.1", t1, err)
	}
	if _, err := os.Lstat(filepath.Join(lib, "libfoo.so")); err == nil {
		t.Errorf("libfoo.so (not loaded) was added")
	}
	var why []string
	for _, a := range res.Added {
		why = append(why, a.Path+" "+a.Why)
	}
	if !contains(why, path.Join(realDir(t, "/lib"), "libbar.so")+" libbar.so, needed by /bin/../lib/libfoo.so.1") {
		t.Errorf("added:\n%s", strings.Join(why, "\n"))
	}
}

func realDir(t *testing.T, p string) string {
	r, err := filepath.EvalSymlinks(p)
	must(t, err)
	return r
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestMissingLibrary: one line naming the library, who needs it, and the
// ways out.
func TestMissingLibrary(t *testing.T) {
	dir := t.TempDir()
	gcc(t, "int nope(void) { return 0; }\n", filepath.Join(dir, "libnope.so"), "-shared", "-fPIC")
	prog := filepath.Join(dir, "prog")
	gcc(t, "int nope(void);\nint main(void) { return nope(); }\n", prog, "-L"+dir, "-lnope")
	_, err := Bake(Options{Program: prog, Output: filepath.Join(dir, "out.img"), Runtime: []byte("x"), MemSize: 128 << 20})
	if err == nil {
		t.Fatal("baked a program whose library is missing")
	}
	msg := err.Error()
	for _, want := range []string{"libnope.so (needed by " + prog + ") not found in", "install the package", "--file HOSTPATH:GUESTPATH", "--lib"} {
		if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("error %q: want one line with %q", msg, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.img")); err == nil {
		t.Errorf("an image was written")
	}
	// A --file ELF's missing library says which --file brought it.
	other := filepath.Join(dir, "other")
	must(t, os.Rename(prog, other))
	gcc(t, "int main(void) { return 0; }\n", prog)
	_, err = Bake(Options{Program: prog, Files: []Mapping{{other, "/usr/bin/other"}}, Output: filepath.Join(dir, "out.img"), Runtime: []byte("x"), MemSize: 128 << 20})
	if err == nil || !strings.HasPrefix(err.Error(), "--file "+other+":/usr/bin/other: libnope.so (needed by "+other+")") {
		t.Errorf("missing library of a --file ELF: %v", err)
	}
}

// TestLib: --lib adds a library the program only dlopens, and what it
// needs: the image's ld.so finds them as the host's (--preload stands for
// the dlopen).
func TestLib(t *testing.T) {
	dir := t.TempDir()
	gcc(t, "int inner(void) { return 1; }\n", filepath.Join(dir, "libinner.so"), "-shared", "-fPIC")
	gcc(t, "int inner(void);\nint plugin(void) { return inner(); }\n", filepath.Join(dir, "libplugin.so"),
		"-shared", "-fPIC", "-L"+dir, "-linner", "-Wl,-rpath,"+dir)
	res, root := bakeTo(t, Options{Program: "/bin/ls", Libs: []string{"libnss_files.so.2", filepath.Join(dir, "libplugin.so")}})
	files := addedFiles(res)
	for _, want := range []string{filepath.Join(realDir(t, "/lib/x86_64-linux-gnu"), "libnss_files.so.2"), filepath.Join(dir, "libplugin.so"), filepath.Join(dir, "libinner.so")} {
		if !contains(files, want) {
			t.Errorf("added\n%s\nwithout %s", strings.Join(files, "\n"), want)
		}
	}
	preload := []string{"libnss_files.so.2", filepath.Join(dir, "libplugin.so")}
	if got, want := list(t, root, "/bin/ls", preload...), list(t, "", "/bin/ls", preload...); !equal(got, want) {
		t.Errorf("ld.so in the image lists\n%s\non the host\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMusl: a musl-gcc program gets musl's loader (its libc.so behind
// /lib/ld-musl-x86_64.so.1), and musl's --list in the image says the same.
func TestMusl(t *testing.T) {
	const loader = "/lib/ld-musl-x86_64.so.1"
	prog := filepath.Join(t.TempDir(), "prog")
	c := filepath.Join(t.TempDir(), "prog.c")
	must(t, os.WriteFile(c, []byte("int main(void) { return 0; }\n"), 0o644))
	if b, err := exec.Command("musl-gcc", "-o", prog, c).CombinedOutput(); err != nil {
		t.Fatalf("musl-gcc: %v\n%s", err, b)
	}
	res, root := bakeTo(t, Options{Program: prog})
	want := []string{realDir(t, loader)}
	if _, err := os.Stat("/etc/ld-musl-x86_64.path"); err == nil {
		want = append([]string{"/etc/ld-musl-x86_64.path"}, want...) // its search path
	}
	if got := addedFiles(res); !equal(got, want) {
		t.Errorf("added %v, want %v", got, want)
	}
	if got, want := listBy(t, loader, root, "/bin/prog"), listBy(t, loader, "", prog); !equal(got, want) {
		t.Errorf("musl in the image lists\n%s\non the host\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStatic: static and static-PIE programs get nothing added.
func TestStatic(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"-static"}, {"-static-pie"}} {
		prog := filepath.Join(dir, "prog"+args[0])
		gcc(t, "int main(void) { return 0; }\n", prog, args...)
		res, _ := bakeTo(t, Options{Program: prog})
		if len(res.Added) != 0 || len(res.Manifest.Files) != 2 {
			t.Errorf("%s: added %v, files %v", args[0], res.Added, res.Manifest.Files)
		}
	}
}

// TestFileWins: a library given with --file at the path the loader opens
// stays the one given.
func TestFileWins(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "libpcre2-8.so.0")
	must(t, os.WriteFile(mine, []byte("mine"), 0o644))
	guest := filepath.Join(realDir(t, "/lib/x86_64-linux-gnu"), "libpcre2-8.so.0")
	res, root := bakeTo(t, Options{Program: "/bin/ls", Files: []Mapping{{mine, guest}}})
	if b, err := os.ReadFile(filepath.Join(root, guest)); err != nil || string(b) != "mine" {
		t.Errorf("%s in the image: %q, %v; want the --file one", guest, b, err)
	}
	for _, a := range res.Added {
		if strings.HasPrefix(a.Path, guest) {
			t.Errorf("added %s over the --file one", a.Path)
		}
	}
}

// TestFileOrigin: a --file ELF's $ORIGIN is its directory in the image:
// a program given at /opt/app/bin/prog gets its $ORIGIN/../lib libraries
// in /opt/app/lib, and ld.so in the image finds them there.
func TestFileOrigin(t *testing.T) {
	prog := origin(t)
	res, root := bakeTo(t, Options{Program: "/bin/ls", Files: []Mapping{{prog, "/opt/app/bin/prog"}}})
	got := list(t, root, "/opt/app/bin/prog")
	for _, want := range []string{"libfoo.so.1 => /opt/app/bin/../lib/libfoo.so.1", "libbar.so => /opt/app/bin/../lib/libbar.so"} {
		if !contains(got, want) {
			t.Errorf("ld.so in the image lists\n%s\nwithout %q", strings.Join(got, "\n"), want)
		}
	}
	if !contains(addedFiles(res), "/opt/app/lib/libfoo.so.1.0.1") {
		t.Errorf("added %v", addedFiles(res))
	}
}

// TestConflict: a --file entry where a library's directory must be is one
// line naming both.
func TestConflict(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "notadir")
	must(t, os.WriteFile(f, []byte("x"), 0o644))
	guest := realDir(t, "/lib/x86_64-linux-gnu")
	_, err := Bake(Options{Program: "/bin/ls", Files: []Mapping{{f, guest}}, Output: filepath.Join(dir, "out.img"), Runtime: []byte("x"), MemSize: 128 << 20})
	want := "--file " + f + ":" + guest + " puts a file at " + guest + ", a directory on the way to "
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want one line starting %q", err, want)
	}
}
