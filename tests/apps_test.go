package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// TestApps runs each test program under ukfork and natively, with musl and
// with glibc, and requires the same stdout and exit status.
func TestApps(t *testing.T) {
	cases := []struct {
		app  string
		args []string
	}{
		{"hello", nil},
		{"args", []string{"one", "two words", ""}},
		{"exitcode", []string{"0"}},
		{"exitcode", []string{"7"}},
		{"exitcode", []string{"255", "_exit"}},
		{"exitcode", []string{"256"}}, // wraps to 0
		{"random", nil},
		{"malloc", []string{"20"}},
		{"psel", nil}, // ppoll/pselect6 signal masks
		{"smallcalls", nil},
		{"vmem", nil}, // page tables: reservations, protection, faults to handlers
		{"xattrs", nil},
		{"futexes", nil},  // futex(2) in one thread
		{"prlimits", nil}, // prlimit64 across processes, sysinfo procs, CPU clocks
		{"events", nil},   // epoll, eventfd, timerfd
		{"shmem", nil},    // MAP_SHARED|MAP_ANONYMOUS across fork
		{"passfd", nil},   // SCM_RIGHTS
		{"locks", nil},    // fcntl record locks, OFD locks, flock
		{"psync", nil},    // process-shared mutexes, condvars, semaphores, futexes
		{"mapfile", nil},  // MAP_SHARED files (/dev/shm, /tmp, memfd), System V shared memory
		{"sigfd", nil},    // signalfd with kill, SIGCHLD, poll and epoll
		{"jobs", nil},     // SIGSTOP/SIGTSTP/SIGCONT, WUNTRACED, WCONTINUED, PR_SET_PDEATHSIG
	}
	for _, libc := range libcs {
		for _, tc := range cases {
			name := fmt.Sprintf("%s/%s/%s", libc, tc.app, strings.Join(tc.args, "_"))
			t.Run(name, func(t *testing.T) {
				prog := app(libc, tc.app)
				img := bake(t, prog)
				same(t, ukfork(t, img, tc.args...), native(t, "", prog, tc.args...))
			})
		}
	}
}

// TestDlopen loads a library the program names only at run time (bake
// --lib adds it), in the dynamic build.
func TestDlopen(t *testing.T) {
	prog := app("dyn", "dlopen")
	same(t, ukfork(t, bake(t, prog, "--lib", "libm.so.6")), native(t, "", prog))
}

// TestStaticPIE loads static-PIE executables at the runtime's chosen base.
func TestStaticPIE(t *testing.T) {
	for _, name := range []string{"hello", "vmem"} {
		t.Run(name, func(t *testing.T) {
			prog := filepath.Join(appDir, "pie", name)
			same(t, ukfork(t, bake(t, prog)), native(t, "", prog))
		})
	}
}

// TestClocks checks the guest's clocks against the host's.
func TestClocks(t *testing.T) {
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			prog := app(libc, "clocks")
			now := fmt.Sprint(time.Now().Unix())
			got := ukfork(t, bake(t, prog), now)
			want := native(t, "", prog, now)
			same(t, got, want)
			if strings.Contains(got.stdout, ": 0") {
				t.Errorf("a clock check failed under ukfork:\n%s", got.stdout)
			}
		})
	}
}

// fileTree makes the tree the files test reads, under dir/data.
func fileTree(t *testing.T) string {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	must(t, os.MkdirAll(filepath.Join(data, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(data, "hello.txt"), []byte("hello world\n"), 0o644))
	big := make([]byte, 300_000)
	for i := range big {
		big[i] = byte(i*7 + i/1000)
	}
	must(t, os.WriteFile(filepath.Join(data, "sub", "big.bin"), big, 0o644))
	must(t, os.Symlink("hello.txt", filepath.Join(data, "link.txt")))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestFiles reads a baked tree with every file call and compares with the
// same program reading the same tree on the host.
func TestFiles(t *testing.T) {
	dir := fileTree(t)
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			prog := app(libc, "files")
			img := bake(t, prog, "--file", filepath.Join(dir, "data")+":/data")
			// Natively stdout is a pipe too: lseek on it gives ESPIPE in both.
			same(t, ukfork(t, img, "/data"), native(t, "", prog, filepath.Join(dir, "data")))
		})
	}
}

// TestFork: fork, wait statuses, a fork tree; each compared with native.
func TestFork(t *testing.T) {
	cases := []struct {
		app  string
		args []string
	}{
		{"forkbasic", nil},
		{"forktree", []string{"3", "3"}},
		{"forktree", []string{"1", "30"}},
		{"forktree", []string{"6", "2"}},
		{"pipes", nil},
		{"manypipes", []string{"12"}}, // more pipes than ring slots: host pipes too
		{"signals", nil},
		{"sockets", nil},
		{"prefork", []string{"4", "20"}},
		{"sigstorm", []string{"300"}},
	}
	for _, libc := range libcs {
		for _, tc := range cases {
			t.Run(libc+"/"+tc.app+"/"+strings.Join(tc.args, "_"), func(t *testing.T) {
				prog := app(libc, tc.app)
				same(t, ukfork(t, bake(t, prog), tc.args...), native(t, "", prog, tc.args...))
			})
		}
	}
}

// TestExec: execve from a forked child, failures returning to the caller,
// close-on-exec, PATH search, chains of #! scripts; compared with native.
// A truncated ELF, which Linux kills the caller for, fails with EIO.
func TestExec(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "data", "notexec"), []byte("hello\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "data", "notelf"), []byte("not an elf"), 0o755))
	hello, err := os.ReadFile(app("musl", "hello"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "bin", "true"), hello, 0o755))
	// Headers whole, segments past the end of the file.
	must(t, os.WriteFile(filepath.Join(dir, "data", "truncated"), hello[:3000], 0o755))
	for i := 0; i < 7; i++ {
		script := fmt.Sprintf("#!data/s%d\n", i+1)
		must(t, os.WriteFile(filepath.Join(dir, "data", fmt.Sprintf("s%d", i)), []byte(script), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(dir, "data", "s7"), []byte("#!bin/true\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "data", "loop"), []byte("#!data/loop\n"), 0o755))
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			prog := app(libc, "exec")
			img := bake(t, prog, "--file", dir+"/data:/data", "--file", dir+"/bin/true:/bin/true")
			got := ukfork(t, img, "/bin/exec")
			cmd := exec.Command(prog, prog)
			cmd.Args[0] = "exec"
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + dir + "/bin"}
			same(t, got, runCmd(t, cmd))
			got = ukfork(t, img, "truncated", "data/truncated")
			want := "execve data/truncated: -1 EIO, carrying on\ndata/truncated: exited 3\n"
			if got.status != 0 || got.stdout != want {
				t.Errorf("execve of a truncated ELF: want %q, got %s", want, got)
			}
		})
	}
}

// TestSyscallRewrite: syscall sites in the shapes the runtime rewrites into
// jumps, and some it must leave alone, give native results with and without
// rewriting; the first site's code is changed only when rewriting is on.
func TestSyscallRewrite(t *testing.T) {
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			prog := app(libc, "sites")
			img := bake(t, prog)
			want := native(t, "", prog)
			if !strings.Contains(want.stderr, "site rewritten: no") {
				t.Fatalf("native run: %s", want)
			}
			on := ukfork(t, img)
			same(t, on, want)
			if !strings.Contains(on.stderr, "site rewritten: yes") {
				t.Errorf("ukfork run did not rewrite the site: %s", on)
			}
			off := runCmd(t, exec.Command(ukforkBin, "run", "--no-rewrite", img))
			same(t, off, want)
			if !strings.Contains(off.stderr, "site rewritten: no") {
				t.Errorf("ukfork run --no-rewrite changed the site: %s", off)
			}
		})
	}
}

// TestPipeRings: a pipe is a ring both VMs map while the process has a free
// ring slot (8), a host pipe after, and slots come back when the pipes
// close. Told apart by what a pipe holds: the ring's data area
// (abi.RingCap) or the 1 MiB of a host pipe.
func TestPipeRings(t *testing.T) {
	ring := fmt.Sprint(abi.RingCap)
	want := strings.TrimSpace(strings.Repeat(ring+" ", abi.RingSlots) + "1048576 1048576")
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			got := ukfork(t, bake(t, app(libc, "pipecap")), "10", "2")
			if got.status != 0 || got.stdout != want+"\n"+want+"\n" {
				t.Errorf("pipe capacities, want %q twice:\n%s", want, got)
			}
		})
	}
}

// TestUnixNames: AF_UNIX names bound, connected, unlinked and reported
// back (getsockname, getpeername, accept, recvfrom) as on Linux: relative
// and abstract names of up to 107 bytes, autobind, names freed by unlink or
// close and not by a failed bind, ENOENT vs ECONNREFUSED vs EADDRINUSE.
func TestUnixNames(t *testing.T) {
	for _, libc := range libcs {
		t.Run(libc, func(t *testing.T) {
			prog := app(libc, "unixnames")
			same(t, ukfork(t, bake(t, prog)), native(t, t.TempDir(), prog))
		})
	}
}

// TestUnixNamesApart: the names one run binds, path or abstract, are not
// there for another run.
func TestUnixNamesApart(t *testing.T) {
	img := bake(t, app("musl", "unixnames"))
	first := exec.Command(ukforkBin, "run", img, "wait", "shared")
	in, err := first.StdinPipe()
	must(t, err)
	out, err := first.StdoutPipe()
	must(t, err)
	must(t, first.Start())
	defer first.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the first run did not bind its names: %q", line)
	}
	if r := ukfork(t, img, "probe", "shared"); r.stdout != "path ENOENT, abstract ECONNREFUSED\n" {
		t.Errorf("another run reaches the first run's names: %s", r)
	}
	in.Close()
	must(t, first.Wait())
}

// TestCreds: a server's privilege drop and who the program is, as root and
// with `ukfork run --user`, beside the same program started natively with
// those ids.
func TestCreds(t *testing.T) {
	for _, libc := range libcs {
		prog := app(libc, "creds")
		img := bake(t, prog)
		t.Run(libc+"/root", func(t *testing.T) {
			same(t, ukfork(t, img), native(t, "", prog))
		})
		t.Run(libc+"/user", func(t *testing.T) {
			got := runCmd(t, exec.Command(ukforkBin, "run", "--user", "1000:1000", img))
			cmd := exec.Command(prog)
			cmd.Args[0] = filepath.Base(prog)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{}}}
			same(t, got, runCmd(t, cmd))
		})
	}
	// Names come from the image's /etc/passwd and /etc/group, as Docker
	// reads them: the user's group and the groups that list it.
	accounts, _ := filepath.Abs(filepath.Join("testdata", "accounts"))
	prog := app("glibc", "creds")
	img := bake(t, prog, "--file", accounts+"/passwd:/etc/passwd", "--file", accounts+"/group:/etc/group")
	for _, tc := range []struct {
		user     string
		uid, gid uint32
		groups   []uint32
	}{
		{"app", 1000, 1001, []uint32{33, 50}},
		{"app:www", 1000, 33, []uint32{50}},
		{"1000", 1000, 1001, []uint32{33, 50}},
		{"4242:staff", 4242, 50, []uint32{}},
	} {
		t.Run("names/"+tc.user, func(t *testing.T) {
			got := runCmd(t, exec.Command(ukforkBin, "run", "--user", tc.user, img))
			cmd := exec.Command(prog)
			cmd.Args[0] = filepath.Base(prog)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: tc.uid, Gid: tc.gid, Groups: tc.groups}}
			same(t, got, runCmd(t, cmd))
		})
	}
	for _, bad := range []string{"nobody", "app:nogroup", "app:", ":1", "-1"} {
		r := runCmd(t, exec.Command(ukforkBin, "run", "--user", bad, img))
		if r.status != 125 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--user") {
			t.Errorf("--user %s: want one line naming the flag and 125, got %s", bad, r)
		}
	}
}
