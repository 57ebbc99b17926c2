/* pipebench MIB: a child writes MIB MiB into a pipe in 64 KiB writes, the
 * parent reads it; prints the throughput in MiB/s (best of 5 rounds). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int mib = argc > 1 ? atoi(argv[1]) : 64;
	static char buf[64 << 10];
	double best = 0, sum = 0;
	for (int round = 0; round < 5; round++) {
		int p[2];
		pipe(p);
		double t0 = now();
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			memset(buf, 'x', sizeof buf);
			for (int i = 0; i < mib * 16; i++)
				if (write(p[1], buf, sizeof buf) != sizeof buf)
					_exit(1);
			_exit(0);
		}
		close(p[1]);
		long total = 0;
		ssize_t n;
		while ((n = read(p[0], buf, sizeof buf)) > 0)
			total += n;
		double dt = now() - t0;
		close(p[0]);
		waitpid(pid, NULL, 0);
		if (total != (long)mib << 20)
			return 1;
		double rate = mib / dt;
		sum += rate;
		if (rate > best)
			best = rate;
	}
	printf("pipe 64KiB writes MiB/s best %.0f mean %.0f\n", best, sum / 5);
	return 0;
}
