/* futexes: futex(2) in a single-threaded process, as glibc's locks and
 * language runtimes use it: wakes with no waiter, waits that time out, see
 * a changed word, or are cut by a signal, WAKE_OP's operation, and errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* linux/futex.h, which musl's toolchain lacks */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_CMP_REQUEUE_PRIVATE 132
#define FUTEX_WAKE_OP_PRIVATE 133
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP_ADD 1
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg) \
	((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

static long futex(void *u, int op, uint32_t val, const struct timespec *t, void *u2, uint32_t v3)
{
	return syscall(SYS_futex, u, op, val, t, u2, v3);
}

static void show(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

static void on_alarm(int s) { (void)s; }

int main(void)
{
	static uint32_t w = 5, w2 = 1;
	struct timespec ten_ms = { 0, 10000000 };
	show("wake, no waiter", futex(&w, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	show("wait, word changed", futex(&w, FUTEX_WAIT_PRIVATE, 4, &ten_ms, 0, 0));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	show("wait 10 ms", futex(&w, FUTEX_WAIT_PRIVATE, 5, &ten_ms, 0, 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("slept at least 10 ms: %d\n", ms >= 10);
	struct timespec past = { 1, 0 };
	show("wait_bitset, absolute past", futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, &past, 0, FUTEX_BITSET_MATCH_ANY));
	show("wait_bitset, mask 0", futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, &past, 0, 0));
	show("wait, unaligned", futex((char *)&w + 1, FUTEX_WAIT_PRIVATE, 5, &ten_ms, 0, 0));
	show("wait, bad address", futex((void *)8, FUTEX_WAIT_PRIVATE, 5, &ten_ms, 0, 0));
	struct timespec bad = { 0, 2000000000 };
	show("wait, bad timeout", futex(&w, FUTEX_WAIT_PRIVATE, 5, &bad, 0, 0));
	show("wake_op add 3", futex(&w, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &w2,
				    FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_GT, 0)));
	printf("w2 now %u\n", w2);
	show("cmp_requeue, mismatch", futex(&w, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &w2, 9));
	show("cmp_requeue, match", futex(&w, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &w2, 5));
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, 0);
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	setitimer(ITIMER_REAL, &it, 0);
	show("wait forever, cut by SIGALRM", futex(&w, FUTEX_WAIT_PRIVATE, 5, 0, 0, 0));
	return 0;
}
