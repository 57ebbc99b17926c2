package kernel

import (
	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// Pipe rings in a task's VM (vfs.Ring; abi.h, "Pipe rings"). A ring is
// mapped at a slot of the VM's ring area while one of the task's fds names
// one of its ends, and the guest's fd_ring table says which fds do: the
// runtime reads and writes through the ring then, without an exit. Only the
// fd table's changes reach it under the table's lock (FDTable.Watch), and
// only the process's own vCPU thread maps and drops rings.
type ringSlots struct {
	ring [abi.RingSlots]*vfs.Ring
	refs [abi.RingSlots]int
	fdr  [abi.FDRingMax]uint8 // what the guest's table should say
}

func ringGPA(slot int) uint64 { return abi.RingArea + uint64(slot)*abi.RingSize }

// freeSlot is a ring slot of p's machine with nothing mapped, or -1.
func (p *Process) freeSlot() int {
	for s, r := range p.rings.ring {
		if r == nil {
			return s
		}
	}
	return -1
}

// CanMapRing reports a free slot: a pipe made now can be a ring.
func (p *Process) CanMapRing() bool { return p.freeSlot() >= 0 }

// MapRing maps r at a free slot of p's machine; false when none is free
// (the pipe is then a host pipe).
func (p *Process) MapRing(r *vfs.Ring) bool {
	s := p.freeSlot()
	m := p.M.Mem()
	if s < 0 || m == nil || m.MapShared(ringGPA(s), r.Shared()) != nil {
		return false
	}
	p.rings.ring[s] = r
	return true
}

// DropRing unmaps r if no fd of p names it any more.
func (p *Process) DropRing(r *vfs.Ring) {
	for s, x := range p.rings.ring {
		if x == r && p.rings.refs[s] == 0 {
			if m := p.M.Mem(); m != nil {
				m.UnmapShared(ringGPA(s))
			}
			p.rings.ring[s] = nil
		}
	}
}

// fdChanged keeps the slots' counts and the guest's fd_ring table in step
// with the fd table.
func (p *Process) fdChanged(fd int, f *vfs.OpenFile) {
	if fd >= abi.FDRingMax {
		return
	}
	var v uint8
	if f != nil {
		if e, ok := f.File.(*vfs.RingEnd); ok {
			for s, r := range p.rings.ring {
				if r == e.Ring() {
					v = uint8(s + 1)
					if e.IsWrite() {
						v |= abi.FDRWrite
					}
				}
			}
		}
	}
	old := p.rings.fdr[fd]
	if old == v {
		return
	}
	p.rings.fdr[fd] = v
	if v != 0 {
		p.rings.refs[(v&abi.FDRSlot)-1]++
	}
	// Nil once the machine is gone: its table no longer matters.
	if bi := machine.BootPage(p.M.Mem()); bi != nil {
		bi.Fd_ring[fd] = v
	}
	if old != 0 {
		s := (old & abi.FDRSlot) - 1
		if p.rings.refs[s]--; p.rings.refs[s] == 0 {
			p.DropRing(p.rings.ring[s])
		}
	}
}

// unlockRings releases ring locks p's machine held when it ended.
func (p *Process) unlockRings() {
	for _, r := range p.rings.ring {
		if r != nil {
			r.Unlock(p.Pid)
		}
	}
}

// Ring is the ring at slot s of p's machine, or nil.
func (p *Process) Ring(s uint64) *vfs.Ring {
	if s >= abi.RingSlots {
		return nil
	}
	return p.rings.ring[s]
}
