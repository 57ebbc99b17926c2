/* clocks: realtime agrees with the host, monotonic moves forward, sleeps last. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

static long long ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long long host = argc > 1 ? atoll(argv[1]) : 0; /* host realtime at launch, s */
	long long rt = ns(CLOCK_REALTIME) / 1000000000LL;
	printf("realtime within 60s of host: %d\n", llabs(rt - host) < 60);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	printf("gettimeofday agrees: %d\n", llabs(tv.tv_sec - rt) <= 1);
	printf("time agrees: %d\n", llabs(time(NULL) - rt) <= 1);
	long long m0 = ns(CLOCK_MONOTONIC), prev = m0;
	int mono = 1;
	for (int i = 0; i < 100000; i++) {
		long long m = ns(CLOCK_MONOTONIC);
		if (m < prev)
			mono = 0;
		prev = m;
	}
	printf("monotonic never goes back: %d\n", mono);
	struct timespec req = {0, 50 * 1000000};
	long long t0 = ns(CLOCK_MONOTONIC);
	nanosleep(&req, NULL);
	long long slept = ns(CLOCK_MONOTONIC) - t0;
	printf("nanosleep 50ms slept >=50ms: %d, <2s: %d\n", slept >= 50000000, slept < 2000000000LL);
	t0 = ns(CLOCK_MONOTONIC);
	clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
	printf("clock_nanosleep ok: %d\n", ns(CLOCK_MONOTONIC) - t0 >= 50000000);
	struct timespec res;
	printf("clock_getres ok: %d\n", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0);
	struct timespec bad = {0, 2000000000L};
	printf("bad timespec: %d %s\n", nanosleep(&bad, NULL), errno == EINVAL ? "EINVAL" : "other");
	printf("bad clock: %d %s\n", clock_gettime(12345, &res), errno == EINVAL ? "EINVAL" : "other");

	/* Across fork: a child's clocks continue its parent's (one VM each). */
	int p[2];
	pipe(p);
	long long before = ns(CLOCK_MONOTONIC), rbefore = ns(CLOCK_REALTIME);
	if (fork() == 0) {
		long long c[2] = { ns(CLOCK_MONOTONIC), ns(CLOCK_REALTIME) };
		write(p[1], c, sizeof c);
		_exit(0);
	}
	long long c[2];
	read(p[0], c, sizeof c);
	wait(NULL);
	long long after = ns(CLOCK_MONOTONIC);
	printf("child's monotonic between parent's reads: %d\n", c[0] >= before && c[0] <= after);
	printf("child's realtime within 1s of parent's: %d\n", llabs(c[1] - rbefore) < 1000000000LL);
	return 0;
}
