/* forkbench N MIB: touch MIB MiB, then fork N times; each child exits at
 * once and the parent waits. Prints, in microseconds, the fork() call as the
 * parent sees it and fork + exit + wait: the median, the first and the 100th. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	size_t mib = argc > 2 ? (size_t)atoi(argv[2]) : 8;
	char *mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(mem, 1, mib << 20);
	double *fork_us = calloc(n, sizeof(double)), *cycle_us = calloc(n, sizeof(double));
	double *child_us = calloc(n, sizeof(double));
	int p[2];
	pipe(p);
	for (int i = 0; i < n; i++) {
		mem[(i * 4096) % (mib << 20)]++; /* the parent changes a page between forks */
		double t0 = now_us();
		pid_t pid = fork();
		if (pid == 0) {
			/* The child's first instructions: read the clock, report it. */
			double tc = now_us();
			write(p[1], &tc, sizeof tc);
			_exit(0);
		}
		double t1 = now_us();
		double tc;
		read(p[0], &tc, sizeof tc);
		int st;
		waitpid(pid, &st, 0);
		double t2 = now_us();
		fork_us[i] = t1 - t0;
		child_us[i] = tc - t0;
		cycle_us[i] = t2 - t0;
	}
	report("fork, parent returns", fork_us, n);
	report("fork to child running", child_us, n);
	report("fork+exit+wait", cycle_us, n);
	return 0;
}
