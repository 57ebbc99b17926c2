/* killbench N: kill() to a handler in another process and back, N times:
 * prints the one-way latency (half the round trip) in microseconds. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static volatile sig_atomic_t hits;
static void on_usr1(int s) { (void)s; hits++; }

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 500;
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			while (hits <= i)
				sigsuspend(&old);
			kill(parent, SIGUSR1);
		}
		_exit(0);
	}
	double *one = calloc(n, sizeof(double));
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		kill(pid, SIGUSR1);
		while (hits <= i)
			sigsuspend(&old);
		one[i] = (now_us() - t0) / 2;
	}
	waitpid(pid, NULL, 0);
	double first = one[0], h = n >= 100 ? one[99] : one[n - 1];
	qsort(one, n, sizeof *one, cmp_double);
	printf("kill to handler, one way median %.1f first %.1f 100th %.1f\n", one[n / 2], first, h);
	return 0;
}
