// Package kernel is the host side of a running program: its processes and
// their threads, ids, parents and children, exit statuses and waits,
// signals, and the state a process keeps on the host (descriptors, working
// directory). It knows what runs a process only as a machine.Machine, made
// by a machine.Backend, so it is tested with fakes (machinetest). The
// hypercall handlers in hypervisor/hcall decode guest requests and call
// here.
package kernel

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/unixname"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// maxPid bounds pids, as /proc/sys/kernel/pid_max does.
const maxPid = 1 << 22

// Kernel is one program run: every process it forks.
type Kernel struct {
	table   *Table
	backend machine.Backend
	handler func(*Task) machine.Handler
	errs    io.Writer
	unix    *unixname.Space
	budget  *vfs.Budget    // host resources of the run's objects
	ctty    cttys          // controlling terminals by session (tty.go)
	flight  vfs.InFlight   // descriptors being passed (SCM_RIGHTS)
	locks   vfs.Locks      // file locks
	futex   futexes        // waiters on shared memory (futex.go)
	sysv    *sysv          // System V IPC (ipc.go)
	wg      sync.WaitGroup // running machines
	forked  sync.Once
}

// Config sets a kernel up.
type Config struct {
	Backend  machine.Backend
	Pids     Pids                        // nil: 1..maxPid
	MaxProcs int                         // fork fails with EAGAIN beyond it
	Handler  func(*Task) machine.Handler // serves a task's hypercalls
	Stderr   io.Writer                   // ukfork's own messages
	SockDir  string                      // for the AF_UNIX path names the program binds ("": a temporary directory)
	Budget   *vfs.Budget                 // nil: vfs.DefaultBudget
}

// DefaultMaxProcs sizes the process limit for this machine: a VM costs the
// host a few hundred KiB at least, so allow one per 8 MiB of RAM, at most 4096.
func DefaultMaxProcs() int {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 256
	}
	n := int(uint64(si.Totalram) * uint64(si.Unit) / (8 << 20))
	return max(16, min(n, 4096))
}

// New makes an empty kernel.
func New(c Config) *Kernel {
	if c.MaxProcs <= 0 {
		c.MaxProcs = DefaultMaxProcs()
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	if c.Pids == nil {
		c.Pids = &PidRange{Base: 1, End: maxPid}
	}
	if c.Budget == nil {
		c.Budget = vfs.DefaultBudget()
	}
	return &Kernel{table: NewTable(c.Pids, c.MaxProcs), backend: c.Backend, handler: c.Handler, errs: c.Stderr,
		unix: unixname.New(c.SockDir), budget: c.Budget, sysv: newSysv()}
}

// Table is the run's process table.
func (k *Kernel) Table() *Table { return k.table }

// Init describes the program's first process.
type Init struct {
	Name   string
	NS     *vfs.Namespace
	Stdio  [3]int      // host fds, borrowed
	Pts    *vfs.Devpts // the run's terminals; nil: stdio are plain files
	Trace  io.Writer
	Stderr io.Writer
	// Machine makes its machine once its pid is known (the boot page
	// carries it).
	Machine machine.Config
}

// Start makes the first process and runs it; Wait waits for its end.
func (k *Kernel) Start(in Init) (*Task, error) {
	pid, e := k.table.reserve()
	if e != 0 {
		return nil, fmt.Errorf("cannot start the first process: %w", e)
	}
	in.Machine.Boot.Pid = pid
	m, err := k.backend.New(in.Machine)
	if err != nil {
		k.table.unreserve(pid)
		return nil, err
	}
	p := &Process{k: k, Pid: pid, M: m, NS: in.NS, FDs: vfs.NewFDTable(1024), cwd: in.NS.Root(), exe: in.Machine.Boot.Program,
		Trace: in.Trace, Stderr: in.Stderr, Reported: map[uint64]bool{}}
	t, err := newTask(p)
	if err != nil {
		m.Close()
		k.table.unreserve(pid)
		return nil, fmt.Errorf("cannot create an eventfd: %w", err)
	}
	for _, fd := range in.Stdio {
		flags := unix.O_RDWR
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
			flags = fl
		}
		var f vfs.File = &vfs.HostFile{FD: fd}
		if in.Pts != nil {
			// The run's terminal is its first process's controlling
			// terminal, in a session of its own.
			if tf := in.Pts.Terminal(fd, p.Cred()); tf != nil {
				f = tf
				tf.Tty.SetSession(pid, pid)
				k.ctty.set(pid, tf.Tty)
			}
		}
		p.FDs.Install(vfs.NewOpenFile(f, flags), false)
	}
	p.FDs.Watch, p.FDs.Limit, p.FDs.Closed = p.fdChanged, p.nofile, p.fdClosed
	if e := k.table.start(pid, 0, in.Name, p); e != 0 {
		k.release(t)
		return nil, fmt.Errorf("the run is stopping")
	}
	k.wg.Add(1)
	k.run(t)
	return t, nil
}

// run runs t's machine; k.wg already counts it. From a goroutine of its
// own: handing the job to a KVM shell's locked thread straight from the
// launching or forking thread makes Go give that thread's P away, which
// serialised launches (10 at once took 4x longer).
func (k *Kernel) run(t *Task) {
	go func() {
		defer k.wg.Done()
		exit, err := t.M.Run(k.handler(t))
		if err != nil {
			fmt.Fprintf(k.errs, "ukfork: %s[%d]: %v\n", t.Name(), t.Pid, err)
			exit = machine.Exit{Signal: unix.SIGKILL}
		}
		k.exited(t, exit)
	}()
}

// Wait blocks until the first process exits, stops every other one, and
// returns how the first one ended.
func (k *Kernel) Wait() machine.Exit {
	<-k.table.Done()
	left, already := k.table.stopAll()
	if n := len(left); n > 0 && !already {
		// The run is its first process: a program that daemonizes
		// leaves it at once, and its server with it.
		s := "es"
		if n == 1 {
			s = ""
		}
		fmt.Fprintf(k.errs, "ukfork: the first process exited; stopping %d other process%s (a daemonizing program? run it in the foreground)\n", n, s)
	}
	for _, v := range left {
		v.Terminate(unix.SIGKILL)
	}
	k.wg.Wait()
	k.unix.Close()
	k.flight.Close()
	k.closeIPC()
	return k.table.InitExit()
}

// StopAll ends every running process as if killed by sig; no process
// starts after it.
func (k *Kernel) StopAll(sig unix.Signal) {
	vs, _ := k.table.stopAll()
	for _, v := range vs {
		v.Terminate(sig)
	}
}

// quiesce closes what t holds on the host but its machine, in the order
// that keeps every hook safe: descriptors first (their hooks write the
// guest's boot page), then the signal state (no signal may touch the
// memory after).
func (t *Task) quiesce() {
	t.unlockRings()
	t.FDs.CloseAll()
	t.sigMu.Lock()
	t.dead = true
	t.stopAlarm()
	t.sigMu.Unlock()
}

// release frees a task that never ran; its machine goes last.
func (k *Kernel) release(t *Task) {
	t.quiesce()
	t.M.Close()
	t.dropWindows(false)
	t.free()
}

// exited makes t a zombie and wakes waiters. Its descriptors close before
// anyone can see the zombie (a parent that waited and then closes its end
// of a pipe must leave no holder); the machine goes after the parent was
// woken: its wait need not wait for that.
func (k *Kernel) exited(t *Task, exit machine.Exit) {
	if t.Pid == k.initPid() {
		if m := t.M.Mem(); m != nil {
			t.ResidentAtExit = m.Resident()
		}
	}
	t.quiesce()
	k.locks.ReleasePid(t.Pid)
	t.detachAll()
	name := t.Name()
	parent, orphans := k.table.exited(t.Pid, exit)
	if parent != nil {
		parent.Signal(sigCHLD, childInfo(t.Pid, exit))
	}
	for _, o := range orphans {
		o.ParentDied(t.Pid)
	}
	t.M.Close()
	t.dropWindows(false)
	t.free()
	if exit.Msg != "" && t.Pid != k.initPid() {
		fmt.Fprintf(k.errs, "ukfork: %s[%d]: %s\n", name, t.Pid, exit.Msg)
	}
}

func (k *Kernel) initPid() int32 {
	k.table.mu.Lock()
	defer k.table.mu.Unlock()
	if k.table.init == nil {
		return 0
	}
	return k.table.init.pid
}

// Fork clones t, whose vCPU is stopped at the fork hypercall whose argument
// struct is at argGPA. It returns the child's pid.
func (t *Task) Fork(argGPA uint64) (int32, unix.Errno) {
	k := t.k
	k.forked.Do(k.backend.Forked)
	pid, e := k.table.reserve()
	if e != 0 {
		return 0, e
	}
	cm, err := t.M.Fork()
	if err != nil {
		k.table.unreserve(pid)
		fmt.Fprintf(k.errs, "ukfork: %s[%d]: fork: %v\n", t.Name(), t.Pid, err)
		return 0, unix.ENOMEM
	}
	windows, err := t.forkWindows(pid, cm)
	if err != nil {
		cm.Close()
		k.table.unreserve(pid)
		fmt.Fprintf(k.errs, "ukfork: %s[%d]: fork: shared memory: %v\n", t.Name(), t.Pid, err)
		return 0, unix.ENOMEM
	}
	t.cwdMu.Lock()
	exe := t.exe
	t.cwdMu.Unlock()
	cp := &Process{k: k, Pid: pid, M: cm, NS: t.NS, FDs: t.FDs.Fork(), cwd: t.Cwd(), exe: exe, Trace: t.Trace, Stderr: t.Stderr,
		Reported: map[uint64]bool{},
		rings:    t.rings, // the child's memory maps the same rings at the same slots
		windows:  windows} // and the same shared objects at the same addresses
	c, err := newTask(cp)
	if err != nil {
		cp.FDs.CloseAll()
		cm.Close()
		cp.dropWindows(false)
		k.table.unreserve(pid)
		return 0, unix.EAGAIN
	}
	cp.FDs.Watch, cp.FDs.Limit, cp.FDs.Closed = cp.fdChanged, cp.nofile, cp.fdClosed
	// The child sees 0 from fork and its own ids.
	mem := cm.Mem()
	if a, err := machine.Ptr[abi.HCForkArgs](mem, argGPA); err == nil {
		a.Ret = 0
	}
	if bi := machine.BootPage(mem); bi != nil {
		bi.Pid, bi.Ppid = pid, t.Pid
		bi.Sig_pending = 0 // a child starts with no pending signal
		bi.Pdeathsig = 0   // nor its parent's death signal
	}
	k.wg.Add(1) // before start: Wait, once the table says stopping, waits for it
	if e := k.table.start(pid, t.Pid, t.Name(), cp); e != 0 {
		k.wg.Done()
		k.release(c)
		return 0, e
	}
	k.run(c)
	return pid, 0
}

// Wait4 reaps a child as wait4(2): pid > 0 that child, -1 any, 0 the
// caller's process group, < -1 that process group.
func (t *Task) Wait4(pid int32, options int) (int32, int32, unix.Errno) {
	if uint32(options)&^waitOptions != 0 {
		return 0, 0, unix.EINVAL
	}
	for {
		// Made before looking: an exit after the look makes it ready.
		changes := t.k.table.waitable()
		cpid, status, found := t.k.table.tryWait(t.Pid, pid, options)
		switch {
		case cpid != 0:
			return cpid, status, 0
		case !found:
			return 0, 0, unix.ECHILD
		case options&wNohang != 0:
			return 0, 0, 0
		}
		if e := t.Block([]waiter.Entry{{W: changes, Events: unix.POLLIN}}, time.Time{}); e != 0 {
			// A child that exited first (its SIGCHLD may be the signal)
			// is still reaped, as on Linux.
			if cpid, status, _ := t.k.table.tryWait(t.Pid, pid, options); cpid != 0 {
				return cpid, status, 0
			}
			return 0, 0, e
		}
	}
}

// Procs lists the program's processes.
func (k *Kernel) Procs() []ProcInfo {
	out, views := k.table.list()
	for i, v := range views {
		if p, ok := v.(*Process); ok {
			out[i].Resident = p.resident()
			out[i].HostMem = p.hostMemory()
			if c := p.comm(); c != "" {
				out[i].Command = c
			}
		}
	}
	return out
}

// hostMemory is the host memory p's descriptors hold (pipe buffers,
// rings), each open file description counted once.
func (p *Process) hostMemory() uint64 {
	var n int64
	seen := map[*vfs.OpenFile]bool{}
	p.FDs.Each(func(_ int, f *vfs.OpenFile) {
		if h, ok := f.File.(vfs.HostMemory); ok && !seen[f] {
			seen[f] = true
			n += h.HostMemory()
		}
	})
	return uint64(n)
}

// maxNofile is Linux's nr_open: no RLIMIT_NOFILE goes above it.
const maxNofile = 1 << 20

// nofile is RLIMIT_NOFILE as the guest published it (0: the default).
func (p *Process) nofile() int {
	if bi := machine.BootPage(p.M.Mem()); bi != nil {
		return int(min(atomic.LoadUint64(&bi.Nofile), maxNofile))
	}
	return 0
}

// resident is the host memory p's machine holds, 0 once it is gone.
func (p *Process) resident() uint64 {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if p.dead {
		return 0
	}
	if m := p.M.Mem(); m != nil {
		return m.Resident()
	}
	return 0
}

// Signal sends sig to process pid from outside the program (`ukfork kill`).
func (k *Kernel) Signal(pid int32, sig int) unix.Errno {
	if sig < 0 || sig > nsig {
		return unix.EINVAL
	}
	v := k.table.lookup(pid)
	if v == nil {
		return unix.ESRCH
	}
	if sig != 0 {
		v.Signal(sig, SigInfo{Code: siUser})
	}
	return 0
}

// NewChunk makes memory guests can share (a pipe ring's).
func (p *Process) NewChunk() (machine.Chunk, error) { return p.k.backend.NewChunk() }

// Budget bounds the host resources of the run's objects.
func (p *Process) Budget() *vfs.Budget { return p.k.budget }

// Locks is the run's table of file locks.
func (p *Process) Locks() *vfs.Locks { return &p.k.locks }

// fdClosed drops p's POSIX locks on a file one of its descriptors named.
func (p *Process) fdClosed(f *vfs.OpenFile) { p.k.locks.ReleasePosix(f, p.Pid) }

// InFlight is the run's table of descriptors being passed.
func (p *Process) InFlight() *vfs.InFlight { return &p.k.flight }
