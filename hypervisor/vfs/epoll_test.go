package vfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// epTest is a table holding an epoll instance and the files it watches.
type epTest struct {
	t   *testing.T
	fds *FDTable
	ep  *Epoll
}

func newEpTest(t *testing.T) *epTest {
	ep, e := NewEpoll(testBudget())
	if e != 0 {
		t.Fatal(e)
	}
	x := &epTest{t: t, fds: NewFDTable(64), ep: ep}
	x.install(NewOpenFile(ep, unix.O_RDWR))
	t.Cleanup(x.fds.CloseAll)
	return x
}

func (x *epTest) install(f *OpenFile) int {
	fd, e := x.fds.Install(f, false)
	if e != 0 {
		x.t.Fatal(e)
	}
	return fd
}

func (x *epTest) ctl(op, fd int, events uint32, data uint64) unix.Errno {
	f, e := x.fds.Get(fd)
	if e != 0 {
		return e
	}
	return x.ep.Ctl(op, fd, f, events, data)
}

// events is what a wait reports now, as "data:bits" pairs.
func (x *epTest) events() map[uint64]uint32 {
	out := map[uint64]uint32{}
	for _, ev := range x.ep.Collect(16) {
		out[ev.Data] = ev.Events
	}
	return out
}

// Pipe rings are watched in place: level, edge from the write counter,
// one-shot, hang-up; an item goes with its file's last descriptor.
func TestEpollRing(t *testing.T) {
	x := newEpTest(t)
	r, w, _, e := NewRingPipe(testBudget(), newChunk, unix.O_NONBLOCK)
	if e != 0 {
		t.Fatal(e)
	}
	rfd, wfd := x.install(r), x.install(w)
	if e := x.ctl(unix.EPOLL_CTL_ADD, rfd, unix.EPOLLIN|EpollET, 1); e != 0 {
		t.Fatal(e)
	}
	if got := x.events(); len(got) != 0 {
		t.Errorf("empty ring reports %v", got)
	}
	w.Write([][]byte{[]byte("a")}, -1)
	if got := x.events(); got[1] != unix.EPOLLIN {
		t.Errorf("after a write: %v", got)
	}
	if got := x.events(); len(got) != 0 {
		t.Errorf("edge-triggered, nothing new: %v", got)
	}
	w.Write([][]byte{[]byte("b")}, -1)
	if got := x.events(); got[1] != unix.EPOLLIN {
		t.Errorf("a second write while readable: %v, want another edge", got)
	}
	if e := x.ctl(unix.EPOLL_CTL_MOD, rfd, unix.EPOLLIN|EpollOneshot, 2); e != 0 {
		t.Fatal(e)
	}
	if got := x.events(); got[2] != unix.EPOLLIN {
		t.Errorf("one-shot: %v", got)
	}
	if got := x.events(); len(got) != 0 {
		t.Errorf("one-shot, spent: %v", got)
	}
	x.ctl(unix.EPOLL_CTL_MOD, rfd, unix.EPOLLIN, 3)
	x.fds.Close(wfd)
	if got := x.events(); got[3] != unix.EPOLLIN|unix.EPOLLHUP {
		t.Errorf("writer gone: %#x, want IN|HUP", got[3])
	}
	x.fds.Close(rfd)
	if len(x.ep.items) != 0 || len(x.ep.order) != 0 {
		t.Errorf("closed, still watched: %d items", len(x.ep.items))
	}
}

// Host descriptors go to the host epoll; an epoll inside another reports
// both its host files and its rings.
func TestEpollNested(t *testing.T) {
	x := newEpTest(t)
	inner, e := NewEpoll(testBudget())
	if e != 0 {
		t.Fatal(e)
	}
	innerFD := x.install(NewOpenFile(inner, unix.O_RDWR))
	hr, hw, e := NewPipe(testBudget(), unix.O_NONBLOCK)
	if e != 0 {
		t.Fatal(e)
	}
	r, w, _, e := NewRingPipe(testBudget(), newChunk, unix.O_NONBLOCK)
	if e != 0 {
		t.Fatal(e)
	}
	hrfd, _, rfd, _ := x.install(hr), x.install(hw), x.install(r), x.install(w)
	ix := &epTest{t: t, fds: x.fds, ep: inner}
	ix.ctl(unix.EPOLL_CTL_ADD, hrfd, unix.EPOLLIN, 10)
	ix.ctl(unix.EPOLL_CTL_ADD, rfd, unix.EPOLLIN, 11)
	if e := x.ctl(unix.EPOLL_CTL_ADD, innerFD, unix.EPOLLIN, 20); e != 0 {
		t.Fatal(e)
	}
	if got := x.events(); len(got) != 0 {
		t.Errorf("nothing yet: %v", got)
	}
	w.Write([][]byte{[]byte("r")}, -1)
	if got := x.events(); got[20] != unix.EPOLLIN {
		t.Errorf("a ring inside: %v", got)
	}
	r.Read([][]byte{make([]byte, 4)}, -1)
	hw.Write([][]byte{[]byte("h")}, -1)
	if got := x.events(); len(got) != 1 || got[20] != unix.EPOLLIN {
		t.Errorf("a host pipe inside: %v", got)
	}
	if got := ix.events(); got[10] != unix.EPOLLIN || len(got) != 1 {
		t.Errorf("the inner instance: %v", got)
	}
	if e := ix.ctl(unix.EPOLL_CTL_ADD, 0, unix.EPOLLIN, 1); e != unix.ELOOP {
		t.Errorf("an epoll watching its watcher: %v, want ELOOP", e)
	}
}
