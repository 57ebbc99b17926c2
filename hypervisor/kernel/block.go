package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// The one way a task blocks (waiter.Blocker). Its eventfd is its notifier:
// objects it waits on write it when they change, and so do signals and the
// task's end. Block polls that eventfd together with the host descriptors
// it waits on.

// Notify wakes the task if it is blocked (waiter.Notifier). From any
// goroutine, also once the task is gone: its eventfd number is never
// written after it was closed (it could name another file by then).
func (t *Task) Notify() {
	t.intrMu.Lock()
	defer t.intrMu.Unlock()
	if t.intr >= 0 {
		unix.Write(t.intr, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}
}

func (t *Task) drain() {
	var b [8]byte
	unix.Read(t.intr, b[:])
}

// Block implements waiter.Blocker.
func (t *Task) Block(ws []waiter.Entry, deadline time.Time) unix.Errno {
	// Callers come here having found they must wait: one look, once armed.
	// Cleared before arming and before looking at signals: a sender sets
	// the pending bit before it notifies, so no wake-up is lost between.
	t.drain()
	pfd := make([]unix.PollFd, 0, len(ws)+1)
	for _, e := range ws {
		if p, ok := e.W.(waiter.Poller); ok && p.PollFD() >= 0 {
			pfd = append(pfd, unix.PollFd{Fd: int32(p.PollFD()), Events: e.Events})
			if _, mixed := e.W.(waiter.Mixed); !mixed {
				continue
			}
		}
		e.W.Arm(t)
		defer e.W.Disarm(t)
	}
	// Armed: a change from here on notifies. Look once more.
	if waiter.Ready(ws) {
		return 0
	}
	if t.mustWake() {
		return unix.EINTR
	}
	pfd = append(pfd, unix.PollFd{Fd: int32(t.intr), Events: unix.POLLIN})
	for {
		timeout := -1
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return unix.ETIMEDOUT
			}
			timeout = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		n, err := unix.Poll(pfd, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return vfs.Errno(err)
		}
		if n == 0 {
			continue // the deadline check above ends it
		}
		if pfd[len(pfd)-1].Revents != 0 && t.mustWake() {
			return unix.EINTR
		}
		return 0
	}
}

// mustWake reports whether a blocked call must return EINTR: the task is
// ending, or a signal is to be delivered (pending and not blocked, or
// pending and waited for by sigtimedwait).
func (t *Task) mustWake() bool {
	select {
	case <-t.stop:
		return true
	default:
	}
	if t.isStopped() {
		return false // a stopped task takes no signal but SIGKILL, which ends it
	}
	return t.deliverable()
}

// MaxWait is as long as a wait can be: past it (~146 years) a guest's
// timeout means forever, and time arithmetic cannot overflow.
const MaxWait = int64(1) << 62

// Deadline is when a guest's timeout of ns nanoseconds ends; zero (no
// deadline) for a negative one or one past MaxWait.
func Deadline(ns int64) time.Time {
	if ns < 0 || ns > MaxWait {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(ns))
}

// Sleep blocks for d (nanosleep): EINTR if a signal comes first.
func (t *Task) Sleep(d time.Duration) unix.Errno {
	deadline := Deadline(int64(d))
	for {
		switch e := t.Block(nil, deadline); e {
		case unix.ETIMEDOUT:
			return 0
		case 0:
			continue // a stale notification
		default:
			return e
		}
	}
}

// SigWait blocks until a signal wakes t or ns pass (ns < 0: forever):
// EINTR, or EAGAIN on timeout.
func (t *Task) SigWait(ns int64) unix.Errno {
	deadline := Deadline(ns)
	for {
		switch e := t.Block(nil, deadline); e {
		case unix.ETIMEDOUT:
			return unix.EAGAIN
		case 0:
			continue
		default:
			return e
		}
	}
}
