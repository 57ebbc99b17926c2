package tests

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// pythonImage bakes Debian's python3 with its standard library and the
// script testdata/debian/name: python3's path, the image, the script's
// host path and its path in the image.
func pythonImage(t *testing.T, name string) (py, img, script, at string) {
	t.Helper()
	py, err := filepath.EvalSymlinks("/usr/bin/python3")
	must(t, err)
	script, at = testdata(name)
	return py, debianImage(t, py, "/usr/lib/python3.11", script+":"+at), script, at
}

// TestDebianPython runs python3 with its standard library: fork, pipes,
// statuses, signals, subprocess running python again, mmap.
func TestDebianPython(t *testing.T) {
	py, img, script, at := pythonImage(t, "procs.py")
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

// TestDebianPtys runs python3 allocating pseudo-terminals: openpty,
// termios, window sizes, locking, pty.fork with a controlling terminal and
// /dev/tty.
func TestDebianPtys(t *testing.T) {
	py, img, script, at := pythonImage(t, "ptys.py")
	same(t, ukfork(t, img, at), native(t, "", py, script))
}

// TestDebianTerminal starts python3 on a terminal, as a user at a shell
// does (a host pty, the run's controlling terminal), beside the same script
// natively on another: what it sees of its terminal must agree, and ukfork
// must give the terminal back as it was (natively, raw mode stays).
func TestDebianTerminal(t *testing.T) {
	py, img, script, at := pythonImage(t, "term.py")
	got, gotCanon := onTerminal(t, exec.Command(ukforkBin, "run", img, at))
	cmd := exec.Command(py, script)
	cmd.Args[0] = "python3"
	want, wantCanon := onTerminal(t, cmd)
	if got != want {
		t.Errorf("ukfork and native differ on a terminal\n--- ukfork:\n%q\n--- native:\n%q", got, want)
	}
	if wantCanon {
		t.Errorf("natively the script did not leave its terminal raw: the test checks nothing")
	}
	if !gotCanon {
		t.Errorf("ukfork left the terminal raw after the run")
	}
}

// onTerminal runs cmd on a new host pty of 40x120 as its controlling
// terminal; what it wrote, and whether the terminal was left canonical.
func onTerminal(t *testing.T, cmd *exec.Cmd) (string, bool) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	must(t, err)
	defer m.Close()
	must(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	must(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	must(t, err)
	must(t, unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	must(t, cmd.Start())
	s.Close() // the output ends when the program's last hold of it goes
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(m) // EIO once the last holder of the slave is gone
		done <- b
	}()
	werr := cmd.Wait()
	var out []byte
	select {
	case out = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%v: its output did not end", cmd.Args)
	}
	if werr != nil {
		t.Errorf("%v: %v; wrote %q", cmd.Args, werr, out)
	}
	tio, err := unix.IoctlGetTermios(int(m.Fd()), unix.TCGETS) // the slave's, asked of the master
	must(t, err)
	return string(out), tio.Lflag&unix.ICANON != 0
}

// TestDebianAsyncio runs python3's event loops, which wait in epoll:
// asyncio servers and clients, timers, signals through the loop, a
// selectors.EpollSelector, a server in a forked child.
func TestDebianAsyncio(t *testing.T) {
	py, img, script, at := pythonImage(t, "aio.py")
	same(t, ukfork(t, img, at), native(t, "", py, script))
}

// TestDebianSqlite runs sqlite (python3's sqlite3 module, Debian's
// libsqlite3) on a database in a volume: four processes writing at once
// through sqlite's fcntl locks, and a reader; then in WAL mode, whose
// index every connection maps shared from the volume.
func TestDebianSqlite(t *testing.T) {
	py, img, script, at := pythonImage(t, "sqlite.py")
	vol := t.TempDir()
	got := runCmd(t, exec.Command(ukforkBin, "run", "--volume", vol+":/data", img, at, "/data"))
	same(t, got, native(t, "", py, script, t.TempDir()))
	if _, err := os.Stat(filepath.Join(vol, "wal.db")); err != nil {
		t.Errorf("the database is not in the volume: %v", err)
	}
}
