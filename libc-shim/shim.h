/* libc-shim internal header: handler type, Linux x86_64 structs and constants. */
#ifndef UKFORK_SHIM_H
#define UKFORK_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <asm/unistd.h>
#include <linux/errno.h>
#include <ukfork/abi.h>
#include <ukfork/guest.h>

/* ---- Syscall handlers ------------------------------------------------------
 * A handler gets the six argument registers (rdi, rsi, rdx, r10, r8, r9) and
 * returns the value for rax. UKF_SYSCALLn(name, type, arg, ...) defines
 * sys_<name> with that uniform signature around a typed body, the way Linux's
 * SYSCALL_DEFINEn does, so the table never casts function pointers. */
typedef int64_t (*ukf_sys_fn)(const uint64_t *a);

#define UKF_SYSCALL0(name)                                                     \
	static int64_t do_##name(void);                                        \
	int64_t sys_##name(const uint64_t *a) { (void)a; return do_##name(); } \
	static int64_t do_##name(void)
#define UKF_SYSCALL1(name, t0, n0)                                             \
	static int64_t do_##name(t0 n0);                                       \
	int64_t sys_##name(const uint64_t *a) { return do_##name((t0)a[0]); }  \
	static int64_t do_##name(t0 n0)
#define UKF_SYSCALL2(name, t0, n0, t1, n1)                                     \
	static int64_t do_##name(t0 n0, t1 n1);                                \
	int64_t sys_##name(const uint64_t *a)                                  \
	{ return do_##name((t0)a[0], (t1)a[1]); }                              \
	static int64_t do_##name(t0 n0, t1 n1)
#define UKF_SYSCALL3(name, t0, n0, t1, n1, t2, n2)                             \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2);                         \
	int64_t sys_##name(const uint64_t *a)                                  \
	{ return do_##name((t0)a[0], (t1)a[1], (t2)a[2]); }                    \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2)
#define UKF_SYSCALL4(name, t0, n0, t1, n1, t2, n2, t3, n3)                     \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2, t3 n3);                  \
	int64_t sys_##name(const uint64_t *a)                                  \
	{ return do_##name((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3]); }          \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2, t3 n3)
#define UKF_SYSCALL5(name, t0, n0, t1, n1, t2, n2, t3, n3, t4, n4)             \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4);           \
	int64_t sys_##name(const uint64_t *a)                                  \
	{ return do_##name((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3], (t4)a[4]); } \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4)
#define UKF_SYSCALL6(name, t0, n0, t1, n1, t2, n2, t3, n3, t4, n4, t5, n5)     \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4, t5 n5);    \
	int64_t sys_##name(const uint64_t *a)                                  \
	{                                                                      \
		return do_##name((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3],       \
				 (t4)a[4], (t5)a[5]);                          \
	}                                                                      \
	static int64_t do_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4, t5 n5)

/* The frame of the syscall being handled, for handlers that will need the
 * user registers (signal return, fork). Valid only inside ukf_syscall. */
extern struct ukf_regs *ukf_cur_frame;
void ukf_signal_check(struct ukf_regs *r);
uint64_t ukf_sigframe_size(void);
/* Deliver a fault's signal to the program's handler now (fault.c): 0 if it
 * has none, or blocks or ignores it, and the process must die of it. */
int ukf_signal_fault(struct ukf_regs *r, int sig, int code, uint64_t addr,
		     uint64_t trapno, uint64_t err, uint64_t cr2);

static inline uint64_t ukf_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Pipe rings (ring.c): UKF_RING_HOST means "do it through the host". */
#define UKF_RING_HOST INT64_MIN
#define UKF_PIPE_BUF 4096
int64_t ukf_ring_readv(int32_t fd, const struct ukf_iovec *iov, int cnt);
int64_t ukf_ring_writev(int32_t fd, const struct ukf_iovec *iov, int cnt, uint64_t *done);
void ukf_ring_blocked(uint64_t cycles); /* a ring call the host served took this long */
int ukf_is_ring(int32_t fd);

/* ---- Guest memory helpers -------------------------------------------------- */
#define UKF_PAGE_SIZE 4096ULL
#define UKF_PAGE_MASK (UKF_PAGE_SIZE - 1)
#define UKF_PAGE_DOWN(x) ((uint64_t)(x) & ~UKF_PAGE_MASK)
#define UKF_PAGE_UP(x) (((uint64_t)(x) + UKF_PAGE_MASK) & ~UKF_PAGE_MASK)

/* A program address as a pointer: the runtime runs on the program's page
 * tables, so it reaches what the program can, once checked. */
#define UKF_UPTR(T, addr) ((T *)(uintptr_t)(addr))

/* The top of the program's stack; the stack and its guard gap lie below. */
#define UKF_STACK_TOP UKF_USER_TOP

/* User pointers. The program's memory is what its mappings cover (sys_mm.c)
 * in [UKF_USER_MIN, UKF_USER_TOP); the runtime below UKF_USER_MIN is reachable
 * from ring 3 but a program may not name it. Every handler checks a pointer
 * with one of these before it reads or writes through it, or hands it to the
 * host: they populate what a Linux copy would fault in. UKF_TASK_SIZE is
 * Linux's TASK_SIZE_MAX, which bounds a range as Linux's access_ok does. */
#define UKF_TASK_SIZE 0x7ffffffff000ULL

/* How many bytes from p on the program may access (write: write), up to
 * len, populating them (sys_mm.c). */
uint64_t ukf_user_access(uint64_t p, uint64_t len, int write);

/* True iff all of [p, p+len) is program memory (len 0: any p). */
static inline int ukf_user_ok(uint64_t p, uint64_t len)
{
	return len == 0 || ukf_user_access(p, len, 0) == len;
}

/* A transfer of up to len bytes at p: how many of them the program may
 * access from p on (Linux's copy stops at the first page it cannot), or
 * -EFAULT if p itself is not, or the range leaves the user address space. */
static inline int64_t ukf_user_span(uint64_t p, uint64_t len)
{
	if (len == 0)
		return 0;
	if (p + len < p || p + len > UKF_TASK_SIZE)
		return -EFAULT;
	uint64_t n = ukf_user_access(p, len, 0);
	return n ? (int64_t)n : -EFAULT;
}

/* A pointer handed to the host, which checks the other arguments first, in
 * Linux's order: p if [p, p+len) is program memory, else an address outside
 * the user space that the host answers with EFAULT. */
#define UKF_USER_BAD (~0ULL)
static inline uint64_t ukf_user_arg(uint64_t p, uint64_t len)
{
	return ukf_user_ok(p, len) ? p : UKF_USER_BAD;
}

/* A user iovec array handed to the host, which checks the fd, the count and
 * every length first, in Linux's order, and cuts each buffer at the end of
 * RAM: uiov, or UKF_USER_BAD if the array or the start of a buffer is not
 * program memory (the host cannot tell the runtime's memory from it). */
uint64_t ukf_user_vec(uint64_t uiov, uint64_t cnt);

/* Length of the user string at p, at most max-1 bytes: -EFAULT if it is not
 * in program memory, -ENAMETOOLONG if no NUL in the first max bytes. */
int64_t ukf_user_strlen(uint64_t p, uint64_t max);

/* A path argument: its length (< UKF_PATH_MAX), or -EFAULT / -ENAMETOOLONG. */
static inline int64_t ukf_user_path(uint64_t p)
{
	return ukf_user_strlen(p, UKF_PATH_MAX);
}

/* printf for the runtime's own messages: %s %c %d %u %ld %lu %x %lx %p %%. */
void ukf_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ukf_vlog(const char *fmt, va_list ap);

/* ---- Cross-file entry points ----------------------------------------------- */
/* sys_mm.c: the loader maps the segments and hands over the layout. */
void ukf_mm_boot(void);
int64_t ukf_mm_init(uint64_t brk_start, uint64_t stack_size);
uint64_t ukf_mm_stack_bottom(uint64_t stack_size);
int ukf_mm_file_in_image(int32_t fd, struct ukf_hc_fmap *fm);
int64_t ukf_mm_map_file(uint64_t va, uint64_t len, uint32_t prot, int32_t fd,
			const struct ukf_hc_fmap *fm, int64_t off, uint64_t filesz);
int64_t ukf_mm_poke(uint64_t va, const void *src, uint64_t n);
int ukf_mm_readable(uint64_t va, uint64_t n);
/* Whether va is in memory shared with other processes (a shared object). */
int ukf_mm_is_shm(uint64_t va);
uint64_t ukf_mm_reserve(uint64_t len);
uint64_t ukf_mm_stub_area(uint64_t near, uint64_t len);
int ukf_mm_fault(uint64_t addr, uint64_t err);
uint64_t ukf_mm_used(void);

/* sys_time.c */
void ukf_time_init(void);
void ukf_time_forked(void);
void ukf_signal_exec(void);
/* sys_cred.c: the process's ids, kept in the guest (fork and exec keep
 * them); set from the boot block at start. */
struct ukf_cred {
	uint32_t ruid, euid, suid, fsuid;
	uint32_t rgid, egid, sgid, fsgid;
	uint32_t ngroups;
	uint32_t groups[UKF_NGROUPS_BOOT];
};
extern struct ukf_cred ukf_cred;
void ukf_cred_init(void);
/* sys_proc.c: the first resource limits, in the boot page (see abi.h). */
void ukf_rlimits_init(void);
/* ppoll/pselect6: wait with a signal mask in place of the caller's. */
void ukf_sigmask_wait_begin(uint64_t mask);
void ukf_sigmask_wait_end(int64_t r);
void ukf_mm_reset(void);
extern uint64_t ukf_clear_child_tid;
int64_t ukf_clock_ns(int32_t clk, int64_t *ns);

/* sys_proc.c */
extern uint32_t ukf_umask;
void ukf_set_comm(const char *path);

/* exec.c: the loader, reusable by a later execve. */
struct ukf_elf_info {
	uint64_t entry;     /* bias-adjusted entry point */
	uint64_t phdr;      /* AT_PHDR, 0 if the headers must be copied */
	uint64_t phnum;
	uint64_t brk_start; /* page-aligned end of the highest segment */
	uint64_t lo, hi;    /* loaded range */
	uint64_t prog_entry; /* AT_ENTRY: the program's own entry */
	uint64_t base;      /* AT_BASE: the interpreter's load bias, 0 if none */
};
int64_t ukf_elf_load(const char *path, uint64_t path_len, uint64_t stack_size,
		     struct ukf_elf_info *info, const char **why);
struct ukf_elf_file {
	int32_t fd;
	uint32_t phnum;
	uint64_t phoff, bias;
	int32_t ifd;        /* the interpreter, -1 for a static program */
	uint32_t iphnum;
	uint64_t ilo, ihi, ientry;
};
extern const char ukf_why_script[]; /* *why of a #! file */
#define UKF_WHY_SCRIPT ukf_why_script
int64_t ukf_elf_open(const char *path, uint64_t path_len, uint64_t stack_bottom,
		     struct ukf_elf_file *ef, struct ukf_elf_info *info, const char **why);
int64_t ukf_elf_map(struct ukf_elf_file *ef, struct ukf_elf_info *info,
		    uint64_t stack_size, const char **why);
int64_t ukf_elf_fits(const struct ukf_elf_file *ef, const char **why);
void ukf_elf_close(struct ukf_elf_file *ef);
extern uint64_t ukf_elf_head_len;
extern const uint8_t *const ukf_elf_head;
int64_t ukf_stack_build(uint64_t top, uint64_t bottom, const char *strs,
			uint64_t strs_len, uint64_t argc, uint64_t envc,
			const char *execfn, const struct ukf_elf_info *info,
			uint64_t *sp);

/* ---- Linux x86_64 structures ------------------------------------------------ */
struct ukf_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

struct ukf_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};

struct ukf_timezone {
	int32_t tz_minuteswest;
	int32_t tz_dsttime;
};

#define UKF_UTS_LEN 65
struct ukf_utsname {
	char sysname[UKF_UTS_LEN];
	char nodename[UKF_UTS_LEN];
	char release[UKF_UTS_LEN];
	char version[UKF_UTS_LEN];
	char machine[UKF_UTS_LEN];
	char domainname[UKF_UTS_LEN];
};

struct ukf_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram;
	uint64_t freeram;
	uint64_t sharedram;
	uint64_t bufferram;
	uint64_t totalswap;
	uint64_t freeswap;
	uint16_t procs;
	uint16_t pad;
	uint32_t pad2;
	uint64_t totalhigh;
	uint64_t freehigh;
	uint32_t mem_unit;
	uint32_t pad3;
};


struct ukf_statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};

struct ukf_statx {
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t spare0;
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct ukf_statx_timestamp stx_atime;
	struct ukf_statx_timestamp stx_btime;
	struct ukf_statx_timestamp stx_ctime;
	struct ukf_statx_timestamp stx_mtime;
	uint32_t stx_rdev_major;
	uint32_t stx_rdev_minor;
	uint32_t stx_dev_major;
	uint32_t stx_dev_minor;
	uint64_t stx_mnt_id;
	uint32_t stx_dio_mem_align;
	uint32_t stx_dio_offset_align;
	uint64_t spare3[12];
};

/* The kernel's struct sigaction (not libc's): handler, flags, restorer, mask. */
struct ukf_ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct ukf_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

_Static_assert(sizeof(struct ukf_utsname) == 390, "utsname");
_Static_assert(sizeof(struct ukf_sysinfo) == 112, "sysinfo");
_Static_assert(sizeof(struct ukf_statx) == 256, "statx");
_Static_assert(sizeof(struct ukf_ksigaction) == 32, "sigaction");
_Static_assert(sizeof(struct ukf_stack) == 24, "stack_t");
_Static_assert(sizeof(struct ukf_stat) == 144, "stat");

/* ---- Linux constants ---------------------------------------------------------
 * Spelled out here rather than taken from uapi headers that drag in libc. */
#define UKF_AT_SYMLINK_NOFOLLOW 0x100
#define UKF_AT_EACCESS          0x200
#define UKF_AT_NO_AUTOMOUNT     0x800
#define UKF_AT_EMPTY_PATH       0x1000
#define UKF_AT_STATX_SYNC_TYPE  0x6000

#define UKF_O_RDONLY    00
#define UKF_O_WRONLY    01
#define UKF_O_RDWR      02
#define UKF_O_ACCMODE   03
#define UKF_O_CREAT     0100
#define UKF_O_TRUNC     01000
#define UKF_O_TMPFILE   020000000
#define UKF_O_CLOEXEC   02000000

#define UKF_PROT_READ      0x1
#define UKF_PROT_WRITE     0x2
#define UKF_PROT_EXEC      0x4
#define UKF_PROT_SEM       0x8
#define UKF_PROT_GROWSDOWN 0x01000000
#define UKF_PROT_GROWSUP   0x02000000

#define UKF_MAP_SHARED          0x01
#define UKF_MAP_PRIVATE         0x02
#define UKF_MAP_SHARED_VALIDATE 0x03
#define UKF_MAP_TYPE            0x0f
#define UKF_MAP_FIXED           0x10
#define UKF_MAP_ANONYMOUS       0x20
#define UKF_MAP_32BIT           0x40
#define UKF_MAP_GROWSDOWN       0x0100
#define UKF_MAP_DENYWRITE       0x0800
#define UKF_MAP_EXECUTABLE      0x1000
#define UKF_MAP_LOCKED          0x2000
#define UKF_MAP_NORESERVE       0x4000
#define UKF_MAP_POPULATE        0x8000
#define UKF_MAP_NONBLOCK        0x10000
#define UKF_MAP_STACK           0x20000
#define UKF_MAP_HUGETLB         0x40000
#define UKF_MAP_SYNC            0x80000
#define UKF_MAP_FIXED_NOREPLACE 0x100000
#define UKF_MAP_UNINITIALIZED   0x4000000
#define UKF_MAP_HUGE_MASK       (0x3fU << 26)

#define UKF_MREMAP_MAYMOVE   1
#define UKF_MREMAP_FIXED     2
#define UKF_MREMAP_DONTUNMAP 4

#define UKF_MADV_DONTNEED        4
#define UKF_MADV_FREE            8
#define UKF_MADV_REMOVE          9
#define UKF_MADV_DONTNEED_LOCKED 24
#define UKF_MADV_MAX_KNOWN       25  /* MADV_COLLAPSE */
#define UKF_MADV_HWPOISON        100
#define UKF_MADV_SOFT_OFFLINE    101

#define UKF_MS_ASYNC      1
#define UKF_MS_INVALIDATE 2
#define UKF_MS_SYNC       4

#define UKF_CLOCK_REALTIME           0
#define UKF_CLOCK_MONOTONIC          1
#define UKF_CLOCK_PROCESS_CPUTIME_ID 2
#define UKF_CLOCK_THREAD_CPUTIME_ID  3
#define UKF_CLOCK_MONOTONIC_RAW      4
#define UKF_CLOCK_REALTIME_COARSE    5
#define UKF_CLOCK_MONOTONIC_COARSE   6
#define UKF_CLOCK_BOOTTIME           7
#define UKF_CLOCK_TAI                11
#define UKF_TIMER_ABSTIME            1

#define UKF_ARCH_SET_GS 0x1001
#define UKF_ARCH_SET_FS 0x1002
#define UKF_ARCH_GET_FS 0x1003
#define UKF_ARCH_GET_GS 0x1004

#define UKF_RLIMIT_CPU        0
#define UKF_RLIMIT_FSIZE      1
#define UKF_RLIMIT_DATA       2
#define UKF_RLIMIT_STACK      3
#define UKF_RLIMIT_CORE       4
#define UKF_RLIMIT_RSS        5
#define UKF_RLIMIT_NPROC      6
#define UKF_RLIMIT_NOFILE     7
#define UKF_RLIMIT_MEMLOCK    8
#define UKF_RLIMIT_AS         9
#define UKF_RLIMIT_LOCKS      10
#define UKF_RLIMIT_SIGPENDING 11
#define UKF_RLIMIT_MSGQUEUE   12
#define UKF_RLIMIT_NICE       13
#define UKF_RLIMIT_RTPRIO     14
#define UKF_RLIMIT_RTTIME     15

#define UKF_GRND_NONBLOCK 0x1
#define UKF_GRND_RANDOM   0x2
#define UKF_GRND_INSECURE 0x4

#define UKF_SIGILL 4
#define UKF_SIGTRAP 5
#define UKF_SIGBUS 7
#define UKF_SIGFPE 8
#define UKF_SIGKILL 9
#define UKF_SIGSEGV 11
/* si_code values of the faults */
#define UKF_SEGV_MAPERR 1
#define UKF_SEGV_ACCERR 2
#define UKF_BUS_ADRALN 1
#define UKF_ILL_ILLOPN 2
#define UKF_FPE_INTDIV 1
#define UKF_TRAP_TRACE 2
#define UKF_SIG_DFL 0
#define UKF_SIG_IGN 1
#define UKF_SIGSTOP 19
#define UKF_NSIG    64
#define UKF_SIG_BLOCK   0
#define UKF_SIG_UNBLOCK 1
#define UKF_SIG_SETMASK 2
#define UKF_SS_ONSTACK    1
#define UKF_SS_DISABLE    2
#define UKF_SS_AUTODISARM (1U << 31)
#define UKF_MINSIGSTKSZ   2048

/* Auxiliary vector types. */
#define UKF_AT_NULL     0
#define UKF_AT_PHDR     3
#define UKF_AT_PHENT    4
#define UKF_AT_PHNUM    5
#define UKF_AT_PAGESZ   6
#define UKF_AT_BASE     7
#define UKF_AT_FLAGS    8
#define UKF_AT_ENTRY    9
#define UKF_AT_UID      11
#define UKF_AT_EUID     12
#define UKF_AT_GID      13
#define UKF_AT_EGID     14
#define UKF_AT_PLATFORM 15
#define UKF_AT_HWCAP    16
#define UKF_AT_CLKTCK   17
#define UKF_AT_SECURE   23
#define UKF_AT_RANDOM   25
#define UKF_AT_HWCAP2   26
#define UKF_AT_EXECFN   31
#define UKF_AT_MINSIGSTKSZ 51

/* Largest count one read/write moves, as Linux's MAX_RW_COUNT. */
#define UKF_MAX_RW_COUNT 0x7ffff000ULL
#define UKF_UIO_MAXIOV   1024

#endif /* UKFORK_SHIM_H */
