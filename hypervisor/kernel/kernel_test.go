package kernel

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/machine/machinetest"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/toolchain/image"
)

// The process model against fake machines: no /dev/kvm.

type nopHandler struct{}

func (nopHandler) Hypercall(machine.Machine, uint16, uint64) *machine.Exit { return nil }

type testRun struct {
	t    *testing.T
	k    *Kernel
	be   *machinetest.Backend
	init *Task
	errs bytes.Buffer
}

const forkArg = 0x20000 // where the fork hypercall's argument struct is

func newRun(t *testing.T, maxProcs int) *testRun {
	t.Helper()
	r := &testRun{t: t, be: &machinetest.Backend{}}
	r.k = New(Config{Backend: r.be, Pids: &PidRange{Base: 100, End: 200}, MaxProcs: maxProcs,
		Handler: func(*Task) machine.Handler { return nopHandler{} }, Stderr: io.Discard})
	fs := vfs.New([]image.Entry{{Path: "/", Type: image.TypeDir, Mode: 0o755}}, bytes.NewReader(nil))
	ns := vfs.NewNamespace(vfs.NewLayer(fs, vfs.NewSpace(1<<20), 0x75))
	init, err := r.k.Start(Init{Name: "init", NS: ns, Stdio: [3]int{-1, -1, -1}, Stderr: io.Discard,
		Machine: machine.Config{MemSize: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	r.init = init
	t.Cleanup(func() {
		r.k.StopAll(unix.SIGKILL)
		r.k.Wait()
	})
	return r
}

func fake(t *Task) *machinetest.Machine { return t.M.(*machinetest.Machine) }

// fork forks parent on its machine's thread, as the fork hypercall does.
func (r *testRun) fork(parent *Task) *Task {
	r.t.Helper()
	var pid int32
	var e unix.Errno
	if !fake(parent).Do(func(machine.Handler) { pid, e = parent.Fork(forkArg) }) {
		r.t.Fatalf("fork from %d: its machine ended", parent.Pid)
	}
	if e != 0 {
		r.t.Fatalf("fork from %d: %v", parent.Pid, e)
	}
	v := r.k.table.lookup(pid)
	if v == nil {
		r.t.Fatalf("child %d is not in the table", pid)
	}
	c := v.(*Process).task
	fake(c).WaitRunning()
	return c
}

// exit makes t's guest exit as e says and waits until the kernel saw it.
func (r *testRun) exit(t *Task, e machine.Exit) {
	r.t.Helper()
	fake(t).End(e)
	r.waitGone(t)
}

// waitGone waits until t's machine is closed: the kernel is done with it.
func (r *testRun) waitGone(t *Task) {
	r.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !fake(t).Closed(); {
		if time.Now().After(deadline) {
			r.t.Fatalf("process %d never ended", t.Pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// catch makes t's guest catch sig (as its runtime publishes it).
func catch(t *Task, sig int) {
	bi := machine.BootPage(fake(t).FakeMem())
	atomic.OrUint64(&bi.Sig_caught, 1<<(sig-1))
}

func pending(t *Task) uint64 {
	return atomic.LoadUint64(&machine.BootPage(fake(t).FakeMem()).Sig_pending)
}

func TestForkGivesChildItsIds(t *testing.T) {
	r := newRun(t, 16)
	c := r.fork(r.init)
	bi := machine.BootPage(fake(c).FakeMem())
	if bi.Pid != c.Pid || bi.Ppid != r.init.Pid {
		t.Errorf("child's boot page says pid %d ppid %d, want %d %d", bi.Pid, bi.Ppid, c.Pid, r.init.Pid)
	}
	a, _ := machine.Ptr[abi.HCForkArgs](fake(c).FakeMem(), forkArg)
	if a.Ret != 0 {
		t.Errorf("child's fork returns %d, want 0", a.Ret)
	}
	if pid, ppid, pgid, sid := c.Info(); pid != c.Pid || ppid != r.init.Pid || pgid != r.init.Pid || sid != r.init.Pid {
		t.Errorf("child info %d %d %d %d", pid, ppid, pgid, sid)
	}
	if !r.be.WasForked() {
		t.Error("the backend was not told of the fork (it keeps no shells ready)")
	}
}

func TestWaitStatuses(t *testing.T) {
	tests := []struct {
		name string
		exit machine.Exit
		want int32
	}{
		{"exit 0", machine.Exit{Code: 0}, 0},
		{"exit 3", machine.Exit{Code: 3}, 3 << 8},
		{"exit 256 wraps", machine.Exit{Code: 256}, 0},
		{"SIGSEGV", machine.Exit{Signal: unix.SIGSEGV}, int32(unix.SIGSEGV)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t, 16)
			c := r.fork(r.init)
			r.exit(c, tc.exit)
			pid, st, e := r.init.Wait4(-1, 0)
			if pid != c.Pid || st != tc.want || e != 0 {
				t.Errorf("wait4 = %d %#x %v, want %d %#x", pid, st, e, c.Pid, tc.want)
			}
			if _, _, e := r.init.Wait4(-1, 0); e != unix.ECHILD {
				t.Errorf("second wait4: %v, want ECHILD", e)
			}
		})
	}
}

func TestWaitOptions(t *testing.T) {
	r := newRun(t, 16)
	if _, _, e := r.init.Wait4(-1, 0); e != unix.ECHILD {
		t.Errorf("wait4 with no children: %v, want ECHILD", e)
	}
	if _, _, e := r.init.Wait4(-1, 0x100); e != unix.EINVAL {
		t.Errorf("wait4 bad options: %v, want EINVAL", e)
	}
	c := r.fork(r.init)
	if pid, _, e := r.init.Wait4(-1, wNohang); pid != 0 || e != 0 {
		t.Errorf("WNOHANG with a running child: %d %v, want 0", pid, e)
	}
	if _, _, e := r.init.Wait4(c.Pid+1, 0); e != unix.ECHILD {
		t.Errorf("wait4 for a pid that is no child: %v, want ECHILD", e)
	}
	// A blocked wait returns when the child exits.
	done := make(chan int32)
	go func() {
		pid, _, _ := r.init.Wait4(c.Pid, 0)
		done <- pid
	}()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("wait4 returned while the child runs")
	default:
	}
	fake(c).End(machine.Exit{Code: 1})
	select {
	case pid := <-done:
		if pid != c.Pid {
			t.Errorf("wait4 = %d, want %d", pid, c.Pid)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait4 still blocked after the child exited")
	}
}

func TestWaitInterrupted(t *testing.T) {
	r := newRun(t, 16)
	catch(r.init, int(unix.SIGUSR1))
	r.fork(r.init)
	done := make(chan unix.Errno)
	go func() {
		_, _, e := r.init.Wait4(-1, 0)
		done <- e
	}()
	time.Sleep(20 * time.Millisecond)
	r.k.Signal(r.init.Pid, int(unix.SIGUSR1))
	select {
	case e := <-done:
		if e != unix.EINTR {
			t.Errorf("wait4 = %v, want EINTR", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a caught signal did not interrupt wait4")
	}
	if pending(r.init)&(1<<(unix.SIGUSR1-1)) == 0 {
		t.Error("SIGUSR1 not pending in the guest")
	}
}

// A child that exited before the wait saw a pending signal is reaped, not
// lost to EINTR (Linux scans children first).
func TestWaitReapsBeforeEINTR(t *testing.T) {
	r := newRun(t, 16)
	catch(r.init, sigCHLD)
	c := r.fork(r.init)
	r.exit(c, machine.Exit{Code: 7})
	if pending(r.init)&(1<<(sigCHLD-1)) == 0 {
		t.Fatal("no SIGCHLD pending")
	}
	if pid, st, e := r.init.Wait4(-1, 0); pid != c.Pid || st != 7<<8 || e != 0 {
		t.Errorf("wait4 = %d %#x %v", pid, st, e)
	}
}

func TestSIGCHLD(t *testing.T) {
	r := newRun(t, 16)
	catch(r.init, sigCHLD)
	c := r.fork(r.init)
	r.exit(c, machine.Exit{Signal: unix.SIGTERM})
	bi := machine.BootPage(fake(r.init).FakeMem())
	info := bi.Sig_info[sigCHLD-1]
	if info.Code != cldKilled || info.Pid != c.Pid || info.Status != int32(unix.SIGTERM) {
		t.Errorf("SIGCHLD siginfo %+v, want CLD_KILLED pid %d status %d", info, c.Pid, unix.SIGTERM)
	}
	if fake(r.init).Kicks.Load() == 0 {
		t.Error("the parent was not kicked to take SIGCHLD")
	}
	// Ignored SIGCHLD leaves no zombie.
	atomic.OrUint64(&bi.Sig_ignored, 1<<(sigCHLD-1))
	c2 := r.fork(r.init)
	r.exit(c2, machine.Exit{})
	// Only the first child is left to reap: the second left no zombie.
	if pid, _, e := r.init.Wait4(-1, 0); pid != c.Pid || e != 0 {
		t.Errorf("wait4 = %d %v, want the first child %d", pid, e, c.Pid)
	}
	if _, _, e := r.init.Wait4(c2.Pid, wNohang); e != unix.ECHILD {
		t.Errorf("wait4 for a child whose SIGCHLD is ignored: %v, want ECHILD", e)
	}
}

func TestReparentToInit(t *testing.T) {
	r := newRun(t, 16)
	c := r.fork(r.init)
	g := r.fork(c)
	r.exit(c, machine.Exit{})
	if _, ppid, _, _ := g.Info(); ppid != r.init.Pid {
		t.Errorf("orphan's parent is %d, want the first process %d", ppid, r.init.Pid)
	}
	// The first process reaps both.
	got := map[int32]bool{}
	r.exit(g, machine.Exit{Code: 2})
	for range 2 {
		pid, _, e := r.init.Wait4(-1, 0)
		if e != 0 {
			t.Fatalf("wait4: %v", e)
		}
		got[pid] = true
	}
	if !got[c.Pid] || !got[g.Pid] {
		t.Errorf("reaped %v, want %d and %d", got, c.Pid, g.Pid)
	}
}

func TestKillTargets(t *testing.T) {
	r := newRun(t, 16)
	a, b := r.fork(r.init), r.fork(r.init)
	if e := b.Setpgid(0, 0); e != 0 {
		t.Fatalf("setpgid: %v", e)
	}
	for _, p := range []*Task{r.init, a, b} {
		catch(p, int(unix.SIGUSR1))
		catch(p, int(unix.SIGUSR2))
	}
	got := func(p *Task, sig unix.Signal) bool {
		bi := machine.BootPage(fake(p).FakeMem())
		bit := uint64(1) << (sig - 1)
		on := atomic.LoadUint64(&bi.Sig_pending)&bit != 0
		atomic.AndUint64(&bi.Sig_pending, ^bit)
		return on
	}
	tests := []struct {
		name         string
		from         *Task
		pid          int32
		init, a, b   bool
		err          unix.Errno
		sig          unix.Signal
		checkSiginfo bool
	}{
		{"one pid", a, b.Pid, false, false, true, 0, unix.SIGUSR1, true},
		{"own group", r.init, 0, true, true, false, 0, unix.SIGUSR1, false},
		{"another group", r.init, -b.Pid, false, false, true, 0, unix.SIGUSR2, false},
		{"everyone but me", a, -1, true, false, true, 0, unix.SIGUSR1, false},
		{"no such pid", a, 150, false, false, false, unix.ESRCH, unix.SIGUSR1, false},
		{"no such group", a, -150, false, false, false, unix.ESRCH, unix.SIGUSR1, false},
	}
	for _, tc := range tests {
		if e := tc.from.Kill(tc.pid, int(tc.sig)); e != tc.err {
			t.Errorf("%s: kill = %v, want %v", tc.name, e, tc.err)
		}
		if tc.checkSiginfo {
			if in := machine.BootPage(fake(b).FakeMem()).Sig_info[tc.sig-1]; in.Pid != tc.from.Pid || in.Code != siUser {
				t.Errorf("%s: siginfo %+v, want SI_USER from %d", tc.name, in, tc.from.Pid)
			}
		}
		for _, x := range []struct {
			p    *Task
			want bool
		}{{r.init, tc.init}, {a, tc.a}, {b, tc.b}} {
			if g := got(x.p, tc.sig); g != x.want {
				t.Errorf("%s: process %d got it: %v, want %v", tc.name, x.p.Pid, g, x.want)
			}
		}
	}
	if e := a.Kill(b.Pid, 65); e != unix.EINVAL {
		t.Errorf("kill with signal 65: %v, want EINVAL", e)
	}
	if e := a.Kill(b.Pid, 0); e != 0 {
		t.Errorf("kill 0 of a live pid: %v", e)
	}
	// A default action that terminates ends the process: its parent sees it.
	if e := a.Kill(b.Pid, int(unix.SIGTERM)); e != 0 {
		t.Fatal(e)
	}
	r.waitGone(b)
	if pid, st, _ := r.init.Wait4(b.Pid, 0); pid != b.Pid || st != int32(unix.SIGTERM) {
		t.Errorf("killed child: wait4 = %d %#x, want status %d", pid, st, unix.SIGTERM)
	}
	// Zombies exist for kill(2) but get nothing.
	r.exit(a, machine.Exit{})
	if e := r.init.Kill(a.Pid, 0); e != 0 {
		t.Errorf("kill 0 of a zombie: %v, want success", e)
	}
}

func TestSessionsAndGroups(t *testing.T) {
	r := newRun(t, 16)
	c := r.fork(r.init)
	if _, e := r.init.Setsid(); e != unix.EPERM {
		t.Errorf("setsid of a group leader: %v, want EPERM", e)
	}
	if e := r.init.Setpgid(0, 0); e != unix.EPERM {
		t.Errorf("setpgid of a session leader: %v, want EPERM", e)
	}
	if e := c.Setpgid(r.init.Pid, c.Pid); e != unix.ESRCH {
		t.Errorf("setpgid of the parent: %v, want ESRCH", e)
	}
	if e := r.init.Setpgid(c.Pid, 4242); e != unix.EPERM {
		t.Errorf("setpgid into a group that does not exist: %v, want EPERM", e)
	}
	if e := r.init.Setpgid(c.Pid, -1); e != unix.EINVAL {
		t.Errorf("setpgid negative: %v, want EINVAL", e)
	}
	sid, e := c.Setsid()
	if e != 0 || sid != c.Pid {
		t.Fatalf("setsid = %d %v", sid, e)
	}
	if pgid, s, _ := r.init.Ids(c.Pid); pgid != c.Pid || s != c.Pid {
		t.Errorf("after setsid: pgid %d sid %d", pgid, s)
	}
	g := r.fork(c)
	if _, _, s := func() (int32, int32, int32) { _, pp, pg, s := g.Info(); return pp, pg, s }(); s != c.Pid {
		t.Errorf("grandchild's session %d, want %d", s, c.Pid)
	}
	if e := r.init.Setpgid(c.Pid, r.init.Pid); e != unix.EPERM {
		t.Errorf("setpgid of a child in another session: %v, want EPERM", e)
	}
	if _, _, e := r.init.Ids(-3); e != unix.ESRCH {
		t.Errorf("getpgid(-3): %v, want ESRCH", e)
	}
}

func TestForkLimit(t *testing.T) {
	r := newRun(t, 3)
	r.fork(r.init)
	r.fork(r.init)
	var e unix.Errno
	fake(r.init).Do(func(machine.Handler) { _, e = r.init.Fork(forkArg) })
	if e != unix.EAGAIN {
		t.Errorf("fork past the limit: %v, want EAGAIN", e)
	}
}

func TestStopAll(t *testing.T) {
	r := newRun(t, 16)
	kids := []*Task{r.fork(r.init), r.fork(r.init)}
	kids = append(kids, r.fork(kids[0]))
	r.k.StopAll(unix.SIGKILL)
	if e := r.k.Wait(); e.Signal != unix.SIGKILL {
		t.Errorf("first process ended %+v, want SIGKILL", e)
	}
	for _, c := range kids {
		if !fake(c).Closed() {
			t.Errorf("process %d still has its machine after Wait", c.Pid)
		}
	}
	for _, p := range r.k.Procs() {
		if p.State == "running" {
			t.Errorf("still running after Wait: %+v", p)
		}
	}
	// Its machine is gone; the table refuses before any machine is made.
	if _, e := kids[0].Fork(forkArg); e != unix.EINTR {
		t.Errorf("fork after StopAll: %v, want EINTR", e)
	}
}

// The first process ending stops the others: a fork in flight then must
// give its child back in order, descriptors (whose hook writes the child's
// boot page) before the machine. It once closed the machine first and
// crashed the host on a nil memory.
func TestForkRacingStop(t *testing.T) {
	r := newRun(t, 16)
	rd, wr, ring, e := vfs.NewRingPipe(r.init.Budget(), r.be.NewChunk, 0)
	if e != 0 || !r.init.MapRing(ring) {
		t.Fatal("no ring")
	}
	r.init.FDs.Install(rd, false)
	r.init.FDs.Install(wr, false)
	r.be.OnFork = func() { r.k.StopAll(unix.SIGKILL) }
	var fe unix.Errno
	fake(r.init).Do(func(machine.Handler) { _, fe = r.init.Fork(forkArg) })
	if fe != unix.EINTR {
		t.Errorf("fork while the run stops: %v, want EINTR", fe)
	}
	r.k.Wait()
	ms := r.be.Machines()
	if len(ms) != 2 || !ms[1].Closed() {
		t.Fatalf("the child's machine was not closed: %d machines", len(ms))
	}
	if ms[1].FakeMem().Mapped(ringGPA(0)) {
		t.Error("the child's ring slot is still mapped")
	}
}

func TestProcs(t *testing.T) {
	r := newRun(t, 16)
	c := r.fork(r.init)
	c.Exec("/bin/worker")
	g := r.fork(c)
	r.exit(g, machine.Exit{})
	ps := r.k.Procs()
	if len(ps) != 3 {
		t.Fatalf("procs %+v", ps)
	}
	want := []ProcInfo{
		{Pid: r.init.Pid, Pgid: r.init.Pid, State: "running", Command: "init"},
		{Pid: c.Pid, Ppid: r.init.Pid, Pgid: r.init.Pid, State: "running", Command: "worker"},
		{Pid: g.Pid, Ppid: c.Pid, Pgid: r.init.Pid, State: "zombie", Command: "worker"},
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("proc %d: %+v, want %+v", i, ps[i], want[i])
		}
	}
	if e := r.k.Signal(g.Pid, int(unix.SIGTERM)); e != unix.ESRCH {
		t.Errorf("ukfork kill of a zombie: %v, want ESRCH", e)
	}
}

func TestPidRange(t *testing.T) {
	p := &PidRange{Base: 10, End: 13}
	used := map[int32]bool{}
	for _, want := range []int32{10, 11, 12} {
		got, ok := p.Alloc(func(x int32) bool { return used[x] })
		if !ok || got != want {
			t.Fatalf("Alloc = %d %v, want %d", got, ok, want)
		}
		used[got] = true
	}
	if _, ok := p.Alloc(func(x int32) bool { return used[x] }); ok {
		t.Error("Alloc with every pid in use succeeded")
	}
	delete(used, 11)
	if got, _ := p.Alloc(func(x int32) bool { return used[x] }); got != 11 {
		t.Errorf("Alloc = %d, want the freed 11", got)
	}
}

func TestSleepAndSigWait(t *testing.T) {
	r := newRun(t, 16)
	t0 := time.Now()
	if e := r.init.Sleep(30 * time.Millisecond); e != 0 || time.Since(t0) < 30*time.Millisecond {
		t.Errorf("sleep: %v after %v", e, time.Since(t0))
	}
	if e := r.init.SigWait(0); e != unix.EAGAIN {
		t.Errorf("sigwait(0): %v, want EAGAIN", e)
	}
	catch(r.init, int(unix.SIGUSR1))
	go func() {
		time.Sleep(20 * time.Millisecond)
		r.k.Signal(r.init.Pid, int(unix.SIGUSR1))
	}()
	if e := r.init.Sleep(10 * time.Second); e != unix.EINTR {
		t.Errorf("sleep interrupted: %v, want EINTR", e)
	}
}

func TestDeadline(t *testing.T) {
	if !Deadline(-1).IsZero() || !Deadline(MaxWait+1).IsZero() || !Deadline(1<<63-1).IsZero() {
		t.Error("a negative or huge timeout must mean no deadline")
	}
	if d := time.Until(Deadline(int64(time.Second))); d <= 0 || d > time.Second {
		t.Errorf("a 1 s timeout ends in %v", d)
	}
}
