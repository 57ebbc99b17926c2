package vm

import (
	"fmt"

	"github.com/ukfork/ukfork/hypervisor/kvm"
)

// forkMSRs are the MSRs a forked vCPU must carry over: the syscall entry
// and the program's FS/GS bases.
var forkMSRs = []uint32{msrSTAR, msrLSTAR, msrCSTAR, msrSFMASK, msrFSBase, msrGSBase, msrKGSBase}

// Fork clones v at the exit its vCPU is stopped at: memory copy-on-write and
// the vCPU's registers. Call it from v's Handler (the vCPU thread). The
// child's Run resumes right after the hypercall, in a new VM.
func (v *VM) Fork() (*VM, error) {
	if v.vcpu == nil {
		return nil, fmt.Errorf("fork: the VM is not running")
	}
	st, err := v.vcpu.SaveState(forkMSRs)
	if err != nil {
		return nil, fmt.Errorf("fork: %w", err)
	}
	mem, err := v.mem.Fork()
	if err != nil {
		return nil, fmt.Errorf("fork: %w", err)
	}
	c := &VM{sys: v.sys, cfg: v.cfg, mem: mem, resume: st}
	if err := c.attach(); err != nil {
		c.Close()
		return nil, fmt.Errorf("fork: %w", err)
	}
	return c, nil
}

// restoreVCPU sets a forked vCPU to the state its parent had.
func (v *VM) restoreVCPU(c *kvm.VCPU) error { return c.RestoreState(v.resume) }
