package kvm

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// State is a vCPU's architectural state: enough to resume it in another VM
// (a forked child).
type State struct {
	Regs  Regs
	Sregs Sregs
	XSAVE XSAVE // x87, SSE, AVX and AVX-512 registers
	XCRs  XCRs
	MSRs  []MSREntry

	// TSCOffset is the guest TSC minus the host's, when KVM tells it
	// (HasTSC): a child given its parent's reads the same TSC.
	TSCOffset uint64
	HasTSC    bool
}

// SaveState reads the vCPU's state and the MSRs named in msrs. At an I/O
// exit the instruction is not complete until KVM_RUN is entered again, so
// this first re-enters with immediate_exit set.
func (c *VCPU) SaveState(msrs []uint32) (*State, error) {
	c.SetImmediateExit(true)
	err := c.Run()
	c.SetImmediateExit(false)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return nil, fmt.Errorf("kvm: completing the exit: %w", err)
	}
	s := &State{MSRs: make([]MSREntry, len(msrs))}
	for i, m := range msrs {
		s.MSRs[i].Index = m
	}
	if err := c.GetRegs(&s.Regs); err != nil {
		return nil, err
	}
	if err := c.GetSregs(&s.Sregs); err != nil {
		return nil, err
	}
	if err := c.ioctlPtr(ioctlGetXSAVE, unsafe.Pointer(&s.XSAVE), "KVM_GET_XSAVE"); err != nil {
		return nil, err
	}
	if err := c.getXCRs(&s.XCRs); err != nil {
		return nil, err
	}
	if err := c.GetMSRs(s.MSRs); err != nil {
		return nil, err
	}
	s.HasTSC = c.tscAttr(ioctlGetDeviceAttr, &s.TSCOffset) == nil
	return s, nil
}

// tscAttr gets or sets the vCPU's TSC offset (KVM_VCPU_TSC_OFFSET).
func (c *VCPU) tscAttr(req uintptr, v *uint64) error {
	a := deviceAttr{Group: vcpuTSCCtrl, Attr: vcpuTSCOffset, Addr: uint64(uintptr(unsafe.Pointer(v)))}
	return c.ioctlPtr(req, unsafe.Pointer(&a), "KVM_VCPU_TSC_OFFSET")
}

// RestoreState writes a state saved by SaveState (CPUID must be set first).
func (c *VCPU) RestoreState(s *State) error {
	if err := c.SetSregs(&s.Sregs); err != nil {
		return err
	}
	if s.XCRs.Nr_xcrs > 0 {
		if err := c.setXCRs(&s.XCRs); err != nil {
			return err
		}
	}
	if err := c.ioctlPtr(ioctlSetXSAVE, unsafe.Pointer(&s.XSAVE), "KVM_SET_XSAVE"); err != nil {
		return err
	}
	if err := c.SetMSRs(s.MSRs); err != nil {
		return err
	}
	if s.HasTSC {
		off := s.TSCOffset
		if err := c.tscAttr(ioctlSetDeviceAttr, &off); err != nil {
			return err
		}
	}
	return c.SetRegs(&s.Regs)
}
