// File locks between the run's processes: fcntl record locks (POSIX and
// open file description ones) and flock.

package vfs

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// Every VM of a run is one host process, so the host kernel's locks cannot
// tell the run's processes apart: the run keeps its own, with Linux's
// rules. A POSIX lock belongs to a process and goes when it closes any
// descriptor of the file or exits; an OFD lock and a flock belong to the
// open file description and go with its last descriptor. A file is known
// by its inode (a volume's by the host's device and inode number). Locks
// are the run's alone: a program outside it does not see them.

// LockOwner is who holds a lock: a process (POSIX locks), or an open file
// description (OFD locks and flock).
type LockOwner struct {
	Pid int32     // POSIX: the process
	OFD *OpenFile // OFD locks, flock
}

type recLock struct {
	owner      LockOwner
	start, end int64 // [start, end); end < 0: to the end of any file
	write      bool
}

func (l *recLock) overlaps(start, end int64) bool {
	return (l.end < 0 || start < l.end) && (end < 0 || l.start < end)
}

// fileLocks are one file's locks.
type fileLocks struct {
	rec     []recLock
	flocks  map[*OpenFile]bool // held: exclusive?
	waiters waiter.Queue
}

// Locks is a run's lock table.
type Locks struct {
	mu      sync.Mutex
	files   map[any]*fileLocks
	waiting map[LockOwner]LockOwner // who waits for whom, for EDEADLK
}

// lockKey is what identifies f's file for locking.
func lockKey(f *OpenFile) any {
	if h, ok := f.File.(interface{ PollFD() int }); ok {
		var st unix.Stat_t
		if unix.Fstat(h.PollFD(), &st) == nil {
			return [2]uint64{st.Dev, st.Ino}
		}
	}
	if n := f.Inode(); n != nil {
		return n
	}
	return f.File
}

func (t *Locks) file(key any) *fileLocks {
	if t.files == nil {
		t.files = map[any]*fileLocks{}
	}
	fl := t.files[key]
	if fl == nil {
		fl = &fileLocks{}
		t.files[key] = fl
	}
	return fl
}

// tidy forgets a file with no locks and no waiters; t.mu held.
func (t *Locks) tidy(key any, fl *fileLocks) {
	if len(fl.rec) == 0 && len(fl.flocks) == 0 {
		delete(t.files, key)
	}
}

// Record is one lock request or answer, as struct flock says it, with the
// range made absolute.
type Record struct {
	Type       int16 // F_RDLCK, F_WRLCK, F_UNLCK
	Start, End int64 // End < 0: to the end
	Pid        int32 // for F_GETLK: the holder (-1 for an OFD lock)
}

// conflict is the first lock of another owner that r cannot coexist with.
func (fl *fileLocks) conflict(o LockOwner, r Record) *recLock {
	for i := range fl.rec {
		l := &fl.rec[i]
		if l.owner != o && l.overlaps(r.Start, r.End) && (l.write || r.Type == unix.F_WRLCK) {
			return l
		}
	}
	return nil
}

// Getlk is F_GETLK: the lock that would stop r, or F_UNLCK.
func (t *Locks) Getlk(f *OpenFile, o LockOwner, r Record) Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	fl := t.files[lockKey(f)]
	if fl == nil {
		return Record{Type: unix.F_UNLCK}
	}
	l := fl.conflict(o, r)
	if l == nil {
		return Record{Type: unix.F_UNLCK}
	}
	out := Record{Type: unix.F_RDLCK, Start: l.start, End: l.end, Pid: l.owner.Pid}
	if l.write {
		out.Type = unix.F_WRLCK
	}
	if l.owner.OFD != nil {
		out.Pid = -1
	}
	return out
}

// Setlk is F_SETLK (wait false: EAGAIN on a conflict) and F_SETLKW (wait
// through b until it can be had: EINTR, or EDEADLK if the holder waits,
// directly or not, for o).
func (t *Locks) Setlk(f *OpenFile, o LockOwner, r Record, wait bool, b waiter.Blocker) unix.Errno {
	key := lockKey(f)
	for {
		t.mu.Lock()
		fl := t.file(key)
		if r.Type == unix.F_UNLCK {
			fl.remove(o, r.Start, r.End)
			fl.waiters.Notify()
			t.tidy(key, fl)
			t.mu.Unlock()
			return 0
		}
		l := fl.conflict(o, r)
		if l == nil {
			if o.OFD != nil {
				o.OFD.lockedIn(t)
			}
			fl.remove(o, r.Start, r.End)
			fl.rec = append(fl.rec, recLock{owner: o, start: r.Start, end: r.End, write: r.Type == unix.F_WRLCK})
			fl.waiters.Notify() // a downgrade lets readers in
			t.mu.Unlock()
			return 0
		}
		if !wait {
			t.tidy(key, fl)
			t.mu.Unlock()
			return unix.EAGAIN
		}
		if t.deadlock(o, l.owner) {
			t.mu.Unlock()
			return unix.EDEADLK
		}
		if e := t.block(key, o, l.owner, b, func() bool { return fl.conflict(o, r) == nil }); e != 0 {
			return e
		}
	}
}

// deadlock reports whether holder waits, through others, for o; t.mu held.
func (t *Locks) deadlock(o, holder LockOwner) bool {
	seen := map[LockOwner]bool{}
	for h := holder; !seen[h]; {
		if h == o {
			return true
		}
		seen[h] = true
		next, ok := t.waiting[h]
		if !ok {
			return false
		}
		h = next
	}
	return false
}

// block waits, t.mu held (and given up), until free() may hold for the
// file at key, through b.
func (t *Locks) block(key any, o, holder LockOwner, b waiter.Blocker, free func() bool) unix.Errno {
	fl := t.files[key]
	if t.waiting == nil {
		t.waiting = map[LockOwner]LockOwner{}
	}
	t.waiting[o] = holder
	t.mu.Unlock()
	w := &lockWait{Guarded: waiter.Guarded{Mu: &t.mu, Q: &fl.waiters}, t: t, free: free}
	e := b.Block([]waiter.Entry{{W: w, Events: unix.POLLIN}}, time.Time{})
	t.mu.Lock()
	delete(t.waiting, o)
	t.mu.Unlock()
	if e == unix.ETIMEDOUT {
		e = 0
	}
	return e
}

// lockWait is a lock wait as a waiter.Waitable: ready when the lock may be
// free.
type lockWait struct {
	waiter.Guarded // the file's waiters, under the table's lock
	t              *Locks
	free           func() bool
}

func (w *lockWait) Readiness(int16) int16 {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if w.free() {
		return unix.POLLIN
	}
	return 0
}

// remove takes o's locks out of [start, end), splitting those that stick
// out.
func (fl *fileLocks) remove(o LockOwner, start, end int64) {
	out := fl.rec[:0:0]
	for _, l := range fl.rec {
		if l.owner != o || !l.overlaps(start, end) {
			out = append(out, l)
			continue
		}
		if l.start < start {
			out = append(out, recLock{owner: o, start: l.start, end: start, write: l.write})
		}
		if end >= 0 && (l.end < 0 || l.end > end) {
			out = append(out, recLock{owner: o, start: end, end: l.end, write: l.write})
		}
	}
	fl.rec = out
}

// ReleasePosix drops pid's POSIX locks on f's file (it closed a
// descriptor of it); ReleaseOFD drops f's own (its last descriptor went).
func (t *Locks) ReleasePosix(f *OpenFile, pid int32) {
	t.release(f, LockOwner{Pid: pid}, nil)
}

func (t *Locks) ReleaseOFD(f *OpenFile) {
	t.release(f, LockOwner{OFD: f}, f)
}

func (t *Locks) release(f *OpenFile, o LockOwner, ofd *OpenFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.files) == 0 {
		return // the common case: no locks at all, no look at the file
	}
	key := lockKey(f)
	fl := t.files[key]
	if fl == nil {
		return
	}
	fl.remove(o, 0, -1)
	if ofd != nil {
		delete(fl.flocks, ofd)
	}
	fl.waiters.Notify()
	t.tidy(key, fl)
}

// ReleasePid drops every POSIX lock of pid (it exited).
func (t *Locks) ReleasePid(pid int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for key, fl := range t.files {
		fl.remove(LockOwner{Pid: pid}, 0, -1)
		fl.waiters.Notify()
		t.tidy(key, fl)
	}
}

// Flock is flock(2) on f: op LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB
// for EWOULDBLOCK instead of waiting through b.
func (t *Locks) Flock(f *OpenFile, op int, b waiter.Blocker) unix.Errno {
	const lockMand = 32 // LOCK_MAND: Linux ignores the call since 5.15
	if op&lockMand != 0 {
		return 0
	}
	nb := op&unix.LOCK_NB != 0
	op &^= unix.LOCK_NB
	if op != unix.LOCK_SH && op != unix.LOCK_EX && op != unix.LOCK_UN {
		return unix.EINVAL
	}
	key := lockKey(f)
	for {
		t.mu.Lock()
		fl := t.file(key)
		if op == unix.LOCK_UN {
			delete(fl.flocks, f)
			fl.waiters.Notify()
			t.tidy(key, fl)
			t.mu.Unlock()
			return 0
		}
		free := func() bool {
			for o, ex := range fl.flocks {
				if o != f && (ex || op == unix.LOCK_EX) {
					return false
				}
			}
			return true
		}
		if free() {
			if fl.flocks == nil {
				fl.flocks = map[*OpenFile]bool{}
			}
			f.lockedIn(t)
			fl.flocks[f] = op == unix.LOCK_EX
			fl.waiters.Notify()
			t.mu.Unlock()
			return 0
		}
		// Converting drops the old lock first, as Linux does.
		if _, had := fl.flocks[f]; had {
			delete(fl.flocks, f)
			fl.waiters.Notify()
		}
		if nb {
			t.tidy(key, fl)
			t.mu.Unlock()
			return unix.EWOULDBLOCK
		}
		if e := t.block(key, LockOwner{OFD: f}, LockOwner{}, b, free); e != 0 {
			return e
		}
	}
}
