package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The binaries Debian ships, dynamic as they are, baked with what they
// load and the data they need, each run beside the same binary natively.

// debianImage bakes prog with files (host paths, placed at the same paths;
// a test script, "HOST:GUEST", where it says).
func debianImage(t *testing.T, prog string, files ...string) string {
	t.Helper()
	var flags []string
	for _, f := range files {
		spec := f + ":" + f
		if i := strings.IndexByte(f, ':'); i >= 0 {
			spec, f = f, f[:i]
		}
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: .ci/run installs it (%v)", f, err)
		}
		flags = append(flags, "--file", spec)
	}
	return bake(t, prog, append(flags, "--mem", "256M")...)
}

// testdata is a script of testdata/debian: its host path, and where it is
// baked (not under /tmp, which is a fresh tmpfs in the run).
func testdata(name string) (host, guest string) {
	p, _ := filepath.Abs(filepath.Join("testdata", "debian", name))
	return p, "/test/" + name
}

// TestDebianBash runs bash with coreutils: pipelines, substitutions, jobs
// and their statuses, traps.
func TestDebianBash(t *testing.T) {
	script, at := testdata("pipes.sh")
	img := debianImage(t, "/bin/bash", "/usr/bin/seq", "/usr/bin/sort", "/usr/bin/head",
		"/usr/bin/tr", "/usr/bin/cat", "/usr/bin/wc", "/usr/bin/grep", "/usr/bin/sleep", "/usr/bin/true", "/usr/bin/false", script+":"+at)
	same(t, ukfork(t, img, at), native(t, "", "/bin/bash", script))
}

// TestDebianPython runs python3 with its standard library: fork, pipes,
// statuses, signals, subprocess running python again, mmap.
func TestDebianPython(t *testing.T) {
	py, err := filepath.EvalSymlinks("/usr/bin/python3")
	must(t, err)
	script, at := testdata("procs.py")
	img := debianImage(t, py, "/usr/lib/python3.11", script+":"+at)
	same(t, ukfork(t, img, at), native(t, "", py, script))
}

// TestDebianPerl runs perl with its modules.
func TestDebianPerl(t *testing.T) {
	script, at := testdata("procs.pl")
	var dirs []string
	for _, d := range []string{"/usr/share/perl", "/usr/lib/x86_64-linux-gnu/perl", "/usr/share/perl5", "/usr/lib/x86_64-linux-gnu/perl5", "/usr/lib/x86_64-linux-gnu/perl-base"} {
		if _, err := os.Stat(d); err == nil {
			dirs = append(dirs, d)
		}
	}
	img := debianImage(t, "/usr/bin/perl", append(dirs, script+":"+at)...)
	same(t, ukfork(t, img, at), native(t, "", "/usr/bin/perl", script))
}
