/* The syscall table and dispatcher: every Linux syscall the guest implements. */
#include "shim.h"

/* The table doubles as the compatibility list (docs/syscalls.md follows it):
 * an entry without a comment behaves as on Linux for a single-threaded
 * process; a comment says where it does not. Numbers not listed return
 * -ENOSYS, and the host is told the first time each one is seen. */

#define SYS(name) int64_t sys_##name(const uint64_t *a);
/* sys_fs.c */
SYS(read) SYS(write) SYS(open) SYS(close) SYS(stat) SYS(fstat) SYS(lstat)
SYS(lseek) SYS(ioctl) SYS(pread64) SYS(pwrite64) SYS(readv) SYS(writev)
SYS(access) SYS(getcwd) SYS(chdir) SYS(fchdir) SYS(creat) SYS(readlink)
SYS(getdents64) SYS(openat) SYS(newfstatat) SYS(readlinkat) SYS(faccessat)
SYS(preadv) SYS(pwritev) SYS(preadv2) SYS(pwritev2) SYS(statx) SYS(faccessat2)
/* sys_mm.c */
SYS(mmap) SYS(mprotect) SYS(munmap) SYS(brk) SYS(mremap) SYS(msync)
SYS(madvise) SYS(mlock) SYS(munlock) SYS(mlockall) SYS(munlockall)
/* sys_signal.c */
SYS(rt_sigaction) SYS(rt_sigprocmask) SYS(sigaltstack)
/* sys_time.c */
SYS(nanosleep) SYS(gettimeofday) SYS(time) SYS(clock_gettime)
SYS(clock_getres) SYS(clock_nanosleep)
/* sys_proc.c */
SYS(sched_yield) SYS(getpid) SYS(exit) SYS(uname) SYS(umask) SYS(getrlimit)
SYS(sysinfo) SYS(getuid) SYS(getgid) SYS(geteuid) SYS(getegid)
SYS(getpgrp) SYS(getgroups) SYS(getresuid) SYS(getresgid) SYS(getpgid)
SYS(getsid) SYS(arch_prctl) SYS(setrlimit) SYS(gettid) SYS(sched_getaffinity)
SYS(set_tid_address) SYS(exit_group) SYS(set_robust_list) SYS(prlimit64)
SYS(getrandom) SYS(rseq) SYS(prctl)
/* sys_process.c */
SYS(fork) SYS(vfork) SYS(clone) SYS(wait4) SYS(waitid) SYS(getppid)
/* sys_fd.c, sys_poll.c */
SYS(pipe) SYS(pipe2) SYS(dup) SYS(dup2) SYS(dup3) SYS(fcntl)
SYS(poll) SYS(ppoll) SYS(select) SYS(pselect6)
SYS(execve)
/* sys_signal.c */
SYS(rt_sigreturn) SYS(rt_sigpending) SYS(kill) SYS(tkill) SYS(tgkill) SYS(pause)
SYS(rt_sigsuspend) SYS(rt_sigtimedwait) SYS(setitimer) SYS(getitimer) SYS(alarm)
/* sys_proc.c */
SYS(setpgid) SYS(setsid)
/* sys_socket.c */
SYS(socket) SYS(socketpair) SYS(bind) SYS(connect) SYS(listen) SYS(accept) SYS(accept4)
SYS(getsockname) SYS(getpeername) SYS(setsockopt) SYS(getsockopt) SYS(shutdown)
SYS(sendmsg) SYS(recvmsg) SYS(sendto) SYS(recvfrom) SYS(sendfile)
SYS(unlink) SYS(unlinkat) SYS(rmdir) SYS(mkdir) SYS(mkdirat) SYS(rename)
#undef SYS

#define NR_MAX 512

static const ukf_sys_fn table[NR_MAX] = {
	[__NR_read] = sys_read,
	[__NR_write] = sys_write,
	[__NR_open] = sys_open,
	[__NR_close] = sys_close,
	[__NR_stat] = sys_stat,
	[__NR_fstat] = sys_fstat,
	[__NR_lstat] = sys_lstat,
	[__NR_lseek] = sys_lseek,
	[__NR_mmap] = sys_mmap,                 /* file mappings are private copies */
	[__NR_mprotect] = sys_mprotect,         /* no page protection: validates only */
	[__NR_munmap] = sys_munmap,             /* image/heap/stack ranges: no-op */
	[__NR_brk] = sys_brk,
	[__NR_rt_sigaction] = sys_rt_sigaction,
	[__NR_rt_sigprocmask] = sys_rt_sigprocmask,
	[__NR_ioctl] = sys_ioctl, /* TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX */
	[__NR_pread64] = sys_pread64,
	[__NR_pwrite64] = sys_pwrite64,
	[__NR_readv] = sys_readv,
	[__NR_writev] = sys_writev,
	[__NR_access] = sys_access,
	[__NR_sched_yield] = sys_sched_yield,
	[__NR_mremap] = sys_mremap,             /* file mappings grow with zeros */
	[__NR_msync] = sys_msync,               /* nothing to write back */
	[__NR_madvise] = sys_madvise,           /* DONTNEED/FREE/REMOVE zero; rest no-op */
	[__NR_nanosleep] = sys_nanosleep,       /* never interrupted */
	[__NR_getpid] = sys_getpid,
	[__NR_exit] = sys_exit,                 /* = exit_group (one thread) */
	[__NR_uname] = sys_uname,
	[__NR_getdents64] = sys_getdents64,
	[__NR_getcwd] = sys_getcwd,
	[__NR_chdir] = sys_chdir,
	[__NR_fchdir] = sys_fchdir,
	[__NR_creat] = sys_creat,
	[__NR_readlink] = sys_readlink,
	[__NR_umask] = sys_umask,
	[__NR_gettimeofday] = sys_gettimeofday,
	[__NR_getrlimit] = sys_getrlimit,
	[__NR_sysinfo] = sys_sysinfo,           /* loads and swap are 0 */
	[__NR_getuid] = sys_getuid,
	[__NR_getgid] = sys_getgid,
	[__NR_geteuid] = sys_geteuid,
	[__NR_getegid] = sys_getegid,
	[__NR_getppid] = sys_getppid, /* host: the parent may change */
	[__NR_fork] = sys_fork,   /* clones the VM */
	[__NR_vfork] = sys_vfork, /* as fork: the child gets a copy */
	[__NR_clone] = sys_clone, /* no threads: CLONE_VM only with CLONE_VFORK */
	[__NR_wait4] = sys_wait4,
	[__NR_waitid] = sys_waitid, /* WEXITED only */
	[__NR_execve] = sys_execve, /* programs in the image; #! scripts */
	[__NR_rt_sigreturn] = sys_rt_sigreturn,
	[__NR_rt_sigpending] = sys_rt_sigpending,
	[__NR_kill] = sys_kill,     /* host: across VMs, process groups */
	[__NR_tkill] = sys_tkill,   /* one thread per process */
	[__NR_tgkill] = sys_tgkill,
	[__NR_pause] = sys_pause,
	[__NR_rt_sigsuspend] = sys_rt_sigsuspend,
	[__NR_rt_sigtimedwait] = sys_rt_sigtimedwait,
	[__NR_setitimer] = sys_setitimer, /* ITIMER_REAL only */
	[__NR_getitimer] = sys_getitimer, /* ITIMER_REAL only */
	[__NR_alarm] = sys_alarm,
	[__NR_setpgid] = sys_setpgid, /* host */
	[__NR_setsid] = sys_setsid,   /* host */
	[__NR_socket] = sys_socket,   /* AF_INET, AF_INET6 on the host's network; AF_UNIX private to the run */
	[__NR_socketpair] = sys_socketpair,
	[__NR_bind] = sys_bind,
	[__NR_connect] = sys_connect,
	[__NR_listen] = sys_listen,
	[__NR_accept] = sys_accept,
	[__NR_accept4] = sys_accept4,
	[__NR_getsockname] = sys_getsockname,
	[__NR_getpeername] = sys_getpeername,
	[__NR_setsockopt] = sys_setsockopt, /* the options that touch only the socket */
	[__NR_getsockopt] = sys_getsockopt,
	[__NR_shutdown] = sys_shutdown,
	[__NR_sendmsg] = sys_sendmsg, /* no control messages (descriptor passing) yet */
	[__NR_recvmsg] = sys_recvmsg,
	[__NR_sendto] = sys_sendto,
	[__NR_recvfrom] = sys_recvfrom,
	[__NR_sendfile] = sys_sendfile,
	[__NR_unlink] = sys_unlink,     /* EROFS, except bound socket names */
	[__NR_unlinkat] = sys_unlinkat,
	[__NR_rmdir] = sys_rmdir,       /* EROFS */
	[__NR_mkdir] = sys_mkdir,       /* EEXIST or EROFS */
	[__NR_mkdirat] = sys_mkdirat,
	[__NR_rename] = sys_rename,     /* EROFS or ENOENT */
	[__NR_pipe] = sys_pipe,   /* host pipes: POSIX semantics across VMs */
	[__NR_pipe2] = sys_pipe2,
	[__NR_dup] = sys_dup,
	[__NR_dup2] = sys_dup2,
	[__NR_dup3] = sys_dup3,
	[__NR_fcntl] = sys_fcntl, /* dup, FD_CLOEXEC, status flags; no locks */
	[__NR_poll] = sys_poll,
	[__NR_ppoll] = sys_ppoll,     /* the signal mask is not applied yet */
	[__NR_select] = sys_select,
	[__NR_pselect6] = sys_pselect6, /* the signal mask is not applied yet */
	[__NR_getpgrp] = sys_getpgrp,
	[__NR_getgroups] = sys_getgroups,       /* no supplementary groups */
	[__NR_getresuid] = sys_getresuid,
	[__NR_getresgid] = sys_getresgid,
	[__NR_getpgid] = sys_getpgid,
	[__NR_getsid] = sys_getsid,
	[__NR_sigaltstack] = sys_sigaltstack, /* SS_AUTODISARM has no effect */
	[__NR_arch_prctl] = sys_arch_prctl,     /* SET/GET_FS, SET/GET_GS only */
	[__NR_setrlimit] = sys_setrlimit,       /* recorded, not enforced */
	[__NR_mlock] = sys_mlock,               /* no-op: never paged out */
	[__NR_munlock] = sys_munlock,
	[__NR_mlockall] = sys_mlockall,
	[__NR_munlockall] = sys_munlockall,
	[__NR_gettid] = sys_gettid,
	[__NR_time] = sys_time,
	[__NR_sched_getaffinity] = sys_sched_getaffinity, /* one CPU */
	[__NR_set_tid_address] = sys_set_tid_address, /* recorded */
	[__NR_clock_gettime] = sys_clock_gettime, /* CPU-time clocks = time since start */
	[__NR_clock_getres] = sys_clock_getres,
	[__NR_clock_nanosleep] = sys_clock_nanosleep, /* never interrupted */
	[__NR_exit_group] = sys_exit_group,
	[__NR_openat] = sys_openat,
	[__NR_newfstatat] = sys_newfstatat,
	[__NR_readlinkat] = sys_readlinkat,
	[__NR_faccessat] = sys_faccessat,
	[__NR_set_robust_list] = sys_set_robust_list, /* recorded */
	[__NR_prctl] = sys_prctl, /* name, dumpable, no_new_privs; others EINVAL */
	[__NR_preadv] = sys_preadv,
	[__NR_pwritev] = sys_pwritev,
	[__NR_prlimit64] = sys_prlimit64,       /* own pid only; set is recorded */
	[__NR_getrandom] = sys_getrandom,
	[__NR_preadv2] = sys_preadv2,           /* RWF_* flags: EOPNOTSUPP */
	[__NR_pwritev2] = sys_pwritev2,         /* RWF_* flags: EOPNOTSUPP */
	[__NR_statx] = sys_statx,               /* STATX_BASIC_STATS only */
	[__NR_rseq] = sys_rseq,                 /* cpu_id always 0, never aborts */
	[__NR_faccessat2] = sys_faccessat2,
};

struct ukf_regs *ukf_cur_frame;

/* One bit per syscall number already reported as missing. */
static uint64_t reported[NR_MAX / 64];

static void report(unsigned hc, uint64_t nr, const uint64_t *args, int64_t result)
{
	struct ukf_hc_syscall s = { .nr = nr, .result = result };
	memcpy(s.args, args, sizeof(s.args));
	ukf_hcall(hc, &s);
}

void ukf_syscall(struct ukf_regs *f)
{
	const uint64_t args[6] = { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 };
	uint64_t nr = f->nr;
	int trace = (ukf_boot->flags & UKF_BOOT_TRACE) != 0;
	int64_t r;

	ukf_cur_frame = f;
	if (!ukf_entered_fast && !(ukf_boot->flags & UKF_BOOT_NOREWRITE))
		ukf_rewrite_site(f->rip, nr, f->rsp);
	ukf_sys_fn fn = nr < NR_MAX ? table[nr] : 0;
	if (fn) {
		/* exit never returns: trace it on the way in. */
		if (trace && (nr == __NR_exit || nr == __NR_exit_group))
			report(UKF_HC_TRACE, nr, args, 0);
		r = fn(args);
	} else {
		/* Out-of-range numbers (x32, garbage) are reported every time. */
		if (nr >= NR_MAX || !(reported[nr / 64] & (1ULL << (nr % 64)))) {
			if (nr < NR_MAX)
				reported[nr / 64] |= 1ULL << (nr % 64);
			report(UKF_HC_UNSUPPORTED, nr, args, -ENOSYS);
		}
		r = -ENOSYS;
	}
	if (trace)
		report(UKF_HC_TRACE, nr, args, r);
	f->rax = (uint64_t)r;
	ukf_signal_check(f);
	ukf_cur_frame = 0;
}
