//go:build ignore

// Input to `go tool cgo -godefs`: the KVM structs and ioctl numbers this
// package uses, taken from the kernel's uapi header. Regenerate with
// `go generate ./hypervisor/kvm` (see gen.go); the output is checked in.

package kvm

/*
#include <linux/kvm.h>
*/
import "C"

const (
	apiVersion = C.KVM_API_VERSION

	ioctlGetAPIVersion       = C.KVM_GET_API_VERSION
	ioctlCreateVM            = C.KVM_CREATE_VM
	ioctlCheckExtension      = C.KVM_CHECK_EXTENSION
	ioctlGetVCPUMmapSize     = C.KVM_GET_VCPU_MMAP_SIZE
	ioctlGetSupportedCPUID   = C.KVM_GET_SUPPORTED_CPUID
	ioctlCreateVCPU          = C.KVM_CREATE_VCPU
	ioctlSetUserMemoryRegion = C.KVM_SET_USER_MEMORY_REGION
	ioctlRun                 = C.KVM_RUN
	ioctlGetRegs             = C.KVM_GET_REGS
	ioctlSetRegs             = C.KVM_SET_REGS
	ioctlGetSregs            = C.KVM_GET_SREGS
	ioctlSetSregs            = C.KVM_SET_SREGS
	ioctlSetMSRs             = C.KVM_SET_MSRS
	ioctlGetMSRs             = C.KVM_GET_MSRS
	ioctlSetCPUID2           = C.KVM_SET_CPUID2
	ioctlGetXCRs             = C.KVM_GET_XCRS
	ioctlSetXCRs             = C.KVM_SET_XCRS
	ioctlGetTSCKHz           = C.KVM_GET_TSC_KHZ
	ioctlGetXSAVE            = C.KVM_GET_XSAVE
	ioctlSetXSAVE            = C.KVM_SET_XSAVE
	ioctlGetDeviceAttr       = C.KVM_GET_DEVICE_ATTR
	ioctlSetDeviceAttr       = C.KVM_SET_DEVICE_ATTR

	vcpuTSCCtrl   = C.KVM_VCPU_TSC_CTRL
	vcpuTSCOffset = C.KVM_VCPU_TSC_OFFSET

	CapGetTSCKHz   = C.KVM_CAP_GET_TSC_KHZ
	CapXCRs        = C.KVM_CAP_XCRS
	CapReadonlyMem = C.KVM_CAP_READONLY_MEM
	MemReadonly    = C.KVM_MEM_READONLY

	ExitUnknown       = C.KVM_EXIT_UNKNOWN
	ExitException     = C.KVM_EXIT_EXCEPTION
	ExitIO            = C.KVM_EXIT_IO
	ExitHLT           = C.KVM_EXIT_HLT
	ExitMMIO          = C.KVM_EXIT_MMIO
	ExitShutdown      = C.KVM_EXIT_SHUTDOWN
	ExitFailEntry     = C.KVM_EXIT_FAIL_ENTRY
	ExitInternalError = C.KVM_EXIT_INTERNAL_ERROR
	ExitIntr          = C.KVM_EXIT_INTR

	IODirOut = C.KVM_EXIT_IO_OUT

	maxCPUIDEntries = 256
)

type Regs C.struct_kvm_regs
type Sregs C.struct_kvm_sregs
type Segment C.struct_kvm_segment
type DTable C.struct_kvm_dtable
type UserspaceMemoryRegion C.struct_kvm_userspace_memory_region
type MSREntry C.struct_kvm_msr_entry
type msrsHeader C.struct_kvm_msrs
type CPUIDEntry2 C.struct_kvm_cpuid_entry2
type cpuid2Header C.struct_kvm_cpuid2
type XCR C.struct_kvm_xcr
type XCRs C.struct_kvm_xcrs
type XSAVE C.struct_kvm_xsave
type deviceAttr C.struct_kvm_device_attr

// Offsets in struct kvm_run; its unions do not translate, and these are
// stable ABI (checked against the header by kvm_test.go).
const (
	sizeofRun           = C.sizeof_struct_kvm_run
	runOffImmediateExit = 1
	runOffExitReason    = 8
	runOffExit          = 32 // the exit union: io, mmio, fail_entry, ...
	runOffValidRegs     = 288
	runOffDirtyRegs     = 296
	runOffSyncRegs      = 304
)
