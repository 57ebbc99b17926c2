package vfs

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// A run's pipes, rings and sockets count against its budget: ENFILE past
// the descriptors, smaller pipe buffers past the memory, everything given
// back on close.
func TestBudget(t *testing.T) {
	b := NewBudget(8, 2<<20)
	var open []*OpenFile
	// Two 1 MiB pipes fill the memory; later ones get a page.
	for i := 0; i < 3; i++ {
		r, w, e := NewPipe(b, 0)
		if e != 0 {
			t.Fatalf("pipe %d: %v", i, e)
		}
		want := int64(pipeSize)
		if i == 2 {
			want = pipeSizeMin
		}
		hf := w.File.(*HostFile)
		if got, _ := unix.FcntlInt(uintptr(hf.FD), unix.F_GETPIPE_SZ, 0); int64(got) != want || hf.HostMemory() != want {
			t.Errorf("pipe %d: buffer %d (counted %d), want %d", i, got, hf.HostMemory(), want)
		}
		open = append(open, r, w)
	}
	if fds, mem := b.Held(); fds != 6 || mem != 2*pipeSize+pipeSizeMin {
		t.Errorf("held %d fds %d bytes", fds, mem)
	}
	// No memory left for a ring: ENFILE, nothing taken.
	if _, _, _, e := NewRingPipe(b, newChunk, 0); e != unix.ENFILE {
		t.Errorf("ring past the memory budget: %v, want ENFILE", e)
	}
	// Two descriptors left: a socketpair fits, then nothing.
	x, y, e := NewSocketpair(b, unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if e != 0 {
		t.Fatalf("socketpair: %v", e)
	}
	open = append(open, x, y)
	if _, e := NewSocket(b, unix.AF_INET, unix.SOCK_STREAM, 0); e != unix.ENFILE {
		t.Errorf("socket past the budget: %v, want ENFILE", e)
	}
	if _, _, e := NewPipe(b, 0); e != unix.ENFILE {
		t.Errorf("pipe past the budget: %v, want ENFILE", e)
	}
	for _, f := range open {
		f.File.Close()
	}
	if fds, mem := b.Held(); fds != 0 || mem != 0 {
		t.Errorf("after close: held %d fds %d bytes, want nothing", fds, mem)
	}
	r, w, _, e := NewRingPipe(b, newChunk, 0)
	if e != 0 {
		t.Fatalf("ring: %v", e)
	}
	if fds, mem := b.Held(); fds != 1 || mem != abi.RingSize {
		t.Errorf("a ring holds %d fds %d bytes, want 1 and %d", fds, mem, abi.RingSize)
	}
	r.File.Close()
	w.File.Close()
	if fds, mem := b.Held(); fds != 0 || mem != 0 {
		t.Errorf("after the ring closed: held %d fds %d bytes", fds, mem)
	}
}

// The table follows RLIMIT_NOFILE as the process sets it.
func TestFDTableLimit(t *testing.T) {
	tab := NewFDTable(1024)
	limit := 0
	tab.Limit = func() int { return limit }
	f := NewOpenFile(&devFile{}, 0)
	limit = 3
	for want := 0; want < 3; want++ {
		if fd, e := tab.Install(f, false); fd != want || e != 0 {
			t.Fatalf("install = %d %v, want %d", fd, e, want)
		}
	}
	if _, e := tab.Install(f, false); e != unix.EMFILE {
		t.Errorf("install past the limit: %v, want EMFILE", e)
	}
	if _, e := tab.Dup2(0, 3, false); e != unix.EBADF {
		t.Errorf("dup2 past the limit: %v, want EBADF", e)
	}
	if _, e := tab.Dup(0, 3, false); e != unix.EINVAL {
		t.Errorf("F_DUPFD past the limit: %v, want EINVAL", e)
	}
	limit = 0 // back to the default
	if fd, e := tab.Install(f, false); fd != 3 || e != 0 || tab.Max() != 1024 {
		t.Errorf("install with the default limit = %d %v (max %d)", fd, e, tab.Max())
	}
	tab.CloseAll()
}
