package kernel

import (
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// The process table: every process of the run with its ids and family,
// whatever runs it. It knows a process through a View, so that a process
// running elsewhere (another host) can be one too.

// View is what the table needs of a process.
type View interface {
	// Signal generates sig for the process.
	Signal(sig int, info SigInfo)
	// Terminate ends the process at once, as killed by sig (the run stopping).
	Terminate(sig unix.Signal)
	// ReapsChildren reports whether its children leave no zombie
	// (SIGCHLD ignored, or SA_NOCLDWAIT).
	ReapsChildren() bool
	// ParentDied tells it its parent ppid exited (PR_SET_PDEATHSIG).
	ParentDied(ppid int32)
}

// Pids hands out the run's pids: a block of the host's (control), later
// cluster-wide blocks.
type Pids interface {
	// Alloc returns a pid for which used is false, or false if none is.
	Alloc(used func(int32) bool) (int32, bool)
}

// PidRange allocates [Base, End) in turn, skipping pids in use.
type PidRange struct {
	Base, End int32
	next      int32
}

func (r *PidRange) Alloc(used func(int32) bool) (int32, bool) {
	if r.next < r.Base || r.next >= r.End {
		r.next = r.Base
	}
	for range r.End - r.Base {
		pid := r.next
		if r.next++; r.next >= r.End {
			r.next = r.Base
		}
		if !used(pid) {
			return pid, true
		}
	}
	return 0, false
}

type procState int

const (
	reserved procState = iota // a fork in flight
	running
	zombie // exited, waiting for its parent's wait
)

// entry is one process in the table; every field is guarded by Table.mu.
type entry struct {
	pid, pgid, sid int32
	parent         *entry
	children       map[int32]*entry
	state          procState
	exit           machine.Exit
	name           string
	view           View
	stopped        bool  // by a stop signal, until SIGCONT
	stopReport     int32 // the stop signal a wait with WUNTRACED has yet to report
	contReport     bool  // a continue a wait with WCONTINUED has yet to report
}

// Table is the run's processes.
type Table struct {
	mu       sync.Mutex
	procs    map[int32]*entry
	pids     Pids
	init     *entry
	live     int // processes not yet reaped, reserved ones included
	max      int
	stopping bool // StopAll ran: no new process may start
	gen      uint64
	changes  waiter.Queue  // tasks blocked in wait
	done     chan struct{} // closed when the first process has exited
	initExit machine.Exit
}

// NewTable makes an empty table of at most max processes.
func NewTable(pids Pids, max int) *Table {
	return &Table{procs: map[int32]*entry{}, pids: pids, max: max, done: make(chan struct{})}
}

// reserve takes a pid for a process about to start: EAGAIN beyond the
// limit, EINTR once the run stops.
func (tb *Table) reserve() (int32, unix.Errno) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.stopping {
		return 0, unix.EINTR
	}
	if tb.live >= tb.max {
		return 0, unix.EAGAIN
	}
	pid, ok := tb.pids.Alloc(func(p int32) bool { return tb.procs[p] != nil })
	if !ok {
		return 0, unix.EAGAIN
	}
	tb.procs[pid] = &entry{pid: pid, state: reserved}
	tb.live++
	return pid, 0
}

// unreserve gives back a pid reserve took.
func (tb *Table) unreserve(pid int32) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if e := tb.procs[pid]; e != nil && e.state == reserved {
		delete(tb.procs, pid)
		tb.live--
	}
}

// start makes reserved pid a running process: a child of parent (0: the
// run's first process, its own group and session). EINTR if the run
// stopped meanwhile; the pid is given back then.
func (tb *Table) start(pid, parent int32, name string, v View) unix.Errno {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	e := tb.procs[pid]
	if tb.stopping {
		delete(tb.procs, pid)
		tb.live--
		return unix.EINTR
	}
	e.state, e.name, e.view, e.children = running, name, v, map[int32]*entry{}
	if p := tb.procs[parent]; parent != 0 && p != nil {
		e.parent, e.pgid, e.sid = p, p.pgid, p.sid
		p.children[pid] = e
	} else {
		e.pgid, e.sid = pid, pid
		tb.init = e
	}
	return 0
}

// exited makes pid a zombie, hands its children to the first process and
// wakes waiters. It returns the parent to send SIGCHLD to (nil: none).
func (tb *Table) exited(pid int32, exit machine.Exit) (View, []View) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	e := tb.procs[pid]
	if e == nil || e.state != running {
		return nil, nil
	}
	e.state, e.exit, e.stopped = zombie, exit, false
	var orphans []View
	for cpid, c := range e.children {
		if c.state == running {
			orphans = append(orphans, c.view)
		}
		if e != tb.init {
			c.parent = tb.init
			tb.init.children[cpid] = c
		}
	}
	e.children = map[int32]*entry{}
	parent := e.parent
	switch {
	case e == tb.init:
		tb.reap(e)
		tb.initExit = exit
		close(tb.done)
	case parent != nil && parent.view.ReapsChildren():
		tb.reap(e)
	}
	tb.changed()
	if parent == nil || e == tb.init {
		return nil, orphans
	}
	return parent.view, orphans
}

// stopChanged records that pid stopped (by sig) or continued (sig 0), for
// its parent's wait: the parent's view, nil if it has none.
func (tb *Table) stopChanged(pid, sig int32) View {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	e := tb.procs[pid]
	if e == nil || e.state != running || e.stopped == (sig != 0) {
		return nil
	}
	e.stopped = sig != 0
	e.stopReport, e.contReport = sig, sig == 0
	tb.changed()
	if e.parent == nil || e == tb.init {
		return nil
	}
	return e.parent.view
}

// reap removes a zombie; tb.mu held.
func (tb *Table) reap(e *entry) {
	if e.parent != nil {
		delete(e.parent.children, e.pid)
	}
	delete(tb.procs, e.pid)
	tb.live--
}

// changed wakes every task blocked in wait; tb.mu held.
func (tb *Table) changed() {
	tb.gen++
	tb.changes.Notify()
}

// Done is closed once the first process has exited; InitExit then says how.
func (tb *Table) Done() <-chan struct{} { return tb.done }
func (tb *Table) InitExit() machine.Exit {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.initExit
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
func WaitStatus(e machine.Exit) int32 {
	if e.Signal != 0 {
		return int32(e.Signal) & 0x7f
	}
	return int32(e.Code&0xff) << 8
}

// tryWait reaps a child of caller that pid names (as wait4(2): > 0 that
// child, -1 any, 0 the caller's group, < -1 that group) if one is a
// zombie, or with WUNTRACED and WCONTINUED in options reports one that
// stopped or continued. found says whether pid names any child at all.
func (tb *Table) tryWait(caller, pid int32, options int) (cpid int32, status int32, found bool) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	t := tb.procs[caller]
	if t == nil {
		return 0, 0, false
	}
	for id, c := range t.children {
		switch {
		case pid > 0 && id != pid, pid == 0 && c.pgid != t.pgid, pid < -1 && c.pgid != -pid:
			continue
		}
		found = true
		switch {
		case c.state == zombie:
			tb.reap(c)
			return id, WaitStatus(c.exit), true
		case options&wUntraced != 0 && c.stopReport != 0:
			sig := c.stopReport
			c.stopReport = 0
			return id, sig<<8 | 0x7f, true
		case options&wContinued != 0 && c.contReport:
			c.contReport = false
			return id, 0xffff, true
		}
	}
	return 0, 0, found
}

// changes is a Waitable that becomes ready when the table changes after
// it was made (a process exits).
type tableChanges struct {
	waiter.Guarded // the table's changes queue, under its lock
	tb             *Table
	gen            uint64
}

func (tb *Table) waitable() *tableChanges {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return &tableChanges{Guarded: waiter.Guarded{Mu: &tb.mu, Q: &tb.changes}, tb: tb, gen: tb.gen}
}

func (c *tableChanges) Readiness(events int16) int16 {
	c.tb.mu.Lock()
	defer c.tb.mu.Unlock()
	if c.tb.gen != c.gen {
		return events
	}
	return 0
}

// targets are the live processes kill(2) from caller reaches with pid: > 0
// that process, 0 caller's group, -1 every process but caller, < -1 that
// group. Zombies count (they exist) but get nothing.
func (tb *Table) targets(caller, pid int32) (views []View, any bool) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	t := tb.procs[caller]
	for _, c := range tb.procs {
		if c.state == reserved {
			continue
		}
		switch {
		case pid > 0 && c.pid == pid,
			pid == 0 && t != nil && c.pgid == t.pgid,
			pid == -1 && c.pid != caller,
			pid < -1 && c.pgid == -pid:
			any = true
			if c.state == running {
				views = append(views, c.view)
			}
		}
	}
	return views, any
}

// info returns pid's parent, group and session.
func (tb *Table) info(pid int32) (ppid, pgid, sid int32, ok bool) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	e := tb.procs[pid]
	if e == nil || e.state == reserved {
		return 0, 0, 0, false
	}
	if e.parent != nil {
		ppid = e.parent.pid
	}
	return ppid, e.pgid, e.sid, true
}

// name is pid's command name.
func (tb *Table) name(pid int32) string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if e := tb.procs[pid]; e != nil {
		return e.name
	}
	return ""
}

// setName renames pid (execve).
func (tb *Table) setName(pid int32, name string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if e := tb.procs[pid]; e != nil {
		e.name = name
	}
}

// setpgid moves pid (caller or a child of caller) into process group
// pgid, as setpgid(2): the group must exist in the same session, or be new
// (pgid == pid); a session leader cannot move.
func (tb *Table) setpgid(caller, pid, pgid int32) unix.Errno {
	if pgid < 0 {
		return unix.EINVAL
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	t := tb.procs[caller]
	if pid == 0 {
		pid = caller
	}
	c := tb.procs[pid]
	if t == nil || c == nil || c.state == reserved || (c != t && c.parent != t) {
		return unix.ESRCH
	}
	if c.sid != t.sid || c.sid == c.pid {
		return unix.EPERM // another session, or a session leader
	}
	if pgid == 0 {
		pgid = c.pid
	}
	if pgid != c.pid && !tb.groupIn(pgid, c.sid) {
		return unix.EPERM
	}
	c.pgid = pgid
	return 0
}

// groupIn reports a live process in group pgid of session sid; tb.mu held.
func (tb *Table) groupIn(pgid, sid int32) bool {
	for _, o := range tb.procs {
		if o.state != reserved && o.pgid == pgid && o.sid == sid {
			return true
		}
	}
	return false
}

// setsid makes caller the leader of a new session and process group.
func (tb *Table) setsid(caller int32) (int32, unix.Errno) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, o := range tb.procs {
		if o.state != reserved && o.pgid == caller {
			return 0, unix.EPERM // already a process group leader
		}
	}
	t := tb.procs[caller]
	if t == nil {
		return 0, unix.ESRCH
	}
	t.sid, t.pgid = caller, caller
	return caller, 0
}

// stopAll stops new processes from starting and returns the running ones.
func (tb *Table) stopAll() (vs []View, already bool) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	already = tb.stopping
	tb.stopping = true
	for _, e := range tb.procs {
		if e.state == running {
			vs = append(vs, e.view)
		}
	}
	return vs, already
}

// ProcInfo describes one process for `ukfork ps`.
type ProcInfo struct {
	Pid, Ppid, Pgid int32
	State           string
	Command         string
	Resident        uint64 // guest memory the host holds for it
	HostMem         uint64 // host memory its descriptors hold (pipe buffers, rings)
}

// list is every process but reserved ones, by pid, with their views.
func (tb *Table) list() ([]ProcInfo, []View) {
	tb.mu.Lock()
	var es []*entry
	for _, e := range tb.procs {
		if e.state != reserved {
			es = append(es, e)
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].pid < es[j].pid })
	out := make([]ProcInfo, len(es))
	views := make([]View, len(es))
	for i, e := range es {
		out[i] = ProcInfo{Pid: e.pid, Pgid: e.pgid, Command: e.name, State: "running"}
		if e.parent != nil {
			out[i].Ppid = e.parent.pid
		}
		if e.stopped {
			out[i].State = "stopped"
		}
		if e.state == zombie {
			out[i].State = "zombie"
		} else {
			views[i] = e.view
		}
	}
	tb.mu.Unlock()
	return out, views
}

// count is the number of processes, zombies included.
func (tb *Table) count() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	n := 0
	for _, e := range tb.procs {
		if e.state != reserved {
			n++
		}
	}
	return n
}

// lookup is the view of running process pid, or nil.
func (tb *Table) lookup(pid int32) View {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if e := tb.procs[pid]; e != nil && e.state == running {
		return e.view
	}
	return nil
}

// groupSession is the session of process group pgid, if it has a live
// process.
func (tb *Table) groupSession(pgid int32) (int32, bool) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, o := range tb.procs {
		if o.state != reserved && o.pgid == pgid {
			return o.sid, true
		}
	}
	return 0, false
}
