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
	if err := c.ioctlPtr(ioctlGetXCRs, unsafe.Pointer(&s.XCRs), "KVM_GET_XCRS"); err != nil {
		return nil, err
	}
	if err := c.GetMSRs(s.MSRs); err != nil {
		return nil, err
	}
	return s, nil
}

// RestoreState writes a state saved by SaveState (CPUID must be set first).
func (c *VCPU) RestoreState(s *State) error {
	if err := c.SetSregs(&s.Sregs); err != nil {
		return err
	}
	if s.XCRs.Nr_xcrs > 0 {
		if err := c.ioctlPtr(ioctlSetXCRs, unsafe.Pointer(&s.XCRs), "KVM_SET_XCRS"); err != nil {
			return err
		}
	}
	if err := c.ioctlPtr(ioctlSetXSAVE, unsafe.Pointer(&s.XSAVE), "KVM_SET_XSAVE"); err != nil {
		return err
	}
	if err := c.SetMSRs(s.MSRs); err != nil {
		return err
	}
	return c.SetRegs(&s.Regs)
}
