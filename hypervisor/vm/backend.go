package vm

import (
	"fmt"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/memory"
)

// Backend makes KVM machines for one guest runtime: the machine.Backend of
// KVM. Its pool of VM shells fills only once a program forks: a run that
// never forks makes one VM.
type Backend struct {
	sys   *kvm.System
	rt    *Runtime
	pool  *Pool
	image *Image
}

// NewBackend opens /dev/kvm for guests running rt, with img (if not nil)
// mapped read-only into each, where KVM offers read-only memory slots.
func NewBackend(rt *Runtime, shells int, img *Image) (*Backend, error) {
	sys, err := kvm.Open()
	if err != nil {
		return nil, err
	}
	if !sys.ReadonlyMem() {
		img = nil // guests read the image's files instead
	}
	return &Backend{sys: sys, rt: rt, pool: NewPool(sys, shells), image: img}, nil
}

// New makes a machine with its memory laid out and the runtime loaded.
func (b *Backend) New(cfg machine.Config) (machine.Machine, error) {
	if cfg.MemSize < abi.MemMin || cfg.MemSize > abi.MemMax || cfg.MemSize%(2<<20) != 0 {
		return nil, fmt.Errorf("memory size %d MiB: must be a multiple of 2 MiB between %d MiB and %d MiB",
			cfg.MemSize>>20, abi.MemMin>>20, uint64(abi.MemMax)>>20)
	}
	v, err := newVM(b.sys, config{Config: cfg, Runtime: b.rt, Pool: b.pool, Image: b.image})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// NewChunk makes a chunk of memory guests can share.
func (b *Backend) NewChunk() (machine.Chunk, error) {
	s, err := memory.NewShared()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Forked starts keeping VM shells ready: forks come in numbers.
func (b *Backend) Forked() { b.pool.Warm() }

// Close destroys the idle VM shells.
func (b *Backend) Close() { b.pool.Close() }
