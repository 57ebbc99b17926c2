// Package memory is guest RAM: a memfd mapped into the host, with every
// guest-supplied address checked before the host touches it.
package memory

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PageSize is the guest page size.
const PageSize = 4096

// lowest is the first guest address a guest may name: page 0 stays unmapped.
const lowest = PageSize

// Memory is one VM's RAM, guest-physical [0, Size).
type Memory struct {
	fd  int
	mem []byte
}

// New creates size bytes of guest RAM. Nothing is allocated until touched:
// untouched guest memory costs the host nothing.
func New(size uint64) (*Memory, error) {
	if size%PageSize != 0 || size == 0 {
		return nil, fmt.Errorf("memory: size %d is not a positive multiple of %d", size, PageSize)
	}
	fd, err := unix.MemfdCreate("ukfork-guest", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memory: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("memory: ftruncate %d: %w", size, err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("memory: mmap %d bytes: %w", size, err)
	}
	return &Memory{fd: fd, mem: mem}, nil
}

// Close unmaps and frees the memory.
func (m *Memory) Close() error {
	if m.mem == nil {
		return nil
	}
	err := unix.Munmap(m.mem)
	unix.Close(m.fd)
	m.mem = nil
	return err
}

// Size is the guest RAM size in bytes.
func (m *Memory) Size() uint64 { return uint64(len(m.mem)) }

// Host returns all of guest RAM, for the VMM's own setup and KVM.
func (m *Memory) Host() []byte { return m.mem }

// Slice returns guest [gpa, gpa+n) or EFAULT. A zero length is always valid.
func (m *Memory) Slice(gpa, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if gpa < lowest || gpa >= m.Size() || n > m.Size()-gpa {
		return nil, unix.EFAULT
	}
	return m.mem[gpa : gpa+n : gpa+n], nil
}

// Ptr returns a pointer to a T at guest address gpa, which must be in RAM
// and 8-byte aligned. The caller copies what it reads before trusting it.
func Ptr[T any](m *Memory, gpa uint64) (*T, error) {
	var zero T
	size := uint64(unsafe.Sizeof(zero))
	if gpa%8 != 0 {
		return nil, unix.EFAULT
	}
	b, err := m.Slice(gpa, size)
	if err != nil {
		return nil, err
	}
	return (*T)(unsafe.Pointer(&b[0])), nil
}

// Discard gives guest [gpa, gpa+n) back to the host; it reads as zero after.
// The range must be page-aligned.
func (m *Memory) Discard(gpa, n uint64) error {
	if gpa%PageSize != 0 || n%PageSize != 0 {
		return unix.EINVAL
	}
	if _, err := m.Slice(gpa, n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return unix.Fallocate(m.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(gpa), int64(n))
}

// Resident returns how many bytes of guest RAM the host has allocated.
func (m *Memory) Resident() uint64 {
	var st unix.Stat_t
	if unix.Fstat(m.fd, &st) != nil {
		return 0
	}
	return uint64(st.Blocks) * 512
}
