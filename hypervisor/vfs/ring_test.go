package vfs

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/memory"
)

func TestRingPipe(t *testing.T) {
	r, w, ring, e := NewRingPipe(testBudget(), newChunk, unix.O_NONBLOCK)
	if e != 0 {
		t.Fatal(e)
	}
	defer r.File.Close()
	buf := make([]byte, 10)
	if _, e := r.Read([][]byte{buf}, -1); e != unix.EAGAIN {
		t.Fatalf("empty read: %v, want EAGAIN", e)
	}
	// A write of at most PIPE_BUF goes in whole or not at all.
	big := bytes.Repeat([]byte("x"), abi.RingCap-100)
	if n, e := w.Write([][]byte{big}, -1); e != 0 || n != len(big) {
		t.Fatalf("write: %d %v", n, e)
	}
	if n, e := w.Write([][]byte{make([]byte, 200)}, -1); e != unix.EAGAIN {
		t.Fatalf("200 bytes into 100 free: %d %v, want EAGAIN", n, e)
	}
	if n, e := w.Write([][]byte{make([]byte, 5000)}, -1); e != 0 || n != 100 {
		t.Fatalf("5000 bytes into 100 free: %d %v, want 100", n, e)
	}
	if n, _ := r.Read([][]byte{buf}, -1); n != 10 {
		t.Fatalf("read %d", n)
	}
	if got := r.File.(*RingEnd).Readiness(unix.POLLIN); got&unix.POLLIN == 0 {
		t.Errorf("Ready = %#x, want POLLIN", got)
	}
	w.File.Close()
	rest := make([]byte, abi.RingCap)
	n, _ := r.Read([][]byte{rest}, -1)
	if n != abi.RingCap-10 {
		t.Fatalf("drained %d", n)
	}
	if n, e := r.Read([][]byte{rest}, -1); n != 0 || e != 0 {
		t.Fatalf("after the writer closed: %d %v, want EOF", n, e)
	}
	_ = ring
}

// A guest holding an end may write anything into the ring: the host answers
// with an errno, and a lock never released is taken back.
func TestRingHostile(t *testing.T) {
	r, w, ring, _ := NewRingPipe(testBudget(), newChunk, unix.O_NONBLOCK)
	defer r.File.Close()
	defer w.File.Close()
	ring.hdr.Head, ring.hdr.Tail = 5, 1<<40 // tail past head
	if _, e := r.Read([][]byte{make([]byte, 8)}, -1); e != unix.EIO {
		t.Errorf("read of a broken ring: %v, want EIO", e)
	}
	if _, e := w.Write([][]byte{make([]byte, 8)}, -1); e != unix.EIO {
		t.Errorf("write to a broken ring: %v, want EIO", e)
	}
	ring.hdr.Head, ring.hdr.Tail = 1<<50, 1<<50 // far along, consistent
	atomic.StoreUint32(&ring.hdr.Lock, 4242)    // held by a guest that never lets go
	start := time.Now()
	if n, e := w.Write([][]byte{[]byte("hi")}, -1); n != 2 || e != 0 {
		t.Fatalf("write after a stuck lock: %d %v", n, e)
	}
	if d := time.Since(start); d < lockSteal {
		t.Errorf("the lock was taken after %v, before %v", d, lockSteal)
	}
	got := make([]byte, 2)
	if n, _ := r.Read([][]byte{got}, -1); n != 2 || string(got) != "hi" {
		t.Errorf("read %q", got[:n])
	}
}

func newChunk() (machine.Chunk, error) { return memory.NewShared() }

func testBudget() *Budget { return NewBudget(64, 16<<20) }
