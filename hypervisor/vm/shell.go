package vm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
	"github.com/ukfork/ukfork/hypervisor/memory"
)

// A shell is a KVM VM with its vCPU, owned by one locked OS thread (KVM
// wants vCPU ioctls from the thread that created the vCPU). Creating one
// costs ~0.4 ms and destroying one about as much, so shells are made ahead
// of time, in the background: the hot standby of VM launch and fork. A
// shell serves one guest (see Pool.retire). An idle one holds no guest
// memory, but has its memory slot already: a reserved host range the
// guest maps its RAM into (a new slot costs ~0.2 ms here).
type shell struct {
	vm   *kvm.VM
	vcpu *kvm.VCPU
	tid  int32
	jobs chan func()
	slot []byte // host range of memory slot 0, empty while idle
	img  *Image // mapped as slot 1 (read-only); kept while idle
}

// setImage maps img as the shell's read-only slot 1 unless it is already.
// A shell only ever serves one backend, so it never has to change.
func (s *shell) setImage(img *Image) error {
	if img == nil || s.img == img {
		return nil
	}
	if s.img != nil {
		return fmt.Errorf("a VM shell cannot change images")
	}
	if err := s.vm.SetMemoryFlags(1, abi.ImageGPA, img.host, kvm.MemReadonly); err != nil {
		return err
	}
	s.img = img
	return nil
}

// ram returns the shell's slot range for size bytes of RAM, making the slot
// anew if it has another size.
func (s *shell) ram(size uint64) ([]byte, error) {
	if uint64(len(s.slot)) == size {
		return s.slot, nil
	}
	if err := s.dropSlot(); err != nil {
		return nil, err
	}
	r, err := memory.Reserve(size)
	if err != nil {
		return nil, err
	}
	if err := s.vm.SetMemory(0, 0, r); err != nil {
		unix.Munmap(r)
		return nil, err
	}
	s.slot = r
	return r, nil
}

func (s *shell) dropSlot() error {
	if s.slot == nil {
		return nil
	}
	if err := s.vm.ClearMemory(0); err != nil {
		return err
	}
	unix.Munmap(s.slot)
	s.slot = nil
	return nil
}

func newShell(sys *kvm.System) (*shell, error) {
	s := &shell{jobs: make(chan func())}
	errc := make(chan error, 1)
	go func() {
		// Locked for good: when the jobs end, the thread ends with the
		// goroutine and takes nothing of the shell's state elsewhere.
		runtime.LockOSThread()
		s.tid = int32(unix.Gettid())
		var err error
		if s.vm, err = sys.CreateVM(); err == nil {
			// CPUID is set once: KVM refuses a change after the first
			// KVM_RUN, and its own updates make even a rewrite differ.
			if s.vcpu, err = s.vm.CreateVCPU(0); err != nil {
				s.vm.Close()
			} else if err = s.vcpu.SetCPUID(sys.CPUID()); err != nil {
				s.vcpu.Close()
				s.vm.Close()
			}
		}
		errc <- err
		if err != nil {
			return
		}
		for job := range s.jobs {
			job()
		}
		s.vcpu.Close()
		s.vm.Close()
		if s.slot != nil {
			unix.Munmap(s.slot)
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return s, nil
}

func (s *shell) destroy() { close(s.jobs) }

// Pool keeps up to size idle shells, refilled in the background once warm
// (Warm): before that it only keeps the shells guests give back.
type Pool struct {
	sys       *kvm.System
	idle      chan *shell
	warm      atomic.Bool
	refilling atomic.Bool
	closeOnce sync.Once
	closed    atomic.Bool
	ramSize   atomic.Uint64 // the last guest's: new shells get a slot this size
}

// NewPool makes an empty pool of up to size shells.
func NewPool(sys *kvm.System, size int) *Pool {
	return &Pool{sys: sys, idle: make(chan *shell, size)}
}

// Warm starts keeping shells ready ahead of need.
func (p *Pool) Warm() {
	if !p.warm.Swap(true) {
		p.refill()
	}
}

// get takes an idle shell, or makes one when none is ready.
func (p *Pool) get() (*shell, error) {
	select {
	case s := <-p.idle:
		p.refill()
		return s, nil
	default:
		p.refill()
		return newShell(p.sys)
	}
}

// retire destroys a shell a guest has run in: PVM keeps shadow page
// tables across guests of one VM, and a new guest's page tables (other
// contents at the same frames, written by no one it could see) would be
// read through a dead guest's shadows. Fresh shells are made ahead instead.
func (p *Pool) retire(s *shell) {
	s.destroy()
	if p != nil {
		p.refill()
	}
}

// put gives a fresh shell to the pool, or destroys it when the pool is full
// or closed.
func (p *Pool) put(s *shell) {
	if p == nil || p.closed.Load() {
		s.destroy()
		return
	}
	select {
	case p.idle <- s:
	default:
		s.destroy()
	}
}

func (p *Pool) refill() {
	if !p.warm.Load() || p.closed.Load() || !p.refilling.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer p.refilling.Store(false)
		for len(p.idle) < cap(p.idle) && !p.closed.Load() {
			s, err := newShell(p.sys)
			if err != nil {
				return
			}
			if size := p.ramSize.Load(); size != 0 {
				s.ram(size) // ahead of time; on failure the guest retries
			}
			p.put(s)
		}
	}()
}

// Close destroys the idle shells; shells in use are destroyed when their
// guests exit.
func (p *Pool) Close() {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		for {
			select {
			case s := <-p.idle:
				s.destroy()
			default:
				return
			}
		}
	})
}
