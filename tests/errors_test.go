package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrash: a guest fault ends the run as Linux ends a process killed by
// the matching signal, with one line naming RIP and the fault.
func TestCrash(t *testing.T) {
	cases := []struct {
		how    string
		status int
		line   string
	}{
		{"segv", 139, "SIGSEGV: page fault at rip="},
		{"wild", 139, "SIGSEGV"},
		{"idt", 139, "SIGSEGV: page fault at rip="},
		{"ill", 132, "SIGILL: invalid opcode at rip="},
		{"fpe", 136, "SIGFPE: divide error at rip="},
	}
	for _, libc := range libcs {
		img := bake(t, app(libc, "crash"))
		for _, tc := range cases {
			t.Run(libc+"/"+tc.how, func(t *testing.T) {
				got := ukfork(t, img, tc.how)
				want := native(t, "", app(libc, "crash"), tc.how)
				same(t, got, want)
				if !strings.Contains(got.stderr, tc.line) || strings.Count(got.stderr, "\n") != 1 {
					t.Errorf("want one line with %q on stderr, got %q", tc.line, got.stderr)
				}
				if tc.how == "segv" && !strings.Contains(got.stderr, "addr=0x0 ") {
					t.Errorf("NULL write should name addr=0x0: %q", got.stderr)
				}
			})
		}
	}
}

// TestFaults: pointers a program cannot use give EFAULT (not a crash), a
// huge length over a valid buffer moves what fits, bad FS/GS bases are
// EPERM, bad signal masks of pselect6 and ppoll are refused, munmap outside
// the user address space is EINVAL, and where several errors apply the one
// Linux picks wins; compared with native.
func TestFaults(t *testing.T) {
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			prog := app(libc, "faults")
			got := ukfork(t, bake(t, prog))
			same(t, got, native(t, "", prog))
			if !strings.HasSuffix(got.stdout, "still here\n") {
				t.Errorf("did not run to the end under ukfork:\n%s", got)
			}
		})
	}
}

// TestEscape: nothing in the guest reaches a host file outside the image:
// not "..", not absolute or relative symlinks, not /proc.
func TestEscape(t *testing.T) {
	dir := t.TempDir()
	esc := filepath.Join(dir, "escape")
	must(t, os.MkdirAll(esc, 0o755))
	must(t, os.Symlink("/etc/passwd", filepath.Join(esc, "abs")))
	must(t, os.Symlink("../../../../../../../etc/passwd", filepath.Join(esc, "rel")))
	must(t, os.Symlink("/etc", filepath.Join(esc, "dir")))
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			img := bake(t, app(libc, "escape"), "--file", esc+":/escape")
			got := ukfork(t, img)
			if got.status != 0 || strings.Count(got.stdout, "refused") != 10 {
				t.Fatalf("an escape attempt was not refused:\n%s", got)
			}
			if strings.Contains(got.stdout, "OPENED") || strings.Contains(got.stdout, "FOUND") {
				t.Fatalf("host file reached:\n%s", got.stdout)
			}
		})
	}
}

// TestBakeRefuses: each bad program or flag gets one clear line and no image.
func TestBakeRefuses(t *testing.T) {
	dir := t.TempDir()
	dynamic := filepath.Join(dir, "dyn")
	if out, err := exec.Command("gcc", "-o", dynamic, filepath.Join("apps", "hello.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	hello := app("musl", "hello")
	data, err := os.ReadFile(hello)
	must(t, err)
	truncated := filepath.Join(dir, "truncated")
	must(t, os.WriteFile(truncated, data[:len(data)/3], 0o755))
	arm := filepath.Join(dir, "arm")
	bad := append([]byte(nil), data...)
	bad[18], bad[19] = 0xb7, 0 // e_machine = EM_AARCH64
	must(t, os.WriteFile(arm, bad, 0o755))
	script := filepath.Join(dir, "script.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755))
	text := filepath.Join(dir, "notes.txt")
	must(t, os.WriteFile(text, []byte("hello"), 0o644))

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing dlopen library", []string{"--lib", "libnope.so.9", dynamic}, "--lib libnope.so.9: libnope.so.9 (needed by " + dynamic + ") not found in /etc/ld.so.cache"},
		{"print-deps and -o", []string{"--print-deps", dynamic}, "--print-deps writes no image: drop -o"},
		{"truncated", []string{truncated}, "truncated or malformed"},
		{"other arch", []string{arm}, "x86-64"},
		{"script", []string{script}, "is a script"},
		{"not elf", []string{text}, "not an ELF executable"},
		{"missing program", []string{filepath.Join(dir, "nope")}, "no such file"},
		{"missing file", []string{"--file", filepath.Join(dir, "nope") + ":/x", hello}, "no such file"},
		{"bad mapping", []string{"--file", "foo", hello}, "HOSTPATH:GUESTPATH"},
		{"relative guest path", []string{"--file", dir + ":data", hello}, "must be absolute"},
		{"bad mem", []string{"--mem", "lots", hello}, "--mem"},
		{"small mem", []string{"--mem", "1M", hello}, "between"},
		{"bad env", []string{"--env", "NOEQUALS", hello}, "KEY=VALUE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(dir, "out.img")
			r := runCmd(t, exec.Command(ukforkBin, append([]string{"bake", "-o", img}, tc.args...)...))
			if r.status == 0 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("want a failure with one line containing %q, got %s", tc.want, r)
			}
			if _, err := os.Stat(img); err == nil {
				t.Errorf("an image was written despite the error")
				os.Remove(img)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".out.img.*")); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

// TestDynamic: a dynamic program bakes with its interpreter and libraries
// (bake says what it added); until the guest loads PT_INTERP, running it
// is one clear line and status 126, as for a file the kernel cannot exec.
func TestDynamic(t *testing.T) {
	dynamic := filepath.Join(t.TempDir(), "dyn")
	if out, err := exec.Command("gcc", "-o", dynamic, filepath.Join("apps", "hello.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	img := filepath.Join(t.TempDir(), "dyn.img")
	r := runCmd(t, exec.Command(ukforkBin, "bake", "-o", img, dynamic))
	if r.status != 0 || !strings.HasPrefix(r.stdout, "added 3 files (") || !strings.Contains(r.stdout, "for dynamic loading (-v lists them)\nbaked ") {
		t.Fatalf("bake: %s", r)
	}
	r = runCmd(t, exec.Command(ukforkBin, "bake", "-v", "-o", img, dynamic))
	for _, want := range []string{"+ /lib64 -> ", "(interpreter of /bin/dyn)\n", "(libc.so.6, needed by /bin/dyn)\n", "+ /etc/ld.so.cache (glibc's library cache)\n"} {
		if r.status != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("bake -v: want %q in %s", want, r)
		}
	}
	same(t, ukfork(t, img), native(t, "", dynamic))
}

// TestRunRefuses: bad images get one clear line and status 125.
func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	good := bake(t, app("musl", "hello"))
	data, err := os.ReadFile(good)
	must(t, err)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, b, 0o644))
		return p
	}
	newer := append([]byte(nil), data...)
	newer[8] = 99 // image version
	corrupt := append([]byte(nil), data...)
	copy(corrupt[len(corrupt)-200:], strings.Repeat("\xff", 100)) // inside the manifest
	cases := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.img"), "no such file"},
		{"empty", write("empty.img", nil), "too short"},
		{"elf", app("musl", "hello"), "is an ELF executable, not an image"},
		{"garbage", write("garbage.img", []byte(strings.Repeat("x", 4096))), "bad magic"},
		{"newer", write("newer.img", newer), "image version 99"},
		{"truncated", write("truncated.img", data[:len(data)/2]), "truncated"},
		{"corrupt manifest", write("corrupt.img", corrupt), "corrupt manifest"},
		{"directory", dir, "is a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ukfork(t, tc.path)
			if r.status != 125 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("want status 125 and one line containing %q, got %s", tc.want, r)
			}
		})
	}
	t.Run("bad mem flag", func(t *testing.T) {
		r := runCmd(t, exec.Command(ukforkBin, "run", "--mem", "3M", good))
		if r.status != 125 || !strings.Contains(r.stderr, "--mem") {
			t.Errorf("got %s", r)
		}
	})
}
