package tests

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/toolchain/image"
)

// TestUnsupportedSyscall: ENOSYS to the program, the name once on stderr, and
// stdin passed through.
func TestUnsupportedSyscall(t *testing.T) {
	prog := app("musl", "enosys")
	img := bake(t, prog)
	input := "line one\nline two\n"
	cmd := exec.Command(ukforkBin, "run", img)
	cmd.Stdin = strings.NewReader(input)
	got := runCmd(t, cmd)
	// No native comparison: on Linux vhangup exists (and as root succeeds).
	want := "vhangup: -1 ENOSYS\nvhangup: -1 ENOSYS\nvhangup: -1 ENOSYS\n" + input
	if got.status != 0 || got.stdout != want {
		t.Errorf("got %s", got)
	}
	if strings.Count(got.stderr, "vhangup") != 1 || !strings.Contains(got.stderr, "not implemented") {
		t.Errorf("want vhangup named once on stderr, got %q", got.stderr)
	}
}

// TestTrace: --trace lists each syscall with decoded arguments and result,
// and does not change what the program prints.
func TestTrace(t *testing.T) {
	dir := fileTree(t)
	img := bake(t, app("musl", "files"), "--file", dir+"/data:/data")
	plain := ukfork(t, img, "/data")
	r := runCmd(t, exec.Command(ukforkBin, "run", "--trace", img, "/data"))
	if r.stdout != plain.stdout || r.status != 0 {
		t.Fatalf("--trace changed the program's output: %s", r)
	}
	for _, want := range []string{
		`chdir("/data") = 0`,
		`open("hello.txt", 0x8000, 0x0) = 3`,
		`open("missing", 0x8000, 0x0) = -1 ENOENT (no such file or directory)`,
		`read(3, 0x`,
		`exit_group(0) = 0`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("trace lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestFlagsAfterImage: everything after IMAGE is the program's, flags too.
func TestFlagsAfterImage(t *testing.T) {
	prog := app("musl", "args")
	same(t, ukfork(t, bake(t, prog), "--trace", "-x"), native(t, "", prog, "--trace", "-x"))
}

// TestInterrupt: SIGINT or SIGTERM to `ukfork run` stops the VM whether the
// program sleeps or spins, and ukfork exits as the program would (128+N).
func TestInterrupt(t *testing.T) {
	img := bake(t, app("musl", "sleeper"))
	for _, tc := range []struct {
		mode string
		sig  syscall.Signal
	}{{"sleep", syscall.SIGINT}, {"spin", syscall.SIGINT}, {"spin", syscall.SIGTERM}} {
		t.Run(tc.mode+"/"+tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(ukforkBin, "run", img, tc.mode)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			if line != "ready\n" {
				cmd.Process.Kill()
				t.Fatalf("program did not start: %q", line)
			}
			cmd.Process.Signal(tc.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				t.Fatal("ukfork run did not stop within 5s")
			}
			if got, want := cmd.ProcessState.ExitCode(), 128+int(tc.sig); got != want {
				t.Errorf("exit status %d, want %d", got, want)
			}
		})
	}
}

// TestInspect: inspect lists what bake put in: program, memory, env, runtime
// and every file with its size.
func TestInspect(t *testing.T) {
	dir := fileTree(t)
	img := bake(t, app("musl", "hello"), "--mem", "64M", "--env", "GREETING=hi", "--file", dir+"/data:/data")
	r := runCmd(t, exec.Command(ukforkBin, "inspect", img))
	if r.status != 0 {
		t.Fatalf("inspect: %s", r)
	}
	for _, want := range []string{
		"program:  /bin/hello", "memory:   64 MiB", "GREETING=hi", "PATH=/bin:",
		fmt.Sprintf("ABI %d", abi.Version), "/data/hello.txt", "300000  /data/sub/big.bin", "/data/link.txt -> hello.txt",
		"drwxr-xr-x", "/bin/hello",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestPsKill: `ukfork ps` lists a running program's processes with their
// parents, `ukfork kill` signals one, and bad pids and signals get one line.
func TestPsKill(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed: %v", err)
	}
	img := bake(t, bb, "--applets")
	// A pipeline: each sleep holds one end of a pipe ring.
	cmd := exec.Command(ukforkBin, "run", img, "sh", "-c", "sleep 30 | sleep 31 & wait; echo waited")
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	defer cmd.Process.Kill()
	var sleeps []string
	var ps string
	for i := 0; i < 100 && len(sleeps) < 2; i++ {
		time.Sleep(20 * time.Millisecond)
		r := runCmd(t, exec.Command(ukforkBin, "ps"))
		ps, sleeps = r.stdout, nil
		for _, line := range strings.Split(ps, "\n") {
			f := strings.Fields(line)
			if len(f) == 8 && f[7] == "sleep" && f[0] == fmt.Sprint(cmd.Process.Pid) {
				sleeps = append(sleeps, f[1])
				if want := fmt.Sprintf("%dK", abi.RingSize>>10); f[6] != want {
					t.Errorf("HOSTMEM of a sleep holding a pipe end: %s, want %s\n%s", f[6], want, r.stdout)
				}
			}
		}
	}
	if len(sleeps) != 2 {
		t.Fatalf("ukfork ps does not show the two sleeps:\n%s", ps)
	}
	for _, pid := range sleeps {
		if r := runCmd(t, exec.Command(ukforkBin, "kill", pid)); r.status != 0 {
			t.Fatalf("ukfork kill %s: %s", pid, r)
		}
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "waited\n" {
		t.Errorf("the shell's wait did not end after its children were killed: %q", line)
	}
	cmd.Wait()
	for _, tc := range []struct{ args []string }{{[]string{"kill", "99999999"}}, {[]string{"kill", "-s", "NOPE", "4097"}}, {[]string{"kill", "abc"}}} {
		r := runCmd(t, exec.Command(ukforkBin, tc.args...))
		if r.status == 0 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: want one line and a failure, got %s", tc.args, r)
		}
	}
}

// craft rewrites a baked image with its manifest edited and moved to off,
// the file left sparse up to there.
func craft(t *testing.T, good string, off int64, edit func(m *image.Manifest)) string {
	t.Helper()
	data, err := os.ReadFile(good)
	must(t, err)
	manOff, manLen := binary.LittleEndian.Uint64(data[16:]), binary.LittleEndian.Uint64(data[24:])
	var m image.Manifest
	must(t, json.Unmarshal(data[manOff:manOff+manLen], &m))
	edit(&m)
	js, err := json.Marshal(&m)
	must(t, err)
	p := filepath.Join(t.TempDir(), "crafted.img")
	f, err := os.Create(p)
	must(t, err)
	defer f.Close()
	binary.LittleEndian.PutUint64(data[16:], uint64(off))
	binary.LittleEndian.PutUint64(data[24:], uint64(len(js)))
	_, err = f.Write(data[:manOff])
	must(t, err)
	_, err = f.WriteAt(js, off)
	must(t, err)
	return p
}

// TestCraftedImages: images whose sizes claim more than the format allows
// (sparse files of 64 GiB) get one line naming the image and what is wrong,
// and status 125, from run and inspect: nothing is allocated for them.
func TestCraftedImages(t *testing.T) {
	good := bake(t, app("musl", "hello"))
	const huge = 64 << 30
	cases := []struct {
		name string
		off  int64
		edit func(m *image.Manifest)
		want string
	}{
		{"runtime of 64 GiB", huge + 1<<20, func(m *image.Manifest) { m.Runtime.Size = huge }, "runtime of 68719476736 bytes, more than the 8 MiB"},
		{"file past the manifest", huge, func(m *image.Manifest) { m.Files[len(m.Files)-1].Data = image.Blob{Off: 4096, Size: huge + 1} }, "beyond the end"},
		{"guest memory of 1 TiB", 1 << 20, func(m *image.Manifest) { m.MemSize = 1 << 40 }, "memory size 1099511627776"},
	}
	for _, tc := range cases {
		img := craft(t, good, tc.off, tc.edit)
		for _, cmd := range []string{"run", "inspect"} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				r := runCmd(t, exec.Command(ukforkBin, cmd, img))
				if r.status != 125 || !strings.Contains(r.stderr, img) || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("want status 125 and one line naming %s and %q, got %s", img, tc.want, r)
				}
			})
		}
	}
}

// TestBakeConflicts: arguments that put two things at one guest path, or
// something else where a directory must be, get one line naming both, and
// no image; run refuses an --env that bake refuses.
func TestBakeConflicts(t *testing.T) {
	dir := t.TempDir()
	f, d := filepath.Join(dir, "f"), filepath.Join(dir, "d")
	must(t, os.MkdirAll(filepath.Join(d, "sub"), 0o755))
	must(t, os.WriteFile(f, []byte("file\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(d, "sub", "y"), []byte("y\n"), 0o644))
	hello := app("musl", "hello")
	prog := "the program " + hello
	cases := []struct {
		name  string
		args  []string
		names []string // both arguments that conflict, as given
	}{
		{"link at the program's directory", []string{"--link", "/bin"}, []string{"--link /bin", prog}},
		{"file at the program's directory", []string{"--file", f + ":/bin"}, []string{"--file " + f + ":/bin", prog}},
		{"file at the program", []string{"--file", f + ":/bin/hello"}, []string{"--file " + f + ":/bin/hello", "the program"}},
		{"file where a tree needs a directory", []string{"--file", f + ":/data", "--file", d + ":/data/x"},
			[]string{"--file " + f + ":/data", "--file " + d + ":/data/x"}},
		{"file deep under a file", []string{"--file", f + ":/data", "--file", f + ":/data/a/b"},
			[]string{"--file " + f + ":/data", "--file " + f + ":/data/a/b"}},
		{"file over a tree's directory", []string{"--file", d + ":/data", "--file", f + ":/data/sub"},
			[]string{"--file " + d + ":/data", "--file " + f + ":/data/sub"}},
		{"two files at one path", []string{"--file", f + ":/etc/f", "--file", d + "/sub/y:/etc/f"},
			[]string{"--file " + f + ":/etc/f", "--file " + d + "/sub/y:/etc/f"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(dir, "out.img")
			r := runCmd(t, exec.Command(ukforkBin, append(append([]string{"bake", "-o", img}, tc.args...), hello)...))
			if r.status != 125 || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "internal") {
				t.Errorf("want status 125 and one line, got %s", r)
			}
			for _, n := range tc.names {
				if !strings.Contains(r.stderr, n) {
					t.Errorf("the error does not name %q: %s", n, r.stderr)
				}
			}
			if _, err := os.Stat(img); err == nil {
				t.Errorf("an image was written despite the error")
				os.Remove(img)
			}
		})
	}
	t.Run("run --env without =", func(t *testing.T) {
		img := bake(t, hello)
		bk := runCmd(t, exec.Command(ukforkBin, "bake", "--env", "NOEQ", "-o", filepath.Join(dir, "env.img"), hello))
		r := runCmd(t, exec.Command(ukforkBin, "run", "--env", "NOEQ", img))
		if r.status != 125 || r.stdout != "" || r.stderr != bk.stderr || !strings.Contains(r.stderr, "KEY=VALUE") {
			t.Errorf("want run to refuse --env NOEQ as bake does (%q), got %s", bk.stderr, r)
		}
	})
}

// TestKill9Leftovers: a `ukfork run` killed with SIGKILL leaves its control
// socket and AF_UNIX socket directory behind; the next run reclaims them
// (a block whose lock is free is stale), and ps and kill still work.
func TestKill9Leftovers(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "run")
	env := append(os.Environ(), "UKFORK_RUN_DIR="+runDir)
	img := bake(t, app("musl", "unixnames"))
	start := func(name string) *exec.Cmd {
		cmd := exec.Command(ukforkBin, "run", img, "wait", name)
		cmd.Env = env
		_, err := cmd.StdinPipe() // open until killed
		must(t, err)
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill() })
		if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
			t.Fatalf("run %s did not bind its socket: %q", name, line)
		}
		return cmd
	}
	ls := func() string {
		ents, err := os.ReadDir(runDir)
		must(t, err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return strings.Join(names, " ")
	}
	ctl := func(args ...string) result {
		cmd := exec.Command(ukforkBin, args...)
		cmd.Env = env
		return runCmd(t, cmd)
	}
	a, b := start("a"), start("b") // blocks 1 and 2
	if got, want := ls(), "1.lock 1.sock 1.unix 2.lock 2.sock 2.unix"; got != want {
		t.Fatalf("two runs made %q, want %q", got, want)
	}
	for _, c := range []*exec.Cmd{a, b} {
		c.Process.Kill()
		c.Wait()
	}
	if r := ctl("ps"); r.status != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("ps with only dead runs: %s", r)
	}
	c := start("c") // takes block 1, reclaims block 2
	if got, want := ls(), "1.lock 1.sock 1.unix 2.lock"; got != want {
		t.Errorf("after a start, the directory holds %q, want %q: stale files left", got, want)
	}
	if socks, _ := os.ReadDir(filepath.Join(runDir, "1.unix")); len(socks) != 1 {
		t.Errorf("1.unix holds %d sockets, want only the new run's one", len(socks))
	}
	r := ctl("ps")
	var pids []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 8 && f[0] != "RUN" {
			if f[0] != fmt.Sprint(c.Process.Pid) {
				t.Errorf("ps lists a run that is gone: %s", line)
			}
			pids = append(pids, f[1])
		}
	}
	if len(pids) != 1 {
		t.Fatalf("ps does not list the new run's process:\n%s", r)
	}
	if r := ctl("kill", pids[0]); r.status != 0 {
		t.Fatalf("kill %s: %s", pids[0], r)
	}
	c.Wait()
	if got := c.ProcessState.ExitCode(); got != 128+int(syscall.SIGTERM) {
		t.Errorf("the killed run exited %d, want %d", got, 128+int(syscall.SIGTERM))
	}
	if got, want := ls(), "1.lock 2.lock"; got != want {
		t.Errorf("after the run ended, the directory holds %q, want %q", got, want)
	}
}

// TestStartRaces: `ukfork ps` asked while runs start, and SIGINT or SIGTERM
// sent at any moment of a run's start, never crash it: each run prints and
// exits as its program did, or ends with the signal's status.
func TestStartRaces(t *testing.T) {
	img := bake(t, app("musl", "hello"))
	want := native(t, "", app("musl", "hello"))
	stop := make(chan struct{})
	psDone := make(chan struct{})
	go func() {
		defer close(psDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			exec.Command(ukforkBin, "ps").Run()
		}
	}()
	for i := 0; i < 30; i++ {
		cmd := exec.Command(ukforkBin, "run", img)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		must(t, cmd.Start())
		sig := syscall.SIGINT
		if i%2 == 1 {
			sig = syscall.SIGTERM
		}
		if i%3 != 0 { // a third run to their end, the rest are signalled
			time.Sleep(time.Duration(i%7) * 300 * time.Microsecond)
			cmd.Process.Signal(sig)
		}
		cmd.Wait()
		status := cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
		switch {
		case status == want.status && out.String() == want.stdout:
		case i%3 != 0 && status == 128+int(sig):
		default:
			t.Errorf("run %d: status %d, stdout %q, stderr %q", i, status, out.String(), errb.String())
		}
	}
	close(stop)
	<-psDone
}

// TestPrintDeps: bake --print-deps lists what the loader loads (ldd
// beside it), dlopen libraries after, and says when a program is static.
func TestPrintDeps(t *testing.T) {
	r := runCmd(t, exec.Command(ukforkBin, "bake", "--print-deps", "--lib", "libnss_files.so.2", "/bin/ls"))
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("got %s", r)
	}
	ldd, err := exec.Command("ldd", "/bin/ls").Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(string(ldd)), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 4 && f[1] == "=>":
			want = append(want, f[0]+" "+f[2])
		case len(f) == 2 && strings.HasPrefix(f[0], "/"):
			want = append([]string{"(interpreter) " + f[0]}, want...) // ldd lists it last, bake first
		}
	}
	want = append(want, "libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var got []string
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		got = append(got, f[0]+" "+f[1])
	}
	if len(want) < 4 || strings.Join(got, "\n") != strings.Join(want, "\n") || !strings.HasSuffix(lines[len(lines)-1], "--lib") ||
		!strings.HasPrefix(lines[0], "NAME") {
		t.Errorf("got:\n%s\nwant (ldd's):\n%s", r.stdout, strings.Join(want, "\n"))
	}
	hello := app("musl", "hello")
	r = runCmd(t, exec.Command(ukforkBin, "bake", "--print-deps", hello))
	if r.status != 0 || r.stdout != hello+" is static: it needs no interpreter or shared libraries\n" {
		t.Errorf("got %s", r)
	}
}

// TestEntrypoint: --entrypoint starts another program of the image, with
// the path given as argv[0], as Docker gives it; a path the image lacks is
// one line and 125.
func TestEntrypoint(t *testing.T) {
	args := app("musl", "args")
	img := bake(t, app("musl", "hello"), "--file", args+":/bin/args")
	got := runCmd(t, exec.Command(ukforkBin, "run", "--entrypoint", "/bin/args", img, "one", "two words"))
	cmd := exec.Command(args, "one", "two words")
	cmd.Args[0] = "/bin/args"
	same(t, got, runCmd(t, cmd))
	for _, p := range []string{"/bin/nope", "bin/args", "/bin"} {
		r := runCmd(t, exec.Command(ukforkBin, "run", "--entrypoint", p, img))
		if r.status != 125 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--entrypoint") {
			t.Errorf("--entrypoint %s: want one line naming the flag and status 125, got %s", p, r)
		}
	}
}
