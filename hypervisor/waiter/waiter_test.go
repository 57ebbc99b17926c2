package waiter

import (
	"testing"

	"golang.org/x/sys/unix"
)

type counter struct{ n int }

func (c *counter) Notify() { c.n++ }

func TestQueue(t *testing.T) {
	var q Queue
	a, b := &counter{}, &counter{}
	q.Notify() // nothing armed
	q.Add(a)
	q.Add(b)
	q.Add(a) // armed twice is armed once
	q.Notify()
	q.Remove(b)
	q.Notify()
	if a.n != 2 || b.n != 1 {
		t.Errorf("notified a %d, b %d times, want 2 and 1", a.n, b.n)
	}
}

func TestFDReadiness(t *testing.T) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	r, w := FD(p[0]), FD(p[1])
	ws := []Entry{{W: r, Events: unix.POLLIN}}
	if Ready(ws) {
		t.Error("an empty pipe is readable")
	}
	if w.Readiness(unix.POLLOUT)&unix.POLLOUT == 0 {
		t.Error("an empty pipe is not writable")
	}
	unix.Write(p[1], []byte("x"))
	if !Ready(ws) || r.PollFD() != p[0] {
		t.Error("a pipe with data is not readable")
	}
	unix.Close(p[1])
	var b [1]byte
	unix.Read(p[0], b[:])
	if r.Readiness(unix.POLLIN)&unix.POLLHUP == 0 {
		t.Error("no POLLHUP once the writer is gone")
	}
}

type fixed int16

func (f fixed) Readiness(events int16) int16 { return int16(f) & events }
func (fixed) Arm(Notifier)                   {}
func (fixed) Disarm(Notifier)                {}

// Readiness answers host descriptors and other waitables, each in its place.
func TestReadinessMixed(t *testing.T) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	unix.Write(p[1], []byte("x"))
	ws := []Entry{
		{W: fixed(unix.POLLOUT), Events: unix.POLLIN},
		{W: FD(p[0]), Events: unix.POLLIN},
		{W: fixed(unix.POLLIN), Events: unix.POLLIN},
		{W: FD(p[1]), Events: unix.POLLIN},
	}
	got := Readiness(ws, nil)
	want := []int16{0, unix.POLLIN, unix.POLLIN, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %#x, want %#x", i, got[i], want[i])
		}
	}
}
