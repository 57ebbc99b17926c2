// Resolve beside the real loaders: what glibc's ld.so and musl's list
// (LD_TRACE_LOADED_OBJECTS, --list) for Debian's binaries and for programs
// built here with RPATH, RUNPATH and $ORIGIN.
package ldso

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// traced runs the program's loader in its listing mode, in an environment
// with no LD_ variables, and returns the lines as "NAME => PATH" (or
// "NAME => not found") and "PATH" for the loader itself, the vDSO left out.
func traced(t *testing.T, interp, prog string, musl bool) map[string]bool {
	t.Helper()
	cmd := exec.Command(interp, prog)
	cmd.Env = []string{"LD_TRACE_LOADED_OBJECTS=1"}
	if musl {
		cmd = exec.Command(interp, "--list", prog)
		cmd.Env = []string{}
	}
	out, err := cmd.Output()
	if err != nil && !strings.Contains(string(out), "not found") {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	line := regexp.MustCompile(`^\t(.+?)(?: => (.+?))? \(0x[0-9a-f]+\)$|^\t(.+) => (not found)$`)
	set := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := line.FindStringSubmatch("\t" + strings.TrimLeft(l, "\t"))
		switch {
		case m == nil:
			t.Fatalf("%v: unexpected line %q", cmd, l)
		case m[3] != "":
			set[m[3]+" => not found"] = true
		case m[2] != "":
			set[m[1]+" => "+m[2]] = true
		case m[1] != "linux-vdso.so.1":
			set[m[1]] = true
		}
	}
	return set
}

// listed is the same set from Resolve.
func listed(d *Deps) map[string]bool {
	set := map[string]bool{d.Interp.Path: true}
	for _, l := range d.Libs {
		set[l.Name+" => "+l.Path] = true
	}
	if d.Musl {
		// musl lists the names it answers itself (libc.so) by the loader.
		for _, n := range d.Interp.Names[1:] {
			set[n+" => "+d.Interp.Path] = true
		}
	}
	return set
}

// build compiles C source with cc and args into dir/name.
func build(t *testing.T, cc, dir, name, src string, args ...string) string {
	t.Helper()
	c := filepath.Join(t.TempDir(), "src.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cc, append([]string{"-o", out, c, "-Wl,--no-as-needed"}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, b)
	}
	return out
}

func TestAgainstLoader(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "lib")
	const fn = "int f(void) { return 1; }\n"
	// libdep is needed by libtop; libtop finds it only through an RPATH
	// it inherits or its own RUNPATH.
	build(t, "gcc", lib, "libdep.so", fn, "-shared", "-fPIC")
	build(t, "gcc", lib, "libtop.so.1", fn, "-shared", "-fPIC", "-Wl,-soname,libtop.so.1", "-L"+lib, "-ldep")
	own := filepath.Join(dir, "own")
	build(t, "gcc", own, "libdep.so", fn, "-shared", "-fPIC")
	build(t, "gcc", own, "libtop.so.1", fn, "-shared", "-fPIC", "-Wl,-soname,libtop.so.1", "-L"+own, "-ldep", "-Wl,--enable-new-dtags,-rpath,$ORIGIN")
	for _, d := range []string{lib, own} {
		if err := os.Symlink("libtop.so.1", filepath.Join(d, "libtop.so")); err != nil {
			t.Fatal(err)
		}
	}
	main := "int f(void); int main(void) { return f() - 1; }\n"
	rpath := build(t, "gcc", filepath.Join(dir, "bin"), "rpath", main, "-L"+lib, "-ltop", "-Wl,--disable-new-dtags,-rpath,$ORIGIN/../lib")
	runpath := build(t, "gcc", filepath.Join(dir, "bin"), "runpath", main, "-L"+own, "-ltop", "-lm", "-Wl,--enable-new-dtags,-rpath,${ORIGIN}/../own:/nonexistent/$LIB")
	broken := build(t, "gcc", filepath.Join(dir, "bin"), "broken", main, "-L"+lib, "-ltop", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib")
	mlib := filepath.Join(dir, "musl")
	build(t, "musl-gcc", mlib, "libm1.so", fn, "-shared", "-fPIC")
	build(t, "musl-gcc", mlib, "libm2.so", fn, "-shared", "-fPIC", "-L"+mlib, "-lm1")
	musl := build(t, "musl-gcc", filepath.Join(dir, "bin"), "musl", main, "-L"+mlib, "-lm2", "-Wl,-rpath,$ORIGIN/../musl")

	// libpython: a shared library on its own, as ldd lists one.
	for _, p := range []string{"/bin/ls", "/bin/bash", "/usr/bin/python3", "/usr/bin/perl", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", rpath, runpath, musl} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			d, err := Resolve(Config{}, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := traced(t, d.Interp.Path, p, d.Musl)
			got := listed(d)
			if g, w := strings.Join(sortedNames(got), "\n"), strings.Join(sortedNames(want), "\n"); g != w {
				t.Errorf("resolved:\n%s\nthe loader lists:\n%s", g, w)
			}
			if len(got) < 2 {
				t.Errorf("only %v", got)
			}
		})
	}
	t.Run("RUNPATH not inherited", func(t *testing.T) {
		want := traced(t, "/lib64/ld-linux-x86-64.so.2", broken, false)
		if !want["libdep.so => not found"] {
			t.Fatalf("the loader found libdep.so: %v", want)
		}
		_, err := Resolve(Config{}, broken, nil)
		if err == nil || err.Error() != "libdep.so (needed by "+dir+"/bin/../lib/libtop.so.1) not found in /etc/ld.so.cache, system directories /lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib:/usr/lib: install the package that provides it, or put it where the RUNPATH or RPATH of "+dir+"/bin/../lib/libtop.so.1 points" {
			t.Errorf("error %v", err)
		}
	})
}
