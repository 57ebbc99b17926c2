package kernel

import (
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Memory shared between the run's VMs (abi.h, UKF_SHM_GPA). A shared
// object is a memfd mapped once in the host; each VM that maps it has it
// as a window, a memory slot of its own in guest-physical space above RAM,
// which the program's page entries point into. A fork's child gets the
// same windows at the same addresses, so its entries, copied with its
// memory, reach the same object: one copy, as MAP_SHARED is on Linux.
// Objects count against the run's budget and go with their last window.

// shmObject is one shared object: anonymous memory, or a file's range
// mapped shared (vfs.SharedMapper), as the host maps it.
type shmObject struct {
	host []byte
	id   any          // the memory it maps: a futex's key, with base
	base uint64       // where host starts in it
	refs atomic.Int32 // windows, and a System V segment's own hold
	done func()       // at the last one
}

func newShmObject(b *vfs.Budget, size uint64) (*shmObject, unix.Errno) {
	if e := b.TakeShm(int64(size)); e != 0 {
		return nil, e
	}
	fd, err := unix.MemfdCreate("ukfork-shm", unix.MFD_CLOEXEC)
	if err == nil {
		if err = unix.Ftruncate(fd, int64(size)); err == nil {
			var h []byte
			h, err = unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			unix.Close(fd) // the mapping holds the memory
			if err == nil {
				o := &shmObject{host: h, done: func() {
					unix.Munmap(h)
					b.GiveShm(int64(size))
				}}
				o.id = o
				o.refs.Store(1)
				return o, 0
			}
		} else {
			unix.Close(fd)
		}
	}
	b.GiveShm(int64(size))
	return nil, unix.ENOMEM
}

func (o *shmObject) release() {
	if o.refs.Add(-1) == 0 {
		o.done()
	}
}

// shmWindow is an object as one VM maps it.
type shmWindow struct {
	gpa uint64
	obj *shmObject
	seg *shmSegment // the System V segment it attaches, if one
}

// drop ends w in p (its machine's slot already gone or going).
func (w *shmWindow) drop(pid int32) {
	if w.seg != nil {
		w.seg.detach(pid)
	}
	w.obj.release()
}

// windowAlign keeps windows 2 MiB apart: a window is a memory slot, and
// KVM maps a slot's huge pages only if it is aligned.
const windowAlign = 2 << 20

// freeWindow is the lowest place in the window for size bytes; windows
// are sorted by address.
func freeWindow(ws []shmWindow, size uint64) (uint64, bool) {
	at := uint64(abi.ShmGPA)
	for _, w := range ws {
		if w.gpa-at >= size {
			break
		}
		at = (w.gpa + uint64(len(w.obj.host)) + windowAlign - 1) &^ (windowAlign - 1)
	}
	if at-abi.ShmGPA > abi.ShmMax || abi.ShmMax-(at-abi.ShmGPA) < size {
		return 0, false
	}
	return at, true
}

// maxWindows bounds a VM's shared objects (each a memory slot).
const maxWindows = 64

// ShmAnon makes a new shared object of size bytes and maps it in p's VM:
// where it is.
func (p *Process) ShmAnon(size uint64) (uint64, unix.Errno) {
	if size == 0 || size%4096 != 0 || size > abi.ShmMax {
		return 0, unix.EINVAL
	}
	if len(p.windows) >= maxWindows {
		return 0, unix.ENOMEM
	}
	gpa, ok := freeWindow(p.windows, size)
	if !ok {
		return 0, unix.ENOMEM
	}
	o, e := newShmObject(p.Budget(), size)
	if e != 0 {
		return 0, e
	}
	return p.mapWindow(shmWindow{gpa: gpa, obj: o})
}

// ShmFile maps [off, off+size) of f shared in p's VM: where it is, and
// whether the mapping may be written (now or after mprotect). The
// description must be readable, and writable without O_APPEND for a
// writable mapping (write), as on Linux; a file that cannot be mapped
// shared gives ENODEV.
func (p *Process) ShmFile(f *vfs.OpenFile, off, size uint64, write bool) (gpa uint64, may bool, e unix.Errno) {
	if size == 0 || size%4096 != 0 || off%4096 != 0 || size > abi.ShmMax || off > 1<<62 {
		return 0, false, unix.EINVAL
	}
	may = f.Writable() && f.Flags()&unix.O_APPEND == 0
	if !f.Readable() || write && !may {
		return 0, false, unix.EACCES // before ENODEV, as do_mmap
	}
	sm, ok := f.File.(vfs.SharedMapper)
	if !ok {
		return 0, false, unix.ENODEV
	}
	if len(p.windows) >= maxWindows {
		return 0, false, unix.ENOMEM
	}
	gpa, ok = freeWindow(p.windows, size)
	if !ok {
		return 0, false, unix.ENOMEM
	}
	m, e := sm.MapShared(int64(off), int64(size), may)
	if e != 0 {
		return 0, false, e
	}
	o := &shmObject{host: m.Host, id: m.ID, base: uint64(off), done: m.Release}
	o.refs.Store(1)
	gpa, e = p.mapWindow(shmWindow{gpa: gpa, obj: o})
	return gpa, may, e
}

// mapWindow puts w in p's VM, its object held for it; on failure the
// hold is dropped.
func (p *Process) mapWindow(w shmWindow) (uint64, unix.Errno) {
	if err := p.M.MapWindow(w.gpa, w.obj.host); err != nil {
		w.obj.release()
		fmt.Fprintf(p.Stderr, "ukfork: %s[%d]: shared memory: %v\n", p.Name(), p.Pid, err)
		return 0, unix.ENOMEM
	}
	if w.seg != nil {
		w.seg.attach(p.Pid)
	}
	p.addWindow(w)
	return w.gpa, 0
}

func (p *Process) addWindow(w shmWindow) {
	i := 0
	for i < len(p.windows) && p.windows[i].gpa < w.gpa {
		i++
	}
	p.windows = append(p.windows, shmWindow{})
	copy(p.windows[i+1:], p.windows[i:])
	p.windows[i] = w
}

// ShmUnmap takes the object at gpa out of p's VM (the program no longer
// maps any of it).
func (p *Process) ShmUnmap(gpa uint64) unix.Errno {
	for i, w := range p.windows {
		if w.gpa == gpa {
			if err := p.M.UnmapWindow(gpa); err != nil {
				return unix.EINVAL
			}
			p.windows = append(p.windows[:i], p.windows[i+1:]...)
			w.drop(p.Pid)
			return 0
		}
	}
	return unix.EINVAL
}

// dropWindows takes every object out of p (execve: a new program starts
// with none; unmap is false once the machine is gone).
func (p *Process) dropWindows(unmap bool) {
	for _, w := range p.windows {
		if unmap {
			p.M.UnmapWindow(w.gpa)
		}
		w.drop(p.Pid)
	}
	p.windows = nil
}

// detachAll ends p's System V attaches, at its exit: before its parent
// can see it gone, as Linux detaches in exit_mm. The memory stays mapped
// until the machine goes.
func (p *Process) detachAll() {
	for i := range p.windows {
		if w := &p.windows[i]; w.seg != nil {
			w.seg.detach(p.Pid)
			w.seg = nil
		}
	}
}

// forkWindows maps p's objects into the machine cm of its child pid at
// the same addresses.
func (p *Process) forkWindows(pid int32, cm machine.Machine) ([]shmWindow, error) {
	out := make([]shmWindow, 0, len(p.windows))
	for _, w := range p.windows {
		if err := cm.MapWindow(w.gpa, w.obj.host); err != nil {
			for _, o := range out {
				cm.UnmapWindow(o.gpa)
				o.drop(pid)
			}
			return nil, err
		}
		w.obj.refs.Add(1)
		if w.seg != nil {
			w.seg.attach(pid)
		}
		out = append(out, w)
	}
	return out, nil
}
