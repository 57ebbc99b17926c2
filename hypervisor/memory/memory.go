// Package memory is guest RAM, with every guest-supplied address checked
// before the host touches it, and cloned copy-on-write when a VM forks.
//
// A VM that never forked maps one memfd shared: writes land in the memfd and
// giving memory back punches holes. At its first fork the parent remaps the
// same memfd private, which freezes it: from then on the memfd is a segment
// that parent and child share copy-on-write (see fork.go).
package memory

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PageSize is the guest page size.
const PageSize = 4096

// Guests may name addresses from lowest up, except the exception stack:
// below lowest are page 0 (unmapped) and the CPU's own tables, page tables
// and TSS (UKF_BOOTINFO_ADDR and the exception stack in abi.h).
const (
	lowest      = 0x10000
	xstackStart = 0x50000
	xstackEnd   = 0x60000
)

// Memory is one VM's RAM, guest-physical [0, Size).
type Memory struct {
	mem    []byte     // the host range backing guest RAM
	shared bool       // mapped MAP_SHARED over chunks[*].seg == the first segment
	chunks []chunkRef // per chunkSize of guest RAM: where its pages come from
}

// New creates size bytes of guest RAM. Nothing is allocated until touched:
// untouched guest memory costs the host nothing.
func New(size uint64) (*Memory, error) {
	if size%chunkSize != 0 || size == 0 {
		return nil, fmt.Errorf("memory: size %d is not a positive multiple of %d", size, chunkSize)
	}
	seg, err := newSegment(size)
	if err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(seg.fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		seg.closeFD()
		return nil, fmt.Errorf("memory: mmap %d bytes: %w", size, err)
	}
	m := &Memory{mem: mem, shared: true, chunks: make([]chunkRef, size/chunkSize)}
	for i := range m.chunks {
		m.chunks[i] = seg.ref(uint64(i) * chunkSize)
	}
	return m, nil
}

// Close unmaps the memory and drops its share of every segment.
func (m *Memory) Close() error {
	if m.mem == nil {
		return nil
	}
	err := unix.Munmap(m.mem)
	for i := range m.chunks {
		m.chunks[i].release()
	}
	m.mem, m.chunks = nil, nil
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
	if gpa < xstackEnd && gpa+n > xstackStart {
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

// Discard gives guest [gpa, gpa+n) back; it reads as zero after. The range
// must be page-aligned.
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
	if m.shared {
		return unix.Fallocate(m.chunks[0].seg.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(gpa), int64(n))
	}
	return m.discardPrivate(gpa, n)
}

// Resident returns how many bytes of host memory this VM holds on its own:
// for a VM that never forked its whole memfd, after a fork its private pages.
func (m *Memory) Resident() uint64 {
	if m.shared {
		var st unix.Stat_t
		if unix.Fstat(m.chunks[0].seg.fd, &st) != nil {
			return 0
		}
		return uint64(st.Blocks) * 512
	}
	pages, err := m.privatePages(0, m.Size())
	if err != nil {
		return 0
	}
	return uint64(len(pages)) * PageSize
}
