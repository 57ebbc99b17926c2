package kvm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VCPU is one virtual CPU. KVM wants its ioctls from the thread that created
// it, so its owner locks a goroutine to an OS thread for the vCPU's life.
type VCPU struct {
	vm  *VM
	fd  int
	run []byte // the shared struct kvm_run

	// What this side last wrote of the state only ring 0 can change: MSRs
	// other than the FS/GS bases (WRMSR is privileged; WRFSBASE is not) and
	// XCR0 (XSETBV is privileged). Reads and rewrites of the same values
	// skip the ioctl, ~10 µs each under PVM.
	msrs      map[uint32]uint64
	xcr0      uint64
	xcr0Known bool
}

// cacheable reports an MSR the guest cannot change.
func cacheable(index uint32) bool { return index != msrFSBase && index != msrGSBase }

const (
	msrFSBase = 0xC0000100
	msrGSBase = 0xC0000101
)

// CreateVCPU makes vCPU id and maps its kvm_run page.
func (vm *VM) CreateVCPU(id int) (*VCPU, error) {
	fd, err := ioctl(vm.fd, ioctlCreateVCPU, uintptr(id))
	if err != nil {
		return nil, fmt.Errorf("kvm: KVM_CREATE_VCPU: %w", err)
	}
	unix.CloseOnExec(int(fd))
	run, err := unix.Mmap(int(fd), 0, vm.sys.runSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(int(fd))
		return nil, fmt.Errorf("kvm: mmap kvm_run: %w", err)
	}
	return &VCPU{vm: vm, fd: int(fd), run: run, msrs: map[uint32]uint64{}}, nil
}

// Close unmaps kvm_run and closes the vCPU.
func (c *VCPU) Close() error {
	unix.Munmap(c.run)
	return unix.Close(c.fd)
}

// Run enters the guest until the next exit. EINTR (a signal, or a kick with
// immediate_exit) is returned as is: the caller decides whether to go on.
func (c *VCPU) Run() error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(c.fd), ioctlRun, 0)
	if e != 0 {
		return e
	}
	return nil
}

// ExitReason is kvm_run.exit_reason of the last exit.
func (c *VCPU) ExitReason() uint32 {
	return *(*uint32)(unsafe.Pointer(&c.run[runOffExitReason]))
}

// SetImmediateExit makes the next (or current) KVM_RUN return at once.
func (c *VCPU) SetImmediateExit(on bool) {
	v := uint8(0)
	if on {
		v = 1
	}
	*(*uint8)(unsafe.Pointer(&c.run[runOffImmediateExit])) = v
}

// ImmediateExit reports whether the next KVM_RUN returns at once.
func (c *VCPU) ImmediateExit() bool {
	return *(*uint8)(unsafe.Pointer(&c.run[runOffImmediateExit])) != 0
}

// IOExit describes a KVM_EXIT_IO.
type IOExit struct {
	Direction uint8
	Size      uint8
	Port      uint16
	Count     uint32
	Data      uint64 // the first element, zero-extended
}

// IO decodes the I/O exit data of the last exit.
func (c *VCPU) IO() IOExit {
	p := unsafe.Pointer(&c.run[runOffExit])
	io := IOExit{
		Direction: *(*uint8)(p),
		Size:      *(*uint8)(unsafe.Add(p, 1)),
		Port:      *(*uint16)(unsafe.Add(p, 2)),
		Count:     *(*uint32)(unsafe.Add(p, 4)),
	}
	off := *(*uint64)(unsafe.Add(p, 8))
	if off <= uint64(len(c.run))-8 { // not off+8: that can wrap
		switch io.Size {
		case 1:
			io.Data = uint64(c.run[off])
		case 2:
			io.Data = uint64(*(*uint16)(unsafe.Pointer(&c.run[off])))
		case 4:
			io.Data = uint64(*(*uint32)(unsafe.Pointer(&c.run[off])))
		}
	}
	return io
}

// ExitDetail returns the suberror of KVM_EXIT_INTERNAL_ERROR or the
// hardware reason of KVM_EXIT_FAIL_ENTRY.
func (c *VCPU) ExitDetail() uint64 {
	if c.ExitReason() == ExitInternalError { // __u32 suberror, then __u32 ndata
		return uint64(*(*uint32)(unsafe.Pointer(&c.run[runOffExit])))
	}
	return *(*uint64)(unsafe.Pointer(&c.run[runOffExit]))
}

func (c *VCPU) ioctlPtr(req uintptr, p unsafe.Pointer, what string) error {
	if _, err := ioctl(c.fd, req, uintptr(p)); err != nil {
		return fmt.Errorf("kvm: %s: %w", what, err)
	}
	return nil
}

// GetRegs reads the general registers.
func (c *VCPU) GetRegs(r *Regs) error {
	return c.ioctlPtr(ioctlGetRegs, unsafe.Pointer(r), "KVM_GET_REGS")
}

// SetRegs writes the general registers.
func (c *VCPU) SetRegs(r *Regs) error {
	return c.ioctlPtr(ioctlSetRegs, unsafe.Pointer(r), "KVM_SET_REGS")
}

// GetSregs reads the special registers.
func (c *VCPU) GetSregs(s *Sregs) error {
	return c.ioctlPtr(ioctlGetSregs, unsafe.Pointer(s), "KVM_GET_SREGS")
}

// SetSregs writes the special registers.
func (c *VCPU) SetSregs(s *Sregs) error {
	return c.ioctlPtr(ioctlSetSregs, unsafe.Pointer(s), "KVM_SET_SREGS")
}

type msrBuf struct {
	hdr     msrsHeader
	entries [16]MSREntry
}

// SetMSRs writes up to 16 MSRs (those already holding the value excepted).
func (c *VCPU) SetMSRs(msrs []MSREntry) error {
	var b msrBuf
	if len(msrs) > len(b.entries) {
		return fmt.Errorf("kvm: %d MSRs at once, at most %d", len(msrs), len(b.entries))
	}
	for _, m := range msrs {
		if v, ok := c.msrs[m.Index]; !ok || v != m.Data || !cacheable(m.Index) {
			b.entries[b.hdr.Nmsrs] = m
			b.hdr.Nmsrs++
		}
	}
	if b.hdr.Nmsrs == 0 {
		return nil
	}
	n, err := ioctl(c.fd, ioctlSetMSRs, uintptr(unsafe.Pointer(&b)))
	if err != nil {
		return fmt.Errorf("kvm: KVM_SET_MSRS: %w", err)
	}
	if uint32(n) != b.hdr.Nmsrs {
		return fmt.Errorf("kvm: KVM_SET_MSRS: MSR %#x refused", b.entries[n].Index)
	}
	for _, m := range b.entries[:n] {
		if cacheable(m.Index) {
			c.msrs[m.Index] = m.Data
		}
	}
	return nil
}

// GetMSRs reads MSRs in place (Index set by the caller).
func (c *VCPU) GetMSRs(msrs []MSREntry) error {
	var b msrBuf
	if len(msrs) > len(b.entries) {
		return fmt.Errorf("kvm: %d MSRs at once, at most %d", len(msrs), len(b.entries))
	}
	var at []int // where each read entry goes
	for i, m := range msrs {
		if v, ok := c.msrs[m.Index]; ok && cacheable(m.Index) {
			msrs[i].Data = v
			continue
		}
		b.entries[b.hdr.Nmsrs] = m
		b.hdr.Nmsrs++
		at = append(at, i)
	}
	if b.hdr.Nmsrs == 0 {
		return nil
	}
	n, err := ioctl(c.fd, ioctlGetMSRs, uintptr(unsafe.Pointer(&b)))
	if err != nil {
		return fmt.Errorf("kvm: KVM_GET_MSRS: %w", err)
	}
	for k := range int(n) {
		msrs[at[k]] = b.entries[k]
	}
	return nil
}

// SetCPUID sets the vCPU's CPUID table.
func (c *VCPU) SetCPUID(entries []CPUIDEntry2) error {
	b := new(cpuidBuf)
	if len(entries) > maxCPUIDEntries {
		return fmt.Errorf("kvm: %d CPUID entries, at most %d", len(entries), maxCPUIDEntries)
	}
	b.hdr.Nent = uint32(copy(b.entries[:], entries))
	return c.ioctlPtr(ioctlSetCPUID2, unsafe.Pointer(b), "KVM_SET_CPUID2")
}

// SetXCR0 sets the extended control register XCR0.
func (c *VCPU) SetXCR0(v uint64) error {
	var x XCRs
	x.Nr_xcrs = 1
	x.Xcrs[0] = XCR{Xcr: 0, Value: v}
	return c.setXCRs(&x)
}

func (c *VCPU) setXCRs(x *XCRs) error {
	if x.Nr_xcrs == 1 && x.Xcrs[0].Xcr == 0 && c.xcr0Known && c.xcr0 == x.Xcrs[0].Value {
		return nil
	}
	if err := c.ioctlPtr(ioctlSetXCRs, unsafe.Pointer(x), "KVM_SET_XCRS"); err != nil {
		return err
	}
	c.xcr0Known = false
	for _, r := range x.Xcrs[:x.Nr_xcrs] {
		if r.Xcr == 0 {
			c.xcr0, c.xcr0Known = r.Value, true
		}
	}
	return nil
}

// getXCRs reads the XCRs, or gives XCR0 as last written.
func (c *VCPU) getXCRs(x *XCRs) error {
	if c.xcr0Known {
		*x = XCRs{Nr_xcrs: 1}
		x.Xcrs[0] = XCR{Xcr: 0, Value: c.xcr0}
		return nil
	}
	return c.ioctlPtr(ioctlGetXCRs, unsafe.Pointer(x), "KVM_GET_XCRS")
}
