/* futex for a process of one thread. A word of memory shared with other
 * processes (MAP_SHARED|MAP_ANONYMOUS), in a shared futex (no
 * FUTEX_PRIVATE_FLAG), has the run's waiters: the host keeps them
 * (UKF_HC_FUTEX), so process-shared mutexes, condition variables and
 * semaphores work between VMs. Any other word only this process can reach:
 * no one else can wait on it or wake it, so a wake wakes nobody, and a
 * wait whose word still holds the value sleeps until its timeout or a
 * signal, as it would on Linux with no one left to wake it. WAKE_OP still
 * does its operation. glibc's locks and condition variables, Python's and
 * Go's runtime, call these. */
#include "shim.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define NSEC 1000000000LL

static int64_t word(uint64_t uaddr, int write)
{
	if (uaddr & 3)
		return -EINVAL;
	if (ukf_user_access(uaddr, 4, write) != 4)
		return -EFAULT;
	return 0;
}

static int64_t timeout_ns(uint64_t uts, int absolute, int32_t clk, int64_t *ns);

/* Sleep until the timeout at uts (relative, or absolute on clk), or a
 * signal: -ETIMEDOUT or -EINTR. No timeout: until a signal. */
static int64_t wait(uint64_t uts, int absolute, int32_t clk)
{
	int64_t ns;
	int64_t r = timeout_ns(uts, absolute, clk, &ns);
	if (r < 0)
		return r;
	if (ns == 0)
		return -ETIMEDOUT;
	struct ukf_hc_nanosleep s = { .duration = ns < 0 ? INT64_MAX : ns };
	r = ukf_hcall(UKF_HC_NANOSLEEP, &s);
	return r == 0 ? -ETIMEDOUT : r;
}

/* FUTEX_WAKE_OP's operation on *uaddr2; 0 or -errno. */
static int64_t wake_op(uint64_t uaddr2, uint32_t op)
{
	int64_t r = word(uaddr2, 1);
	if (r < 0)
		return r;
	uint32_t kind = (op >> 28) & 7, cmp = (op >> 24) & 15;
	uint32_t oparg = (op >> 12) & 0xfff, cmparg = op & 0xfff;
	if (op & (1u << 31)) /* FUTEX_OP_OPARG_SHIFT */
		oparg = oparg < 32 ? 1u << oparg : 0;
	if (kind > 4 || cmp > 5)
		return -ENOSYS;
	uint32_t *w = UKF_UPTR(uint32_t, uaddr2);
	uint32_t old = *w;
	switch (kind) {
	case 0: *w = oparg; break;
	case 1: *w = old + oparg; break;
	case 2: *w = old | oparg; break;
	case 3: *w = old & ~oparg; break;
	case 4: *w = old ^ oparg; break;
	}
	(void)cmparg; /* the comparison decides whom to wake: there is no one */
	return 0;
}

/* The timeout of a wait as ns from now (-1: none), or -errno. */
static int64_t timeout_ns(uint64_t uts, int absolute, int32_t clk, int64_t *ns)
{
	*ns = -1;
	if (!uts)
		return 0;
	if (!ukf_user_ok(uts, sizeof(struct ukf_timespec)))
		return -EFAULT;
	struct ukf_timespec ts = *UKF_UPTR(struct ukf_timespec, uts);
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC)
		return -EINVAL;
	*ns = ts.tv_sec >= INT64_MAX / NSEC ? INT64_MAX : ts.tv_sec * NSEC + ts.tv_nsec;
	if (absolute && *ns != INT64_MAX) {
		int64_t now;
		ukf_clock_ns(clk, &now);
		*ns = *ns > now ? *ns - now : 0;
	}
	return 0;
}

/* The operations the host serves on shared memory (not the PI ones). */
static int host_op(int32_t cmd)
{
	switch (cmd) {
	case FUTEX_WAIT: case FUTEX_WAKE: case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE:
	case FUTEX_WAKE_OP: case FUTEX_WAIT_BITSET: case FUTEX_WAKE_BITSET:
		return 1;
	}
	return 0;
}

/* A shared futex on shared memory: the host's. */
static int64_t shared_futex(int32_t cmd, uint64_t uaddr, uint32_t val, uint64_t utime,
			    uint64_t uaddr2, uint32_t val3, int32_t clk)
{
	struct ukf_hc_futex f = { .op = (uint32_t)cmd, .val = val, .uaddr = uaddr, .uaddr2 = uaddr2,
				  .timeout = -1, .val3 = val3 };
	int64_t r;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if ((r = timeout_ns(utime, cmd == FUTEX_WAIT_BITSET, clk, &f.timeout)) < 0)
			return r;
		if (cmd == FUTEX_WAIT)
			f.val3 = ~0u;
		break;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_WAKE_OP:
		f.val2 = (uint32_t)utime; /* the second count travels in the timeout's place */
		if ((r = word(uaddr2, cmd == FUTEX_WAKE_OP)) < 0)
			return r;
		break;
	case FUTEX_WAKE:
		f.val3 = ~0u;
		break;
	}
	return ukf_hcall(UKF_HC_FUTEX, &f);
}

UKF_SYSCALL6(futex, uint64_t, uaddr, int32_t, op, uint32_t, val, uint64_t, utime,
	     uint64_t, uaddr2, uint32_t, val3)
{
	int32_t cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	int32_t clk = (op & FUTEX_CLOCK_REALTIME) ? UKF_CLOCK_REALTIME : UKF_CLOCK_MONOTONIC;
	int64_t r;

	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	if (!(op & FUTEX_PRIVATE_FLAG) && host_op(cmd) && !(uaddr & 3) &&
	    ukf_user_access(uaddr, 4, 0) == 4 && ukf_mm_is_shm(uaddr)) {
		if ((cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAKE_BITSET) && val3 == 0)
			return -EINVAL;
		return shared_futex(cmd, uaddr, val, utime, uaddr2, val3, clk);
	}
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (cmd == FUTEX_WAIT_BITSET && val3 == 0)
			return -EINVAL;
		if ((r = word(uaddr, 0)) < 0)
			return r;
		if (__atomic_load_n(UKF_UPTR(uint32_t, uaddr), __ATOMIC_SEQ_CST) != val)
			return -EAGAIN;
		return wait(utime, cmd == FUTEX_WAIT_BITSET, clk);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (cmd == FUTEX_WAKE_BITSET && val3 == 0)
			return -EINVAL;
		r = word(uaddr, 0);
		return r < 0 ? r : 0;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if ((r = word(uaddr, 0)) < 0 || (r = word(uaddr2, 0)) < 0)
			return r;
		if (cmd == FUTEX_CMP_REQUEUE && *UKF_UPTR(uint32_t, uaddr) != val3)
			return -EAGAIN;
		return 0;
	case FUTEX_WAKE_OP:
		if ((r = word(uaddr, 0)) < 0)
			return r;
		return wake_op(uaddr2, val3);
	default:
		return -ENOSYS; /* the PI and LOCK ops */
	}
}
