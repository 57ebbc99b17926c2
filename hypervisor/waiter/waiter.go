// Package waiter is the one way a task blocks: objects report their
// readiness and notify a task's notifier when it may have changed, and a
// task blocks through one call (Blocker.Block) on a set of them with a
// deadline, woken as well by signals and by its own end.
package waiter

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier is told that something a task waits on may have changed.
type Notifier interface{ Notify() }

// Waitable is an object a task can block on: a pipe ring, a host
// descriptor, the process table's changes.
type Waitable interface {
	// Readiness reports which of events (poll(2) bits) hold now.
	Readiness(events int16) int16
	// Arm has n notified whenever readiness may change, until Disarm.
	Arm(n Notifier)
	Disarm(n Notifier)
}

// Poller is a Waitable whose readiness is a host descriptor's: a blocked
// task polls it directly rather than arming it.
type Poller interface {
	PollFD() int
}

// Mixed is a Poller with readiness of its own besides its descriptor's (an
// epoll instance: the host files it watches, and the run's own objects):
// its readiness is both, and a blocked task arms it as well as polling it.
type Mixed interface {
	Poller
	Unpolled(events int16) int16
}

// Edger is a Waitable that counts what arrives, for edge-triggered waits:
// Edge(events) changes whenever something comes that events report (a
// write to a pipe, for POLLIN), whether or not it was ready before.
type Edger interface {
	Edge(events int16) uint64
}

// Entry is one thing to wait for and the events that end the wait.
type Entry struct {
	W      Waitable
	Events int16
}

// Blocker is the task on whose behalf a call blocks.
type Blocker interface {
	// Block returns 0 once one of ws may have one of its events (the
	// caller looks again), ETIMEDOUT at deadline (zero: none), or EINTR
	// when a signal is to be delivered or the task must end. A call only
	// blocks once it has found it must: a signal does not cut short an
	// operation that can complete.
	Block(ws []Entry, deadline time.Time) unix.Errno
}

// Ready reports whether any entry holds one of its events now.
func Ready(ws []Entry) bool {
	for _, r := range Readiness(ws, nil) {
		if r != 0 {
			return true
		}
	}
	return false
}

// Readiness fills out (grown to len(ws)) with what each entry holds now:
// one poll(2) for all the host descriptors, not one each (an event loop's
// poll set is mostly sockets).
func Readiness(ws []Entry, out []int16) []int16 {
	out = append(out[:0], make([]int16, len(ws))...)
	var pfd []unix.PollFd
	var at []int
	for i, e := range ws {
		if p, ok := e.W.(Poller); ok && p.PollFD() >= 0 {
			pfd = append(pfd, unix.PollFd{Fd: int32(p.PollFD()), Events: e.Events})
			at = append(at, i)
			continue
		}
		out[i] = e.W.Readiness(e.Events)
	}
	if len(pfd) == 0 {
		return out
	}
	for {
		n, err := unix.Poll(pfd, 0)
		if err == unix.EINTR {
			continue
		}
		if err == nil && n > 0 {
			for j, i := range at {
				out[i] = pfd[j].Revents
			}
		}
		for _, i := range at {
			if m, ok := ws[i].W.(Mixed); ok {
				out[i] |= m.Unpolled(ws[i].Events)
			}
		}
		return out
	}
}

// FD is a host descriptor as a Waitable (a Poller).
type FD int

func (fd FD) PollFD() int { return int(fd) }

// Readiness polls the descriptor without waiting.
func (fd FD) Readiness(events int16) int16 {
	return Readiness([]Entry{{W: fd, Events: events}}, nil)[0]
}

func (FD) Arm(Notifier)    {}
func (FD) Disarm(Notifier) {}

// Queue is a set of armed notifiers, for objects that wake waiters.
type Queue struct {
	m map[Notifier]struct{}
}

// Add and Remove arm and disarm n; Notify tells every armed notifier.
// The owner serializes them.
func (q *Queue) Add(n Notifier) {
	if q.m == nil {
		q.m = map[Notifier]struct{}{}
	}
	q.m[n] = struct{}{}
}

func (q *Queue) Remove(n Notifier) { delete(q.m, n) }

func (q *Queue) Notify() {
	for n := range q.m {
		n.Notify()
	}
}

// Guarded is a Queue behind the lock of the object that owns it: the Arm
// and Disarm of a Waitable whose readiness that lock guards.
type Guarded struct {
	Mu sync.Locker
	Q  *Queue
}

func (g Guarded) Arm(n Notifier) {
	g.Mu.Lock()
	g.Q.Add(n)
	g.Mu.Unlock()
}

func (g Guarded) Disarm(n Notifier) {
	g.Mu.Lock()
	g.Q.Remove(n)
	g.Mu.Unlock()
}
