//go:build ignore

// Input to `go tool cgo -godefs`: the Go view of guest/include/ukfork/abi.h.
// Regenerate with `go generate ./hypervisor/abi`; abi_test.go fails when the
// checked-in output and the header disagree.

package abi

/*
#include "../../guest/include/ukfork/abi.h"
*/
import "C"

const (
	Version = C.UKF_ABI_VERSION

	GDTAddr      = C.UKF_GDT_ADDR
	IDTAddr      = C.UKF_IDT_ADDR
	TSSAddr      = C.UKF_TSS_ADDR
	PML4Addr     = C.UKF_PML4_ADDR
	PDPTAddr     = C.UKF_PDPT_ADDR
	PDAddr       = C.UKF_PD_ADDR
	PT0Addr      = C.UKF_PT0_ADDR
	PDPTDmapAddr = C.UKF_PDPT_DMAP_ADDR
	PDLowAddr    = C.UKF_PD_LOW_ADDR
	UserTop      = C.UKF_USER_TOP
	DmapBase     = C.UKF_DMAP_BASE
	FramesMin    = C.UKF_FRAMES_MIN
	VMAMax       = C.UKF_VMA_MAX
	VMAHeap      = C.UKF_VMA_HEAP
	VMAStack     = C.UKF_VMA_STACK
	VMAShared    = C.UKF_VMA_SHARED
	ImageGPA     = C.UKF_IMAGE_GPA
	ImageMax     = C.UKF_IMAGE_MAX
	BootinfoAddr = C.UKF_BOOTINFO_ADDR
	NgroupsBoot  = C.UKF_NGROUPS_BOOT
	ArgsAddr     = C.UKF_ARGS_ADDR
	ArgsMax      = C.UKF_ARGS_MAX
	XStackTop    = C.UKF_XSTACK_TOP
	RTStackTop   = C.UKF_RTSTACK_TOP
	RuntimeAddr  = C.UKF_RUNTIME_ADDR
	UserMin      = C.UKF_USER_MIN
	MemMin       = C.UKF_MEM_MIN
	MemMax       = C.UKF_MEM_MAX
	PIEBase      = C.UKF_PIE_BASE
	RingArea     = C.UKF_RING_AREA

	RingSize      = C.UKF_RING_SIZE
	RingSlots     = C.UKF_RING_SLOTS
	RingCap       = C.UKF_RING_CAP
	FDRingMax     = C.UKF_FD_RING_MAX
	FDRSlot       = C.UKF_FDR_SLOT
	FDRWrite      = C.UKF_FDR_WRITE
	RingNoReaders = C.UKF_RING_NOREADERS
	RingNoWriters = C.UKF_RING_NOWRITERS
	RingRWait     = C.UKF_RING_RWAIT
	RingWWait     = C.UKF_RING_WWAIT
	RingRNonblock = C.UKF_RING_RNONBLOCK
	RingWNonblock = C.UKF_RING_WNONBLOCK

	RuntimeMagic  = C.UKF_RUNTIME_MAGIC
	FaultStubSize = C.UKF_FAULT_STUB_SIZE

	BootMagic     = C.UKF_BOOT_MAGIC
	BootTrace     = C.UKF_BOOT_TRACE
	BootStarted   = C.UKF_BOOT_STARTED
	BootNoRewrite = C.UKF_BOOT_NOREWRITE
	BootSameTSC   = C.UKF_BOOT_SAME_TSC
	PathMax       = C.UKF_PATH_MAX
	HostnameMax   = C.UKF_HOSTNAME_MAX
	HCPortBase    = C.UKF_HC_PORT_BASE
	HCMax         = C.UKF_HC_MAX
	AtFDCWD       = C.UKF_AT_FDCWD
	RWOffset      = C.UKF_RW_OFFSET

	HCReserved    = C.UKF_HC_RESERVED
	HCExit        = C.UKF_HC_EXIT
	HCFault       = C.UKF_HC_FAULT
	HCStarted     = C.UKF_HC_STARTED
	HCUnsupported = C.UKF_HC_UNSUPPORTED
	HCTrace       = C.UKF_HC_TRACE
	HCClock       = C.UKF_HC_CLOCK
	HCGetrandom   = C.UKF_HC_GETRANDOM
	HCDiscard     = C.UKF_HC_DISCARD
	HCNanosleep   = C.UKF_HC_NANOSLEEP
	HCFork        = C.UKF_HC_FORK
	HCWait4       = C.UKF_HC_WAIT4
	HCProcinfo    = C.UKF_HC_PROCINFO
	HCExecve      = C.UKF_HC_EXECVE
	HCKill        = C.UKF_HC_KILL
	HCSigwait     = C.UKF_HC_SIGWAIT
	HCItimer      = C.UKF_HC_ITIMER
	HCSetpgid     = C.UKF_HC_SETPGID
	HCSetsid      = C.UKF_HC_SETSID
	HCGetpgid     = C.UKF_HC_GETPGID
	HCGetsid      = C.UKF_HC_GETSID
	SigfNocldwait = C.UKF_SIGF_NOCLDWAIT
	SigfPolling   = C.UKF_SIGF_POLLING
	RegsSize      = C.UKF_REGS_SIZE
	RegsAt        = C.UKF_REGS_AT
	XframeAt      = C.UKF_XFRAME_AT
	FStackTop     = C.UKF_FSTACK_TOP
	EntryAsync    = C.UKF_ENTRY_ASYNC
	HCSocket      = C.UKF_HC_SOCKET
	HCSendfile    = C.UKF_HC_SENDFILE
	HCUnlinkat    = C.UKF_HC_UNLINKAT
	HCRingWake    = C.UKF_HC_RING_WAKE
	HCPrlimit     = C.UKF_HC_PRLIMIT
	PrlimitSet    = C.UKF_PRLIMIT_SET
	RlimNlimits   = C.UKF_RLIM_NLIMITS
	HCFmap        = C.UKF_HC_FMAP
	HCMknodat     = C.UKF_HC_MKNODAT
	HCRenameat    = C.UKF_HC_RENAMEAT
	HCLinkat      = C.UKF_HC_LINKAT
	HCSymlinkat   = C.UKF_HC_SYMLINKAT
	HCTruncate    = C.UKF_HC_TRUNCATE
	HCFallocate   = C.UKF_HC_FALLOCATE
	HCFsync       = C.UKF_HC_FSYNC
	HCUtimensat   = C.UKF_HC_UTIMENSAT
	HCFchmodat    = C.UKF_HC_FCHMODAT
	HCFchownat    = C.UKF_HC_FCHOWNAT
	HCStatfs      = C.UKF_HC_STATFS
	Fsync         = C.UKF_FSYNC
	Fdatasync     = C.UKF_FDATASYNC
	Syncfs        = C.UKF_SYNCFS

	SockSocket      = C.UKF_SOCK_SOCKET
	SockSocketpair  = C.UKF_SOCK_SOCKETPAIR
	SockBind        = C.UKF_SOCK_BIND
	SockConnect     = C.UKF_SOCK_CONNECT
	SockListen      = C.UKF_SOCK_LISTEN
	SockAccept      = C.UKF_SOCK_ACCEPT
	SockGetsockname = C.UKF_SOCK_GETSOCKNAME
	SockGetpeername = C.UKF_SOCK_GETPEERNAME
	SockSetsockopt  = C.UKF_SOCK_SETSOCKOPT
	SockGetsockopt  = C.UKF_SOCK_GETSOCKOPT
	SockShutdown    = C.UKF_SOCK_SHUTDOWN
	SockSendmsg     = C.UKF_SOCK_SENDMSG
	SockRecvmsg     = C.UKF_SOCK_RECVMSG
	HCOpenat        = C.UKF_HC_OPENAT
	HCClose         = C.UKF_HC_CLOSE
	HCReadv         = C.UKF_HC_READV
	HCWritev        = C.UKF_HC_WRITEV
	HCLseek         = C.UKF_HC_LSEEK
	HCFstatat       = C.UKF_HC_FSTATAT
	HCGetdents64    = C.UKF_HC_GETDENTS64
	HCReadlinkat    = C.UKF_HC_READLINKAT
	HCFaccessat     = C.UKF_HC_FACCESSAT
	HCGetcwd        = C.UKF_HC_GETCWD
	HCChdir         = C.UKF_HC_CHDIR
	HCIoctl         = C.UKF_HC_IOCTL
	HCPipe          = C.UKF_HC_PIPE
	HCDup           = C.UKF_HC_DUP
	HCFcntl         = C.UKF_HC_FCNTL
	HCPoll          = C.UKF_HC_POLL
	DupTo           = C.UKF_DUP_TO
	CloseRange      = C.UKF_CLOSE_RANGE
	DupCloexec      = C.UKF_DUP_CLOEXEC
)

type RuntimeHeader C.struct_ukf_runtime_header
type Bootinfo C.struct_ukf_bootinfo
type Xframe C.struct_ukf_xframe
type Vma C.struct_ukf_vma
type RingHeader C.struct_ukf_ring
type HCExitArgs C.struct_ukf_hc_exit
type HCForkArgs C.struct_ukf_hc_fork
type HCWait4Args C.struct_ukf_hc_wait4
type HCProcinfoArgs C.struct_ukf_hc_procinfo
type HCStartedArgs C.struct_ukf_hc_started
type HCSyscallArgs C.struct_ukf_hc_syscall
type HCClockArgs C.struct_ukf_hc_clock
type HCNanosleepArgs C.struct_ukf_hc_nanosleep
type HCSigwaitArgs C.struct_ukf_hc_sigwait
type HCGetrandomArgs C.struct_ukf_hc_getrandom
type HCDiscardArgs C.struct_ukf_hc_discard
type HCGetcwdArgs C.struct_ukf_hc_getcwd
type HCCloseArgs C.struct_ukf_hc_close
type HCLseekArgs C.struct_ukf_hc_lseek
type HCGetdents64Args C.struct_ukf_hc_getdents64
type HCIoctlArgs C.struct_ukf_hc_ioctl
type HCPipeArgs C.struct_ukf_hc_pipe
type HCDupArgs C.struct_ukf_hc_dup
type HCFcntlArgs C.struct_ukf_hc_fcntl
type HCSendfileArgs C.struct_ukf_hc_sendfile
type At C.struct_ukf_at
type HCOpenatArgs C.struct_ukf_hc_openat
type HCFstatatArgs C.struct_ukf_hc_fstatat
type HCReadlinkatArgs C.struct_ukf_hc_readlinkat
type HCFaccessatArgs C.struct_ukf_hc_faccessat
type HCChdirArgs C.struct_ukf_hc_chdir
type HCUnlinkatArgs C.struct_ukf_hc_unlinkat
type HCPrlimitArgs C.struct_ukf_hc_prlimit
type Rlimit C.struct_ukf_rlimit
type HCFmapArgs C.struct_ukf_hc_fmap
type HCExecveArgs C.struct_ukf_hc_execve
type HCMknodatArgs C.struct_ukf_hc_mknodat
type HCAt2Args C.struct_ukf_hc_at2
type HCSymlinkatArgs C.struct_ukf_hc_symlinkat
type HCTruncateArgs C.struct_ukf_hc_truncate
type HCFallocateArgs C.struct_ukf_hc_fallocate
type HCFsyncArgs C.struct_ukf_hc_fsync
type Utime C.struct_ukf_utime
type HCUtimensatArgs C.struct_ukf_hc_utimensat
type HCFchmodatArgs C.struct_ukf_hc_fchmodat
type HCFchownatArgs C.struct_ukf_hc_fchownat
type Statfs C.struct_ukf_statfs
type HCStatfsArgs C.struct_ukf_hc_statfs
type Iovec C.struct_ukf_iovec
type HCRWArgs C.struct_ukf_hc_rw
type Stat C.struct_ukf_stat
type HCPollArgs C.struct_ukf_hc_poll
type HCKillArgs C.struct_ukf_hc_kill
type HCSetpgidArgs C.struct_ukf_hc_setpgid
type HCSetsidArgs C.struct_ukf_hc_setsid
type HCGetpgidArgs C.struct_ukf_hc_getpgid
type HCGetsidArgs C.struct_ukf_hc_getsid
type Siginfo C.struct_ukf_siginfo
type HCItimerArgs C.struct_ukf_hc_itimer
type Regs C.struct_ukf_regs
type HCSockArgs C.struct_ukf_hc_sock
