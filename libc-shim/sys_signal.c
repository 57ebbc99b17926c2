/* Signal syscalls: rt_sigaction, rt_sigprocmask, sigaltstack (recorded only). */
#include "shim.h"

/* Nothing delivers signals yet (a later issue): these calls keep the state a
 * delivery path will need and answer queries about it, as Linux would. */

#define SIGSET_SIZE 8
#define UNBLOCKABLE ((1ULL << (UKF_SIGKILL - 1)) | (1ULL << (UKF_SIGSTOP - 1)))

static struct ukf_ksigaction actions[UKF_NSIG + 1]; /* [0] unused */
static uint64_t sigmask;
static struct ukf_stack altstack = { .ss_flags = UKF_SS_DISABLE };

const struct ukf_ksigaction *ukf_sigaction_get(int sig)
{
	return sig >= 1 && sig <= UKF_NSIG ? &actions[sig] : 0;
}

uint64_t ukf_sigmask_get(void)
{
	return sigmask;
}

/* execve: caught signals go back to their default action; ignored ones
 * stay ignored; the mask stays; the alternate stack is gone. */
void ukf_signal_exec(void)
{
	for (int sig = 1; sig <= UKF_NSIG; sig++) {
		if (actions[sig].handler != UKF_SIG_IGN)
			actions[sig] = (struct ukf_ksigaction){ .handler = UKF_SIG_DFL };
		else
			actions[sig].flags = 0;
	}
	altstack = (struct ukf_stack){ .ss_flags = UKF_SS_DISABLE };
}

UKF_SYSCALL4(rt_sigaction, int32_t, sig, uint64_t, uact, uint64_t, uoact,
	     uint64_t, sigsetsize)
{
	struct ukf_ksigaction act;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (sig < 1 || sig > UKF_NSIG)
		return -EINVAL;
	if (uact && (sig == UKF_SIGKILL || sig == UKF_SIGSTOP))
		return -EINVAL;
	/* Read the new action before writing the old: they may alias. */
	if (uact) {
		if (!ukf_user_ok(uact, sizeof(act)))
			return -EFAULT;
		act = *UKF_UPTR(struct ukf_ksigaction, uact);
		act.mask &= ~UNBLOCKABLE;
	}
	if (uoact) {
		if (!ukf_user_ok(uoact, sizeof(act)))
			return -EFAULT;
		*UKF_UPTR(struct ukf_ksigaction, uoact) = actions[sig];
	}
	if (uact)
		actions[sig] = act;
	return 0;
}

UKF_SYSCALL4(rt_sigprocmask, int32_t, how, uint64_t, uset, uint64_t, uoset,
	     uint64_t, sigsetsize)
{
	uint64_t set = 0;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (uset) {
		if (how != UKF_SIG_BLOCK && how != UKF_SIG_UNBLOCK && how != UKF_SIG_SETMASK)
			return -EINVAL;
		if (!ukf_user_ok(uset, SIGSET_SIZE))
			return -EFAULT;
		set = *UKF_UPTR(uint64_t, uset);
	}
	if (uoset) {
		if (!ukf_user_ok(uoset, SIGSET_SIZE))
			return -EFAULT;
		*UKF_UPTR(uint64_t, uoset) = sigmask;
	}
	if (uset) {
		if (how == UKF_SIG_BLOCK)
			sigmask |= set;
		else if (how == UKF_SIG_UNBLOCK)
			sigmask &= ~set;
		else
			sigmask = set;
		sigmask &= ~UNBLOCKABLE;
	}
	return 0;
}

UKF_SYSCALL2(sigaltstack, uint64_t, uss, uint64_t, uoss)
{
	struct ukf_stack ss;

	if (uss) {
		if (!ukf_user_ok(uss, sizeof(ss)))
			return -EFAULT;
		ss = *UKF_UPTR(struct ukf_stack, uss);
		uint32_t mode = (uint32_t)ss.ss_flags & ~UKF_SS_AUTODISARM;
		if (mode != 0 && mode != UKF_SS_DISABLE && mode != UKF_SS_ONSTACK)
			return -EINVAL;
		if (mode == UKF_SS_DISABLE) {
			ss.ss_sp = 0;
			ss.ss_size = 0;
		} else {
			if (ss.ss_size < UKF_MINSIGSTKSZ)
				return -ENOMEM;
			/* SS_ONSTACK in a request is the legacy spelling of 0. */
			ss.ss_flags &= (int32_t)UKF_SS_AUTODISARM;
		}
		ss.pad = 0;
	}
	if (uoss) {
		if (!ukf_user_ok(uoss, sizeof(ss)))
			return -EFAULT;
		/* Never SS_ONSTACK: no handler ever runs on it yet. */
		*UKF_UPTR(struct ukf_stack, uoss) = altstack;
	}
	if (uss)
		altstack = ss;
	return 0;
}
