// Resource limits of any process of the run (prlimit64): they live in each
// guest's boot page (abi.h), where after boot the host is the one writer.
package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

const rlimitNofile = 7 // RLIMIT_NOFILE

// ids are the real, effective and saved uids and gids a guest publishes.
type ids struct{ uid, gid [3]uint32 }

func loadIDs(bi *abi.Bootinfo) ids {
	var c ids
	for i := range c.uid {
		c.uid[i] = atomic.LoadUint32(&bi.Cred_uid[i])
		c.gid[i] = atomic.LoadUint32(&bi.Cred_gid[i])
	}
	return c
}

// mayPrlimit is Linux's check_prlimit_permission for another process: the
// caller's real uid and gid are each of the target's three, or the caller
// holds CAP_SYS_RESOURCE (effective uid 0 here).
func mayPrlimit(caller, target ids) bool {
	same := true
	for i := 0; i < 3; i++ {
		same = same && caller.uid[0] == target.uid[i] && caller.gid[0] == target.gid[i]
	}
	return same || caller.uid[1] == 0
}

// Prlimit implements prlimit64(2) from p on process pid (0: p itself):
// the limit res before, after setting it to nl unless nl is nil. Checked
// in Linux's order: the process (ESRCH), the permission (EPERM), the
// resource and the values (EINVAL, EPERM past nr_open), raising a hard
// limit (EPERM without CAP_SYS_RESOURCE). A zombie has no memory left:
// ESRCH, where Linux still answers for it.
func (p *Process) Prlimit(pid int32, res uint32, nl *abi.Rlimit) (abi.Rlimit, unix.Errno) {
	t := p
	if pid < 0 {
		return abi.Rlimit{}, unix.ESRCH
	}
	if pid != 0 && pid != p.Pid {
		// Processes on this host are *Process; the table holds no other.
		if t, _ = p.k.table.lookup(pid).(*Process); t == nil {
			return abi.Rlimit{}, unix.ESRCH
		}
	}
	p.sigMu.Lock()
	bi := p.boot()
	var mine ids
	if bi != nil {
		mine = loadIDs(bi)
	}
	p.sigMu.Unlock()
	if bi == nil {
		return abi.Rlimit{}, unix.ESRCH
	}
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	if bi = t.boot(); bi == nil {
		return abi.Rlimit{}, unix.ESRCH
	}
	if t != p && !mayPrlimit(mine, loadIDs(bi)) {
		return abi.Rlimit{}, unix.EPERM
	}
	if res >= abi.RlimNlimits {
		return abi.Rlimit{}, unix.EINVAL
	}
	if nl != nil {
		if nl.Cur > nl.Max {
			return abi.Rlimit{}, unix.EINVAL
		}
		if res == rlimitNofile && nl.Max > maxNofile {
			return abi.Rlimit{}, unix.EPERM
		}
	}
	l := &bi.Rlimits[res]
	old := abi.Rlimit{Cur: atomic.LoadUint64(&l.Cur), Max: atomic.LoadUint64(&l.Max)}
	if nl == nil {
		return old, 0
	}
	if nl.Max > old.Max && mine.uid[1] != 0 {
		return abi.Rlimit{}, unix.EPERM
	}
	// A sequence count: odd while writing, so the guest reading its own
	// limits without an exit retries instead of seeing half of one.
	atomic.AddUint64(&bi.Rlim_seq, 1)
	atomic.StoreUint64(&l.Cur, nl.Cur)
	atomic.StoreUint64(&l.Max, nl.Max)
	atomic.AddUint64(&bi.Rlim_seq, 1)
	if res == rlimitNofile { // the fd table enforces it (nofile)
		atomic.StoreUint64(&bi.Nofile, nl.Cur)
	}
	return old, 0
}

// RunProcs is the number of the run's processes, zombies included, as
// sysinfo(2) counts the system's.
func (p *Process) RunProcs() int { return p.k.table.count() }
