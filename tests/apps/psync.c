/* psync: synchronisation between processes through shared memory, the
 * way glibc and musl do it with futexes: a process-shared mutex and
 * condition variable, a process-shared semaphore ping-pong, raw futex
 * waits and wakes (counts, EAGAIN, timeouts, bitsets, requeue). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* linux/futex.h's, which musl-gcc does not reach. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_OP_ADD 1
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP(op, oparg, cmp, cmparg) \
	((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sem_t ping, pong;
	long counter, ready, turn;
	uint32_t word, word2, started;
};

static long fx(uint32_t *w, int op, uint32_t val, const struct timespec *ts, uint32_t *w2, uint32_t val3)
{
	return syscall(SYS_futex, w, op, val, ts, w2, val3);
}

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static void wait_all(int n)
{
	for (int i = 0; i < n; i++)
		wait(NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->mu, &ma);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&s->cv, &ca);
	sem_init(&s->ping, 1, 0);
	sem_init(&s->pong, 1, 0);

	/* A mutex four processes take turns at. */
	for (int i = 0; i < 4; i++)
		if (fork() == 0) {
			for (int k = 0; k < 500; k++) {
				pthread_mutex_lock(&s->mu);
				long v = s->counter;
				if (k % 50 == 0)
					usleep(100); /* hold it while others wait */
				s->counter = v + 1;
				pthread_mutex_unlock(&s->mu);
			}
			_exit(0);
		}
	wait_all(4);
	printf("mutex counter %ld (want 2000)\n", s->counter);

	/* A condition variable: children wait for the parent's word. */
	for (int i = 0; i < 3; i++)
		if (fork() == 0) {
			pthread_mutex_lock(&s->mu);
			s->ready++;
			pthread_cond_broadcast(&s->cv);
			while (s->turn == 0)
				pthread_cond_wait(&s->cv, &s->mu);
			s->counter += 100;
			pthread_mutex_unlock(&s->mu);
			_exit(0);
		}
	pthread_mutex_lock(&s->mu);
	while (s->ready < 3)
		pthread_cond_wait(&s->cv, &s->mu);
	s->turn = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	wait_all(3);
	printf("after the broadcast %ld (want 2300)\n", s->counter);

	/* Semaphores: a ping-pong of 1000 rounds. */
	if (fork() == 0) {
		for (int i = 0; i < 1000; i++) {
			sem_wait(&s->ping);
			sem_post(&s->pong);
		}
		_exit(0);
	}
	for (int i = 0; i < 1000; i++) {
		sem_post(&s->ping);
		sem_wait(&s->pong);
	}
	wait_all(1);
	printf("semaphore ping-pong done\n");

	/* Raw futexes: three waiters, a wake of two, then the last. */
	s->word = 0;
	for (int i = 0; i < 3; i++)
		if (fork() == 0) {
			__atomic_add_fetch(&s->started, 1, __ATOMIC_SEQ_CST);
			long r = fx(&s->word, FUTEX_WAIT, 0, NULL, NULL, 0);
			_exit(r == 0 ? 0 : 1);
		}
	while (__atomic_load_n(&s->started, __ATOMIC_SEQ_CST) < 3)
		usleep(1000);
	usleep(50000); /* all three in the wait */
	printf("wake 2: %ld\n", fx(&s->word, FUTEX_WAKE, 2, NULL, NULL, 0));
	usleep(20000);
	printf("wake all: %ld\n", fx(&s->word, FUTEX_WAKE, 100, NULL, NULL, 0));
	wait_all(3);
	printf("wake with nobody waiting: %ld\n", fx(&s->word, FUTEX_WAKE, 1, NULL, NULL, 0));
	printf("wait on a changed word: %s\n", err(fx(&s->word, FUTEX_WAIT, 5, NULL, NULL, 0)));
	struct timespec ts = { 0, 20000000 };
	printf("wait with a timeout: %s\n", err(fx(&s->word, FUTEX_WAIT, 0, &ts, NULL, 0)));
	printf("bitset 0: %s\n", err(fx(&s->word, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0)));

	/* Requeue: two waiters on word, one woken, one moved to word2. */
	s->started = 0;
	for (int i = 0; i < 2; i++)
		if (fork() == 0) {
			__atomic_add_fetch(&s->started, 1, __ATOMIC_SEQ_CST);
			_exit(fx(&s->word, FUTEX_WAIT, 0, NULL, NULL, 0) == 0 ? 0 : 1);
		}
	while (__atomic_load_n(&s->started, __ATOMIC_SEQ_CST) < 2)
		usleep(1000);
	usleep(50000);
	printf("cmp_requeue, wrong value: %s\n", err(fx(&s->word, FUTEX_CMP_REQUEUE, 1, (void *)1, &s->word2, 9)));
	printf("cmp_requeue 1+1: %ld\n", fx(&s->word, FUTEX_CMP_REQUEUE, 1, (void *)1, &s->word2, 0));
	usleep(20000);
	printf("wake on word2: %ld\n", fx(&s->word2, FUTEX_WAKE, 10, NULL, NULL, 0));
	wait_all(2);

	/* WAKE_OP: add 5 to word2, wake on word, and on word2 if it was 0. */
	s->word2 = 0;
	uint32_t op = FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0);
	long woken = fx(&s->word, FUTEX_WAKE_OP, 1, (void *)1, &s->word2, op);
	printf("wake_op: %ld, word2 now %u\n", woken, s->word2);
	return 0;
}
