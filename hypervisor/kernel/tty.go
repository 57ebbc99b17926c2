package kernel

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Controlling terminals belong to sessions, as on Linux: a session leader
// takes a terminal with TIOCSCTTY, its session's processes open it as
// /dev/tty, and a new session (setsid) starts without one. The terminal
// keeps the run's numbers for its session and foreground group.
type cttys struct {
	mu    sync.Mutex
	bySid map[int32]*vfs.Tty
}

func (c *cttys) get(sid int32) *vfs.Tty {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bySid[sid]
}

func (c *cttys) set(sid int32, t *vfs.Tty) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bySid == nil {
		c.bySid = map[int32]*vfs.Tty{}
	}
	if t == nil {
		delete(c.bySid, sid)
	} else {
		c.bySid[sid] = t
	}
}

// Ctty is the controlling terminal of pid's session, nil if none.
func (k *Kernel) Ctty(pid int32) *vfs.Tty {
	_, _, sid, ok := k.table.info(pid)
	if !ok {
		return nil
	}
	t := k.ctty.get(sid)
	if t != nil && t.Gone() {
		return nil
	}
	return t
}

// JobControl serves the terminal requests that name processes: TIOCSCTTY,
// TIOCNOTTY, TIOC[GS]PGRP, TIOCGSID, for t opened by p (master: its pty's
// master side). handled is false for every other request.
func (p *Process) JobControl(t *vfs.Tty, master bool, req uint64, arg []byte) (handled bool, e unix.Errno) {
	_, _, pgid, sid := p.Info()
	mine := p.k.Ctty(p.Pid) == t
	le := binary.LittleEndian
	switch req {
	case unix.TIOCSCTTY:
		if master {
			return true, unix.ENOTTY // a master is no one's terminal on Linux either
		}
		if sid != p.Pid {
			return true, unix.EPERM // only a session leader
		}
		if mine {
			return true, 0
		}
		if p.k.ctty.get(sid) != nil {
			return true, unix.EPERM // it has one already
		}
		if tsid, _ := t.Session(); tsid != 0 && tsid != sid {
			// Another session's: only root, asking to steal it.
			if le.Uint64(arg) != 1 || p.Cred().UID != 0 {
				return true, unix.EPERM
			}
			p.k.ctty.set(tsid, nil)
		}
		t.SetSession(sid, pgid)
		p.k.ctty.set(sid, t)
		return true, 0
	case unix.TIOCNOTTY:
		if master || !mine {
			return true, unix.ENOTTY
		}
		if sid == p.Pid { // the leader gives it up for its session
			t.SetSession(0, 0)
			p.k.ctty.set(sid, nil)
		}
		return true, 0
	case unix.TIOCGPGRP:
		tsid, fg := t.Session()
		if !master && !mine {
			return true, unix.ENOTTY
		}
		if tsid == 0 {
			fg = 0
		}
		le.PutUint32(arg, uint32(fg))
		return true, 0
	case unix.TIOCSPGRP:
		if master || !mine {
			return true, unix.ENOTTY
		}
		g := int32(le.Uint32(arg))
		if g < 0 {
			return true, unix.EINVAL
		}
		gsid, ok := p.k.table.groupSession(g)
		if !ok {
			return true, unix.ESRCH
		}
		if gsid != sid {
			return true, unix.EPERM
		}
		t.SetForeground(g)
		return true, 0
	case unix.TIOCGSID:
		tsid, _ := t.Session()
		if (!master && !mine) || tsid == 0 {
			return true, unix.ENOTTY
		}
		le.PutUint32(arg, uint32(tsid))
		return true, 0
	}
	return false, 0
}
