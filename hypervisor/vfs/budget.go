package vfs

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Budget bounds what one run's objects hold on the host: host descriptors
// (pipes, sockets, ring memory) and pipe buffer memory (kernel memory the
// host pipes hold, and the rings' shared memory). Every VM of a run lives
// in one host process: without a bound, one guest could take the
// descriptors and memory every other VM of the run needs.
type Budget struct {
	fds, pipeMem, shm          atomic.Int64
	maxFDs, maxPipeMem, maxShm int64
}

// NewBudget allows maxFDs host descriptors and maxPipeMem bytes of pipe
// buffers.
func NewBudget(maxFDs, maxPipeMem int64) *Budget {
	return &Budget{maxFDs: maxFDs, maxPipeMem: maxPipeMem, maxShm: defaultShm()}
}

// defaultShm is what shared memory objects may hold in all: half of the
// host's RAM (Linux's own shmem limit for tmpfs), at least 64 MiB.
func defaultShm() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 1 << 30
	}
	return max(int64(uint64(si.Totalram)*uint64(si.Unit)/2), 64<<20)
}

// TakeShm reserves n bytes of shared memory objects, or ENOMEM.
func (b *Budget) TakeShm(n int64) unix.Errno {
	if b.shm.Add(n) > b.maxShm {
		b.shm.Add(-n)
		return unix.ENOMEM
	}
	return 0
}

// GiveShm gives n bytes of shared memory back.
func (b *Budget) GiveShm(n int64) { b.shm.Add(-n) }

// ShmUsed is how many bytes of shared memory objects are held now.
func (b *Budget) ShmUsed() int64 { return b.shm.Load() }

// DefaultBudget leaves half of this process's descriptors to the VMs
// themselves (KVM, memory, eventfds) and allows 64 MiB of pipe buffers.
func DefaultBudget() *Budget {
	var rl unix.Rlimit
	fds := int64(1024)
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur > 0 {
		fds = int64(min(rl.Cur/2, 1<<20))
	}
	return NewBudget(fds, 64<<20)
}

// takeFDs reserves n host descriptors, or ENFILE: the run's file table is
// full, as Linux says of the system's.
func (b *Budget) takeFDs(n int) unix.Errno {
	if b.fds.Add(int64(n)) > b.maxFDs {
		b.fds.Add(-int64(n))
		return unix.ENFILE
	}
	return 0
}

func (b *Budget) giveFDs(n int) { b.fds.Add(-int64(n)) }

// takePipe reserves n bytes of pipe buffer if the budget has them.
func (b *Budget) takePipe(n int64) bool {
	if b.pipeMem.Add(n) > b.maxPipeMem {
		b.pipeMem.Add(-n)
		return false
	}
	return true
}

func (b *Budget) givePipe(n int64) { b.pipeMem.Add(-n) }

// Held reports the descriptors and pipe buffer bytes in use.
func (b *Budget) Held() (fds, pipeMem int64) { return b.fds.Load(), b.pipeMem.Load() }

// HostMemory is implemented by files that hold host memory of their own
// (pipe buffers, rings): `ukfork ps` shows it per process.
type HostMemory interface {
	HostMemory() int64
}
