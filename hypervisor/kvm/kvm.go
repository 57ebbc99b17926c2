// Package kvm is a thin layer over the /dev/kvm ioctls, on x/sys/unix.
// It knows nothing about ukfork's guests; hypervisor/vm builds on it.
package kvm

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrNoKVM says that /dev/kvm cannot be used, and what to do about it.
var ErrNoKVM = errors.New("/dev/kvm is not available: ukfork runs each program as a KVM virtual machine; " +
	"load the kvm module (or run on a machine with nested virtualisation) and make /dev/kvm readable and writable by this user")

// System is an open /dev/kvm with what was learned from it once.
type System struct {
	fd          int
	runSize     int
	cpuid       []CPUIDEntry2
	tscKHzCap   bool
	readonlyMem bool
}

var (
	sysOnce sync.Once
	sysVal  *System
	sysErr  error
)

// Open returns the process-wide /dev/kvm handle, opening it on first use
// (KVM_GET_SUPPORTED_CPUID alone costs ~170 µs: do it once).
func Open() (*System, error) {
	sysOnce.Do(func() { sysVal, sysErr = open() })
	return sysVal, sysErr
}

func open() (*System, error) {
	fd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w (open: %v)", ErrNoKVM, err)
	}
	s := &System{fd: fd}
	v, err := ioctl(fd, ioctlGetAPIVersion, 0)
	if err != nil || v != apiVersion {
		unix.Close(fd)
		return nil, fmt.Errorf("kvm: API version %d, want %d: %v", v, apiVersion, err)
	}
	n, err := ioctl(fd, ioctlGetVCPUMmapSize, 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("kvm: KVM_GET_VCPU_MMAP_SIZE: %w", err)
	}
	s.runSize = int(n)
	s.tscKHzCap = s.check(CapGetTSCKHz) > 0
	s.readonlyMem = s.check(CapReadonlyMem) > 0
	if s.cpuid, err = s.supportedCPUID(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *System) check(c uintptr) int {
	v, err := ioctl(s.fd, ioctlCheckExtension, c)
	if err != nil {
		return 0
	}
	return int(v)
}

// CPUID returns the supported CPUID entries (shared; do not modify).
func (s *System) CPUID() []CPUIDEntry2 { return s.cpuid }

type cpuidBuf struct {
	hdr     cpuid2Header
	entries [maxCPUIDEntries]CPUIDEntry2
}

func (s *System) supportedCPUID() ([]CPUIDEntry2, error) {
	b := new(cpuidBuf)
	b.hdr.Nent = maxCPUIDEntries
	if _, err := ioctl(s.fd, ioctlGetSupportedCPUID, uintptr(unsafe.Pointer(b))); err != nil {
		return nil, fmt.Errorf("kvm: KVM_GET_SUPPORTED_CPUID: %w", err)
	}
	return append([]CPUIDEntry2(nil), b.entries[:b.hdr.Nent]...), nil
}

// VM is one KVM virtual machine.
type VM struct {
	sys *System
	fd  int
}

// CreateVM makes an empty VM (no irqchip: with one, setting memory costs
// milliseconds here, and ukfork guests take no interrupts).
func (s *System) CreateVM() (*VM, error) {
	fd, err := ioctl(s.fd, ioctlCreateVM, 0)
	if err != nil {
		return nil, fmt.Errorf("kvm: KVM_CREATE_VM: %w", err)
	}
	unix.CloseOnExec(int(fd))
	return &VM{sys: s, fd: int(fd)}, nil
}

// ReadonlyMem reports whether memory slots can be read-only to the guest.
func (s *System) ReadonlyMem() bool { return s.readonlyMem }

// SetMemory maps host memory at host into guest-physical gpa.
func (vm *VM) SetMemory(slot uint32, gpa uint64, host []byte) error {
	return vm.SetMemoryFlags(slot, gpa, host, 0)
}

// SetMemoryFlags is SetMemory with KVM_MEM_* flags (MemReadonly: guest
// writes exit as MMIO).
func (vm *VM) SetMemoryFlags(slot uint32, gpa uint64, host []byte, flags uint32) error {
	r := UserspaceMemoryRegion{
		Slot:            slot,
		Flags:           flags,
		Guest_phys_addr: gpa,
		Memory_size:     uint64(len(host)),
		Userspace_addr:  uint64(uintptr(unsafe.Pointer(&host[0]))),
	}
	if _, err := ioctl(vm.fd, ioctlSetUserMemoryRegion, uintptr(unsafe.Pointer(&r))); err != nil {
		return fmt.Errorf("kvm: KVM_SET_USER_MEMORY_REGION: %w", err)
	}
	return nil
}

// Close releases the VM; its vCPUs must be closed first.
func (vm *VM) Close() error { return unix.Close(vm.fd) }

// TSCKHz returns the guest TSC frequency, or 0 when KVM cannot tell.
func (vm *VM) TSCKHz() uint64 {
	if !vm.sys.tscKHzCap {
		return 0
	}
	v, err := ioctl(vm.fd, ioctlGetTSCKHz, 0)
	if err != nil {
		return 0
	}
	return uint64(v)
}

func ioctl(fd int, req, arg uintptr) (uintptr, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, arg)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return r, e
		}
		return r, nil
	}
}

// Available reports whether /dev/kvm can be opened, with the reason if not.
func Available() error {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		return fmt.Errorf("%w (%v)", ErrNoKVM, err)
	}
	_, err := Open()
	return err
}

// ClearMemory removes memory slot slot.
func (vm *VM) ClearMemory(slot uint32) error {
	r := UserspaceMemoryRegion{Slot: slot}
	if _, err := ioctl(vm.fd, ioctlSetUserMemoryRegion, uintptr(unsafe.Pointer(&r))); err != nil {
		return fmt.Errorf("kvm: KVM_SET_USER_MEMORY_REGION (remove): %w", err)
	}
	return nil
}
