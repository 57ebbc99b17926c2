package kernel

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/memory"
	"github.com/ukfork/ukfork/hypervisor/unixname"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/vm"
)

// maxPid bounds pids, as /proc/sys/kernel/pid_max does.
const maxPid = 1 << 22

// Kernel is one program run: every process it forks, on this host.
type Kernel struct {
	mu       sync.Mutex
	tasks    map[int32]*Task
	nextPid  int32
	pidBase  int32
	pidEnd   int32
	init     *Task
	live     int // processes not yet reaped, the first included
	maxProcs int
	changed  chan struct{} // closed and replaced whenever a process exits
	stopping bool          // StopAll ran: no new process may start
	done     chan struct{} // closed when the first process has exited
	initExit vm.Exit
	wg       sync.WaitGroup

	handler func(*Task) vm.Handler
	errs    io.Writer
	unix    *unixname.Space
}

// Config sets a kernel up.
type Config struct {
	PidBase  int32 // pids are PidBase.. PidBase+PidSpan-1 (0: from 1)
	PidSpan  int32
	MaxProcs int                    // fork fails with EAGAIN beyond it
	Handler  func(*Task) vm.Handler // serves a task's hypercalls
	Stderr   io.Writer              // ukfork's own messages
	SockDir  string                 // for the AF_UNIX path names the program binds ("": a temporary directory)
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
	if c.PidBase <= 0 {
		c.PidBase, c.PidSpan = 1, maxPid-1
	}
	c.MaxProcs = min(c.MaxProcs, int(c.PidSpan)-1)
	return &Kernel{tasks: map[int32]*Task{}, nextPid: c.PidBase, pidBase: c.PidBase, pidEnd: c.PidBase + c.PidSpan, maxProcs: c.MaxProcs,
		changed: make(chan struct{}), done: make(chan struct{}), handler: c.Handler, errs: c.Stderr,
		unix: unixname.New(c.SockDir)}
}

// allocPid returns a free pid; k.mu held.
func (k *Kernel) allocPid() int32 {
	for {
		pid := k.nextPid
		k.nextPid++
		if k.nextPid >= k.pidEnd {
			k.nextPid = k.pidBase
		}
		if _, used := k.tasks[pid]; !used {
			return pid
		}
	}
}

// Start runs the program's first process on v.
func (k *Kernel) Start(t *Task, v *vm.VM) {
	k.mu.Lock()
	t.k, t.VM = k, v
	t.FDs.Watch = t.fdChanged
	t.Pid = k.allocPid()
	t.pgid, t.sid = t.Pid, t.Pid
	t.children = map[int32]*Task{}
	k.tasks[t.Pid] = t
	k.init = t
	k.live++
	k.mu.Unlock()
	k.run(t)
}

// NextPid is the pid the next Start will use (the boot information needs it
// before the VM exists).
func (k *Kernel) NextPid() int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	for pid := k.nextPid; ; pid++ {
		if pid >= k.pidEnd {
			pid = k.pidBase
		}
		if _, used := k.tasks[pid]; !used {
			return pid
		}
	}
}

func (k *Kernel) run(t *Task) {
	k.wg.Add(1)
	k.runAdded(t)
}

// runAdded runs t's VM; k.wg already counts it. From a goroutine of its
// own: handing the job to the shell's locked thread straight from the
// launching or forking thread makes Go give that thread's P away, which
// serialised launches (10 at once took 4x longer).
func (k *Kernel) runAdded(t *Task) {
	go func() {
		defer k.wg.Done()
		exit, err := t.VM.Run(k.handler(t))
		if err != nil {
			fmt.Fprintf(k.errs, "ukfork: %s[%d]: %v\n", t.name, t.Pid, err)
			exit = vm.Exit{Signal: unix.SIGKILL}
		}
		k.exited(t, exit)
	}()
}

// Wait blocks until the first process exits, stops every other one, and
// returns how the first one ended.
func (k *Kernel) Wait() vm.Exit {
	<-k.done
	k.StopAll(unix.SIGKILL)
	k.wg.Wait()
	k.unix.Close()
	return k.initExit
}

// StopAll ends every running process as if killed by sig.
func (k *Kernel) StopAll(sig unix.Signal) {
	k.mu.Lock()
	k.stopping = true // forks in flight give up instead of starting
	var ts []*Task
	for _, t := range k.tasks {
		if t != nil && t.state == running {
			ts = append(ts, t)
		}
	}
	k.mu.Unlock()
	for _, t := range ts {
		t.Interrupt()
		t.VM.Stop(sig)
	}
}

// exited turns t into a zombie, hands its children to the first process and
// wakes waiters. The VM and descriptors are released at once: a zombie
// holds nothing but its status.
func (k *Kernel) exited(t *Task, exit vm.Exit) {
	if t == k.init {
		t.ResidentAtExit = t.VM.Mem().Resident()
	}
	// Descriptors close at exit, before anyone can see the zombie: a
	// parent that waited and then closes its end must leave no holder.
	t.unlockRings()
	t.FDs.CloseAll()
	// No signal may touch the VM's memory from here on.
	t.sigMu.Lock()
	t.dead = true
	if t.alarm != nil {
		t.alarm.Stop()
		t.alarm = nil
	}
	t.sigMu.Unlock()

	k.mu.Lock()
	t.state, t.exit = zombie, exit
	for pid, c := range t.children {
		if t != k.init {
			c.parent = k.init
			k.init.children[pid] = c
		}
	}
	t.children = map[int32]*Task{}
	parent := t.parent
	if t == k.init {
		t.state = reaped
		k.initExit = exit
		close(k.done)
	} else if parent != nil && parent.reapsChildren() {
		// SIGCHLD ignored or SA_NOCLDWAIT: no zombie is left.
		t.state = reaped
		delete(parent.children, t.Pid)
		delete(k.tasks, t.Pid)
		k.live--
	}
	k.broadcast()
	k.mu.Unlock()
	if parent != nil && t != k.init {
		parent.send(sigCHLD, childInfo(t, exit))
	}
	// Released after the parent was woken: its wait need not wait for it.
	t.VM.Close()
	t.Free()
	if exit.Msg != "" && t != k.init {
		fmt.Fprintf(k.errs, "ukfork: %s[%d]: %s\n", t.name, t.Pid, exit.Msg)
	}
}

// broadcast wakes every waiter; k.mu held.
func (k *Kernel) broadcast() {
	close(k.changed)
	k.changed = make(chan struct{})
}

// Fork clones t, whose vCPU is stopped at the fork hypercall whose argument
// struct is at argGPA. It returns the child's pid.
func (t *Task) Fork(argGPA uint64) (int32, unix.Errno) {
	k := t.k
	if k == nil {
		return 0, unix.ENOSYS
	}
	k.mu.Lock()
	if k.live >= k.maxProcs {
		k.mu.Unlock()
		return 0, unix.EAGAIN
	}
	pid := k.allocPid()
	k.tasks[pid] = nil // reserved
	k.live++
	k.mu.Unlock()

	cv, err := t.VM.Fork()
	if err != nil {
		k.mu.Lock()
		delete(k.tasks, pid)
		k.live--
		k.mu.Unlock()
		fmt.Fprintf(k.errs, "ukfork: %s[%d]: fork: %v\n", t.name, t.Pid, err)
		return 0, unix.ENOMEM
	}
	intr := newIntr()
	if intr < 0 {
		cv.Close()
		k.mu.Lock()
		delete(k.tasks, pid)
		k.live--
		k.mu.Unlock()
		return 0, unix.EAGAIN
	}
	c := &Task{k: k, Pid: pid, parent: t, children: map[int32]*Task{}, VM: cv, name: t.name,
		FS: t.FS, FDs: t.FDs.Fork(), Cwd: t.Cwd, Trace: t.Trace, Stderr: t.Stderr,
		Reported: map[uint64]bool{}, stop: make(chan struct{}), intr: intr, sigCh: make(chan struct{}, 1),
		rings: t.rings} // the child's memory maps the same rings at the same slots
	c.FDs.Watch = c.fdChanged
	// The child sees 0 from fork and its own ids.
	m := cv.Mem()
	if a, err := memory.Ptr[abi.HCForkArgs](m, argGPA); err == nil {
		a.Ret = 0
	}
	if bi, err := memory.Ptr[abi.Bootinfo](m, abi.BootinfoAddr); err == nil {
		bi.Pid, bi.Ppid = pid, t.Pid
		bi.Sig_pending = 0 // a child starts with no pending signal
	}
	k.mu.Lock()
	if k.stopping {
		delete(k.tasks, pid)
		k.live--
		k.mu.Unlock()
		cv.Close()
		c.FDs.CloseAll()
		c.Free()
		return 0, unix.EINTR
	}
	c.pgid, c.sid = t.pgid, t.sid
	k.tasks[pid] = c
	t.children[pid] = c
	k.wg.Add(1) // under k.mu: Wait cannot miss it
	k.mu.Unlock()
	k.runAdded(c)
	return pid, 0
}

// Linux wait options.
const (
	wNohang     = 1
	wUntraced   = 2
	wContinued  = 8
	wNothread   = 0x20000000
	wAll        = 0x40000000
	wClone      = 0x80000000
	waitOptions = wNohang | wUntraced | wContinued | wNothread | wAll | wClone
)

// WaitStatus encodes how a process ended, as wait(2) reports it.
func WaitStatus(e vm.Exit) int32 {
	if e.Signal != 0 {
		return int32(e.Signal) & 0x7f
	}
	return int32(e.Code&0xff) << 8
}

// Wait4 reaps a child as wait4(2): pid > 0 that child, -1 any, 0 the
// caller's process group, < -1 that process group.
func (t *Task) Wait4(pid int32, options int) (int32, int32, unix.Errno) {
	if uint32(options)&^waitOptions != 0 {
		return 0, 0, unix.EINVAL
	}
	k := t.k
	if k == nil {
		return 0, 0, unix.ECHILD
	}
	// interrupted: a signal came while waiting. A child that exited first
	// (its SIGCHLD may be that signal) is still reaped, as on Linux.
	interrupted := false
	k.mu.Lock()
	for {
		found := false
		for cpid, c := range t.children {
			if !waitMatch(t, c, pid) {
				continue
			}
			found = true
			if c.state == zombie {
				c.state = reaped
				delete(t.children, cpid)
				delete(k.tasks, cpid)
				k.live--
				k.mu.Unlock()
				return cpid, WaitStatus(c.exit), 0
			}
		}
		if !found {
			k.mu.Unlock()
			return 0, 0, unix.ECHILD
		}
		if options&wNohang != 0 {
			k.mu.Unlock()
			return 0, 0, 0
		}
		ch := k.changed
		k.mu.Unlock()
		if interrupted {
			return 0, 0, unix.EINTR
		}
		// Only a wait that must block sees a pending signal, as on Linux.
		if e := t.PrepareBlock(); e != 0 {
			interrupted = true
		} else {
			select {
			case <-ch:
			case <-t.stop:
				interrupted = true
			case <-t.sigCh:
				interrupted = true
			}
		}
		k.mu.Lock()
	}
}

func waitMatch(t, c *Task, pid int32) bool {
	switch {
	case pid > 0:
		return c.Pid == pid
	case pid == -1:
		return true
	case pid == 0:
		return c.pgid == t.pgid
	default:
		return c.pgid == -pid
	}
}

// NewInit prepares the first process of a program.
func NewInit(fs *vfs.FS, stdio [3]int, stderr io.Writer, name string) *Task {
	t := NewTask(fs, stdio, stderr)
	t.name = name
	return t
}

// ProcInfo describes one process for `ukfork ps`.
type ProcInfo struct {
	Pid, Ppid, Pgid int32
	State           string
	Command         string
	Resident        uint64
}

// Procs lists the program's processes.
func (k *Kernel) Procs() []ProcInfo {
	k.mu.Lock()
	var out []ProcInfo
	var live []*Task
	for _, t := range k.tasks {
		if t == nil || t.state == reaped {
			continue
		}
		pi := ProcInfo{Pid: t.Pid, Pgid: t.pgid, Command: t.name, State: "running"}
		if t.parent != nil {
			pi.Ppid = t.parent.Pid
		}
		if t.state == zombie {
			pi.State = "zombie"
		}
		out = append(out, pi)
		live = append(live, t)
	}
	k.mu.Unlock()
	sort.Slice(live, func(i, j int) bool { return live[i].Pid < live[j].Pid })
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	for i, t := range live {
		t.sigMu.Lock()
		if !t.dead && t.VM != nil && t.VM.Mem() != nil {
			out[i].Resident = t.VM.Mem().Resident()
		}
		t.sigMu.Unlock()
	}
	return out
}

// Signal sends sig to process pid from outside the program (`ukfork kill`).
func (k *Kernel) Signal(pid int32, sig int) unix.Errno {
	if sig < 0 || sig > nsig {
		return unix.EINVAL
	}
	k.mu.Lock()
	t := k.tasks[pid]
	k.mu.Unlock()
	if t == nil || t.state != running {
		return unix.ESRCH
	}
	if sig != 0 {
		t.Send(sig, 0)
	}
	return 0
}
