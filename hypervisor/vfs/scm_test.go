package vfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// A token stands for its file until taken, once; a host descriptor that is
// no token becomes a host file; what is left in flight goes at the end.
func TestInFlight(t *testing.T) {
	var fl InFlight
	b := testBudget()
	r, w, e := NewPipe(b, 0)
	if e != 0 {
		t.Fatal(e)
	}
	fds := NewFDTable(8)
	rfd, _ := fds.Install(r, false)
	fds.Install(w, false)
	tok, e := fl.Token(r)
	if e != 0 {
		t.Fatal(e)
	}
	fds.Close(rfd) // the sender closes its descriptor: the file lives on in flight
	if !r.Held() {
		t.Fatal("the file in flight was closed")
	}
	got, e := fl.Take(tok, b)
	if e != 0 || got != r {
		t.Fatalf("took %p, %v; want the pipe's description", got, e)
	}
	got.Release()
	if r.Held() {
		t.Errorf("the last reference was dropped, the file is still held")
	}
	other, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	f, e := fl.Take(other, b)
	if e != 0 {
		t.Fatal(e)
	}
	if _, ok := f.File.(*HostFile); !ok {
		t.Errorf("a foreign descriptor became a %T", f.File)
	}
	f.Release()
	tok, _ = fl.Token(w)
	unix.Close(tok) // a message dropped unread
	fds.CloseAll()
	fl.Close()
	if w.Held() {
		t.Errorf("a file left in flight outlived the run")
	}
}
