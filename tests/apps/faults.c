/* faults: syscalls given pointers the program cannot use (low pages, beyond
 * RAM, non-canonical, kernel), huge lengths over a valid buffer, and
 * arguments wrong in more than one way: each call's result and errno name,
 * to compare with Linux. Raw syscalls, so no libc wrapper or vDSO touches a
 * pointer first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static const char *en(long r, int e)
{
	if (r >= 0)
		return "ok";
	switch (e) {
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ENOENT: return "ENOENT";
	case EPERM: return "EPERM";
	case ENOTDIR: return "ENOTDIR";
	case ECHILD: return "ECHILD";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ERANGE: return "ERANGE";
	case ESRCH: return "ESRCH";
	case ENOTSOCK: return "ENOTSOCK";
	case ESPIPE: return "ESPIPE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	default: return "other";
	}
}

#define TRY(label, ...)                                                     \
	do {                                                                \
		errno = 0;                                                  \
		long r_ = syscall(__VA_ARGS__);                             \
		int e_ = errno;                                             \
		printf("%s %s: %ld %s\n", label, at, r_, en(r_, e_));       \
	} while (0)

/* Pointers no program may use: the pages the CPU's tables, the exception
 * stack, the runtime and the pipe rings live in under ukfork (unmapped on
 * Linux too), far beyond RAM, the first non-canonical address, a kernel
 * address. */
static const uintptr_t bad[] = {
	0x1000, 0x6000, 0x50000, 0x5fff8, 0x100000, 0x200000, 0x3ff000,
	0x10000000000ULL, 0x800000000000ULL, 0xffffffff81000000ULL,
};

static char big[65536]; /* in .bss, low in the address space on both */

static void pointers(int rfd, int wfd, const int *sv)
{
	char at[32];
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uintptr_t p = bad[i];
		snprintf(at, sizeof at, "%#lx", (unsigned long)p);
		struct timespec ts = { 0, 0 };
		struct iovec iov = { (void *)p, 4 };
		TRY("open", SYS_open, p, O_RDONLY);
		TRY("openat", SYS_openat, AT_FDCWD, p, O_RDONLY);
		TRY("stat path", SYS_stat, p, big);
		TRY("stat buf", SYS_stat, "/", p);
		TRY("fstat buf", SYS_fstat, 0, p);
		TRY("newfstatat", SYS_newfstatat, AT_FDCWD, p, big, 0);
		TRY("statx buf", SYS_statx, AT_FDCWD, "/", 0, 0x7ff, p);
		TRY("access", SYS_access, p, F_OK);
		TRY("chdir", SYS_chdir, p);
		TRY("readlink path", SYS_readlink, p, big, 10);
		TRY("execve path", SYS_execve, p, 0, 0);
		TRY("execve argv", SYS_execve, "/", p, 0);
		TRY("unlink", SYS_unlink, p);
		TRY("mkdir", SYS_mkdir, p, 0755);
		TRY("getcwd", SYS_getcwd, p, 100);
		write(wfd, "x", 1);
		TRY("read", SYS_read, rfd, p, 1);
		TRY("readv iov", SYS_readv, rfd, p, 1);
		TRY("readv base", SYS_readv, rfd, &iov, 1);
		TRY("write", SYS_write, wfd, p, 1);
		TRY("writev base", SYS_writev, wfd, &iov, 1);
		TRY("rt_sigaction act", SYS_rt_sigaction, SIGUSR1, p, 0, 8);
		TRY("rt_sigaction oact", SYS_rt_sigaction, SIGUSR1, 0, p, 8);
		TRY("rt_sigprocmask", SYS_rt_sigprocmask, SIG_BLOCK, p, 0, 8);
		TRY("rt_sigpending", SYS_rt_sigpending, p, 8);
		TRY("sigaltstack", SYS_sigaltstack, p, 0);
		TRY("nanosleep", SYS_nanosleep, p, 0);
		TRY("clock_gettime", SYS_clock_gettime, CLOCK_MONOTONIC, p);
		TRY("clock_getres", SYS_clock_getres, CLOCK_MONOTONIC, p);
		TRY("clock_nanosleep", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, 0);
		TRY("gettimeofday", SYS_gettimeofday, p, 0);
		TRY("time", SYS_time, p);
		TRY("uname", SYS_uname, p);
		TRY("sysinfo", SYS_sysinfo, p);
		TRY("getrlimit", SYS_getrlimit, RLIMIT_NOFILE, p);
		TRY("prlimit64", SYS_prlimit64, 0, RLIMIT_NOFILE, p, 0);
		TRY("getrandom", SYS_getrandom, p, 16, 0);
		TRY("pipe", SYS_pipe, p);
		TRY("pipe2", SYS_pipe2, p, 0);
		TRY("socketpair", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, p);
		TRY("poll", SYS_poll, p, 1, 0);
		TRY("ppoll ts", SYS_ppoll, 0, 0, p, 0, 8);
		TRY("select set", SYS_select, 1, p, 0, 0, &ts);
		TRY("pselect6 ts", SYS_pselect6, 0, 0, 0, 0, p, 0);
		TRY("wait4 status", SYS_wait4, -1, p, 1 /* WNOHANG */, 0);
		TRY("arch_prctl get", SYS_arch_prctl, ARCH_GET_FS, p);
		TRY("sched_getaffinity", SYS_sched_getaffinity, 0, 128, p);
		TRY("getdents64", SYS_getdents64, rfd, p, 4096);
		TRY("prctl get_name", SYS_prctl, 16 /* PR_GET_NAME */, p);
		TRY("rt_sigtimedwait set", SYS_rt_sigtimedwait, p, 0, &ts, 8);
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		socklen_t len = 16;
		TRY("bind", SYS_bind, sv[0], p, 16);
		TRY("connect", SYS_connect, sv[0], p, 16);
		TRY("sendto", SYS_sendto, sv[0], p, 1, 0, 0, 0);
		TRY("sendmsg", SYS_sendmsg, sv[0], p, 0);
		TRY("sendmsg iov", SYS_sendmsg, sv[0], &mh, 0);
		write(sv[1], "x", 1);
		TRY("recvmsg iov", SYS_recvmsg, sv[0], &mh, MSG_DONTWAIT);
		TRY("recvfrom", SYS_recvfrom, sv[0], p, 1, MSG_DONTWAIT, 0, 0);
		TRY("getsockname", SYS_getsockname, sv[0], p, &len);
		TRY("getsockname len", SYS_getsockname, sv[0], big, p);
		TRY("getsockopt", SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, p, &len);
		TRY("setsockopt", SYS_setsockopt, sv[0], SOL_SOCKET, SO_REUSEADDR, p, 4);
		recv(sv[0], big, sizeof big, MSG_DONTWAIT); /* what failed calls left */
		read(rfd, big, sizeof big);
	}
}

/* Linux moves what fits where memory is, and faults only where it is not. */
static void lengths(int rfd, int wfd)
{
	const char *at = "big";
	memset(big, 'a', 100);
	write(wfd, big, 100);
	TRY("read 1<<40", SYS_read, rfd, big, 1ULL << 40);
	write(wfd, big, 100);
	struct iovec iov[2] = { { big, 1ULL << 40 }, { big, 10 } };
	TRY("readv 1<<40", SYS_readv, rfd, iov, 2);
	write(wfd, big, 100);
	TRY("pread 1<<40 pipe", SYS_pread64, rfd, big, 1ULL << 40, 0);
	TRY("read 1<<40", SYS_read, rfd, big, 1ULL << 40);
	TRY("read 0 NULL", SYS_read, rfd, 0, 0);
	TRY("getrandom 1<<31", SYS_getrandom, big, sizeof big, 0);
}

static void arch(void)
{
	const char *at = "fs/gs";
	TRY("ARCH_SET_FS noncanonical", SYS_arch_prctl, ARCH_SET_FS, 0x800000000000ULL);
	TRY("ARCH_SET_FS kernel", SYS_arch_prctl, ARCH_SET_FS, 0xffff800000000000ULL);
	TRY("ARCH_SET_FS top", SYS_arch_prctl, ARCH_SET_FS, 0x7ffffffff000ULL);
	TRY("ARCH_SET_GS noncanonical", SYS_arch_prctl, ARCH_SET_GS, 0x800000000000ULL);
	TRY("ARCH_SET_GS kernel", SYS_arch_prctl, ARCH_SET_GS, 0xffffffff81000000ULL);
	TRY("ARCH_SET_GS 0", SYS_arch_prctl, ARCH_SET_GS, 0);
}

static void sigmasks(int rfd)
{
	const char *at = "mask";
	struct timespec ts = { 0, 20000000 };
	uint64_t mask = 0;
	struct { uintptr_t set; size_t size; } pack = { 0x1000, 8 };
	struct pollfd { int fd; short ev, rev; } pfd = { rfd, 1, 0 };
	TRY("pselect6 pack", SYS_pselect6, 0, 0, 0, 0, &ts, 0x1000);
	TRY("pselect6 set", SYS_pselect6, 0, 0, 0, 0, &ts, &pack);
	pack.set = (uintptr_t)&mask;
	pack.size = 7;
	TRY("pselect6 size", SYS_pselect6, 0, 0, 0, 0, &ts, &pack);
	pack.size = 8;
	TRY("pselect6 ok", SYS_pselect6, 0, 0, 0, 0, &ts, &pack);
	TRY("ppoll set", SYS_ppoll, &pfd, 1, &ts, 0x1000, 8);
	TRY("ppoll size", SYS_ppoll, &pfd, 1, &ts, &mask, 7);
	TRY("ppoll ok", SYS_ppoll, &pfd, 1, &ts, &mask, 8);
	TRY("ppoll size before ts", SYS_ppoll, &pfd, 1, 0x1000, &mask, 7);
	TRY("ppoll fds after mask", SYS_ppoll, 0x1000, 1, &ts, &mask, 7);
}

static void unmaps(void)
{
	const char *at = "munmap";
	TRY("kernel", SYS_munmap, 0xffffffff81000000ULL, 4096);
	TRY("noncanonical", SYS_munmap, 0x800000000000ULL, 4096);
	TRY("past the top", SYS_munmap, 0x7fffffffe000ULL, 0x10000);
	TRY("huge length", SYS_munmap, 0x10000000000ULL, 0xffffffffffff0000ULL);
	TRY("unaligned", SYS_munmap, big + 1, 4096);
	TRY("length 0", SYS_munmap, 0x10000000000ULL, 0);
	TRY("unmapped", SYS_munmap, 0x10000000000ULL, 4096);
}

/* Which error wins when several apply. */
static void order(int rfd, int wfd)
{
	const char *at = "order";
	TRY("read badfd badptr", SYS_read, 99, 0x1000, 1);
	TRY("read wronly badptr", SYS_read, wfd, 0x1000, 1);
	TRY("write rdonly badptr", SYS_write, rfd, 0x1000, 1);
	TRY("readv badfd badiov", SYS_readv, 99, 0x1000, 1);
	TRY("readv badfd cnt", SYS_readv, 99, big, -1);
	TRY("pread badfd badptr", SYS_pread64, 99, 0x1000, 1, 0);
	TRY("pread badptr neg", SYS_pread64, rfd, 0x1000, 1, -1L);
	TRY("pread pipe badptr", SYS_pread64, rfd, 0x1000, 1, 0);
	TRY("pwrite pipe badptr", SYS_pwrite64, wfd, 0x1000, 1, 0);
	TRY("preadv pipe badiov", SYS_preadv, rfd, 0x1000, 1, 0, 0);
	struct timespec ts0 = { 0, 0 };
	TRY("select n above 1024", SYS_select, 5000, 0, 0, 0, &ts0);
	TRY("pipe2 flags badptr", SYS_pipe2, 0x1000, 0x12345678);
	TRY("dup3 same badflags", SYS_dup3, 1, 1, 0x1234);
	TRY("dup3 badfd same", SYS_dup3, 99, 99, 0);
	TRY("dup3 badfd", SYS_dup3, 99, 5, 0);
	TRY("poll nfds badptr", SYS_poll, 0x1000, 1 << 30, 0);
	TRY("openat badfd badpath", SYS_openat, 99, 0x1000, O_RDONLY);
	TRY("openat badfd relative", SYS_openat, 99, "x", O_RDONLY);
	TRY("openat badfd absolute", SYS_openat, 99, "/", O_RDONLY | O_DIRECTORY);
	TRY("stat missing badbuf", SYS_stat, "/nonexistent", 0x1000);
	TRY("fstat badfd badbuf", SYS_fstat, 99, 0x1000);
	TRY("newfstatat badfd badbuf", SYS_newfstatat, 99, "x", 0x1000, 0);
	TRY("readlink missing badbuf", SYS_readlink, "/nonexistent", 0x1000, 10);
	TRY("readlink size0 badpath", SYS_readlink, 0x1000, big, 0);
	TRY("rt_sigaction KILL badact", SYS_rt_sigaction, SIGKILL, 0x1000, 0, 8);
	TRY("rt_sigaction size badact", SYS_rt_sigaction, SIGUSR1, 0x1000, 0, 7);
	TRY("rt_sigprocmask how badset", SYS_rt_sigprocmask, 99, 0x1000, 0, 8);
	TRY("getdents64 badfd badbuf", SYS_getdents64, 99, 0x1000, 4096);
	TRY("getrandom flags badbuf", SYS_getrandom, 0x1000, 16, 0x100);
	TRY("clock_gettime clk badbuf", SYS_clock_gettime, 99, 0x1000);
	TRY("nanosleep badts", SYS_nanosleep, 0x1000, 0x1000);
	TRY("lseek badfd whence", SYS_lseek, 99, 0, 99);
	TRY("socketpair domain badptr", SYS_socketpair, 12345, SOCK_STREAM, 0, 0x1000);
	TRY("wait4 options badptr", SYS_wait4, -1, 0x1000, 0x12345678, 0);
	TRY("bind badfd badaddr", SYS_bind, 99, 0x1000, 16);
	TRY("bind notsock badaddr", SYS_bind, rfd, 0x1000, 16);
	TRY("connect badfd badaddr", SYS_connect, 99, 0x1000, 16);
	TRY("sendmsg badfd badmsg", SYS_sendmsg, 99, 0x1000, 0);
	TRY("recvmsg notsock badmsg", SYS_recvmsg, rfd, 0x1000, 0);
	TRY("getsockname badfd NULL", SYS_getsockname, 99, 0, 0);
	TRY("getpeername notsock NULL", SYS_getpeername, rfd, 0, 0);
	TRY("setsockopt badfd badval", SYS_setsockopt, 99, SOL_SOCKET, SO_REUSEADDR, 0x1000, 4);
	TRY("getsockopt badfd badlen", SYS_getsockopt, 99, SOL_SOCKET, SO_TYPE, 0x1000, 0x1000);
	TRY("socketpair badptr", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 0x1000);
	TRY("open tmpfile rdonly badpath", SYS_open, 0x1000, O_TMPFILE | O_RDONLY, 0600);
	TRY("open tmpfile rdonly", SYS_open, "/", O_TMPFILE | O_RDONLY, 0600);
	TRY("unlinkat flags badpath", SYS_unlinkat, AT_FDCWD, 0x1000, 1);
	TRY("rename badold", SYS_rename, 0x1000, "x");
	TRY("rename badnew", SYS_rename, "/", 0x1000);
	TRY("getcwd small badbuf", SYS_getcwd, 0x1000, 1);
	TRY("rt_sigpending short badset", SYS_rt_sigpending, 0x1000, 7);
	TRY("rt_sigpending short", SYS_rt_sigpending, big, 4);
	TRY("rt_sigpending long", SYS_rt_sigpending, big, 9);
	TRY("prlimit64 res badnew", SYS_prlimit64, 0, 99, 0x1000, 0);
	TRY("setitimer which badnew", SYS_setitimer, 99, 0x1000, 0);
	TRY("waitid idtype badinfo", SYS_waitid, 99, 0, 0x1000, 4 /* WEXITED */, 0);
	TRY("clone THREAD without SIGHAND", SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0);
	TRY("clone SIGHAND without VM", SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0);
	TRY("ioctl badfd badbuf", SYS_ioctl, 99, 0x5413 /* TIOCGWINSZ */, 0x1000);
	TRY("ioctl non-tty badbuf", SYS_ioctl, rfd, 0x5413 /* TIOCGWINSZ */, 0x1000);
	TRY("ioctl pipe FIONREAD badbuf", SYS_ioctl, rfd, 0x541b /* FIONREAD */, 0x1000);
	/* Unknown open flags are ignored. */
	errno = 0;
	long fd = syscall(SYS_open, "/", O_RDONLY | O_DIRECTORY | 0x40000000);
	printf("open unknown flag order: %s\n", en(fd, errno));
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	int p[2], sv[2];
	setvbuf(stdout, NULL, _IONBF, 0);
	if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 2;
	pointers(p[0], p[1], sv);
	lengths(p[0], p[1]);
	arch();
	sigmasks(p[0]);
	unmaps();
	order(p[0], p[1]);
	printf("still here\n");
	return 0;
}
