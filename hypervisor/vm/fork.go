package vm

import (
	"fmt"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// forkMSRs are the MSRs a forked vCPU must carry over: the syscall entry.
// The program's FS/GS bases travel in the segment registers (sregs).
var forkMSRs = []uint32{msrSTAR, msrLSTAR, msrCSTAR, msrSFMASK, msrKGSBase}

// Fork clones v at the exit its vCPU is stopped at: memory copy-on-write and
// the vCPU's registers. Call it from v's Handler (the vCPU thread). The
// child's Run resumes right after the hypercall, in a new VM.
func (v *VM) Fork() (machine.Machine, error) {
	if v.vcpu == nil {
		return nil, fmt.Errorf("fork: the VM is not running")
	}
	st, err := v.vcpu.SaveState(forkMSRs)
	if err != nil {
		return nil, fmt.Errorf("fork: %w", err)
	}
	c := &VM{sys: v.sys, cfg: v.cfg, resume: st}
	if err := c.attach(v.mem.Size(), v.mem.ForkIn); err != nil {
		c.Close()
		return nil, fmt.Errorf("fork: %w", err)
	}
	// The child keeps its parent's TSC where KVM allows it, and then its
	// clock calibration: no clock hypercall in the child.
	bi := machine.BootPage(c.mem)
	if bi == nil {
		c.Close()
		return nil, fmt.Errorf("fork: boot page outside guest memory")
	}
	if st.HasTSC {
		bi.Flags |= abi.BootSameTSC
	} else {
		bi.Flags &^= abi.BootSameTSC
	}
	return c, nil
}

// restoreVCPU sets a forked vCPU to the state its parent had.
func (v *VM) restoreVCPU(c *kvm.VCPU) error { return c.RestoreState(v.resume) }
