package kernel

import (
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// Process is one process of the program, run by one machine: what all its
// threads share (ids, descriptors, working directory, signal state kept on
// the host). It is the table's View of a process of this host.
type Process struct {
	k   *Kernel
	Pid int32
	M   machine.Machine

	NS     *vfs.Namespace // the run's tree, shared by every process
	FDs    *vfs.FDTable   // has its own lock
	Trace  io.Writer      // nil: no trace
	Stderr io.Writer      // ukfork's own messages

	cwdMu sync.Mutex // guards cwd and exe, which /proc reads from other tasks
	cwd   vfs.Inode
	exe   string // the program's path in the tree

	// Used only from the process's vCPU thread.
	Reported map[uint64]bool // syscall numbers already named as unsupported
	rings    ringSlots       // pipe rings mapped in the machine (rings.go)
	windows  []shmWindow     // shared objects mapped in the machine (shm.go), by address

	// StartedAt is when the program's first instruction was reached
	// (reported only when booted with abi.BootStarted).
	StartedAt time.Time
	OnStarted func()

	// ResidentAtExit is the host memory the machine held on its own at exit.
	ResidentAtExit uint64

	task *Task // its one thread: one vCPU per machine

	// Signals (signal.go), guarded by sigMu.
	sigMu      sync.Mutex
	dead       bool // the machine is gone: its memory may not be touched
	alarm      *time.Timer
	alarmAt    time.Time
	alarmEvery time.Duration
	sigfds     waiter.Queue  // signalfds watching it: told of each new pending signal
	stopped    bool          // by a stop signal: its task waits in Stop until SIGCONT
	contQ      waiter.Queue  // a stopped task, told when it continues
	contSeq    uint64        // SIGCONTs generated
	stopSeq    uint64        // contSeq when the last stop signal was generated
	sigGen     atomic.Uint64 // signals made pending: a signalfd's edge
}

// Task is one thread of a process: the vCPU that makes hypercalls, and
// what it blocks on. Handlers get the Task; what the process shares is
// reached through it.
type Task struct {
	*Process
	Tid int32

	stopOnce sync.Once
	stop     chan struct{} // closed when the task must stop blocking
	intrMu   sync.Mutex    // guards intr against free while others notify
	intr     int           // eventfd: its notifier (block.go)
}

func newTask(p *Process) (*Task, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	t := &Task{Process: p, Tid: p.Pid, stop: make(chan struct{}), intr: fd}
	p.task = t
	return t, nil
}

// free releases what the task holds.
func (t *Task) free() {
	t.intrMu.Lock()
	defer t.intrMu.Unlock()
	if t.intr >= 0 {
		unix.Close(t.intr)
		t.intr = -1
	}
}

// Interrupt ends every blocking call of the task, for good: EINTR, so that
// its machine can stop.
func (t *Task) Interrupt() {
	t.stopOnce.Do(func() {
		close(t.stop)
		t.Notify()
	})
}

// Exec records that the process now runs the program at path.
func (t *Task) Exec(path string) {
	t.FDs.CloseOnExec()
	t.dropWindows(true) // the new program's space has none of the old mappings
	t.cwdMu.Lock()
	t.exe = path
	t.cwdMu.Unlock()
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		name = path[i+1:]
	}
	t.k.table.setName(t.Pid, name)
}

// Info returns pid, parent pid, process group and session.
func (p *Process) Info() (pid, ppid, pgid, sid int32) {
	ppid, pgid, sid, _ = p.k.table.info(p.Pid)
	return p.Pid, ppid, pgid, sid
}

// Ids returns the process group and session of pid (0: the caller), for
// getpgid(2) and getsid(2).
func (p *Process) Ids(pid int32) (pgid, sid int32, e unix.Errno) {
	if pid < 0 {
		return 0, 0, unix.ESRCH
	}
	if pid == 0 {
		pid = p.Pid
	}
	_, pgid, sid, ok := p.k.table.info(pid)
	if !ok {
		return 0, 0, unix.ESRCH
	}
	return pgid, sid, 0
}

// GroupExists reports a live process in group pgid.
func (p *Process) GroupExists(pgid int32) bool {
	_, ok := p.k.table.groupSession(pgid)
	return ok
}

// Setpgid is setpgid(2).
func (p *Process) Setpgid(pid, pgid int32) unix.Errno { return p.k.table.setpgid(p.Pid, pid, pgid) }

// Setsid is setsid(2).
func (p *Process) Setsid() (int32, unix.Errno) { return p.k.table.setsid(p.Pid) }

// Kill sends sig as kill(2) from p: pid > 0 that process, 0 p's process
// group, -1 every process but p, < -1 that process group. Signal 0 only
// checks that a target exists.
func (p *Process) Kill(pid int32, sig int) unix.Errno {
	if sig < 0 || sig > nsig {
		return unix.EINVAL
	}
	views, any := p.k.table.targets(p.Pid, pid)
	if !any {
		return unix.ESRCH
	}
	if sig != 0 {
		for _, v := range views {
			v.Signal(sig, SigInfo{Code: siUser, Pid: p.Pid})
		}
	}
	return 0
}

// Cwd is the working directory.
func (p *Process) Cwd() vfs.Inode {
	p.cwdMu.Lock()
	defer p.cwdMu.Unlock()
	return p.cwd
}

// SetCwd changes the working directory.
func (p *Process) SetCwd(n vfs.Inode) {
	p.cwdMu.Lock()
	p.cwd = n
	p.cwdMu.Unlock()
}

// Name is the program's name, for messages.
func (p *Process) Name() string { return p.k.table.name(p.Pid) }

// Cred is who p's file operations are done for: the file-system ids and
// groups its runtime publishes in the boot page (nobody once it is gone).
func (p *Process) Cred() *vfs.Cred {
	p.sigMu.Lock()
	bi := p.boot()
	p.sigMu.Unlock()
	if bi == nil {
		return &vfs.Cred{UID: 65534, GID: 65534, Pid: p.Pid}
	}
	n := min(bi.Ngroups, uint32(len(bi.Groups)))
	return &vfs.Cred{UID: bi.Fsuid, GID: bi.Fsgid, Groups: append([]uint32(nil), bi.Groups[:n]...), Pid: p.Pid}
}
