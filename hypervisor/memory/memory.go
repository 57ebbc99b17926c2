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
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/machine"
)

// PageSize is the guest page size.
const PageSize = 4096

// Memory is one VM's RAM, guest-physical [0, Size): a machine.Memory.
type Memory struct {
	mem      []byte     // the host range backing guest RAM
	borrowed bool       // mem is the caller's range (see In): give it back, not unmap it
	shared   bool       // mapped MAP_SHARED over chunks[*].seg == the first segment
	chunks   []chunkRef // per chunkSize of guest RAM: where its pages come from
	image    []byte     // read-only guest-physical memory at imageAt (the image file)
	imageAt  uint64
	windows  atomic.Pointer[[]Window] // shared objects above RAM, sorted; read from other tasks (/proc)
}

// Window is host memory of a shared object mapped at guest-physical GPA.
type Window struct {
	GPA  uint64
	Host []byte
}

// AddWindow makes w reachable by Slice and Translate (read and write);
// RemoveWindow takes the one at gpa away. The VMM maps the guest side.
func (m *Memory) AddWindow(w Window) {
	old := m.Windows()
	n := make([]Window, 0, len(old)+1)
	for _, o := range old {
		if o.GPA < w.GPA {
			n = append(n, o)
		}
	}
	n = append(n, w)
	for _, o := range old {
		if o.GPA > w.GPA {
			n = append(n, o)
		}
	}
	m.windows.Store(&n)
}

func (m *Memory) RemoveWindow(gpa uint64) {
	old := m.Windows()
	n := make([]Window, 0, len(old))
	for _, o := range old {
		if o.GPA != gpa {
			n = append(n, o)
		}
	}
	m.windows.Store(&n)
}

// Windows are the shared objects mapped now, by address.
func (m *Memory) Windows() []Window {
	if w := m.windows.Load(); w != nil {
		return *w
	}
	return nil
}

// window is the window holding [gpa, gpa+n), if one does.
func (m *Memory) window(gpa, n uint64) ([]byte, bool) {
	for _, w := range m.Windows() {
		if gpa >= w.GPA && gpa-w.GPA < uint64(len(w.Host)) {
			off := gpa - w.GPA
			if n > uint64(len(w.Host))-off {
				return nil, false
			}
			return w.Host[off : off+n : off+n], true
		}
	}
	return nil, false
}

// SetImage says the guest also has image, read-only, at guest-physical at
// (above RAM): Slice reaches it for reading, Translate never for writing.
func (m *Memory) SetImage(at uint64, image []byte) {
	m.image, m.imageAt = image, at
}

// New creates size bytes of guest RAM. Nothing is allocated until touched:
// untouched guest memory costs the host nothing.
func New(size uint64) (*Memory, error) { return NewIn(size, nil) }

// NewIn is New in the caller's range at (nil: a range of its own), which
// must be size bytes reserved with Reserve. KVM can keep a memory slot on
// such a range from one guest to the next: a new slot costs ~0.2 ms here.
func NewIn(size uint64, at []byte) (*Memory, error) {
	if size%chunkSize != 0 || size == 0 {
		return nil, fmt.Errorf("memory: size %d is not a positive multiple of %d", size, chunkSize)
	}
	if at != nil && uint64(len(at)) != size {
		return nil, fmt.Errorf("memory: range of %d bytes for %d bytes of RAM", len(at), size)
	}
	seg, err := newSegment(size)
	if err != nil {
		return nil, err
	}
	mem, err := mapAt(at, size, unix.MAP_SHARED, seg.fd)
	if err != nil {
		seg.closeFD()
		return nil, fmt.Errorf("memory: mmap %d bytes: %w", size, err)
	}
	m := &Memory{mem: mem, borrowed: at != nil, shared: true, chunks: make([]chunkRef, size/chunkSize)}
	for i := range m.chunks {
		m.chunks[i] = seg.ref(uint64(i) * chunkSize)
	}
	return m, nil
}

// Reserve returns size bytes of address space with nothing behind them.
func Reserve(size uint64) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, int(size), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("memory: reserve %d bytes: %w", size, err)
	}
	return b, nil
}

// empty drops every page of a reserved range, keeping the range. KVM, told
// by the host kernel, forgets its mappings of the pages too.
func empty(b []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_FIXED, ^uintptr(0), 0)
	if e != 0 {
		return e
	}
	return nil
}

// mapAt maps fd (or anonymous memory, fd -1) over at, or anywhere if at is
// nil, readable and writable.
func mapAt(at []byte, size uint64, flags int, fd int) ([]byte, error) {
	if at == nil {
		return unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, flags)
	}
	_, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(unsafe.Pointer(&at[0])), uintptr(size),
		unix.PROT_READ|unix.PROT_WRITE, uintptr(flags|unix.MAP_FIXED), uintptr(fd), 0)
	if e != 0 {
		return nil, e
	}
	return at, nil
}

// Close drops the memory (a borrowed range is left reserved and empty)
// and its share of every segment.
func (m *Memory) Close() error {
	if m.mem == nil {
		return nil
	}
	var err error
	if m.borrowed {
		err = empty(m.mem)
	} else {
		err = unix.Munmap(m.mem)
	}
	releaseAll(m.chunks)
	m.mem, m.chunks = nil, nil
	return err
}

// Size is the guest RAM size in bytes.
func (m *Memory) Size() uint64 { return uint64(len(m.mem)) }

// Host returns all of guest RAM, for the VMM's own setup and KVM.
func (m *Memory) Host() []byte { return m.mem }

// Slice returns guest [gpa, gpa+n) or EFAULT. A zero length is always valid.
// A range in the image is read-only host memory: only reads get there
// (Translate refuses writes), and host code never writes a Slice it got for
// a read.
func (m *Memory) Slice(gpa, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if gpa >= m.Size() {
		if b, ok := m.window(gpa, n); ok {
			return b, nil
		}
	}
	if m.image != nil && gpa >= m.imageAt {
		off := gpa - m.imageAt
		if off >= uint64(len(m.image)) || n > uint64(len(m.image))-off {
			return nil, unix.EFAULT
		}
		return m.image[off : off+n : off+n], nil
	}
	if !machine.InRange(gpa, n, m.Size()) {
		return nil, unix.EFAULT
	}
	return m.mem[gpa : gpa+n : gpa+n], nil
}

// Translate walks the guest's page tables. Only RAM is writable, whatever
// the guest's entries say: the image is read-only to the host too.
func (m *Memory) Translate(va uint64, write bool) (uint64, error) {
	pa, err := machine.Walk(m.mem, va, write)
	if err == nil && write && pa >= m.Size() {
		if _, ok := m.window(pa, 1); !ok {
			return 0, unix.EFAULT // the image: read-only whatever the entries say
		}
	}
	return pa, err
}

// Discard gives guest [gpa, gpa+n) back; it reads as zero after. The range
// must be page-aligned.
func (m *Memory) Discard(gpa, n uint64) error {
	if gpa%PageSize != 0 || n%PageSize != 0 {
		return unix.EINVAL
	}
	if !machine.InRange(gpa, n, m.Size()) { // RAM only, never the image
		return unix.EFAULT
	}
	if _, err := m.Slice(gpa, n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	for c := gpa / chunkSize; c*chunkSize < gpa+n; c++ {
		if m.chunks[c].shared {
			return unix.EINVAL // a pipe ring is not the guest's to give back
		}
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
