/* Processes across VMs: fork, vfork, clone without threads, wait4, waitid,
 * getppid. Each process is its own VM: fork clones the VM on the host. */
#include "shim.h"

#define UKF_CSIGNAL 0xff
#define UKF_CLONE_VM 0x100
#define UKF_CLONE_FS 0x200
#define UKF_CLONE_FILES 0x400
#define UKF_CLONE_SIGHAND 0x800
#define UKF_CLONE_VFORK 0x4000
#define UKF_CLONE_PARENT 0x8000
#define UKF_CLONE_THREAD 0x10000
#define UKF_CLONE_SETTLS 0x80000
#define UKF_CLONE_PARENT_SETTID 0x100000
#define UKF_CLONE_CHILD_CLEARTID 0x200000
#define UKF_CLONE_CHILD_SETTID 0x1000000
#define UKF_SIGCHLD 17

uint64_t ukf_clear_child_tid;

static int64_t clone_vm(uint64_t flags)
{
	struct ukf_hc_fork f = { .flags = flags };
	int64_t r = ukf_hcall(UKF_HC_FORK, &f);
	if (r == 0)
		ukf_time_forked();
	return r;
}

UKF_SYSCALL0(fork) { return clone_vm(UKF_SIGCHLD); }

/* The child gets a copy, not the parent's memory, and the parent does not
 * wait for its exec: both are within what programs may rely on. */
UKF_SYSCALL0(vfork) { return clone_vm(UKF_CLONE_VFORK | UKF_SIGCHLD); }

UKF_SYSCALL5(clone, uint64_t, flags, uint64_t, newsp, uint64_t, ptid,
	     uint64_t, ctid, uint64_t, tls)
{
	/* Flags Linux refuses together come first. */
	if ((flags & UKF_CLONE_THREAD) && !(flags & UKF_CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & UKF_CLONE_SIGHAND) && !(flags & UKF_CLONE_VM))
		return -EINVAL;
	/* Threads share one address space on several CPUs: not across VMs. A
	 * CLONE_VM|CLONE_VFORK child (posix_spawn) only execs: a copy will do. */
	if (flags & (UKF_CLONE_THREAD | UKF_CLONE_SIGHAND))
		return -ENOSYS;
	if ((flags & UKF_CLONE_VM) && !(flags & UKF_CLONE_VFORK))
		return -ENOSYS;
	if ((flags & UKF_CLONE_PARENT_SETTID) && !ukf_user_ok(ptid, 4))
		return -EFAULT;
	if ((flags & (UKF_CLONE_CHILD_SETTID | UKF_CLONE_CHILD_CLEARTID)) && !ukf_user_ok(ctid, 4))
		return -EFAULT;
	int64_t r = clone_vm(flags & ~(uint64_t)UKF_CLONE_VM);
	if (r < 0)
		return r;
	if (r > 0) {
		if (flags & UKF_CLONE_PARENT_SETTID)
			*UKF_UPTR(int32_t, ptid) = (int32_t)r;
		return r;
	}
	if (newsp)
		ukf_cur_frame->rsp = newsp;
	if (flags & UKF_CLONE_SETTLS)
		__asm__ volatile("wrfsbase %0" : : "r"(tls));
	if (flags & UKF_CLONE_CHILD_SETTID)
		*UKF_UPTR(int32_t, ctid) = ukf_boot->pid;
	if (flags & UKF_CLONE_CHILD_CLEARTID)
		ukf_clear_child_tid = ctid;
	return 0;
}

UKF_SYSCALL4(wait4, int32_t, pid, uint64_t, status, int32_t, options, uint64_t, rusage)
{
	/* The host writes them once it has a child: ECHILD before EFAULT. */
	struct ukf_hc_wait4 w = {
		.pid = pid, .options = options,
		.status = status ? ukf_user_arg(status, 4) : 0,
		.rusage = rusage ? ukf_user_arg(rusage, 144) : 0,
	};
	return ukf_hcall(UKF_HC_WAIT4, &w);
}

#define UKF_P_ALL 0
#define UKF_P_PID 1
#define UKF_P_PGID 2
#define UKF_WNOHANG 1
#define UKF_WEXITED 4
#define UKF_WNOWAIT 0x1000000
#define UKF_WSTOPPED 2
#define UKF_WCONTINUED 8
#define UKF_CLD_EXITED 1
#define UKF_CLD_KILLED 2
#define UKF_CLD_STOPPED 5
#define UKF_CLD_CONTINUED 6

/* waitid through wait4: WEXITED, with WSTOPPED and WCONTINUED if asked. */
UKF_SYSCALL5(waitid, int32_t, idtype, int32_t, id, uint64_t, infop, int32_t, options, uint64_t, rusage)
{
	int32_t pid;
	/* Linux writes infop whatever the outcome: a bad one is EFAULT first. */
	if (infop && !ukf_user_ok(infop, 128))
		return -EFAULT;
	switch (idtype) {
	case UKF_P_ALL: pid = -1; break;
	case UKF_P_PID: pid = id; break;
	case UKF_P_PGID: pid = id ? -id : 0; break;
	default: return -EINVAL;
	}
	if ((idtype == UKF_P_PID || idtype == UKF_P_PGID) && id < 0)
		return -EINVAL;
	if (!(options & UKF_WEXITED) || (options & UKF_WNOWAIT))
		return -EINVAL;
	int32_t st = 0;
	struct ukf_hc_wait4 w = {
		.pid = pid, .options = options & (UKF_WNOHANG | UKF_WSTOPPED | UKF_WCONTINUED | 0x60000000),
		.status = (uint64_t)(uintptr_t)&st,
		.rusage = rusage ? ukf_user_arg(rusage, 144) : 0,
	};
	int64_t r = ukf_hcall(UKF_HC_WAIT4, &w);
	if (r < 0)
		return r;
	if (infop) {
		int32_t *si = UKF_UPTR(int32_t, infop);
		memset(si, 0, 128);
		if (r > 0) {
			si[0] = UKF_SIGCHLD;              /* si_signo */
			si[4] = (int32_t)r;               /* si_pid */
			si[5] = (int32_t)ukf_cred.ruid;   /* si_uid */
			if (st == 0xffff) {               /* si_code, si_status */
				si[2] = UKF_CLD_CONTINUED;
				si[6] = 18; /* SIGCONT */
			} else if ((st & 0xff) == 0x7f) {
				si[2] = UKF_CLD_STOPPED;
				si[6] = (st >> 8) & 0xff;
			} else {
				si[2] = (st & 0x7f) ? UKF_CLD_KILLED : UKF_CLD_EXITED;
				si[6] = (st & 0x7f) ? (st & 0x7f) : (st >> 8) & 0xff;
			}
		}
	}
	return 0;
}

/* The parent can change (it exits, the child is adopted): ask the host. */
UKF_SYSCALL0(getppid)
{
	struct ukf_hc_procinfo i = { 0 };
	ukf_hcall(UKF_HC_PROCINFO, &i);
	return i.ppid;
}
