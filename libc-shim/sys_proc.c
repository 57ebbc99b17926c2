/* Process syscalls: ids, exit, arch_prctl, TLS/futex registration, limits, uname. */
#include "shim.h"

/* One process, one thread: the thread id is the process id, and most of
 * these answer from the boot information or record what they are told. */

uint32_t ukf_umask = 022;

static uint64_t clear_child_tid;            /* for a later clone/exit */
static uint64_t robust_list_head;
static uint64_t rseq_addr, rseq_len;
static uint32_t rseq_sig;

UKF_SYSCALL0(getpid) { return ukf_boot->pid; }
UKF_SYSCALL0(gettid) { return ukf_boot->pid; }
static int is_self(int32_t pid)
{
	return pid == 0 || pid == ukf_boot->pid;
}

/* Process groups and sessions span VMs: the host keeps them. */
UKF_SYSCALL1(getpgid, int32_t, pid)
{
	struct ukf_hc_getpgid g = { .pid = pid };
	return ukf_hcall(UKF_HC_GETPGID, &g);
}

UKF_SYSCALL0(getpgrp) { return do_getpgid(0); }

UKF_SYSCALL1(getsid, int32_t, pid)
{
	struct ukf_hc_getsid g = { .pid = pid };
	return ukf_hcall(UKF_HC_GETSID, &g);
}

UKF_SYSCALL2(setpgid, int32_t, pid, int32_t, pgid)
{
	struct ukf_hc_setpgid s = { .pid = pid, .pgid = pgid };
	return ukf_hcall(UKF_HC_SETPGID, &s);
}

UKF_SYSCALL0(setsid)
{
	struct ukf_hc_setsid s = { 0 };
	return ukf_hcall(UKF_HC_SETSID, &s);
}

/* exit and exit_group are the same with one thread. */
UKF_SYSCALL1(exit_group, int32_t, status)
{
	ukf_exit(status & 0xff);
}

UKF_SYSCALL1(exit, int32_t, status)
{
	ukf_exit(status & 0xff);
}


UKF_SYSCALL2(arch_prctl, int32_t, code, uint64_t, addr)
{
	uint64_t v;

	switch (code) {
	case UKF_ARCH_SET_FS:
		if (addr >= UKF_TASK_SIZE) /* Linux: user addresses only */
			return -EPERM;
		__asm__ volatile("wrfsbase %0" : : "r"(addr) : "memory");
		return 0;
	case UKF_ARCH_SET_GS:
		if (addr >= UKF_TASK_SIZE)
			return -EPERM;
		__asm__ volatile("wrgsbase %0" : : "r"(addr) : "memory");
		return 0;
	case UKF_ARCH_GET_FS:
	case UKF_ARCH_GET_GS:
		if (!ukf_user_ok(addr, 8))
			return -EFAULT;
		if (code == UKF_ARCH_GET_FS)
			__asm__ volatile("rdfsbase %0" : "=r"(v));
		else
			__asm__ volatile("rdgsbase %0" : "=r"(v));
		*UKF_UPTR(uint64_t, addr) = v;
		return 0;
	default:
		return -EINVAL;
	}
}

UKF_SYSCALL1(set_tid_address, uint64_t, tidptr)
{
	clear_child_tid = tidptr;
	return ukf_boot->pid;
}

UKF_SYSCALL2(set_robust_list, uint64_t, head, uint64_t, len)
{
	if (len != 24) /* sizeof(struct robust_list_head) */
		return -EINVAL;
	robust_list_head = head;
	return 0;
}

/* prctl: the thread name and the few flags start-up code asks about. */
#define UKF_PR_SET_PDEATHSIG 1
#define UKF_PR_GET_PDEATHSIG 2
#define UKF_PR_GET_DUMPABLE 3
#define UKF_PR_SET_DUMPABLE 4
#define UKF_PR_SET_NAME 15
#define UKF_PR_GET_NAME 16
#define UKF_PR_SET_CHILD_SUBREAPER 36
#define UKF_PR_GET_CHILD_SUBREAPER 37
#define UKF_PR_SET_NO_NEW_PRIVS 38
#define UKF_PR_GET_NO_NEW_PRIVS 39
#define comm (ukf_boot->comm)
static int dumpable = 1, no_new_privs, subreaper;

UKF_SYSCALL5(prctl, int32_t, op, uint64_t, a2, uint64_t, a3, uint64_t, a4, uint64_t, a5)
{
	(void)a3, (void)a4, (void)a5;
	switch (op) {
	case UKF_PR_SET_NAME:
		if (!ukf_user_ok(a2, 1))
			return -EFAULT;
		for (int i = 0; i < 15; i++) {
			if (!ukf_user_ok(a2 + i, 1))
				return -EFAULT;
			comm[i] = *UKF_UPTR(char, a2 + i);
			if (!comm[i])
				break;
		}
		comm[15] = 0;
		return 0;
	case UKF_PR_GET_NAME:
		if (!ukf_user_ok(a2, 16))
			return -EFAULT;
		memcpy(UKF_UPTR(char, a2), comm, 16);
		return 0;
	case UKF_PR_GET_DUMPABLE:
		return dumpable;
	case UKF_PR_SET_DUMPABLE:
		if (a2 > 1)
			return -EINVAL;
		dumpable = (int)a2;
		return 0;
	case UKF_PR_SET_PDEATHSIG:
		if (a2 > 64)
			return -EINVAL;
		ukf_boot->pdeathsig = (uint32_t)a2; /* the host sends it */
		return 0;
	case UKF_PR_GET_PDEATHSIG:
		if (!ukf_user_ok(a2, 4))
			return -EFAULT;
		*UKF_UPTR(int32_t, a2) = (int32_t)ukf_boot->pdeathsig;
		return 0;
	case UKF_PR_SET_NO_NEW_PRIVS:
		if (a2 != 1)
			return -EINVAL;
		no_new_privs = 1;
		return 0;
	case UKF_PR_GET_NO_NEW_PRIVS:
		return no_new_privs;
	case UKF_PR_SET_CHILD_SUBREAPER:
		/* Orphans always go to the program's first process: accepted
		 * (as a no-op) so programs that ask for it work unchanged. */
		subreaper = a2 != 0;
		return 0;
	case UKF_PR_GET_CHILD_SUBREAPER:
		if (!ukf_user_ok(a2, 4))
			return -EFAULT;
		*UKF_UPTR(int32_t, a2) = subreaper;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Restartable sequences never restart here (nothing preempts the program),
 * so registering only has to publish the CPU number: always 0. */
#define UKF_RSEQ_FLAG_UNREGISTER 1
#define UKF_RSEQ_MIN_LEN 32
UKF_SYSCALL4(rseq, uint64_t, addr, uint32_t, len, int32_t, flags, uint32_t, sig)
{
	if (flags & UKF_RSEQ_FLAG_UNREGISTER) {
		if (flags & ~UKF_RSEQ_FLAG_UNREGISTER)
			return -EINVAL;
		if (!rseq_addr || addr != rseq_addr || len != rseq_len)
			return -EINVAL;
		if (sig != rseq_sig)
			return -EPERM;
		rseq_addr = 0;
		return 0;
	}
	if (flags)
		return -EINVAL;
	if (rseq_addr) /* Linux: EBUSY for the same registration */
		return addr == rseq_addr && len == rseq_len ? -EBUSY : -EINVAL;
	if (len < UKF_RSEQ_MIN_LEN || (addr & 31))
		return -EINVAL;
	if (!ukf_user_ok(addr, len))
		return -EFAULT;
	uint32_t *r = UKF_UPTR(uint32_t, addr);
	r[0] = 0; /* cpu_id_start */
	r[1] = 0; /* cpu_id */
	r[5] = 0; /* node_id */
	r[6] = 0; /* mm_cid */
	rseq_addr = addr;
	rseq_len = len;
	rseq_sig = sig;
	return 0;
}

/* ---- Resource limits ----------------------------------------------------------- */

/* The limits live in the boot page, where the host reads and sets those of
 * any process of the run (UKF_HC_PRLIMIT). The runtime writes the first
 * values at boot, before any other process can see them; after that only
 * the host writes, every set (this process's own included) being a
 * hypercall, and the guest reads its own with the host's sequence count. */
void ukf_rlimits_init(void)
{
	struct ukf_rlimit *rl = ukf_boot->rlimits;
	for (int i = 0; i < UKF_RLIM_NLIMITS; i++)
		rl[i] = (struct ukf_rlimit){ UKF_RLIM_INFINITY, UKF_RLIM_INFINITY };
	/* The stack cannot grow past what the loader reserved. */
	rl[UKF_RLIMIT_STACK] = (struct ukf_rlimit){ ukf_boot->stack_size, ukf_boot->stack_size };
	rl[UKF_RLIMIT_CORE] = (struct ukf_rlimit){ 0, UKF_RLIM_INFINITY };
	rl[UKF_RLIMIT_NPROC] = (struct ukf_rlimit){ 4096, 4096 };
	rl[UKF_RLIMIT_NOFILE] = (struct ukf_rlimit){ 1024, 4096 };
	rl[UKF_RLIMIT_MEMLOCK] = (struct ukf_rlimit){ 8ULL << 20, 8ULL << 20 };
	rl[UKF_RLIMIT_SIGPENDING] = (struct ukf_rlimit){ 4096, 4096 };
	rl[UKF_RLIMIT_MSGQUEUE] = (struct ukf_rlimit){ 819200, 819200 };
	rl[UKF_RLIMIT_NICE] = (struct ukf_rlimit){ 0, 0 };
	rl[UKF_RLIMIT_RTPRIO] = (struct ukf_rlimit){ 0, 0 };
	ukf_boot->rlim_seq = 0;
}

/* The process's own limit res, read while the host may be setting it. */
static struct ukf_rlimit own_rlimit(uint32_t res)
{
	struct ukf_rlimit l;
	uint64_t seq;
	do {
		while ((seq = __atomic_load_n(&ukf_boot->rlim_seq, __ATOMIC_ACQUIRE)) & 1)
			__builtin_ia32_pause();
		l.rlim_cur = __atomic_load_n(&ukf_boot->rlimits[res].rlim_cur, __ATOMIC_RELAXED);
		l.rlim_max = __atomic_load_n(&ukf_boot->rlimits[res].rlim_max, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&ukf_boot->rlim_seq, __ATOMIC_RELAXED) != seq);
	return l;
}

/* Linux's order: read the new limit, find the process, check permission,
 * the resource and the values, set, then write the old limit. Reading the
 * process's own limit needs no exit; the rest asks the host. */
UKF_SYSCALL4(prlimit64, int32_t, pid, uint32_t, res, uint64_t, unew, uint64_t, uold)
{
	struct ukf_hc_prlimit h = { .pid = pid, .resource = res };
	struct ukf_rlimit old;

	if (unew) {
		if (!ukf_user_ok(unew, sizeof(h.new_lim)))
			return -EFAULT;
		h.new_lim = *UKF_UPTR(struct ukf_rlimit, unew);
		h.flags = UKF_PRLIMIT_SET;
	}
	if (!unew && is_self(pid)) {
		if (res >= UKF_RLIM_NLIMITS)
			return -EINVAL;
		old = own_rlimit(res);
	} else {
		int64_t r = ukf_hcall(UKF_HC_PRLIMIT, &h);
		if (r < 0)
			return r;
		old = h.old_lim;
	}
	if (uold) {
		if (!ukf_user_ok(uold, sizeof(old)))
			return -EFAULT;
		*UKF_UPTR(struct ukf_rlimit, uold) = old;
	}
	return 0;
}

UKF_SYSCALL2(getrlimit, uint32_t, res, uint64_t, uold)
{
	return do_prlimit64(0, res, 0, uold);
}

UKF_SYSCALL2(setrlimit, uint32_t, res, uint64_t, unew)
{
	return do_prlimit64(0, res, unew, 0);
}

/* ---- System information ---------------------------------------------------------- */

static void put_str(char *dst, const char *src, size_t max)
{
	size_t n = strnlen(src, max - 1);
	memcpy(dst, src, n);
	memset(dst + n, 0, max - n);
}

UKF_SYSCALL1(uname, uint64_t, ubuf)
{
	if (!ukf_user_ok(ubuf, sizeof(struct ukf_utsname)))
		return -EFAULT;
	struct ukf_utsname *u = UKF_UPTR(struct ukf_utsname, ubuf);
	put_str(u->sysname, "Linux", UKF_UTS_LEN);
	put_str(u->nodename, ukf_boot->hostname, UKF_UTS_LEN);
	put_str(u->release, "6.1.0-ukfork", UKF_UTS_LEN);
	put_str(u->version, "#1 SMP ukfork", UKF_UTS_LEN);
	put_str(u->machine, "x86_64", UKF_UTS_LEN);
	put_str(u->domainname, "(none)", UKF_UTS_LEN);
	return 0;
}

UKF_SYSCALL1(sysinfo, uint64_t, ubuf)
{
	int64_t mono;

	if (!ukf_user_ok(ubuf, sizeof(struct ukf_sysinfo)))
		return -EFAULT;
	ukf_clock_ns(UKF_CLOCK_MONOTONIC, &mono);
	uint64_t total = ukf_boot->mem_size;
	/* Free: guest RAM minus the runtime and what the program has in use. */
	uint64_t used = UKF_USER_MIN + ukf_mm_used();
	struct ukf_sysinfo *si = UKF_UPTR(struct ukf_sysinfo, ubuf);
	memset(si, 0, sizeof(*si));
	si->uptime = mono / 1000000000 + (mono % 1000000000 != 0);
	si->totalram = total;
	si->freeram = used < total ? total - used : 0;
	struct ukf_hc_procinfo pi = { 0 };
	ukf_hcall(UKF_HC_PROCINFO, &pi);
	si->procs = (uint16_t)(pi.procs ? pi.procs : 1);
	si->mem_unit = 1;
	return 0;
}

/* One vCPU: CPU 0 only. The kernel writes its mask size (8 bytes here);
 * the rest of the caller's buffer is cleared for good measure. */
UKF_SYSCALL3(sched_getaffinity, int32_t, pid, uint32_t, len, uint64_t, umask)
{
	if (!is_self(pid))
		return -ESRCH;
	if (len < 8 || (len & 7))
		return -EINVAL;
	if (!ukf_user_ok(umask, len))
		return -EFAULT;
	memset(UKF_UPTR(void, umask), 0, len);
	*UKF_UPTR(uint64_t, umask) = 1;
	return 8;
}

UKF_SYSCALL0(sched_yield)
{
	return 0;
}

UKF_SYSCALL3(getrandom, uint64_t, buf, uint64_t, len, uint32_t, flags)
{
	if (flags & ~(uint32_t)(UKF_GRND_NONBLOCK | UKF_GRND_RANDOM | UKF_GRND_INSECURE))
		return -EINVAL;
	if ((flags & UKF_GRND_RANDOM) && (flags & UKF_GRND_INSECURE))
		return -EINVAL;
	if (len > 0x7fffffff) /* Linux clamps to INT_MAX */
		len = 0x7fffffff;
	if (len == 0)
		return 0;
	if (!ukf_user_ok(buf, len))
		return -EFAULT;
	struct ukf_hc_getrandom g = { .buf = buf, .len = len };
	return ukf_hcall(UKF_HC_GETRANDOM, &g);
}

UKF_SYSCALL1(umask, uint32_t, mask)
{
	uint32_t old = ukf_umask;
	ukf_umask = mask & 0777;
	return old;
}

/* ---- Usage, priority, affinity ----------------------------------------- */

struct ukf_rusage {
	struct ukf_timeval ru_utime, ru_stime;
	int64_t ru_maxrss; /* KiB */
	int64_t rest[13];
};

#define UKF_RUSAGE_SELF     0
#define UKF_RUSAGE_CHILDREN (-1)
#define UKF_RUSAGE_THREAD   1

/* One vCPU that runs only this process: its CPU time is its user time. */
static int64_t cpu_ns(void)
{
	int64_t ns = 0;
	ukf_clock_ns(UKF_CLOCK_PROCESS_CPUTIME_ID, &ns);
	return ns;
}

UKF_SYSCALL2(getrusage, int32_t, who, uint64_t, ubuf)
{
	if (who != UKF_RUSAGE_SELF && who != UKF_RUSAGE_CHILDREN && who != UKF_RUSAGE_THREAD)
		return -EINVAL;
	if (!ukf_user_ok(ubuf, sizeof(struct ukf_rusage)))
		return -EFAULT;
	struct ukf_rusage *ru = UKF_UPTR(struct ukf_rusage, ubuf);
	memset(ru, 0, sizeof(*ru));
	if (who == UKF_RUSAGE_CHILDREN)
		return 0; /* children's usage is not gathered: zero */
	int64_t ns = cpu_ns();
	ru->ru_utime = (struct ukf_timeval){ ns / 1000000000, ns % 1000000000 / 1000 };
	ru->ru_maxrss = (int64_t)(ukf_mm_used() >> 10);
	return 0;
}

struct ukf_tms {
	int64_t utime, stime, cutime, cstime; /* clock ticks, USER_HZ 100 */
};

UKF_SYSCALL1(times, uint64_t, ubuf)
{
	int64_t mono = 0;
	if (ubuf) {
		if (!ukf_user_ok(ubuf, sizeof(struct ukf_tms)))
			return -EFAULT;
		*UKF_UPTR(struct ukf_tms, ubuf) = (struct ukf_tms){ .utime = cpu_ns() / 10000000 };
	}
	ukf_clock_ns(UKF_CLOCK_MONOTONIC, &mono);
	return mono / 10000000; /* ticks since an arbitrary point, as Linux */
}

/* The nice value lives in the boot page (the host writes the one ukfork
 * runs at; fork and exec keep it); the host's scheduler does not see it. */

#define UKF_PRIO_PROCESS 0
#define UKF_PRIO_PGRP    1
#define UKF_PRIO_USER    2

static int64_t prio_target(int32_t which, int32_t who)
{
	if (which < UKF_PRIO_PROCESS || which > UKF_PRIO_USER)
		return -EINVAL;
	if (which == UKF_PRIO_PROCESS && !is_self(who))
		return -ESRCH;
	if (which == UKF_PRIO_PGRP && who != 0 && who != do_getpgid(0))
		return -ESRCH;
	if (which == UKF_PRIO_USER && who != 0 && (uint32_t)who != ukf_cred.euid)
		return -ESRCH;
	return 0;
}

UKF_SYSCALL2(getpriority, int32_t, which, int32_t, who)
{
	int64_t r = prio_target(which, who);
	return r < 0 ? r : 20 - ukf_boot->nice; /* the raw call's 40..1 */
}

UKF_SYSCALL3(setpriority, int32_t, which, int32_t, who, int32_t, niceval)
{
	int64_t r = prio_target(which, who);
	if (r < 0)
		return r;
	niceval = niceval < -20 ? -20 : niceval > 19 ? 19 : niceval;
	if (niceval < ukf_boot->nice && ukf_cred.euid != 0)
		return -EACCES; /* lowering needs CAP_SYS_NICE */
	ukf_boot->nice = niceval;
	return 0;
}

UKF_SYSCALL3(sched_setaffinity, int32_t, pid, uint32_t, len, uint64_t, umask)
{
	if (!is_self(pid))
		return -ESRCH;
	if (len == 0 || !ukf_user_ok(umask, len))
		return -EFAULT;
	/* The only CPU is CPU 0: a mask without it leaves nowhere to run. */
	if (!(*UKF_UPTR(const uint8_t, umask) & 1))
		return -EINVAL;
	return 0;
}

/* A new program's name, as Linux's exec sets it: its file name's last
 * component, at most 15 bytes. */
void ukf_set_comm(const char *path)
{
	const char *b = path;
	for (const char *q = path; *q; q++)
		if (*q == '/')
			b = q + 1;
	size_t n = strnlen(b, 15);
	memcpy(comm, b, n);
	memset(comm + n, 0, 16 - n);
}
