package machine

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Guest pointers are guest-virtual addresses: the program's memory is mapped
// by page tables the guest runtime keeps (abi.h, "Guest memory layout"), so a
// buffer that is contiguous to the program may be scattered in RAM. Every
// pointer a guest hands the host goes through Translate (a Memory's), and
// host code reaches guest memory only through the helpers below.

const (
	PageSize = 4096

	pteP, pteRW, pteUS, ptePS = 1 << 0, 1 << 1, 1 << 2, 1 << 7
	pteAddr                   = 0x000f_ffff_ffff_f000
	userTop                   = 1 << 47 // canonical lower half
)

// Walk translates va through the x86-64 4-level tables rooted at
// abi.PML4Addr in ram (all of a guest's RAM, from guest-physical 0), as a
// user-mode access would: every level present and user-accessible, and
// writable for a write. The tables are guest memory the guest may have
// written anything into: an entry outside ram is EFAULT, never a host fault.
// The result is for Slice to check.
func Walk(ram []byte, va uint64, write bool) (uint64, error) {
	if va >= userTop {
		return 0, unix.EFAULT
	}
	size := uint64(len(ram))
	table := uint64(abi.PML4Addr)
	for level := 3; ; level-- {
		shift := 12 + 9*uint(level)
		at := table + (va>>shift&511)*8
		if table >= size || at+8 > size {
			return 0, unix.EFAULT
		}
		e := binary.LittleEndian.Uint64(ram[at:])
		if e&pteP == 0 || e&pteUS == 0 || (write && e&pteRW == 0) {
			return 0, unix.EFAULT
		}
		// A large page ends the walk at the PDPT (1 GiB) or PD (2 MiB).
		if level == 0 || (level <= 2 && e&ptePS != 0) {
			page := uint64(1) << shift
			return e&pteAddr&^(page-1) | va&(page-1), nil
		}
		table = e & pteAddr
	}
}

// Segments are the host slices of guest-virtual [va, va+n), one per run of
// physically contiguous pages. On a page the guest may not reach (for a
// write, if write) it returns the prefix before it and EFAULT.
func Segments(m Memory, va, n uint64, write bool) ([][]byte, error) {
	var segs [][]byte
	if n == 0 {
		return nil, nil
	}
	if va+n < va || va+n > userTop {
		return nil, unix.EFAULT
	}
	var start, run uint64 // the current run: guest-physical start, length
	for at := va; at < va+n; {
		pa, err := m.Translate(at, write)
		if err != nil {
			if run > 0 {
				if b, err := m.Slice(start, run); err == nil {
					segs = append(segs, b)
				}
			}
			return segs, unix.EFAULT
		}
		step := min(PageSize-at%PageSize, va+n-at)
		if run > 0 && pa == start+run {
			run += step
		} else {
			if run > 0 {
				b, err := m.Slice(start, run)
				if err != nil {
					return segs, unix.EFAULT
				}
				segs = append(segs, b)
			}
			start, run = pa, step
		}
		at += step
	}
	b, err := m.Slice(start, run)
	if err != nil {
		return segs, unix.EFAULT
	}
	return append(segs, b), nil
}

// Read copies guest-virtual [va, va+len(dst)) into dst, or fails whole.
func Read(m Memory, va uint64, dst []byte) error {
	segs, err := Segments(m, va, uint64(len(dst)), false)
	if err != nil {
		return err
	}
	for _, s := range segs {
		dst = dst[copy(dst, s):]
	}
	return nil
}

// Write copies src to guest-virtual va, or writes nothing.
func Write(m Memory, va uint64, src []byte) error {
	segs, err := Segments(m, va, uint64(len(src)), true)
	if err != nil {
		return err
	}
	for _, s := range segs {
		src = src[copy(s, src):]
	}
	return nil
}

// Slice is guest-virtual [va, va+n) as one host slice, for what the runtime
// keeps in its own identity-mapped memory (argument structs, the register
// save area): EFAULT unless the pages are physically contiguous. Program
// buffers go through Segments, Read and Write.
func Slice(m Memory, va, n uint64, write bool) ([]byte, error) {
	segs, err := Segments(m, va, n, write)
	if err != nil {
		return nil, err
	}
	switch len(segs) {
	case 0:
		return nil, nil
	case 1:
		return segs[0], nil
	}
	return nil, unix.EFAULT
}

// ReadValue copies a T from guest-virtual va.
func ReadValue[T any](m Memory, va uint64) (T, error) {
	var v T
	err := Read(m, va, unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v)))
	return v, err
}

// WriteValue copies v to guest-virtual va.
func WriteValue[T any](m Memory, va uint64, v T) error {
	return Write(m, va, unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v)))
}
