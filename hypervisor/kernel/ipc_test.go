package kernel

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/machine"
)

// A System V segment: found again by its key, attached in the parent and
// (inherited) in its child, counted per attach; removed while attached it
// lives on, unfindable, and goes with its last detach, its budget back.
func TestSysvSegment(t *testing.T) {
	r := newRun(t, 8)
	p := r.init
	var id int32
	var gpa, size uint64
	var e unix.Errno
	before := p.Budget().ShmUsed()
	fake(p).Do(func(machine.Handler) {
		id, e = p.Shmget(42, 10000, unix.IPC_CREAT|0o600)
		if e != 0 {
			return
		}
		if again, e2 := p.Shmget(42, 4096, 0); again != id || e2 != 0 {
			t.Errorf("shmget of the key again: %d %v, want %d", again, e2, id)
		}
		if _, e2 := p.Shmget(42, 4096, unix.IPC_CREAT|unix.IPC_EXCL); e2 != unix.EEXIST {
			t.Errorf("IPC_EXCL on a key in use: %v", e2)
		}
		gpa, size, e = p.Shmat(id, 0)
	})
	if e != 0 || size != 12288 {
		t.Fatalf("shmget/shmat: %v, size %d", e, size)
	}
	nattch := func() uint64 {
		var c ShmCtl
		if _, e := p.Shmctl(id, unix.IPC_STAT, &c); e != 0 {
			t.Fatalf("IPC_STAT: %v", e)
		}
		return c.Ds.Nattch
	}
	child := r.fork(p)
	if n := nattch(); n != 2 {
		t.Errorf("after fork nattch %d, want 2", n)
	}
	b, _ := child.M.Mem().Slice(gpa, 4)
	copy(b, "seg!")
	if got, _ := p.M.Mem().Slice(gpa, 4); string(got) != "seg!" {
		t.Errorf("the parent reads %q", got)
	}
	var c ShmCtl
	if _, e := p.Shmctl(id, unix.IPC_RMID, &c); e != 0 {
		t.Fatal(e)
	}
	if _, e := p.Shmget(42, 4096, 0); e != unix.ENOENT {
		t.Errorf("shmget of a removed key: %v, want ENOENT", e)
	}
	fake(child).Do(func(machine.Handler) { child.Exec("/bin/x") })
	if n := nattch(); n != 1 {
		t.Errorf("after the child's exec nattch %d, want 1", n)
	}
	fake(p).Do(func(machine.Handler) { e = p.ShmUnmap(gpa) })
	if e != 0 {
		t.Fatal(e)
	}
	if _, e := p.Shmctl(id, unix.IPC_STAT, &c); e != unix.EINVAL {
		t.Errorf("IPC_STAT after the last detach of a removed segment: %v, want EINVAL", e)
	}
	if got := p.Budget().ShmUsed(); got != before {
		t.Errorf("shared memory budget %d, want %d back", got, before)
	}
}
