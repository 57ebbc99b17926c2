package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ukfork/ukfork/hypervisor/instance"
)

// TestForkBomb: with --max-procs, fork fails with EAGAIN at the limit, the
// program sees it and cleans up, and everything goes away.
func TestForkBomb(t *testing.T) {
	img := bake(t, app("musl", "forkbomb"), "--mem", "32M")
	r := runCmd(t, exec.Command(ukforkBin, "run", "--max-procs", "150", img))
	if r.status != 0 || r.stdout != "made 149 children, then EAGAIN; reaped 149\n" {
		t.Fatalf("got %s", r)
	}
}

func count(t *testing.T, dir string, match func(string) bool) int {
	ents, err := os.ReadDir(dir)
	must(t, err)
	n := 0
	for _, e := range ents {
		if match == nil {
			n++
			continue
		}
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && match(l) {
			n++
		}
	}
	return n
}

type usage struct{ fds, memfds, threads, kvm int }

func measure(t *testing.T) usage {
	return usage{
		fds:     count(t, "/proc/self/fd", nil),
		memfds:  count(t, "/proc/self/fd", func(l string) bool { return strings.HasPrefix(l, "/memfd:") }),
		kvm:     count(t, "/proc/self/fd", func(l string) bool { return strings.Contains(l, "kvm") }),
		threads: count(t, "/proc/self/task", nil),
	}
}

// TestNoLeaks: 10,000 fork/exit/wait cycles in one program leave no VM,
// memfd, thread or descriptor behind in the host process.
func TestNoLeaks(t *testing.T) {
	img := bake(t, app("musl", "forkloop"), "--mem", "32M")
	prog, err := instance.Load(img)
	must(t, err)
	defer prog.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	must(t, err)
	defer null.Close()
	fd := int(null.Fd())
	runLoop := func(n string) {
		inst, err := prog.Start(instance.Options{Args: []string{n}, Stdio: [3]int{fd, fd, fd}})
		must(t, err)
		exit, err := inst.Run()
		must(t, err)
		inst.Close()
		if exit.Status() != 0 {
			t.Fatalf("forkloop %s: status %d %s", n, exit.Status(), exit.Msg)
		}
	}
	runLoop("50") // warm the pool of VM shells
	before := measure(t)
	runLoop("10000")
	after := measure(t)
	// The idle pool may differ by the shells it keeps (each: 2 kvm fds, a thread).
	const slack = 8
	if after.memfds > before.memfds || after.fds > before.fds+2*slack ||
		after.kvm > before.kvm+2*slack || after.threads > before.threads+slack {
		t.Fatalf("resources grew over 10,000 fork/exit cycles: before %+v, after %+v", before, after)
	}
	t.Logf("before %+v, after %+v", before, after)
}

// TestForkRacingExit: the first process returns while its children fork
// holding a pipe; the run ends cleanly every time, with the first
// process's status and output, as natively. It once crashed the host
// process in about half the runs.
func TestForkRacingExit(t *testing.T) {
	prog := app("musl", "forkrace")
	img := bake(t, prog)
	want := native(t, "", prog)
	for i := 0; i < 8; i++ {
		got := ukfork(t, img)
		same(t, got, want)
		if strings.Contains(got.stderr, "panic") {
			t.Fatalf("run %d: %s", i, got)
		}
	}
}

// TestFDBudget: 25 processes each hold every pipe they can make. A run's
// host descriptors are bounded, so some get ENFILE instead of EMFILE, but
// no process sees anything else, and poll and read go on working for all,
// as natively.
func TestFDBudget(t *testing.T) {
	prog := app("musl", "fdhog")
	same(t, ukfork(t, bake(t, prog, "--mem", "16M"), "25"), native(t, "", prog, "25"))
}

// TestNofile: RLIMIT_NOFILE as the program sets it bounds its descriptors
// on the host, lowered or raised, and a child inherits it, as natively.
func TestNofile(t *testing.T) {
	for _, libc := range libcs {
		prog := app(libc, "nofile")
		same(t, ukfork(t, bake(t, prog)), native(t, "", prog))
	}
}
