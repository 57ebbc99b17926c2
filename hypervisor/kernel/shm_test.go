package kernel

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// A shared object is one memory: mapped in the parent, in its child at the
// same address, written by one and read by the other; exec drops it from
// one process only; the last window takes it away.
func TestSharedObjects(t *testing.T) {
	r := newRun(t, 8)
	var gpa, second uint64
	var e unix.Errno
	fake(r.init).Do(func(machine.Handler) {
		gpa, e = r.init.ShmAnon(3 << 20)
		if e == 0 {
			second, e = r.init.ShmAnon(4096)
		}
	})
	if e != 0 || gpa != abi.ShmGPA || second != abi.ShmGPA+4<<20 {
		t.Fatalf("objects at %#x, %#x (%v); want the window's start, then past the first, aligned", gpa, second, e)
	}
	child := r.fork(r.init)
	pw, cw := fake(r.init).FakeMem().Windows(), fake(child).FakeMem().Windows()
	if len(cw) != 2 || &cw[gpa][0] != &pw[gpa][0] {
		t.Fatalf("the child's windows %d, the same memory as the parent's: %v", len(cw), len(cw) == 2 && &cw[gpa][0] == &pw[gpa][0])
	}
	b, err := child.M.Mem().Slice(gpa+100, 4)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "ping")
	got, _ := r.init.M.Mem().Slice(gpa+100, 4)
	if string(got) != "ping" {
		t.Errorf("the parent reads %q", got)
	}
	fake(child).Do(func(machine.Handler) { child.Exec("/bin/x") })
	if n := len(fake(child).FakeMem().Windows()); n != 0 {
		t.Errorf("after exec the child has %d windows", n)
	}
	obj := r.init.windows[0].obj
	if n := obj.refs.Load(); n != 1 {
		t.Errorf("after the child's exec the object has %d holders, want 1", n)
	}
	fake(r.init).Do(func(machine.Handler) {
		if e := r.init.ShmUnmap(gpa + 4096); e != unix.EINVAL {
			t.Errorf("unmap inside an object: %v, want EINVAL", e)
		}
		e = r.init.ShmUnmap(gpa)
	})
	if e != 0 || obj.refs.Load() != 0 || len(r.init.windows) != 1 {
		t.Errorf("unmap: %v, %d holders left, %d windows", e, obj.refs.Load(), len(r.init.windows))
	}
	fake(r.init).Do(func(machine.Handler) {
		for _, size := range []uint64{0, 4097, abi.ShmMax + 4096} {
			if _, e := r.init.ShmAnon(size); e != unix.EINVAL {
				t.Errorf("object of %d bytes: %v, want EINVAL", size, e)
			}
		}
		if _, e := r.init.ShmAnon(abi.ShmMax); e != unix.ENOMEM {
			t.Errorf("an object past the window's room: %v, want ENOMEM", e)
		}
	})
}

// A futex on a shared word: a child waits, its parent's wake counts it;
// a word that changed is EAGAIN; memory that is not shared is EFAULT.
func TestSharedFutex(t *testing.T) {
	r := newRun(t, 8)
	var gpa uint64
	fake(r.init).Do(func(machine.Handler) { gpa, _ = r.init.ShmAnon(4096) })
	child := r.fork(r.init)
	waited := make(chan unix.Errno, 1)
	go fake(child).Do(func(machine.Handler) { waited <- child.FutexWait(gpa+8, 0, ^uint32(0), time.Time{}) })
	var n int
	for i := 0; i < 200 && n == 0; i++ {
		time.Sleep(5 * time.Millisecond)
		fake(r.init).Do(func(machine.Handler) { n, _ = r.init.FutexWake(gpa+8, 5, ^uint32(0)) })
	}
	if n != 1 {
		t.Fatalf("the wake woke %d, want the one waiter", n)
	}
	if e := <-waited; e != 0 {
		t.Errorf("the waiter got %v", e)
	}
	b, _ := r.init.M.Mem().Slice(gpa+8, 4)
	b[0] = 1
	fake(child).Do(func(machine.Handler) {
		if e := child.FutexWait(gpa+8, 0, ^uint32(0), time.Time{}); e != unix.EAGAIN {
			t.Errorf("wait on a changed word: %v, want EAGAIN", e)
		}
		if e := child.FutexWait(0x1000, 0, ^uint32(0), time.Time{}); e != unix.EFAULT {
			t.Errorf("wait on private memory: %v, want EFAULT", e)
		}
		if e := child.FutexWait(gpa+16, 0, ^uint32(0), time.Now().Add(10*time.Millisecond)); e != unix.ETIMEDOUT {
			t.Errorf("wait with a deadline: %v, want ETIMEDOUT", e)
		}
	})
}
