/* Pipe rings (abi.h, "Pipe rings"): read and write a pipe that every VM
 * holding an end maps, without an exit. Whatever this cannot finish at once
 * (an empty or full ring after a short poll, a closed other end, a pending
 * signal, a lock held too long) goes to the host as an ordinary read or
 * write, which blocks, raises SIGPIPE and gives EINTR as it does for any
 * pipe. Nothing read from the ring is trusted beyond its bounds. */
#include "shim.h"

/* How long an empty (full) ring is polled before the host blocks the call:
 * adapted as KVM adapts halt polling. A wait in the host that ended within
 * RING_POLL_MAX_US would have been caught by polling that long: the budget
 * grows; a longer one means polling was wasted: it shrinks. A process that
 * waits long for its pipes (a parent waiting for a child) soon stops
 * spinning, and keeps the CPU for the others; a stream keeps polling. */
#define RING_POLL_MAX_US 200
#define RING_POLL_MIN_US 10
static uint64_t poll_us = RING_POLL_MIN_US;

void ukf_ring_blocked(uint64_t cycles)
{
	uint64_t khz = ukf_boot->tsc_khz;
	if (!khz)
		return;
	uint64_t us = cycles * 1000 / khz;
	if (us <= RING_POLL_MAX_US) {
		poll_us = poll_us ? poll_us * 2 : RING_POLL_MIN_US;
		if (poll_us > RING_POLL_MAX_US)
			poll_us = RING_POLL_MAX_US;
	} else {
		poll_us /= 2;
		if (poll_us < RING_POLL_MIN_US)
			poll_us = 0;
	}
}

static volatile struct ukf_ring *ring_of(int32_t fd, int write, unsigned *slot)
{
	if (fd < 0 || fd >= UKF_FD_RING_MAX)
		return 0;
	uint8_t v = ukf_boot->fd_ring[fd];
	if (!v || !(v & UKF_FDR_WRITE) != !write)
		return 0;
	*slot = (v & UKF_FDR_SLOT) - 1u;
	if (*slot >= UKF_RING_SLOTS)
		return 0;
	return UKF_UPTR(volatile struct ukf_ring, UKF_RING_AREA + *slot * UKF_RING_SIZE);
}

static int ring_lock(volatile struct ukf_ring *r)
{
	uint32_t me = (uint32_t)ukf_boot->pid;
	for (int i = 0; i < 100000; i++) {
		uint32_t free = 0;
		if (__atomic_compare_exchange_n(&r->lock, &free, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 1;
		__builtin_ia32_pause();
	}
	return 0;
}

static void ring_unlock(volatile struct ukf_ring *r)
{
	__atomic_store_n(&r->lock, 0, __ATOMIC_RELEASE);
}

/* wake_if clears a wait flag found set and wakes the host's waiters. The
 * index was stored with a full barrier first: a waiter that set its flag
 * after our look sees the new index. */
static void wake_if(volatile struct ukf_ring *r, uint32_t flag, unsigned slot)
{
	if (!(__atomic_load_n(&r->flags, __ATOMIC_SEQ_CST) & flag))
		return;
	__atomic_fetch_and(&r->flags, ~flag, __ATOMIC_SEQ_CST);
	ukf_hcall_value(UKF_HC_RING_WAKE, slot);
}

/* poll_until waits a little for *word to move from seen, a flag, or a
 * signal; 1 if it is worth trying again. */
static int poll_until(volatile uint64_t *word, uint64_t seen, volatile uint32_t *flags,
		      uint32_t flag, uint64_t *deadline)
{
	uint64_t khz = ukf_boot->tsc_khz;
	if (!khz)
		return 0;
	uint64_t now = ukf_rdtsc();
	if (!*deadline)
		*deadline = now + poll_us * khz / 1000;
	while (*word == seen && !(*flags & flag) && !ukf_boot->sig_pending) {
		if (ukf_rdtsc() >= *deadline)
			return 0;
		__builtin_ia32_pause();
	}
	return !ukf_boot->sig_pending;
}

int ukf_is_ring(int32_t fd)
{
	return fd >= 0 && fd < UKF_FD_RING_MAX && ukf_boot->fd_ring[fd] != 0;
}

/* ring_enter takes the lock and reads the ring's state; 0 (not locked) when
 * the host should answer: the lock stays taken, or the indices are broken
 * (EIO from the host). */
static int ring_enter(volatile struct ukf_ring *r, uint64_t *h, uint64_t *t, uint32_t *fl)
{
	if (!ring_lock(r))
		return 0;
	*h = r->head;
	*t = r->tail;
	*fl = r->flags;
	if (*h - *t > UKF_RING_CAP) {
		ring_unlock(r);
		return 0;
	}
	return 1;
}

/* ring_copy moves k bytes between the ring (from byte count pos on) and the
 * iovecs (from byte skip on); to_ring says which way. */
static void ring_copy(volatile struct ukf_ring *r, uint64_t pos, const struct ukf_iovec *iov,
		      int cnt, uint64_t skip, uint64_t k, int to_ring)
{
	for (int i = 0; i < cnt && k > 0; i++) {
		uint64_t len = iov[i].len;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		uint8_t *p = UKF_UPTR(uint8_t, iov[i].base) + skip;
		uint64_t n = len - skip < k ? len - skip : k;
		skip = 0;
		for (uint64_t done = 0; done < n;) {
			uint64_t off = pos % UKF_RING_CAP;
			uint64_t c = UKF_RING_CAP - off < n - done ? UKF_RING_CAP - off : n - done;
			if (to_ring)
				memcpy((void *)&r->data[off], p + done, c);
			else
				memcpy(p + done, (const void *)&r->data[off], c);
			done += c;
			pos += c;
		}
		k -= n;
	}
}

/* ring_iov checks a vector the program gave: its total, or -1 when the
 * host should answer (a bad pointer, too much). */
static int64_t ring_iov(const struct ukf_iovec *iov, int cnt)
{
	uint64_t total = 0;
	if (cnt < 0 || cnt > UKF_UIO_MAXIOV)
		return -1;
	for (int i = 0; i < cnt; i++) {
		if (!ukf_user_ok(iov[i].base, iov[i].len) || iov[i].len > UKF_MAX_RW_COUNT)
			return -1;
		total += iov[i].len;
		if (total > UKF_MAX_RW_COUNT)
			return -1;
	}
	return (int64_t)total;
}

int64_t ukf_ring_readv(int32_t fd, const struct ukf_iovec *iov, int cnt)
{
	unsigned slot;
	volatile struct ukf_ring *r = ring_of(fd, 0, &slot);
	uint64_t deadline = 0;
	int64_t n = r ? ring_iov(iov, cnt) : -1;
	if (n <= 0) /* nothing to read is 0 at once on Linux */
		return n == 0 ? 0 : UKF_RING_HOST;
	for (;;) {
		uint64_t h, t;
		uint32_t fl;
		if (!ring_enter(r, &h, &t, &fl))
			return UKF_RING_HOST;
		uint64_t used = h - t;
		if (used) {
			uint64_t k = used < (uint64_t)n ? used : (uint64_t)n;
			ring_copy(r, t, iov, cnt, 0, k, 0);
			__atomic_store_n(&r->tail, t + k, __ATOMIC_SEQ_CST);
			ring_unlock(r);
			wake_if(r, UKF_RING_WWAIT, slot);
			return (int64_t)k;
		}
		ring_unlock(r);
		if (fl & UKF_RING_NOWRITERS)
			return 0;
		if (fl & UKF_RING_RNONBLOCK)
			return -EAGAIN;
		if (!poll_until(&r->head, h, &r->flags, UKF_RING_NOWRITERS, &deadline))
			return UKF_RING_HOST;
	}
}

/* ukf_ring_writev writes what it can; *done says how much when it hands
 * the rest to the host. */
int64_t ukf_ring_writev(int32_t fd, const struct ukf_iovec *iov, int cnt, uint64_t *done)
{
	unsigned slot;
	volatile struct ukf_ring *r = ring_of(fd, 1, &slot);
	uint64_t deadline = 0;
	*done = 0;
	int64_t n = r ? ring_iov(iov, cnt) : -1;
	if (n <= 0)
		return UKF_RING_HOST;
	for (;;) {
		uint64_t h, t;
		uint32_t fl;
		if (!ring_enter(r, &h, &t, &fl))
			return UKF_RING_HOST;
		if (fl & UKF_RING_NOREADERS) {
			ring_unlock(r);
			return UKF_RING_HOST; /* EPIPE and SIGPIPE */
		}
		uint64_t used = h - t, rem = (uint64_t)n - *done;
		uint64_t space = UKF_RING_CAP - used;
		if (space == 0 || (rem <= UKF_PIPE_BUF && space < rem)) {
			ring_unlock(r);
			if (fl & UKF_RING_WNONBLOCK)
				return *done ? (int64_t)*done : -EAGAIN;
			if (!poll_until(&r->tail, t, &r->flags, UKF_RING_NOREADERS, &deadline))
				return UKF_RING_HOST;
			continue;
		}
		uint64_t k = rem < space ? rem : space;
		ring_copy(r, h, iov, cnt, *done, k, 1);
		__atomic_store_n(&r->head, h + k, __ATOMIC_SEQ_CST);
		ring_unlock(r);
		wake_if(r, UKF_RING_RWAIT, slot);
		*done += k;
		if (*done == (uint64_t)n)
			return n;
		if (fl & UKF_RING_WNONBLOCK)
			return (int64_t)*done;
	}
}
