// Package kernel is the host side of a running program: its processes (each
// a VM), their ids, parents and children, exit statuses and waits, and the
// state a process keeps on the host (descriptors, working directory). The
// hypercall handlers in hypervisor/hcall decode guest requests and call here.
package kernel

import (
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/vm"
)

type taskState int

const (
	running taskState = iota
	zombie            // exited, waiting for its parent's wait
	reaped
)

// Task is one process of the program, run by one VM.
type Task struct {
	k *Kernel // nil for a task made alone (tests)

	// Identity and family, guarded by k.mu.
	Pid      int32
	parent   *Task
	children map[int32]*Task
	pgid     int32
	sid      int32
	state    taskState
	exit     vm.Exit
	name     string

	VM *vm.VM

	// Host-side process state, used only from the task's own vCPU thread.
	FS     *vfs.FS
	FDs    *vfs.FDTable
	Cwd    *vfs.Node
	Trace  io.Writer // nil: no trace
	Stderr io.Writer // ukfork's own messages

	// StartedAt is when the program's first instruction was reached
	// (reported only when the VM was booted with abi.BootStarted).
	StartedAt time.Time
	OnStarted func()

	// ResidentAtExit is the host memory the VM held on its own at exit.
	ResidentAtExit uint64

	// Reported remembers syscall numbers already named as unsupported.
	Reported map[uint64]bool

	stopOnce sync.Once
	stop     chan struct{}
	intr     int           // eventfd: readable while the task must not block
	sigCh    chan struct{} // the same, for waits on channels

	rings ringSlots // pipe rings mapped in the VM (rings.go)

	// Signals (signal.go), guarded by sigMu.
	sigMu      sync.Mutex
	dead       bool // the VM is gone: its memory may not be touched
	alarm      *time.Timer
	alarmAt    time.Time
	alarmEvery time.Duration
}

// NewTask makes a process that belongs to no kernel, with stdin, stdout and
// stderr on the given host fds: for tests of the handlers.
func NewTask(fs *vfs.FS, stdio [3]int, stderr io.Writer) *Task {
	t := &Task{Pid: 1, pgid: 1, sid: 1, FS: fs, FDs: vfs.NewFDTable(1024), Cwd: fs.Root,
		Stderr: stderr, Reported: map[uint64]bool{}, stop: make(chan struct{}), children: map[int32]*Task{}}
	for _, fd := range stdio {
		flags := unix.O_RDWR
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
			flags = fl
		}
		t.FDs.Install(vfs.NewOpenFile(&vfs.HostFile{FD: fd}, flags), false)
	}
	t.intr = newIntr()
	t.sigCh = make(chan struct{}, 1)
	return t
}

func newIntr() int {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return -1
	}
	return fd
}

// IntrFD is an eventfd that becomes readable when the task must stop
// blocking; blocking host calls poll it beside what they wait for.
func (t *Task) IntrFD() int { return t.intr }

// Free releases what the task holds besides its VM and descriptors.
func (t *Task) Free() {
	t.sigMu.Lock()
	t.dead = true
	if t.alarm != nil {
		t.alarm.Stop()
		t.alarm = nil
	}
	t.sigMu.Unlock()
	if t.intr >= 0 {
		unix.Close(t.intr)
		t.intr = -1
	}
}

// Interrupt wakes the task from a blocking call (sleep, wait) so that its
// VM can stop. The call returns EINTR.
func (t *Task) Interrupt() {
	t.stopOnce.Do(func() {
		close(t.stop)
		if t.intr >= 0 {
			unix.Write(t.intr, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		}
	})
}

// Interrupted is closed when the task must stop blocking.
func (t *Task) Interrupted() <-chan struct{} { return t.stop }

// Info returns pid, parent pid, process group and session.
func (t *Task) Info() (pid, ppid, pgid, sid int32) {
	if t.k == nil {
		return t.Pid, 0, t.pgid, t.sid
	}
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.parent != nil {
		ppid = t.parent.Pid
	}
	return t.Pid, ppid, t.pgid, t.sid
}

// Exec records that the task now runs the program at path.
func (t *Task) Exec(path string) {
	t.FDs.CloseOnExec()
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		name = path[i+1:]
	}
	if t.k != nil {
		t.k.mu.Lock()
		defer t.k.mu.Unlock()
	}
	t.name = name
}

// Name is the program's name, for messages.
func (t *Task) Name() string { return t.name }
