/* Signals: dispositions, masks, delivery with Linux's x86-64 signal frame,
 * sigreturn, kill, waiting for signals, and the real-time interval timer.
 *
 * The host queues signals (pending bits in the boot page) and wakes or
 * kicks this VM; they are delivered here, on the way out of a syscall or at
 * the async entry the host injects into a program running its own code. The
 * guest publishes in the boot page what it blocks, ignores and catches, so
 * the host can drop ignored signals and end a process whose signal's default
 * action terminates it without running the guest at all. */
#include "shim.h"

#define SIGSET_SIZE 8
#define BIT(sig) (1ULL << ((sig) - 1))
#define UNBLOCKABLE (BIT(UKF_SIGKILL) | BIT(UKF_SIGSTOP))

#define SA_NOCLDSTOP 0x00000001u
#define SA_NOCLDWAIT 0x00000002u
#define SA_SIGINFO 0x00000004u
#define SA_RESTORER 0x04000000u
#define SA_ONSTACK 0x08000000u
#define SA_RESTART 0x10000000u
#define SA_NODEFER 0x40000000u
#define SA_RESETHAND 0x80000000u

#define SIGCHLD 17
#define SIGCONT 18
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGWINCH 28
#define SIGALRM 14
#define SIGSEGV 11

static struct ukf_ksigaction actions[UKF_NSIG + 1]; /* [0] unused */
static uint64_t blocked;
static struct ukf_stack altstack = { .ss_flags = UKF_SS_DISABLE };

/* rt_sigsuspend/pause: the mask to restore once a handler has run. */
static int suspended;
static uint64_t suspend_saved;

static void publish(void)
{
	uint64_t ign = 0, caught = 0;
	for (int sig = 1; sig <= UKF_NSIG; sig++) {
		if (actions[sig].handler == UKF_SIG_IGN)
			ign |= BIT(sig);
		else if (actions[sig].handler != UKF_SIG_DFL)
			caught |= BIT(sig);
	}
	volatile struct ukf_bootinfo *b = ukf_boot;
	b->sig_blocked = blocked;
	b->sig_ignored = ign;
	b->sig_caught = caught;
	b->sig_flags = (b->sig_flags & UKF_SIGF_POLLING) |
		       ((actions[SIGCHLD].flags & SA_NOCLDWAIT) ? UKF_SIGF_NOCLDWAIT : 0) |
		       ((actions[SIGCHLD].flags & SA_NOCLDSTOP) ? UKF_SIGF_NOCLDSTOP : 0);
}

void ukf_signal_exec(void)
{
	for (int sig = 1; sig <= UKF_NSIG; sig++) {
		if (actions[sig].handler != UKF_SIG_IGN)
			actions[sig] = (struct ukf_ksigaction){ .handler = UKF_SIG_DFL };
		else
			actions[sig].flags = 0;
	}
	altstack = (struct ukf_stack){ .ss_flags = UKF_SS_DISABLE };
	suspended = 0;
	publish();
}

/* Default actions that do nothing (stop and continue are not supported:
 * stopping signals are ignored for now). */
static int default_ignores(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
		return 1;
	}
	return 0;
}

static int default_stops(int sig)
{
	switch (sig) {
	case UKF_SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return 1;
	}
	return 0;
}

/* ---- Dispositions and masks ------------------------------------------------ */

/* Linux's order: the size, reading the new value (EFAULT), checking it
 * (EINVAL), changing it, then writing the old value (EFAULT, the change
 * made). The user's old and new may alias. */
UKF_SYSCALL4(rt_sigaction, int32_t, sig, uint64_t, uact, uint64_t, uoact,
	     uint64_t, sigsetsize)
{
	struct ukf_ksigaction act;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (uact) {
		if (!ukf_user_ok(uact, sizeof(act)))
			return -EFAULT;
		act = *UKF_UPTR(struct ukf_ksigaction, uact);
		act.mask &= ~UNBLOCKABLE;
	}
	if (sig < 1 || sig > UKF_NSIG)
		return -EINVAL;
	if (uact && (sig == UKF_SIGKILL || sig == UKF_SIGSTOP))
		return -EINVAL;
	struct ukf_ksigaction old = actions[sig];
	if (uact) {
		actions[sig] = act;
		publish();
	}
	if (uoact) {
		if (!ukf_user_ok(uoact, sizeof(old)))
			return -EFAULT;
		*UKF_UPTR(struct ukf_ksigaction, uoact) = old;
	}
	return 0;
}

UKF_SYSCALL4(rt_sigprocmask, int32_t, how, uint64_t, uset, uint64_t, uoset,
	     uint64_t, sigsetsize)
{
	uint64_t old = blocked;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (uset) {
		if (!ukf_user_ok(uset, SIGSET_SIZE))
			return -EFAULT;
		uint64_t set = *UKF_UPTR(uint64_t, uset);
		if (how == UKF_SIG_BLOCK)
			blocked |= set;
		else if (how == UKF_SIG_UNBLOCK)
			blocked &= ~set;
		else if (how == UKF_SIG_SETMASK)
			blocked = set;
		else
			return -EINVAL;
		blocked &= ~UNBLOCKABLE;
		publish(); /* newly unblocked pending signals go out on return */
	}
	if (uoset) {
		if (!ukf_user_ok(uoset, SIGSET_SIZE))
			return -EFAULT;
		*UKF_UPTR(uint64_t, uoset) = old;
	}
	return 0;
}

/* Linux takes any size up to a sigset's and copies that much. */
UKF_SYSCALL2(rt_sigpending, uint64_t, uset, uint64_t, sigsetsize)
{
	if (sigsetsize > SIGSET_SIZE)
		return -EINVAL;
	if (!ukf_user_ok(uset, sigsetsize))
		return -EFAULT;
	uint64_t set = ukf_boot->sig_pending & blocked;
	memcpy(UKF_UPTR(void, uset), &set, sigsetsize);
	return 0;
}

static int on_altstack(uint64_t sp)
{
	return !(altstack.ss_flags & UKF_SS_DISABLE) && sp > altstack.ss_sp &&
	       sp <= altstack.ss_sp + altstack.ss_size;
}

UKF_SYSCALL2(sigaltstack, uint64_t, uss, uint64_t, uoss)
{
	struct ukf_stack ss;
	uint64_t sp = ukf_cur_frame ? ukf_cur_frame->rsp : 0;

	if (uss) {
		if (!ukf_user_ok(uss, sizeof(ss)))
			return -EFAULT;
		if (on_altstack(sp))
			return -EPERM;
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
		struct ukf_stack cur = altstack;
		if (on_altstack(sp))
			cur.ss_flags |= UKF_SS_ONSTACK;
		*UKF_UPTR(struct ukf_stack, uoss) = cur;
	}
	if (uss)
		altstack = ss;
	return 0;
}

/* ---- The signal frame ---------------------------------------------------------- */

struct sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct ucontext {
	uint64_t uc_flags, uc_link;
	struct ukf_stack uc_stack;
	struct sigcontext mc;
	uint64_t uc_sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext uc;
	uint8_t info[128];
};

_Static_assert(sizeof(struct sigcontext) == 256, "sigcontext");

static uint64_t xsave_size(void)
{
	static uint64_t size;
	if (!size) {
		uint32_t a = 0xd, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		size = b ? b : 512;
	}
	return size;
}

static int xsave_on(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c >> 27) & 1; /* OSXSAVE */
}

static void fpu_save(uint64_t at)
{
	memset(UKF_UPTR(uint8_t, at) + 512, 0, 64); /* the XSAVE header */
	if (xsave_on())
		__asm__ volatile("xsave64 (%0)" : : "r"(at), "a"(-1), "d"(-1) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(at) : "memory");
}

static void fpu_restore(uint64_t at)
{
	if (xsave_on())
		__asm__ volatile("xrstor64 (%0)" : : "r"(at), "a"(-1), "d"(-1) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(at) : "memory");
}

/* AT_MINSIGSTKSZ: the most a signal frame takes, as Linux's
 * init_sigframe_size counts it (frame, the XSAVE area and its magic,
 * alignment). */
uint64_t ukf_sigframe_size(void)
{
	return (sizeof(struct rt_sigframe) + xsave_size() + 4 + 63 + 15) & ~15ULL;
}

#define FLAGS_USER 0x00000000000254dd /* CF PF AF ZF SF TF DF OF NT AC RF... */

/* What a fault adds to the frame's sigcontext. */
struct fault_ctx { uint64_t trapno, err, cr2; };

/* Build the frame for a handler of sig on the program's (or the alternate)
 * stack, from the registers in r, and point r at the handler. */
static void setup_frame(struct ukf_regs *r, int sig, const uint8_t *info,
			const struct ukf_ksigaction *act, uint64_t oldmask,
			const struct fault_ctx *fc)
{
	uint64_t sp = r->rsp;
	int onstack = on_altstack(sp);
	if ((act->flags & SA_ONSTACK) && !(altstack.ss_flags & UKF_SS_DISABLE) && !onstack)
		sp = altstack.ss_sp + altstack.ss_size;
	else
		sp -= 128; /* the red zone */
	uint64_t fsize = xsave_size();
	sp = (sp - fsize) & ~63ULL;
	uint64_t fpstate = sp;
	sp -= sizeof(struct rt_sigframe);
	sp = (sp & ~15ULL) - 8; /* as after a call: (sp + 8) % 16 == 0 */
	if (!ukf_user_ok(sp, fpstate + fsize - sp) || !(act->flags & SA_RESTORER))
		ukf_die(SIGSEGV); /* Linux forces SIGSEGV when no frame fits */

	fpu_save(fpstate);
	struct rt_sigframe *f = UKF_UPTR(struct rt_sigframe, sp);
	memset(f, 0, sizeof(*f));
	f->pretcode = act->restorer;
	f->uc.uc_flags = 1 | 2; /* UC_FP_XSTATE | UC_SIGCONTEXT_SS */
	f->uc.uc_stack = altstack;
	if (onstack)
		f->uc.uc_stack.ss_flags |= UKF_SS_ONSTACK;
	struct sigcontext *mc = &f->uc.mc;
	mc->r8 = r->r8; mc->r9 = r->r9; mc->r10 = r->r10; mc->r11 = r->r11;
	mc->r12 = r->r12; mc->r13 = r->r13; mc->r14 = r->r14; mc->r15 = r->r15;
	mc->rdi = r->rdi; mc->rsi = r->rsi; mc->rbp = r->rbp; mc->rbx = r->rbx;
	mc->rdx = r->rdx; mc->rax = r->rax; mc->rcx = r->rcx; mc->rsp = r->rsp;
	mc->rip = r->rip; mc->eflags = r->rflags;
	mc->cs = 0x2b;
	mc->ss = 0x23;
	mc->oldmask = oldmask;
	mc->fpstate = fpstate;
	if (fc) {
		mc->trapno = fc->trapno;
		mc->err = fc->err;
		mc->cr2 = fc->cr2;
	}
	f->uc.uc_sigmask = oldmask;
	memcpy(f->info, info, sizeof(f->info));

	r->rdi = (uint64_t)sig;
	r->rsi = sp + __builtin_offsetof(struct rt_sigframe, info);
	r->rdx = sp + __builtin_offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rsp = sp;
	r->rip = act->handler;
	r->rflags &= ~(0x100ULL | 0x400ULL | 0x10000ULL); /* TF, DF, RF */
}

UKF_SYSCALL0(rt_sigreturn)
{
	struct ukf_regs *r = ukf_cur_frame;
	uint64_t ucp = r->rsp;
	if (!ukf_user_ok(ucp, sizeof(struct ucontext)))
		ukf_die(SIGSEGV);
	const struct ucontext *uc = UKF_UPTR(const struct ucontext, ucp);
	const struct sigcontext *mc = &uc->mc;
	r->r8 = mc->r8; r->r9 = mc->r9; r->r10 = mc->r10; r->r11 = mc->r11;
	r->r12 = mc->r12; r->r13 = mc->r13; r->r14 = mc->r14; r->r15 = mc->r15;
	r->rdi = mc->rdi; r->rsi = mc->rsi; r->rbp = mc->rbp; r->rbx = mc->rbx;
	r->rdx = mc->rdx; r->rcx = mc->rcx; r->rsp = mc->rsp; r->rip = mc->rip;
	r->rflags = (r->rflags & ~FLAGS_USER) | (mc->eflags & FLAGS_USER);
	if (mc->fpstate) {
		if ((mc->fpstate & 63) || !ukf_user_ok(mc->fpstate, xsave_size()))
			ukf_die(SIGSEGV);
		fpu_restore(mc->fpstate);
	}
	blocked = uc->uc_sigmask & ~UNBLOCKABLE;
	publish();
	return (int64_t)mc->rax;
}

/* ---- Delivery ----------------------------------------------------------------- */

/* Take the lowest pending signal in accept: clear its bit (atomically: the
 * host sets bits concurrently, its siginfo first), then build its siginfo.
 * No exit: the host wrote all it knows into the boot page. */
static int64_t take(uint64_t accept, uint8_t *info)
{
	volatile uint64_t *pend = &ukf_boot->sig_pending;
	for (;;) {
		uint64_t p = *pend & accept;
		if (!p)
			return 0;
		int sig = __builtin_ctzll(p) + 1;
		uint64_t bit = BIT(sig);
		if (!(__atomic_fetch_and(pend, ~bit, __ATOMIC_SEQ_CST) & bit))
			continue; /* taken meanwhile */
		struct ukf_siginfo si = ukf_boot->sig_info[sig - 1];
		memset(info, 0, 128);
		int32_t *w = (int32_t *)info;
		w[0] = sig;       /* si_signo */
		w[2] = si.code;   /* si_code */
		w[4] = si.pid;    /* si_pid */
		w[5] = si.uid;    /* si_uid */
		if (sig == SIGCHLD)
			w[6] = si.status; /* si_status */
		return sig;
	}
}

/* Calls a handler with SA_RESTART restarts (Linux's -ERESTARTSYS ones). */
static int restarts_with_handler(uint64_t nr)
{
	switch (nr) {
	case __NR_read: case __NR_readv: case __NR_pread64: case __NR_preadv:
	case __NR_write: case __NR_writev: case __NR_pwrite64: case __NR_pwritev:
	case __NR_wait4: case __NR_waitid: case __NR_ioctl: case __NR_fcntl:
	case __NR_open: case __NR_openat: case __NR_accept: case __NR_accept4:
	case __NR_recvfrom: case __NR_recvmsg: case __NR_sendto: case __NR_sendmsg:
	case __NR_connect: case __NR_flock: case __NR_futex:
		return 1;
	}
	return 0;
}

/* Point r at sig's handler, with its frame, mask and flags, as Linux's
 * handle_signal does. */
static void run_handler(struct ukf_regs *r, int sig, const uint8_t *info,
			const struct fault_ctx *fc)
{
	struct ukf_ksigaction *act = &actions[sig];
	uint64_t oldmask = suspended ? suspend_saved : blocked;
	suspended = 0;
	struct ukf_ksigaction a = *act;
	if (a.flags & SA_RESETHAND)
		*act = (struct ukf_ksigaction){ .handler = UKF_SIG_DFL };
	setup_frame(r, sig, info, &a, oldmask, fc);
	blocked |= a.mask;
	if (!(a.flags & SA_NODEFER))
		blocked |= BIT(sig);
	blocked &= ~UNBLOCKABLE;
	publish();
}

/* As Linux's force_sig_fault: a fault's signal that is blocked or ignored
 * kills; otherwise its handler runs now, with si_addr. */
int ukf_signal_fault(struct ukf_regs *r, int sig, int code, uint64_t addr,
		     uint64_t trapno, uint64_t err, uint64_t cr2)
{
	static uint8_t info[128];
	struct ukf_ksigaction *act = &actions[sig];
	if (act->handler == UKF_SIG_DFL || act->handler == UKF_SIG_IGN || (blocked & BIT(sig)))
		return 0;
	memset(info, 0, sizeof(info));
	int32_t *w = (int32_t *)info;
	w[0] = sig;  /* si_signo */
	w[2] = code; /* si_code */
	memcpy(info + 16, &addr, 8); /* si_addr */
	struct fault_ctx fc = { trapno, err, cr2 };
	run_handler(r, sig, info, &fc);
	return 1;
}

/* Deliver what is pending and not blocked: one handler at a time (its
 * sigreturn comes back here for the next). With entry from a syscall, a call
 * cut short by a signal that ran no handler is restarted. */
static void deliver(struct ukf_regs *r)
{
	static uint8_t info[128];
	int from_syscall = r->kind == UKF_ENTRY_SYSCALL;

	while (ukf_boot->sig_pending & ~blocked) {
		int64_t sig = take(~blocked, info);
		if (sig <= 0)
			break;
		struct ukf_ksigaction *act = &actions[sig];
		if (act->handler == UKF_SIG_IGN ||
		    (act->handler == UKF_SIG_DFL && default_ignores((int)sig)))
			continue;
		if (act->handler == UKF_SIG_DFL && default_stops((int)sig)) {
			/* The host holds the process until SIGCONT; then the
			 * next pending signal, or the call restarts. */
			struct ukf_hc_stop h = { .sig = (int32_t)sig };
			ukf_hcall(UKF_HC_STOP, &h);
			continue;
		}
		if (act->handler == UKF_SIG_DFL)
			ukf_die((int)sig);
		if (from_syscall && (int64_t)r->rax == -EINTR &&
		    (act->flags & SA_RESTART) && restarts_with_handler(r->nr)) {
			r->rip -= 2; /* back onto the syscall instruction */
			r->rax = r->nr;
		}
		run_handler(r, (int)sig, info, 0);
		return;
	}
	/* Nothing ran: a call interrupted for it starts again. */
	if (from_syscall && (int64_t)r->rax == -EINTR && r->nr != __NR_rt_sigreturn) {
		r->rip -= 2;
		r->rax = r->nr;
	}
}

void ukf_signal_check(struct ukf_regs *r)
{
	if ((ukf_boot->sig_pending & ~blocked) || (int64_t)r->rax == -EINTR)
		deliver(r);
}

void ukf_async(struct ukf_regs *r)
{
	r->kind = UKF_ENTRY_ASYNC;
	deliver(r);
}

/* ---- Sending and waiting -------------------------------------------------------- */

static int64_t hc_kill(int32_t pid, int32_t sig)
{
	struct ukf_hc_kill k = { .pid = pid, .sig = sig };
	return ukf_hcall(UKF_HC_KILL, &k);
}

UKF_SYSCALL2(kill, int32_t, pid, int32_t, sig)
{
	if (sig < 0 || sig > UKF_NSIG)
		return -EINVAL;
	return hc_kill(pid, sig);
}

/* One thread per process: a thread id is the process id. */
UKF_SYSCALL2(tkill, int32_t, tid, int32_t, sig)
{
	if (tid <= 0 || sig < 0 || sig > UKF_NSIG)
		return -EINVAL;
	return hc_kill(tid, sig);
}

UKF_SYSCALL3(tgkill, int32_t, tgid, int32_t, tid, int32_t, sig)
{
	if (tgid <= 0 || tid <= 0 || sig < 0 || sig > UKF_NSIG)
		return -EINVAL;
	if (tgid != tid)
		return -ESRCH;
	return hc_kill(tid, sig);
}

static int64_t sigwait_host(int64_t ns)
{
	struct ukf_hc_sigwait w = { .timeout = ns };
	return ukf_hcall(UKF_HC_SIGWAIT, &w);
}

/* How long a signal wait polls the pending word before it blocks in the
 * host. The host sets pending bits in guest memory: a signal that comes
 * within the poll costs no exit and no wake-up (each ~30-60 µs under PVM),
 * which is what processes signalling each other back and forth see. The
 * host does not kick a polling guest. Like KVM's halt polling. */
#define SIGNAL_POLL_US 200

static int poll_pending(void)
{
	volatile struct ukf_bootinfo *b = ukf_boot;
	uint64_t khz = b->tsc_khz;
	if (!khz)
		return 0;
	uint64_t end = ukf_rdtsc() + SIGNAL_POLL_US * khz / 1000;
	b->sig_flags |= UKF_SIGF_POLLING;
	while (!(b->sig_pending & ~blocked) && ukf_rdtsc() < end)
		__builtin_ia32_pause();
	b->sig_flags &= ~UKF_SIGF_POLLING;
	return (b->sig_pending & ~blocked) != 0;
}

/* Wait with mask in force until a signal is delivered (a handler runs). */
static int64_t suspend(uint64_t mask)
{
	if (!suspended) {
		suspend_saved = blocked;
		suspended = 1;
	}
	blocked = mask & ~UNBLOCKABLE;
	publish();
	if (poll_pending())
		return -EINTR;
	while (!(ukf_boot->sig_pending & ~blocked))
		sigwait_host(-1);
	return -EINTR; /* the exit path delivers; ignored ones restart us */
}

UKF_SYSCALL0(pause) { return suspend(blocked); }

/* ppoll and pselect6 wait with mask in place of the caller's, as one
 * step: a signal it lets through is delivered with the caller's mask in
 * its frame, as after sigsuspend; any other outcome puts the caller's mask
 * back, and a signal it blocks stays pending, as on Linux. */
void ukf_sigmask_wait_begin(uint64_t mask)
{
	if (!suspended) {
		suspend_saved = blocked;
		suspended = 1;
	}
	blocked = mask & ~UNBLOCKABLE;
	publish();
}

void ukf_sigmask_wait_end(int64_t r)
{
	if (!suspended)
		return;
	if (r == -EINTR && (__atomic_load_n(&ukf_boot->sig_pending, __ATOMIC_ACQUIRE) & ~blocked))
		return; /* the way out delivers it, with the saved mask */
	blocked = suspend_saved;
	suspended = 0;
	publish();
}

UKF_SYSCALL2(rt_sigsuspend, uint64_t, umask, uint64_t, sigsetsize)
{
	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (!ukf_user_ok(umask, SIGSET_SIZE))
		return -EFAULT;
	return suspend(*UKF_UPTR(uint64_t, umask));
}

UKF_SYSCALL4(rt_sigtimedwait, uint64_t, uset, uint64_t, uinfo, uint64_t, uts,
	     uint64_t, sigsetsize)
{
	static uint8_t info[128];
	int64_t ns = -1, now;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (!ukf_user_ok(uset, SIGSET_SIZE) || (uinfo && !ukf_user_ok(uinfo, 128)))
		return -EFAULT;
	uint64_t set = *UKF_UPTR(uint64_t, uset) & ~UNBLOCKABLE;
	if (uts) {
		if (!ukf_user_ok(uts, sizeof(struct ukf_timespec)))
			return -EFAULT;
		const struct ukf_timespec *ts = UKF_UPTR(const struct ukf_timespec, uts);
		if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
			return -EINVAL;
		ns = ts->tv_sec * 1000000000LL + ts->tv_nsec;
	}
	ukf_clock_ns(UKF_CLOCK_MONOTONIC, &now);
	int64_t deadline = ns < 0 ? -1 : now + ns;
	for (;;) {
		int64_t sig = take(set, info);
		if (sig > 0) {
			ukf_boot->sig_waiting = 0;
			if (uinfo)
				memcpy(UKF_UPTR(void, uinfo), info, 128);
			return sig;
		}
		/* Another signal, not waited for, interrupts the wait. */
		if (ukf_boot->sig_pending & ~blocked & ~set) {
			ukf_boot->sig_waiting = 0;
			return -EINTR;
		}
		int64_t left = -1;
		if (deadline >= 0) {
			ukf_clock_ns(UKF_CLOCK_MONOTONIC, &now);
			if (now >= deadline) {
				ukf_boot->sig_waiting = 0;
				return -EAGAIN;
			}
			left = deadline - now;
		}
		ukf_boot->sig_waiting = set;
		sigwait_host(left);
	}
}

/* ---- The real-time interval timer: SIGALRM from the host --------------------- */

struct itimerval {
	struct ukf_timeval interval, value;
};

static int64_t tv_ns(const struct ukf_timeval *tv) { return tv->tv_sec * 1000000000LL + tv->tv_usec * 1000; }

static void ns_tv(int64_t ns, struct ukf_timeval *tv)
{
	tv->tv_sec = ns / 1000000000LL;
	tv->tv_usec = (ns % 1000000000LL) / 1000;
}

static int64_t itimer(int64_t value, int64_t interval, int64_t *oval, int64_t *oint)
{
	struct ukf_hc_itimer t = { .value_ns = value, .interval_ns = interval };
	int64_t r = ukf_hcall(UKF_HC_ITIMER, &t);
	*oval = t.value_ns;
	*oint = t.interval_ns;
	return r;
}

#define ITIMER_REAL 0

UKF_SYSCALL3(setitimer, int32_t, which, uint64_t, unew, uint64_t, uold)
{
	struct itimerval nv = { 0 };
	int64_t ov, oi;

	/* Linux reads the new value, checks it, sets it, then writes the old. */
	if (unew) {
		if (!ukf_user_ok(unew, sizeof(nv)))
			return -EFAULT;
		nv = *UKF_UPTR(struct itimerval, unew);
	}
	if (which != ITIMER_REAL)
		return -EINVAL; /* virtual and profiling timers: not supported */
	if (unew) {
		if (nv.value.tv_usec < 0 || nv.value.tv_usec >= 1000000 ||
		    nv.interval.tv_usec < 0 || nv.interval.tv_usec >= 1000000 ||
		    nv.value.tv_sec < 0 || nv.interval.tv_sec < 0)
			return -EINVAL;
	}
	int64_t r = itimer(unew ? tv_ns(&nv.value) : -1, tv_ns(&nv.interval), &ov, &oi);
	if (r < 0)
		return r;
	if (uold) {
		if (!ukf_user_ok(uold, sizeof(nv)))
			return -EFAULT;
		struct itimerval *o = UKF_UPTR(struct itimerval, uold);
		ns_tv(ov, &o->value);
		ns_tv(oi, &o->interval);
	}
	return 0;
}

UKF_SYSCALL2(getitimer, int32_t, which, uint64_t, uval)
{
	int64_t ov, oi;
	if (which != ITIMER_REAL)
		return -EINVAL;
	if (!ukf_user_ok(uval, sizeof(struct itimerval)))
		return -EFAULT;
	int64_t r = itimer(-1, 0, &ov, &oi); /* -1: only read */
	if (r < 0)
		return r;
	struct itimerval *o = UKF_UPTR(struct itimerval, uval);
	ns_tv(ov, &o->value);
	ns_tv(oi, &o->interval);
	return 0;
}

UKF_SYSCALL1(alarm, uint32_t, secs)
{
	int64_t ov, oi;
	itimer((int64_t)secs * 1000000000LL, 0, &ov, &oi);
	/* Seconds left, rounded to the nearest, never 0 while armed. */
	int64_t left = (ov + 500000000LL) / 1000000000LL;
	return ov > 0 && left == 0 ? 1 : left;
}

/* ---- signalfd ---------------------------------------------------------- */

/* A host object reads the pending signals the runtime would take, by the
 * same protocol (clear the pending bit, then read the siginfo). */
UKF_SYSCALL4(signalfd4, int32_t, fd, uint64_t, umask, uint64_t, sizemask, int32_t, flags)
{
	if (sizemask != SIGSET_SIZE)
		return -EINVAL;
	if (!ukf_user_ok(umask, SIGSET_SIZE))
		return -EFAULT;
	struct ukf_hc_signalfd h = { .fd = fd, .flags = (uint32_t)flags, .mask = *UKF_UPTR(uint64_t, umask) };
	return ukf_hcall(UKF_HC_SIGNALFD, &h);
}

UKF_SYSCALL3(signalfd, int32_t, fd, uint64_t, umask, uint64_t, sizemask)
{
	return do_signalfd4(fd, umask, sizemask, 0);
}
