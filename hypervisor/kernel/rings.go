package kernel

import (
	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/memory"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Pipe rings in a task's VM (vfs.Ring; abi.h, "Pipe rings"). A ring is
// mapped at a slot of the VM's ring area while one of the task's fds names
// one of its ends, and the guest's fd_ring table says which fds do: the
// runtime reads and writes through the ring then, without an exit. Only the
// task's own vCPU thread changes its fd table, so none of this is locked.
type ringSlots struct {
	ring [abi.RingSlots]*vfs.Ring
	refs [abi.RingSlots]int
	fdr  [abi.FDRingMax]uint8 // what the guest's table should say
}

func ringGPA(slot int) uint64 { return abi.RingArea + uint64(slot)*abi.RingSize }

// freeSlot is a ring slot of t's VM with nothing mapped, or -1.
func (t *Task) freeSlot() int {
	if t.VM == nil {
		return -1
	}
	for s, r := range t.rings.ring {
		if r == nil {
			return s
		}
	}
	return -1
}

// CanMapRing reports a free slot: a pipe made now can be a ring.
func (t *Task) CanMapRing() bool { return t.freeSlot() >= 0 }

// MapRing maps r at a free slot of t's VM; false when none is free (the
// pipe is then a host pipe).
func (t *Task) MapRing(r *vfs.Ring) bool {
	s := t.freeSlot()
	if s < 0 || t.VM.Mem().MapShared(ringGPA(s), r.Shared()) != nil {
		return false
	}
	t.rings.ring[s] = r
	return true
}

// DropRing unmaps r if no fd of t names it any more.
func (t *Task) DropRing(r *vfs.Ring) {
	for s, x := range t.rings.ring {
		if x == r && t.rings.refs[s] == 0 {
			t.VM.Mem().UnmapShared(ringGPA(s))
			t.rings.ring[s] = nil
		}
	}
}

// fdChanged keeps the slots' counts and the guest's fd_ring table in step
// with the fd table.
func (t *Task) fdChanged(fd int, f *vfs.OpenFile) {
	if fd >= abi.FDRingMax || t.VM == nil {
		return
	}
	var v uint8
	if f != nil {
		if e, ok := f.File.(*vfs.RingEnd); ok {
			for s, r := range t.rings.ring {
				if r == e.Ring() {
					v = uint8(s + 1)
					if e.IsWrite() {
						v |= abi.FDRWrite
					}
				}
			}
		}
	}
	old := t.rings.fdr[fd]
	if old == v {
		return
	}
	t.rings.fdr[fd] = v
	if v != 0 {
		t.rings.refs[(v&abi.FDRSlot)-1]++
	}
	if bi, err := memory.Ptr[abi.Bootinfo](t.VM.Mem(), abi.BootinfoAddr); err == nil {
		bi.Fd_ring[fd] = v
	}
	if old != 0 {
		s := (old & abi.FDRSlot) - 1
		if t.rings.refs[s]--; t.rings.refs[s] == 0 {
			t.DropRing(t.rings.ring[s])
		}
	}
}

// unlockRings releases ring locks t's VM held when it ended.
func (t *Task) unlockRings() {
	for _, r := range t.rings.ring {
		if r != nil {
			r.Unlock(t.Pid)
		}
	}
}

// Ring is the ring at slot s of t's VM, or nil.
func (t *Task) Ring(s uint64) *vfs.Ring {
	if s >= abi.RingSlots {
		return nil
	}
	return t.rings.ring[s]
}
