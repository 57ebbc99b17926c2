package kernel

import (
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// setIDs publishes real, effective and saved ids in t's boot page, as the
// guest's sys_cred.c does.
func setIDs(t *Task, uid, euid, gid uint32) {
	bi := machine.BootPage(t.M.Mem())
	bi.Cred_uid = [3]uint32{uid, euid, euid}
	bi.Cred_gid = [3]uint32{gid, gid, gid}
}

// TestPrlimit: prlimit64 on another process reads and sets the limit in
// its boot page (the sequence count moved, NOFILE published for the fd
// table), with Linux's order of errors and its permission rule.
func TestPrlimit(t *testing.T) {
	r := newRun(t, 0)
	a := r.fork(r.init)
	b := r.fork(r.init)
	bi := machine.BootPage(b.M.Mem())
	bi.Rlimits[rlimitNofile] = abi.Rlimit{Cur: 1024, Max: 4096}
	for _, p := range []*Task{r.init, a, b} {
		setIDs(p, 1000, 1000, 1000)
	}

	old, e := a.Prlimit(b.Pid, rlimitNofile, nil)
	if e != 0 || old != (abi.Rlimit{Cur: 1024, Max: 4096}) {
		t.Fatalf("get: %v %v", old, e)
	}
	seq := atomic.LoadUint64(&bi.Rlim_seq)
	old, e = a.Prlimit(b.Pid, rlimitNofile, &abi.Rlimit{Cur: 64, Max: 2048})
	if e != 0 || old.Cur != 1024 || bi.Rlimits[rlimitNofile] != (abi.Rlimit{Cur: 64, Max: 2048}) ||
		b.nofile() != 64 || bi.Rlim_seq != seq+2 {
		t.Fatalf("set: old %v %v, now %v, nofile %d, seq %d -> %d", old, e, bi.Rlimits[rlimitNofile], b.nofile(), seq, bi.Rlim_seq)
	}
	for _, tc := range []struct {
		name string
		pid  int32
		res  uint32
		nl   *abi.Rlimit
		want unix.Errno
	}{
		{"raise the hard limit unprivileged", b.Pid, rlimitNofile, &abi.Rlimit{Cur: 64, Max: 2049}, unix.EPERM},
		{"cur above max", b.Pid, rlimitNofile, &abi.Rlimit{Cur: 10, Max: 9}, unix.EINVAL},
		{"past nr_open", b.Pid, rlimitNofile, &abi.Rlimit{Cur: 1, Max: maxNofile + 1}, unix.EPERM},
		{"bad resource", b.Pid, abi.RlimNlimits, nil, unix.EINVAL},
		{"no such pid", 999, rlimitNofile, nil, unix.ESRCH},
		{"negative pid", -1, rlimitNofile, nil, unix.ESRCH},
		{"no such pid before a bad resource", 999, 99, nil, unix.ESRCH},
	} {
		if _, e := a.Prlimit(tc.pid, tc.res, tc.nl); e != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, e, tc.want)
		}
	}

	// Another user's process: EPERM (even a bad resource), unless the
	// caller's effective uid is 0; the caller itself always.
	setIDs(b, 1001, 1001, 1000)
	if _, e := a.Prlimit(b.Pid, 99, nil); e != unix.EPERM {
		t.Errorf("another user's process: %v, want EPERM", e)
	}
	setIDs(b, 1000, 1000, 1000)
	bi.Cred_uid[2] = 0 // a saved uid that differs is enough
	if _, e := a.Prlimit(b.Pid, rlimitNofile, nil); e != unix.EPERM {
		t.Errorf("another saved uid: %v, want EPERM", e)
	}
	setIDs(a, 1000, 0, 1000)
	if _, e := a.Prlimit(b.Pid, rlimitNofile, &abi.Rlimit{Cur: 64, Max: 1 << 20}); e != 0 {
		t.Errorf("euid 0 raising another's hard limit: %v", e)
	}
	setIDs(a, 1000, 1000, 1000)
	if _, e := a.Prlimit(0, rlimitNofile, &abi.Rlimit{Cur: 0, Max: 0}); e != 0 {
		t.Errorf("lowering its own: %v", e)
	}

	r.exit(b, machine.Exit{})
	if _, e := a.Prlimit(b.Pid, rlimitNofile, nil); e != unix.ESRCH {
		t.Errorf("an exited process: %v, want ESRCH", e)
	}
	if n := a.RunProcs(); n != 3 { // init, a and b's zombie
		t.Errorf("RunProcs %d, want 3", n)
	}
}
