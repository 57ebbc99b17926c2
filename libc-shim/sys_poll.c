/* Waiting on descriptors: poll, ppoll, select, pselect6, all through one
 * host poll. ppoll and pselect6 wait with their signal mask in place of
 * the caller's (ukf_sigmask_wait_begin/end). */
#include "shim.h"

#define UKF_POLLIN 0x001
#define UKF_POLLPRI 0x002
#define UKF_POLLOUT 0x004
#define UKF_POLLERR 0x008
#define UKF_POLLHUP 0x010
#define UKF_POLLNVAL 0x020
#define UKF_FD_SETSIZE 1024

struct ukf_pollfd {
	int32_t fd;
	int16_t events, revents;
};

static int64_t host_poll(uint64_t fds, uint64_t nfds, int64_t timeout_ns)
{
	struct ukf_hc_poll p = { .fds = fds, .nfds = nfds, .timeout = timeout_ns };
	return ukf_hcall(UKF_HC_POLL, &p);
}

static int64_t ts_ns(uint64_t uts, int64_t *ns)
{
	if (!uts) {
		*ns = -1;
		return 0;
	}
	if (!ukf_user_ok(uts, sizeof(struct ukf_timespec)))
		return -EFAULT;
	const struct ukf_timespec *ts = UKF_UPTR(const struct ukf_timespec, uts);
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return -EINVAL;
	*ns = ts->tv_sec > 9000000000LL ? INT64_MAX : ts->tv_sec * 1000000000LL + ts->tv_nsec;
	return 0;
}

UKF_SYSCALL3(poll, uint64_t, fds, uint64_t, nfds, int32_t, timeout_ms)
{
	if (nfds > UKF_FD_SETSIZE * 64)
		return -EINVAL;
	if (!ukf_user_ok(fds, nfds * sizeof(struct ukf_pollfd)))
		return -EFAULT;
	return host_poll(fds, nfds, timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}

/* A signal mask argument, checked after the timeout as Linux does. */
static int64_t sigmask_ok(uint64_t set, uint64_t size)
{
	if (!set)
		return 0;
	if (size != 8)
		return -EINVAL;
	return ukf_user_ok(set, 8) ? 0 : -EFAULT;
}

UKF_SYSCALL5(ppoll, uint64_t, fds, uint64_t, nfds, uint64_t, tsp, uint64_t, sigmask, uint64_t, sigsetsize)
{
	int64_t ns;
	int64_t r = ts_ns(tsp, &ns);
	if (r < 0 || (r = sigmask_ok(sigmask, sigsetsize)) < 0)
		return r;
	if (nfds > UKF_FD_SETSIZE * 64)
		return -EINVAL;
	if (!ukf_user_ok(fds, nfds * sizeof(struct ukf_pollfd)))
		return -EFAULT;
	if (sigmask)
		ukf_sigmask_wait_begin(*UKF_UPTR(const uint64_t, sigmask));
	r = host_poll(fds, nfds, ns);
	if (sigmask)
		ukf_sigmask_wait_end(r);
	return r;
}

/* select through poll: fd_sets to pollfds and back. */
static struct ukf_pollfd sel[UKF_FD_SETSIZE];

static int64_t select_poll(int32_t n, uint64_t rp, uint64_t wp, uint64_t ep, int64_t ns)
{
	if (n < 0)
		return -EINVAL;
	if (n > UKF_FD_SETSIZE) /* Linux cuts n at its fd table's size */
		n = UKF_FD_SETSIZE;
	uint64_t bytes = ((uint64_t)n + 63) / 64 * 8;
	uint64_t *sets[3] = { 0, 0, 0 };
	uint64_t ptrs[3] = { rp, wp, ep };
	for (int s = 0; s < 3; s++) {
		if (!ptrs[s])
			continue;
		if (!ukf_user_ok(ptrs[s], bytes))
			return -EFAULT;
		sets[s] = UKF_UPTR(uint64_t, ptrs[s]);
	}
	uint32_t cnt = 0;
	for (int32_t fd = 0; fd < n; fd++) {
		int16_t ev = 0;
		uint64_t bit = 1ULL << (fd % 64);
		if (sets[0] && (sets[0][fd / 64] & bit))
			ev |= UKF_POLLIN;
		if (sets[1] && (sets[1][fd / 64] & bit))
			ev |= UKF_POLLOUT;
		if (sets[2] && (sets[2][fd / 64] & bit))
			ev |= UKF_POLLPRI;
		if (ev)
			sel[cnt++] = (struct ukf_pollfd){ .fd = fd, .events = ev };
	}
	int64_t r = host_poll((uint64_t)(uintptr_t)sel, cnt, ns);
	if (r < 0)
		return r;
	for (int s = 0; s < 3; s++)
		if (sets[s])
			memset(sets[s], 0, bytes);
	int64_t ready = 0;
	for (uint32_t i = 0; i < cnt; i++) {
		int32_t fd = sel[i].fd;
		int16_t re = sel[i].revents;
		uint64_t bit = 1ULL << (fd % 64);
		if (re & UKF_POLLNVAL)
			return -EBADF;
		if (sets[0] && (sel[i].events & UKF_POLLIN) && (re & (UKF_POLLIN | UKF_POLLHUP | UKF_POLLERR))) {
			sets[0][fd / 64] |= bit;
			ready++;
		}
		if (sets[1] && (sel[i].events & UKF_POLLOUT) && (re & (UKF_POLLOUT | UKF_POLLERR))) {
			sets[1][fd / 64] |= bit;
			ready++;
		}
		if (sets[2] && (sel[i].events & UKF_POLLPRI) && (re & UKF_POLLPRI)) {
			sets[2][fd / 64] |= bit;
			ready++;
		}
	}
	return ready;
}

UKF_SYSCALL5(select, int32_t, n, uint64_t, rp, uint64_t, wp, uint64_t, ep, uint64_t, tvp)
{
	int64_t ns = -1;
	if (tvp) {
		if (!ukf_user_ok(tvp, sizeof(struct ukf_timeval)))
			return -EFAULT;
		const struct ukf_timeval *tv = UKF_UPTR(const struct ukf_timeval, tvp);
		if (tv->tv_sec < 0 || tv->tv_usec < 0)
			return -EINVAL;
		ns = tv->tv_sec * 1000000000LL + (tv->tv_usec % 1000000) * 1000;
	}
	return select_poll(n, rp, wp, ep, ns);
}

UKF_SYSCALL6(pselect6, int32_t, n, uint64_t, rp, uint64_t, wp, uint64_t, ep, uint64_t, tsp, uint64_t, sig)
{
	/* sig points at { const sigset_t *set; size_t size; }. */
	uint64_t set = 0, size = 0;
	if (sig) {
		if (!ukf_user_ok(sig, 16))
			return -EFAULT;
		set = UKF_UPTR(const uint64_t, sig)[0];
		size = UKF_UPTR(const uint64_t, sig)[1];
	}
	int64_t ns;
	int64_t r = ts_ns(tsp, &ns);
	if (r < 0 || (r = sigmask_ok(set, size)) < 0)
		return r;
	if (set)
		ukf_sigmask_wait_begin(*UKF_UPTR(const uint64_t, set));
	r = select_poll(n, rp, wp, ep, ns);
	if (set)
		ukf_sigmask_wait_end(r);
	return r;
}

/* ---- epoll: the interest list is the host's; waiting as ppoll waits ------ */

#define UKF_EPOLL_CTL_DEL 2
#define UKF_EPOLL_EVENT_SIZE 12 /* struct epoll_event, packed on x86-64 */

UKF_SYSCALL1(epoll_create1, int32_t, flags)
{
	struct ukf_hc_epoll_create c = { .flags = (uint32_t)flags };
	return ukf_hcall(UKF_HC_EPOLL_CREATE, &c);
}

UKF_SYSCALL1(epoll_create, int32_t, size)
{
	if (size <= 0)
		return -EINVAL;
	struct ukf_hc_epoll_create c = { 0 };
	return ukf_hcall(UKF_HC_EPOLL_CREATE, &c);
}

UKF_SYSCALL4(epoll_ctl, int32_t, epfd, int32_t, op, int32_t, fd, uint64_t, event)
{
	struct ukf_hc_epoll_ctl c = {
		.epfd = epfd, .op = op, .fd = fd,
		.event = op == UKF_EPOLL_CTL_DEL ? 0 : ukf_user_arg(event, UKF_EPOLL_EVENT_SIZE),
	};
	return ukf_hcall(UKF_HC_EPOLL_CTL, &c);
}

static int64_t epoll_wait_ns(int32_t epfd, uint64_t events, int32_t max, int64_t ns,
			     uint64_t sigmask, uint64_t sigsetsize)
{
	int64_t r = sigmask_ok(sigmask, sigsetsize);
	if (r < 0)
		return r;
	/* The host checks maxevents first, then the buffer (the span is
	 * made present here) and the fd. */
	uint64_t len = max > 0 ? (uint64_t)max * UKF_EPOLL_EVENT_SIZE : 0;
	struct ukf_hc_epoll_wait w = {
		.epfd = epfd, .maxevents = max, .timeout = ns,
		.events = len && ukf_user_ok(events, len) ? events : UKF_USER_BAD,
	};
	if (sigmask)
		ukf_sigmask_wait_begin(*UKF_UPTR(const uint64_t, sigmask));
	r = ukf_hcall(UKF_HC_EPOLL_WAIT, &w);
	if (sigmask)
		ukf_sigmask_wait_end(r);
	return r;
}

static int64_t ms_ns(int32_t ms) { return ms < 0 ? -1 : (int64_t)ms * 1000000; }

UKF_SYSCALL4(epoll_wait, int32_t, epfd, uint64_t, events, int32_t, max, int32_t, timeout_ms)
{
	return epoll_wait_ns(epfd, events, max, ms_ns(timeout_ms), 0, 0);
}

UKF_SYSCALL6(epoll_pwait, int32_t, epfd, uint64_t, events, int32_t, max, int32_t, timeout_ms,
	     uint64_t, sigmask, uint64_t, sigsetsize)
{
	return epoll_wait_ns(epfd, events, max, ms_ns(timeout_ms), sigmask, sigsetsize);
}

UKF_SYSCALL6(epoll_pwait2, int32_t, epfd, uint64_t, events, int32_t, max, uint64_t, tsp,
	     uint64_t, sigmask, uint64_t, sigsetsize)
{
	int64_t ns;
	int64_t r = ts_ns(tsp, &ns);
	if (r < 0)
		return r;
	return epoll_wait_ns(epfd, events, max, ns, sigmask, sigsetsize);
}
