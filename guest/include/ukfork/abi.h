/* ukfork hypercall ABI and guest memory layout: the one contract between the
 * guest runtime (C, guest/ and libc-shim/) and the host (Go, hypervisor/).
 *
 * Transport on KVM: the guest writes the guest-physical address of the call's
 * argument struct with a 32-bit `out` to port UKF_HC_PORT_BASE + call number.
 * Every struct starts with `ret` (OUT): a result >= 0 or a negative Linux errno.
 * Guest pointers are guest-virtual addresses, which the host translates
 * through the guest's page tables as a user-mode access would (a pointer to a
 * page the program may not read, or write, is EFAULT); they are carried as
 * UKF_GUEST_PTR so host code cannot dereference them by mistake. The runtime's
 * own memory (argument structs) is identity-mapped and physically contiguous.
 *
 * Bump UKF_ABI_VERSION on every change; the Go side is generated from this file
 * (hypervisor/abi, `go generate`) and a test keeps it honest.
 */
#ifndef UKFORK_ABI_H
#define UKFORK_ABI_H

#ifdef __ASSEMBLY__
#define UKF_U64(x) x
#else
#include <stdint.h>
#define UKF_U64(x) x##ULL
#endif

#define UKF_ABI_VERSION 25

#ifndef __ASSEMBLY__
typedef uint64_t ukf_gptr_t; /* guest-virtual address */
#define UKF_GUEST_PTR(T) ukf_gptr_t
#endif

/* ---- Guest memory layout ------------------------------------------------
 * Virtual: [0, UKF_USER_MIN) is the runtime's, identity-mapped (VA == PA);
 * [UKF_USER_MIN, UKF_USER_TOP) is the program's, a sparse space laid out as
 * Linux's, mapped 4 KiB at a time onto frames of RAM from UKF_FRAMES_MIN up;
 * UKF_DMAP_BASE + pa reaches every byte of RAM (the runtime's direct map, for
 * page tables and frames). The runtime writes the tables in ring 3; the host
 * writes the boot tables below and never changes a table after.
 * Page 0 is never mapped: a NULL dereference faults. */
#define UKF_GDT_ADDR      UKF_U64(0x1000)   /* GDT (one page) */
#define UKF_IDT_ADDR      UKF_U64(0x2000)   /* IDT: 256 gates, 16 bytes each */
#define UKF_TSS_ADDR      UKF_U64(0x3000)   /* 64-bit TSS + I/O bitmap (to 0x5061) */
#define UKF_PML4_ADDR     UKF_U64(0x6000)   /* the root: PML4[0] low, PML4[255] direct map */
#define UKF_PDPT_ADDR     UKF_U64(0x7000)   /* PDPT of the low 512 GiB */
#define UKF_PD_ADDR       UKF_U64(0x8000)   /* 4 pages: the direct map's PDs, 2 MiB pages */
#define UKF_PT0_ADDR      UKF_U64(0xC000)   /* 4 KiB pages for the first 2 MiB */
#define UKF_PDPT_DMAP_ADDR UKF_U64(0xD000)  /* PDPT of the direct map */
#define UKF_PD_LOW_ADDR   UKF_U64(0xE000)   /* PD of the low 1 GiB: PT0, rings, then the program's */
#define UKF_BOOTINFO_ADDR UKF_U64(0x10000)  /* struct ukf_bootinfo */
#define UKF_ARGS_ADDR     UKF_U64(0x11000)  /* argv then envp strings, NUL-separated */
#define UKF_ARGS_MAX      UKF_U64(0x3F000)  /* to 0x50000 */
#define UKF_XSTACK_TOP    UKF_U64(0x60000)  /* ring-0 exception stack (TSS.RSP0) */
#define UKF_FSTACK_TOP    UKF_U64(0x70000)  /* the ring-3 fault handler's stack, 64 KiB */
#define UKF_RTSTACK_TOP   UKF_U64(0x100000) /* runtime stack, 576 KiB below */
#define UKF_RUNTIME_ADDR  UKF_U64(0x100000) /* runtime image, up to UKF_RING_AREA */
#define UKF_RING_AREA     UKF_U64(0x200000) /* pipe rings shared between VMs (below) */
#define UKF_USER_MIN      UKF_U64(0x400000) /* lowest address a program may use */
#define UKF_USER_TOP      UKF_U64(0x7f8000000000) /* end of the program's space */
#define UKF_DMAP_BASE     UKF_U64(0x7f8000000000) /* PML4[255]: RAM at DMAP_BASE + pa */
#define UKF_FRAMES_MIN    UKF_U64(0x400000) /* physical: frames the runtime hands out */
/* The image file, read-only, at UKF_IMAGE_GPA (bootinfo.image_size bytes, 0
 * if the host maps none): a file of the image is mapped by pointing entries
 * at its pages, shared with every VM and the host's page cache. The runtime
 * reads it at UKF_IMAGE_VA (2 MiB pages, read-only). */
#define UKF_IMAGE_GPA     (UKF_U64(64) << 30)
#define UKF_IMAGE_MAX     (UKF_U64(64) << 30)
#define UKF_IMAGE_VA      (UKF_DMAP_BASE + (UKF_U64(256) << 30))
/* Memory shared between VMs (MAP_SHARED|MAP_ANONYMOUS kept across fork):
 * host objects the host maps into a VM's window of guest-physical space
 * above RAM and the image (UKF_HC_SHM says where); the program's entries
 * point there, the runtime never reads it through the direct map. */
#define UKF_SHM_GPA       (UKF_U64(128) << 30)
#define UKF_SHM_MAX       (UKF_U64(64) << 30)
#define UKF_MEM_MIN       (UKF_U64(16) << 20)
#define UKF_MEM_MAX       (UKF_U64(4) << 30) /* 4 PDs of 2 MiB pages in the direct map */
#define UKF_PIE_BASE      UKF_U64(0x400000)  /* load base for static-PIE programs */

/* Runtime image header, the first bytes at UKF_RUNTIME_ADDR. */
#define UKF_RUNTIME_MAGIC 0x4e52464bU /* "KFRN" */
#ifndef __ASSEMBLY__
struct ukf_runtime_header {
	uint32_t magic;
	uint32_t abi_version;
	uint64_t start;         /* ring-3 entry, RSP = UKF_RTSTACK_TOP */
	uint64_t syscall_entry; /* MSR_LSTAR */
	uint64_t fault_entry;   /* IDT stubs: fault_entry + vector * UKF_FAULT_STUB_SIZE */
	uint64_t async_entry;   /* signal injection: RSP = UKF_REGS_AT, a struct ukf_regs */
};
#endif
#define UKF_FAULT_STUB_SIZE 16

/* What a ring-0 exception stub leaves at UKF_XFRAME_AT before it returns to
 * the runtime's ring-3 fault handler (the CPU's frame, with the vector, the
 * error code, CR2 and the RAX the stub used); the host reads it too when the
 * runtime reports a fault it cannot handle (UKF_HC_FAULT). */
#define UKF_XFRAME_AT (UKF_XSTACK_TOP - 72)
#ifndef __ASSEMBLY__
struct ukf_xframe {
	uint64_t cr2, rax, vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
#endif
#define UKF_X_CR2 0
#define UKF_X_RAX 8
#define UKF_X_VECTOR 16
#define UKF_X_RIP 32
#define UKF_X_RFLAGS 48
#define UKF_X_RSP 56

/* A program's registers as the runtime saves them on entry (a syscall, or a
 * signal injected by the host), at UKF_REGS_AT on the runtime stack. */
#define UKF_REGS_SIZE 160
#define UKF_REGS_AT (UKF_RTSTACK_TOP - UKF_REGS_SIZE)
#define UKF_R_RAX 0
#define UKF_R_RBX 8
#define UKF_R_RCX 16
#define UKF_R_RDX 24
#define UKF_R_RSI 32
#define UKF_R_RDI 40
#define UKF_R_RBP 48
#define UKF_R_R8 56
#define UKF_R_R9 64
#define UKF_R_R10 72
#define UKF_R_R11 80
#define UKF_R_R12 88
#define UKF_R_R13 96
#define UKF_R_R14 104
#define UKF_R_R15 112
#define UKF_R_RIP 120
#define UKF_R_RFLAGS 128
#define UKF_R_RSP 136
#define UKF_R_NR 144
#define UKF_R_KIND 152
#define UKF_ENTRY_SYSCALL 0
#define UKF_ENTRY_ASYNC 1
#define UKF_ENTRY_FAULT 2
#ifndef __ASSEMBLY__
struct ukf_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags, rsp;
	uint64_t nr;   /* the syscall number (rax at entry) */
	uint64_t kind; /* UKF_ENTRY_* */
};
#endif

/* ---- Pipe rings ------------------------------------------------------------
 * A pipe between VMs may be a ring that every VM holding an end maps at
 * UKF_RING_AREA + slot * UKF_RING_SIZE: the runtime reads and writes it
 * without an exit, the host for everything else. Both take the lock (the
 * holder's pid) for any change; head and tail count bytes ever written and
 * read, data[i % UKF_RING_CAP]. Nothing in a ring is trusted: another VM
 * may have written it. */
#define UKF_RING_SIZE  UKF_U64(0x40000) /* one memory chunk */
#define UKF_RING_SLOTS 8
#define UKF_RING_CAP   (UKF_RING_SIZE - 4096)
#define UKF_FD_RING_MAX 256
#define UKF_FDR_SLOT   0x0fu /* slot + 1 */
#define UKF_FDR_WRITE  0x80u /* the write end (else the read end) */

#define UKF_RING_NOREADERS  1u  /* every read end is closed: writes get EPIPE */
#define UKF_RING_NOWRITERS  2u  /* every write end is closed: reads see EOF */
#define UKF_RING_RWAIT      4u  /* someone waits to read: wake it after writing */
#define UKF_RING_WWAIT      8u  /* someone waits to write: wake it after reading */
#define UKF_RING_RNONBLOCK 16u  /* the read end is O_NONBLOCK */
#define UKF_RING_WNONBLOCK 32u  /* the write end is O_NONBLOCK */

#ifndef __ASSEMBLY__
struct ukf_ring {
	uint32_t lock;   /* 0, or the pid holding it */
	uint32_t flags;  /* UKF_RING_* */
	uint64_t head;   /* bytes ever written */
	uint64_t tail;   /* bytes ever read */
	uint8_t  pad[4096 - 24];
	uint8_t  data[UKF_RING_CAP];
};
#endif

/* ---- Boot information, written by the host at UKF_BOOTINFO_ADDR -------- */
#define UKF_BOOT_MAGIC 0x544f4f42U /* "BOOT" */
#define UKF_BOOT_TRACE   (UKF_U64(1) << 0) /* report every syscall (UKF_HC_TRACE) */
#define UKF_BOOT_STARTED (UKF_U64(1) << 1) /* report the program's first instruction */
#define UKF_BOOT_NOREWRITE (UKF_U64(1) << 2) /* leave syscall sites as they are */
#define UKF_BOOT_SAME_TSC  (UKF_U64(1) << 3) /* set in a forked child whose TSC is its parent's */
#define UKF_PATH_MAX 4096
#define UKF_HOSTNAME_MAX 65
#define UKF_NGROUPS_BOOT 32 /* supplementary groups a process holds at most */

#define UKF_RLIM_NLIMITS 16 /* RLIMIT_CPU .. RLIMIT_RTTIME */
#define UKF_RLIM_INFINITY (~UKF_U64(0))

#ifndef __ASSEMBLY__
struct ukf_rlimit {
	uint64_t rlim_cur;
	uint64_t rlim_max;
};

struct ukf_siginfo {
	int32_t code;   /* si_code */
	int32_t pid;    /* si_pid */
	int32_t uid;    /* si_uid */
	int32_t status; /* si_status (SIGCHLD) */
};

struct ukf_bootinfo {
	uint32_t magic;
	uint32_t abi_version;
	uint64_t mem_size;     /* bytes of guest RAM from address 0 */
	uint64_t flags;        /* UKF_BOOT_* */
	uint64_t tsc_khz;      /* 0 if unknown: clocks ask the host each time */
	uint64_t hwcap;        /* AT_HWCAP */
	uint64_t stack_size;   /* RLIMIT_STACK of the program */
	uint32_t argc;
	uint32_t envc;
	uint64_t args_len;     /* bytes used at UKF_ARGS_ADDR */
	int32_t  pid;
	int32_t  ppid;
	uint32_t uid;
	uint32_t gid;
	uint8_t  random[16];   /* AT_RANDOM bytes */
	char     hostname[UKF_HOSTNAME_MAX];
	char     pad[7];
	char     program[256]; /* path of the program in the image */
	/* Signals, bit n-1 for signal n. The host sets pending bits; the guest
	 * publishes what it blocks, ignores and catches, so that the host can
	 * decide at generation: drop, keep pending, wake the guest, or end it. */
	uint64_t sig_pending;  /* host -> guest */
	uint64_t sig_blocked;  /* guest -> host */
	uint64_t sig_ignored;  /* guest: SIG_IGN set explicitly */
	uint64_t sig_caught;   /* guest: a handler is installed */
	uint64_t sig_waiting;  /* guest: waited for by sigtimedwait (wakes it though blocked) */
	uint64_t sig_flags;    /* guest: UKF_SIGF_* */
	/* What the host knows of each pending signal, written before its
	 * pending bit is set; the guest clears the bit (atomically) to take it. */
	struct ukf_siginfo sig_info[64];
	/* Which descriptors are ends of a pipe ring, kept by the host on every
	 * change to the fd table: 0, or UKF_FDR_* with the ring's slot + 1. */
	uint8_t fd_ring[UKF_FD_RING_MAX];
	/* RLIMIT_NOFILE's soft limit, published by the guest when it changes
	 * (0: never set, the default 1024): the host's fd table enforces it. */
	uint64_t nofile;
	/* The nice value, -20..19: the host writes the one ukfork runs at, as
	 * a process inherits its parent's; getpriority/setpriority keep it. */
	int32_t  nice;
	/* Supplementary groups the program starts with (ukfork's own, or none
	 * with --user); the guest keeps them after. */
	uint32_t ngroups;
	uint32_t groups[UKF_NGROUPS_BOOT];
	/* Resource limits (prlimit64). The runtime sets the first ones at boot,
	 * before any other process exists; after that only the host writes
	 * them (UKF_HC_PRLIMIT, for the process itself too), with rlim_seq odd
	 * while it does, so that the guest reads its own without an exit. A
	 * child inherits them with the page. */
	uint64_t rlim_seq;
	struct ukf_rlimit rlimits[UKF_RLIM_NLIMITS];
	/* The ids the runtime keeps (sys_cred.c), published on every change:
	 * real, effective, saved. The host checks prlimit64 on another
	 * process against them, as Linux does. */
	uint32_t cred_uid[3];
	uint32_t cred_gid[3];
	/* Bytes of the image mapped at UKF_IMAGE_GPA; 0: none. */
	uint64_t image_size;
	/* What /proc shows of the program, published by the runtime (guest
	 * virtual addresses the host reads, checked, like any guest value): the
	 * argument and environment strings, set at exec, and the runtime's
	 * table of mappings (struct ukf_vma, sorted) and its count (uint32). */
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t vma_table;
	uint64_t vma_count_at;
	/* The task's name (comm): the program's file name at exec, then what
	 * prctl(PR_SET_NAME) gives; kept by the guest, read by the host. */
	char comm[16];
	/* The file-system uid and gid (and ngroups, groups above) file access
	 * is checked with: the host writes them at boot, the guest republishes
	 * them whenever its credentials change (sys_cred.c). */
	uint32_t fsuid;
	uint32_t fsgid;
	/* prctl(PR_SET_PDEATHSIG): what the host sends the process when its
	 * parent exits; 0: nothing. Kept by the guest, cleared by the host in
	 * a fork's child, as Linux clears it. */
	uint32_t pdeathsig;
	uint32_t pad_pdeath;
};
/* A mapping as the runtime keeps it (libc-shim/sys_mm.c). */
struct ukf_vma {
	uint64_t start, end;
	uint32_t prot;  /* PROT_* */
	uint32_t flags; /* UKF_VMA_* */
};
#define UKF_VMA_HEAP   1u
#define UKF_VMA_STACK  2u
#define UKF_VMA_SHARED 4u
#define UKF_VMA_SHM    8u /* its pages are a shared object's (UKF_HC_SHM) */
#define UKF_VMA_NOWRITE 16u /* a shared file mapping that may not be made writable */
#define UKF_VMA_MAX    8192
#define UKF_SIGF_NOCLDWAIT 1u /* SIGCHLD has SA_NOCLDWAIT: children leave no zombie */
#define UKF_SIGF_POLLING   2u /* the runtime is polling sig_pending: no need to kick it */
#define UKF_SIGF_NOCLDSTOP 4u /* SIGCHLD has SA_NOCLDSTOP: no SIGCHLD when a child stops or continues */
#endif

/* ---- Hypercalls ---------------------------------------------------------- */
#define UKF_HC_PORT_BASE 0x500
#define UKF_HC_MAX 128 /* numbers up to UKF_HC_MAX - 4: an `out` of 4 bytes needs 4 ports open */

#define UKF_HC_RESERVED        0
#define UKF_HC_EXIT            1   /* struct ukf_hc_exit */
#define UKF_HC_FAULT           2   /* value = vector; the frame at UKF_XFRAME_AT: end the VM */
#define UKF_HC_STARTED         3   /* struct ukf_hc_started */
#define UKF_HC_UNSUPPORTED     4   /* struct ukf_hc_syscall: name a missing syscall */
#define UKF_HC_TRACE           5   /* struct ukf_hc_syscall: one traced syscall */
#define UKF_HC_CLOCK           6   /* struct ukf_hc_clock */
#define UKF_HC_GETRANDOM       7   /* struct ukf_hc_getrandom */
#define UKF_HC_DISCARD         8   /* struct ukf_hc_discard: frames read as zero after */
#define UKF_HC_NANOSLEEP       9   /* struct ukf_hc_nanosleep */
#define UKF_HC_FORK            10  /* struct ukf_hc_fork: child pid, 0 in the child */
#define UKF_HC_WAIT4           11  /* struct ukf_hc_wait4 */
#define UKF_HC_PROCINFO        12  /* struct ukf_hc_procinfo */
#define UKF_HC_EXECVE          13  /* struct ukf_hc_execve: the program is being replaced */
#define UKF_HC_KILL            14  /* struct ukf_hc_kill */
#define UKF_HC_OPENAT          16  /* struct ukf_hc_openat */
#define UKF_HC_CLOSE           17  /* struct ukf_hc_close: close, close_range */
#define UKF_HC_READV           18  /* struct ukf_hc_rw */
#define UKF_HC_WRITEV          19  /* struct ukf_hc_rw */
#define UKF_HC_LSEEK           20  /* struct ukf_hc_lseek */
#define UKF_HC_FSTATAT         21  /* struct ukf_hc_fstatat */
#define UKF_HC_GETDENTS64      22  /* struct ukf_hc_getdents64 */
#define UKF_HC_READLINKAT      23  /* struct ukf_hc_readlinkat */
#define UKF_HC_FACCESSAT       24  /* struct ukf_hc_faccessat */
#define UKF_HC_GETCWD          25  /* struct ukf_hc_getcwd */
#define UKF_HC_CHDIR           26  /* struct ukf_hc_chdir (fchdir: dirfd, pathlen 0) */
#define UKF_HC_IOCTL           27  /* struct ukf_hc_ioctl */
#define UKF_HC_PIPE            28  /* struct ukf_hc_pipe */
#define UKF_HC_DUP             29  /* struct ukf_hc_dup */
#define UKF_HC_FCNTL           30  /* struct ukf_hc_fcntl: fcntl, and flock (UKF_F_FLOCK) */
#define UKF_HC_POLL            31  /* struct ukf_hc_poll */
#define UKF_HC_SIGWAIT         32  /* struct ukf_hc_sigwait: wait for a signal */
#define UKF_HC_ITIMER          33  /* struct ukf_hc_itimer */
#define UKF_HC_SETPGID         34  /* struct ukf_hc_setpgid */
#define UKF_HC_SETSID          35  /* struct ukf_hc_setsid */
#define UKF_HC_GETPGID         36  /* struct ukf_hc_getpgid */
#define UKF_HC_GETSID          37  /* struct ukf_hc_getsid */
#define UKF_HC_SOCKET          38  /* struct ukf_hc_sock: op UKF_SOCK_* */
#define UKF_HC_SENDFILE        39  /* struct ukf_hc_sendfile */
#define UKF_HC_UNLINKAT        40  /* struct ukf_hc_unlinkat */
#define UKF_HC_RING_WAKE       41  /* value = slot: wake who waits on that ring */
#define UKF_HC_PRLIMIT         42  /* struct ukf_hc_prlimit */
#define UKF_HC_FMAP            43  /* struct ukf_hc_fmap: where a file's bytes are in the image */
#define UKF_HC_MKNODAT         44  /* struct ukf_hc_mknodat: mkdir, mknod */
#define UKF_HC_RENAMEAT        45  /* struct ukf_hc_at2: renameat2 */
#define UKF_HC_LINKAT          46  /* struct ukf_hc_at2: linkat */
#define UKF_HC_SYMLINKAT       47  /* struct ukf_hc_symlinkat */
#define UKF_HC_TRUNCATE        48  /* struct ukf_hc_truncate: truncate, ftruncate */
#define UKF_HC_FALLOCATE       49  /* struct ukf_hc_fallocate */
#define UKF_HC_FSYNC           50  /* struct ukf_hc_fsync: fsync, fdatasync, syncfs */
#define UKF_HC_UTIMENSAT       51  /* struct ukf_hc_utimensat */
#define UKF_HC_FCHMODAT        52  /* struct ukf_hc_fchmodat */
#define UKF_HC_FCHOWNAT        53  /* struct ukf_hc_fchownat */
#define UKF_HC_STATFS          54  /* struct ukf_hc_statfs: statfs, fstatfs */
#define UKF_HC_EPOLL_CREATE    55  /* struct ukf_hc_epoll_create: epoll_create, epoll_create1 */
#define UKF_HC_EPOLL_CTL       56  /* struct ukf_hc_epoll_ctl */
#define UKF_HC_EPOLL_WAIT      57  /* struct ukf_hc_epoll_wait: epoll_wait, epoll_pwait, epoll_pwait2 */
#define UKF_HC_EVENTFD         58  /* struct ukf_hc_eventfd: eventfd, eventfd2 */
#define UKF_HC_TIMERFD         59  /* struct ukf_hc_timerfd: timerfd_create, _settime, _gettime */
#define UKF_HC_SHM             60  /* struct ukf_hc_shm: shared memory objects in the VM's window */
#define UKF_HC_FUTEX           61  /* struct ukf_hc_futex: futexes on shared memory */
#define UKF_HC_MEMFD           62  /* struct ukf_hc_memfd: memfd_create */
#define UKF_HC_IPC             63  /* struct ukf_hc_ipc: System V shared memory and semaphores */
#define UKF_HC_SIGNALFD        64  /* struct ukf_hc_signalfd: signalfd4 */
#define UKF_HC_STOP            65  /* struct ukf_hc_stop: the process stops (a stop signal's default action) until SIGCONT */

/* UKF_HC_SOCKET operations; a[] and the pointers as the Linux call has them. */
#define UKF_SOCK_SOCKET      1  /* a0 domain, a1 type, a2 protocol */
#define UKF_SOCK_SOCKETPAIR  2  /* a0 domain, a1 type, a2 protocol, buf = int32[2] */
#define UKF_SOCK_BIND        3  /* addr, addrlen */
#define UKF_SOCK_CONNECT     4  /* addr, addrlen */
#define UKF_SOCK_LISTEN      5  /* a0 backlog */
#define UKF_SOCK_ACCEPT      6  /* a0 flags; addr, addrlen_ptr (in/out) */
#define UKF_SOCK_GETSOCKNAME 7  /* addr, addrlen_ptr */
#define UKF_SOCK_GETPEERNAME 8  /* addr, addrlen_ptr */
#define UKF_SOCK_SETSOCKOPT  9  /* a0 level, a1 name; buf, len */
#define UKF_SOCK_GETSOCKOPT  10 /* a0 level, a1 name; buf, addrlen_ptr = optlen ptr */
#define UKF_SOCK_SHUTDOWN    11 /* a0 how */
#define UKF_SOCK_SENDMSG     12 /* a0 flags; buf = struct msghdr */
#define UKF_SOCK_RECVMSG     13 /* a0 flags; buf = struct msghdr */

/* UKF_HC_FCNTL's cmd for flock(2), beyond Linux's commands: arg is its op. */
#define UKF_F_FLOCK 0x7f000001

/* struct ukf_hc_dup mode bits. */
#define UKF_DUP_TO      1u /* dup2/dup3: exactly newfd (else the lowest >= newfd) */
#define UKF_DUP_CLOEXEC 2u /* set FD_CLOEXEC on the new descriptor */

#ifndef __ASSEMBLY__
/* Fork clones the calling VM at this hypercall: the child resumes from the
 * same `out` with ret 0 and its own pid in the boot information. */
struct ukf_hc_fork {
	int64_t ret;            /* OUT: child pid; 0 in the child; -errno */
	uint64_t flags;         /* IN: clone(2) flags, CLONE_VM excluded */
};
#endif

#ifndef __ASSEMBLY__
struct ukf_hc_wait4 {
	int64_t ret;            /* OUT: pid reaped, 0 (WNOHANG), -errno */
	int32_t pid;            /* IN: as wait4(2) */
	int32_t options;        /* IN: WNOHANG, WUNTRACED, WCONTINUED, __WALL... */
	UKF_GUEST_PTR(int32_t *) status; /* IN: 0 or where the status goes */
	UKF_GUEST_PTR(void *) rusage;    /* IN: 0 or a struct rusage (zeroed) */
};
#endif

#ifndef __ASSEMBLY__
struct ukf_hc_procinfo {
	int64_t ret;            /* OUT: 0 */
	int32_t pid;            /* OUT */
	int32_t ppid;           /* OUT: changes when the parent exits */
	int32_t pgid;           /* OUT */
	int32_t sid;            /* OUT */
	uint32_t procs;         /* OUT: the run's processes, zombies included (sysinfo) */
	uint32_t pad;
};
#endif

#ifndef __ASSEMBLY__
/* Signals to processes and process groups; the groups themselves. */
struct ukf_hc_kill {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t pid;            /* IN: as kill(2) */
	int32_t sig;            /* IN: 0 checks only */
};

struct ukf_hc_setpgid {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t pid;            /* IN: 0 for the caller */
	int32_t pgid;           /* IN: 0 for pid itself */
};

struct ukf_hc_setsid {
	int64_t ret;            /* OUT: the new session, -errno */
};

struct ukf_hc_getpgid {
	int64_t ret;            /* OUT: the process group, -errno */
	int32_t pid;            /* IN: 0 for the caller */
	uint32_t pad;
};

struct ukf_hc_getsid {
	int64_t ret;            /* OUT: the session, -errno */
	int32_t pid;            /* IN: 0 for the caller */
	uint32_t pad;
};
#endif

#ifndef __ASSEMBLY__
/* prlimit64 on any process of the run (and any set, the caller's own
 * included: the host is the one writer of a boot page's rlimits). The
 * caller's permission comes from the ids both publish in their boot pages. */
#define UKF_PRLIMIT_SET 1u /* set new_lim */
struct ukf_hc_prlimit {
	int64_t ret;               /* OUT: 0, -ESRCH, -EPERM, -EINVAL */
	int32_t pid;               /* IN: 0 for the caller */
	uint32_t resource;         /* IN: RLIMIT_* */
	uint32_t flags;            /* IN: UKF_PRLIMIT_* */
	uint32_t pad;
	struct ukf_rlimit new_lim; /* IN */
	struct ukf_rlimit old_lim; /* OUT: the limit before */
};
#endif

#ifndef __ASSEMBLY__
/* setitimer(ITIMER_REAL) and alarm: SIGALRM from the host. */
struct ukf_hc_itimer {
	int64_t ret;            /* OUT: 0 */
	int64_t value_ns;       /* IN: 0 disarms; OUT: what was left */
	int64_t interval_ns;    /* IN; OUT: the old interval */
};
#endif

#ifndef __ASSEMBLY__
struct ukf_hc_exit {
	int64_t ret;            /* OUT: unused */
	int32_t status;         /* IN: exit status, 0-255 */
	int32_t signal;         /* IN: nonzero: the process dies of this signal */
};
#endif

#ifndef __ASSEMBLY__
struct ukf_hc_started {
	int64_t ret;            /* OUT: unused */
	uint64_t entry;         /* IN: program entry point */
};
#endif

#ifndef __ASSEMBLY__
struct ukf_hc_syscall {
	int64_t ret;            /* OUT: unused */
	uint64_t nr;            /* IN */
	uint64_t args[6];       /* IN */
	int64_t result;         /* IN (trace only) */
};
#endif

#ifndef __ASSEMBLY__
/* Clocks and waiting. */
struct ukf_hc_clock {
	int64_t ret;            /* OUT: 0 */
	int64_t realtime_ns;    /* OUT: CLOCK_REALTIME */
	int64_t monotonic_ns;   /* OUT: CLOCK_MONOTONIC */
};

struct ukf_hc_nanosleep {
	int64_t ret;            /* OUT: 0, -EINTR (a signal came), -EINVAL */
	int64_t duration;       /* IN: nanoseconds to sleep */
};

struct ukf_hc_sigwait {
	int64_t ret;            /* OUT: -EINTR (a signal came), -EAGAIN (timed out) */
	int64_t timeout;        /* IN: nanoseconds; -1 waits forever */
};
#endif

#ifndef __ASSEMBLY__
/* Guest memory the host fills or frees. */
struct ukf_hc_getrandom {
	int64_t ret;            /* OUT: bytes written, -errno */
	UKF_GUEST_PTR(void *) buf; /* IN */
	uint64_t len;           /* IN */
};

struct ukf_hc_discard {
	int64_t ret;            /* OUT: 0, -errno */
	uint64_t addr;          /* IN: guest-physical, page-aligned, at least UKF_FRAMES_MIN */
	uint64_t len;           /* IN: whole pages */
};

struct ukf_hc_getcwd {
	int64_t ret;            /* OUT: bytes written with the NUL, -errno */
	UKF_GUEST_PTR(char *) buf; /* IN */
	uint64_t size;          /* IN: ERANGE below the path's length + 1 */
};
#endif

#ifndef __ASSEMBLY__
/* Calls on one descriptor. */
struct ukf_hc_close {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t fd;             /* IN: close's fd, close_range's first */
	uint32_t last;          /* IN: close_range's last */
	uint32_t flags;         /* IN: UKF_CLOSE_RANGE, then close_range's own */
	uint32_t pad;
};
#define UKF_CLOSE_RANGE (1u << 31) /* fd..last, not the one fd */

struct ukf_hc_lseek {
	int64_t ret;            /* OUT: the new offset, -errno */
	int32_t fd;             /* IN */
	int32_t whence;         /* IN: SEEK_SET ... SEEK_HOLE */
	int64_t offset;         /* IN */
};

struct ukf_hc_getdents64 {
	int64_t ret;            /* OUT: bytes written, 0 at the end, -errno */
	int32_t fd;             /* IN */
	uint32_t pad;
	UKF_GUEST_PTR(void *) dirp; /* IN: struct linux_dirent64 records */
	uint64_t count;         /* IN: bytes at dirp */
};

struct ukf_hc_ioctl {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t fd;             /* IN */
	uint32_t request;       /* IN */
	UKF_GUEST_PTR(void *) arg; /* IN: what the request reads or writes */
};

struct ukf_hc_pipe {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t flags;          /* IN: O_CLOEXEC, O_NONBLOCK, O_DIRECT */
	uint32_t pad;
	UKF_GUEST_PTR(int32_t *) fds; /* IN: OUT there: the read end, the write end */
};

struct ukf_hc_dup {
	int64_t ret;            /* OUT: the new descriptor, -errno */
	int32_t fd;             /* IN */
	int32_t newfd;          /* IN: the target, or the lowest allowed (UKF_DUP_TO) */
	uint32_t mode;          /* IN: UKF_DUP_* */
	uint32_t pad;
};

struct ukf_hc_fcntl {
	int64_t ret;            /* OUT: as fcntl(2) */
	int32_t fd;             /* IN */
	int32_t cmd;            /* IN: F_DUPFD, F_GETFD ... */
	uint64_t arg;           /* IN */
};

struct ukf_hc_sendfile {
	int64_t ret;            /* OUT: bytes copied, -errno */
	int32_t out_fd;         /* IN */
	int32_t in_fd;          /* IN */
	int64_t offset;         /* IN: where to read in_fd, -1 at its position */
	uint64_t count;         /* IN */
};
#endif

/* The part every *at call has: where the lookup starts and the path. */
#define UKF_AT_FDCWD (-100)
#ifndef __ASSEMBLY__
struct ukf_at {
	int32_t dirfd;          /* IN: UKF_AT_FDCWD or an fd */
	int32_t flags;          /* IN: the call's AT_* flags, 0 if it has none */
	UKF_GUEST_PTR(const char *) path; /* IN: not NUL-terminated */
	uint64_t pathlen;       /* IN: at most UKF_PATH_MAX */
};

struct ukf_hc_openat {
	int64_t ret;            /* OUT: the new descriptor, -errno */
	struct ukf_at at;       /* IN: at.flags 0 */
	int32_t flags;          /* IN: O_* */
	uint32_t mode;          /* IN: with O_CREAT or O_TMPFILE, umask applied */
};

struct ukf_hc_fstatat {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: AT_EMPTY_PATH with pathlen 0 stats dirfd */
	UKF_GUEST_PTR(struct ukf_stat *) statbuf; /* IN: OUT there */
};

struct ukf_hc_readlinkat {
	int64_t ret;            /* OUT: bytes written (no NUL), -errno */
	struct ukf_at at;       /* IN: at.flags 0 */
	UKF_GUEST_PTR(char *) buf; /* IN */
	uint64_t bufsiz;        /* IN: > 0 */
};

struct ukf_hc_faccessat {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN */
	uint32_t mode;          /* IN: F_OK or R_OK | W_OK | X_OK */
	uint32_t pad;
};

struct ukf_hc_chdir {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: fchdir: the fd as dirfd, pathlen 0 */
};

/* The file open at fd, if its bytes are the image's (unchanged) and the
 * image is mapped: the guest-physical address of its first byte (page
 * aligned; what follows its end up to the page's end reads zero) and its
 * size. -ENODEV otherwise: the guest reads the file instead. */
struct ukf_hc_fmap {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t fd;             /* IN */
	uint32_t pad;
	uint64_t gpa;           /* OUT */
	uint64_t size;          /* OUT */
};

struct ukf_hc_unlinkat {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: at.flags AT_REMOVEDIR or 0 */
};

/* Calls that change the tree. With at.pathlen 0 and AT_EMPTY_PATH in
 * at.flags, truncate, utimensat, fchmodat, fchownat and statfs act on the
 * file at.dirfd names (ftruncate, futimens, fchmod, fchown, fstatfs). */
struct ukf_hc_mknodat {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: at.flags 0 */
	uint32_t mode;          /* IN: S_IFDIR, S_IFREG ... | permissions, umask applied */
	uint32_t pad;
	uint64_t dev;           /* IN: for device files */
};

struct ukf_hc_at2 {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at from;     /* IN: the old name (linkat: at.flags AT_SYMLINK_FOLLOW, AT_EMPTY_PATH) */
	struct ukf_at to;       /* IN: the new name, at.flags 0 */
	uint32_t flags;         /* IN: renameat2's RENAME_* */
	uint32_t pad;
};

struct ukf_hc_symlinkat {
	int64_t ret;            /* OUT: 0, -errno */
	UKF_GUEST_PTR(const char *) target; /* IN: not NUL-terminated */
	uint64_t targetlen;     /* IN: at most UKF_PATH_MAX */
	struct ukf_at at;       /* IN: the link's name, at.flags 0 */
};

struct ukf_hc_truncate {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN */
	int64_t length;         /* IN */
};

struct ukf_hc_fallocate {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t fd;             /* IN */
	int32_t mode;           /* IN: FALLOC_FL_* */
	int64_t offset;         /* IN */
	int64_t len;            /* IN */
};

#define UKF_FSYNC     0
#define UKF_FDATASYNC 1
#define UKF_SYNCFS    2
struct ukf_hc_fsync {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t fd;             /* IN */
	uint32_t op;            /* IN: UKF_FSYNC, UKF_FDATASYNC, UKF_SYNCFS */
};

struct ukf_utime {
	int64_t sec;
	int64_t nsec;           /* or UTIME_NOW, UTIME_OMIT */
};

struct ukf_hc_utimensat {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: at.flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH */
	struct ukf_utime times[2]; /* IN: atime, mtime (NULL times: both UTIME_NOW) */
};

struct ukf_hc_fchmodat {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: at.flags AT_EMPTY_PATH */
	uint32_t mode;          /* IN */
	uint32_t pad;
};

struct ukf_hc_fchownat {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: at.flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH */
	uint32_t uid;           /* IN: -1: unchanged */
	uint32_t gid;           /* IN: -1: unchanged */
};

struct ukf_statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags;
	int64_t f_spare[4];
};

struct ukf_hc_statfs {
	int64_t ret;            /* OUT: 0, -errno */
	struct ukf_at at;       /* IN: at.flags AT_EMPTY_PATH */
	UKF_GUEST_PTR(struct ukf_statfs *) buf; /* IN: OUT there */
};

struct ukf_hc_epoll_create {
	int64_t ret;            /* OUT: the new fd, -errno */
	uint32_t flags;         /* IN: epoll_create1's */
	uint32_t pad;
};

struct ukf_hc_epoll_ctl {
	int64_t ret;            /* OUT: 0, -errno */
	int32_t epfd;           /* IN */
	int32_t op;             /* IN: EPOLL_CTL_* */
	int32_t fd;             /* IN */
	uint32_t pad;
	UKF_GUEST_PTR(void *) event; /* IN: struct epoll_event (12 bytes, packed); unread for DEL */
};

struct ukf_hc_epoll_wait {
	int64_t ret;            /* OUT: events written, -errno */
	int32_t epfd;           /* IN */
	int32_t maxevents;      /* IN */
	UKF_GUEST_PTR(void *) events; /* IN: OUT there, maxevents struct epoll_event */
	int64_t timeout;        /* IN: ns; < 0 forever */
};

struct ukf_hc_eventfd {
	int64_t ret;            /* OUT: the new fd, -errno */
	uint32_t initval;       /* IN */
	uint32_t flags;         /* IN: eventfd2's */
};

#define UKF_TIMERFD_CREATE 1 /* fd: the clock id; flags: timerfd_create's */
#define UKF_TIMERFD_SET    2 /* new, old (0: none), flags: TFD_TIMER_* */
#define UKF_TIMERFD_GET    3 /* old */
struct ukf_hc_timerfd {
	int64_t ret;            /* OUT: the new fd or 0, -errno */
	uint32_t op;            /* IN: UKF_TIMERFD_* */
	int32_t fd;             /* IN */
	uint32_t flags;         /* IN */
	uint32_t pad;
	UKF_GUEST_PTR(const void *) new_value; /* IN: struct itimerspec */
	UKF_GUEST_PTR(void *) old_value;       /* IN: OUT there, struct itimerspec */
};

#define UKF_SHM_ANON  1 /* a new object of size bytes (page multiple); gpa: OUT, where */
#define UKF_SHM_UNMAP 2 /* gpa: IN, an object's start in the window; it goes from this VM */
#define UKF_SHM_FILE  3 /* fd's bytes [off, off+size) mapped shared; gpa: OUT, where;
                         * prot: IN, UKF_PROT_WRITE for a writable mapping; OUT,
                         * UKF_PROT_WRITE if it may be made writable */
struct ukf_hc_shm {
	int64_t ret;            /* OUT: 0, -errno */
	uint32_t op;            /* IN: UKF_SHM_* */
	int32_t fd;             /* IN: UKF_SHM_FILE */
	uint64_t size;          /* IN */
	uint64_t gpa;           /* IN or OUT */
	uint64_t off;           /* IN: UKF_SHM_FILE, a page multiple */
	uint32_t prot;          /* IN and OUT: UKF_SHM_FILE */
	uint32_t pad;
};

/* A futex operation on a word of shared memory (UKF_VMA_SHM), whose
 * waiters are the run's; other futexes stay in the runtime. */
struct ukf_hc_futex {
	int64_t ret;            /* OUT: as futex(2) */
	uint32_t op;            /* IN: FUTEX_WAIT, _WAKE, _REQUEUE, _CMP_REQUEUE, _WAKE_OP, _WAIT_BITSET, _WAKE_BITSET */
	uint32_t val;           /* IN */
	uint64_t uaddr;         /* IN: guest-virtual */
	uint64_t uaddr2;        /* IN: guest-virtual, for REQUEUE and WAKE_OP */
	int64_t timeout;        /* IN: ns from now for the waits; < 0: none */
	uint32_t val2;          /* IN: REQUEUE's and WAKE_OP's second count */
	uint32_t val3;          /* IN: the bitset, CMP_REQUEUE's value, WAKE_OP's op */
};

struct ukf_hc_memfd {
	int64_t ret;            /* OUT: the new fd, -errno */
	UKF_GUEST_PTR(const char *) name; /* IN: not NUL-terminated */
	uint64_t namelen;       /* IN: at most 249 (longer: EINVAL) */
	uint32_t flags;         /* IN: MFD_* */
	uint32_t pad;
};

struct ukf_hc_signalfd {
	int64_t ret;            /* OUT: the fd, -errno */
	int32_t fd;             /* IN: -1 for a new one, else a signalfd to change */
	uint32_t flags;         /* IN: SFD_CLOEXEC, SFD_NONBLOCK */
	uint64_t mask;          /* IN: bit n-1 for signal n */
};

struct ukf_hc_stop {
	int64_t ret;            /* OUT: 0 once continued, -EINTR if killed meanwhile */
	int32_t sig;            /* IN: the signal that stopped it */
	uint32_t pad;
};

/* System V IPC, private to the run. */
#define UKF_IPC_SHMGET 1 /* key, size, flags: ret the id */
#define UKF_IPC_SHMAT  2 /* id, flags (SHM_RDONLY, SHM_EXEC): gpa, size OUT, where
                          * the segment is in the window and its size */
#define UKF_IPC_SHMCTL 3 /* id, flags: the cmd, buf: struct shmid_ds or shminfo */
#define UKF_IPC_SEMGET 4 /* key, size: nsems, flags */
#define UKF_IPC_SEMOP  5 /* id, buf: struct sembuf[size], timeout */
#define UKF_IPC_SEMCTL 6 /* id, size: semnum, flags: the cmd, buf: the argument */
struct ukf_hc_ipc {
	int64_t ret;            /* OUT: as the call, -errno */
	uint32_t op;            /* IN: UKF_IPC_* */
	int32_t key;            /* IN */
	int32_t id;             /* IN */
	int32_t flags;          /* IN */
	uint64_t size;          /* IN (SHMAT: OUT) */
	uint64_t buf;           /* IN: guest-virtual, or the value of SEMCTL's argument */
	int64_t timeout;        /* IN: SEMOP, ns from now; < 0: none */
	uint64_t gpa;           /* OUT: SHMAT */
};

struct ukf_hc_execve {
	int64_t ret;            /* OUT: 0, -errno */
	UKF_GUEST_PTR(const char *) path; /* IN: the new program, not NUL-terminated */
	uint64_t pathlen;       /* IN: at most UKF_PATH_MAX */
};
#endif

#define UKF_RW_OFFSET 1u /* pread/pwrite: use `offset`, keep the file position */
#ifndef __ASSEMBLY__
struct ukf_iovec {
	UKF_GUEST_PTR(void *) base;
	uint64_t len;
};

struct ukf_hc_rw {
	int64_t ret;            /* OUT: bytes transferred */
	int32_t fd;             /* IN */
	uint32_t flags;         /* IN: UKF_RW_* */
	UKF_GUEST_PTR(const struct ukf_iovec *) iov; /* IN */
	uint64_t iovcnt;        /* IN: at most 1024 */
	int64_t offset;         /* IN */
};
#endif

#ifndef __ASSEMBLY__
/* poll: fds is a struct pollfd array (int fd; short events, revents). */
struct ukf_hc_poll {
	int64_t ret;            /* OUT: descriptors with events, or -errno */
	UKF_GUEST_PTR(void *) fds; /* IN/OUT: revents filled in */
	uint64_t nfds;          /* IN: at most RLIMIT_NOFILE */
	int64_t timeout;        /* IN: nanoseconds; -1 waits forever */
};
#endif

#ifndef __ASSEMBLY__
struct ukf_hc_sock {
	int64_t ret;            /* OUT */
	int32_t op;             /* IN: UKF_SOCK_* */
	int32_t fd;             /* IN */
	int64_t a[3];           /* IN */
	UKF_GUEST_PTR(void *) addr;    /* IN: struct sockaddr */
	uint64_t addrlen;       /* IN: its length, or UKF_GUEST_PTR(uint32_t *) for in/out */
	UKF_GUEST_PTR(void *) buf;     /* IN */
	uint64_t len;           /* IN */
};
#endif

/* struct stat of x86_64 Linux, as the guest program sees it. */
#ifndef __ASSEMBLY__
struct ukf_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t pad0;
	uint64_t st_rdev;
	int64_t  st_size;
	int64_t  st_blksize;
	int64_t  st_blocks;
	int64_t  st_atime_sec;
	int64_t  st_atime_nsec;
	int64_t  st_mtime_sec;
	int64_t  st_mtime_nsec;
	int64_t  st_ctime_sec;
	int64_t  st_ctime_nsec;
	int64_t  reserved[3];
};
#endif

/* System V IPC structures of x86_64 Linux (ipc64_perm, shmid64_ds,
 * shminfo64, shm_info, semid64_ds, seminfo), as the program passes them. */
#ifndef __ASSEMBLY__
struct ukf_ipc_perm {
	int32_t key;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;
	uint16_t seq;
	uint16_t pad2;
	uint32_t pad3;
	uint64_t unused1, unused2;
};

struct ukf_shmid_ds {
	struct ukf_ipc_perm shm_perm;
	uint64_t shm_segsz;
	int64_t shm_atime, shm_dtime, shm_ctime;
	int32_t shm_cpid, shm_lpid;
	uint64_t shm_nattch;
	uint64_t unused4, unused5;
};

struct ukf_shminfo {
	uint64_t shmmax, shmmin, shmmni, shmseg, shmall;
	uint64_t unused[4];
};

struct ukf_shm_info {
	int32_t used_ids;
	uint32_t pad;
	uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};

struct ukf_semid_ds {
	struct ukf_ipc_perm sem_perm;
	int64_t sem_otime;
	uint64_t unused1;
	int64_t sem_ctime;
	uint64_t unused2;
	uint64_t sem_nsems;
	uint64_t unused3, unused4;
};

struct ukf_seminfo {
	int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};

struct ukf_sembuf {
	uint16_t sem_num;
	int16_t sem_op;
	int16_t sem_flg;
};
#endif

#endif /* UKFORK_ABI_H */
