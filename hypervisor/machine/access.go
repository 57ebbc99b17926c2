package machine

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Guests may name addresses from Lowest up, except the exception stack:
// below Lowest are page 0 (unmapped) and the CPU's own tables (abi.h).
const (
	Lowest      = abi.BootinfoAddr
	xstackStart = abi.XStackTop - 0x10000
	xstackEnd   = abi.XStackTop
)

// InRange reports whether a guest may name [gpa, gpa+n) in size bytes of
// RAM; every Memory's Slice applies it.
func InRange(gpa, n, size uint64) bool {
	if n == 0 {
		return true
	}
	if gpa < Lowest || gpa >= size || n > size-gpa {
		return false
	}
	return gpa >= xstackEnd || gpa+n <= xstackStart
}

// Ptr returns a pointer to a T at guest-virtual address va, which must be
// 8-byte aligned, writable and physically contiguous: for the runtime's own
// structs (hypercall arguments). The caller copies what it reads before
// trusting it.
func Ptr[T any](m Memory, va uint64) (*T, error) {
	var zero T
	size := uint64(unsafe.Sizeof(zero))
	if va%8 != 0 {
		return nil, unix.EFAULT
	}
	b, err := Slice(m, va, size, true)
	if err != nil {
		return nil, err
	}
	return (*T)(unsafe.Pointer(&b[0])), nil
}

// physPtr is Ptr for a guest-physical address the host itself placed.
func physPtr[T any](m Memory, gpa uint64) (*T, error) {
	var zero T
	b, err := m.Slice(gpa, uint64(unsafe.Sizeof(zero)))
	if err != nil {
		return nil, err
	}
	return (*T)(unsafe.Pointer(&b[0])), nil
}

// BootPage is the guest's boot page (struct ukf_bootinfo): the one way
// the host reads and writes it. Fields the guest changes while it runs
// (the signal words) are read and written with sync/atomic.
func BootPage(m Memory) *abi.Bootinfo {
	if m == nil {
		return nil
	}
	bi, err := physPtr[abi.Bootinfo](m, abi.BootinfoAddr)
	if err != nil {
		return nil
	}
	return bi
}
