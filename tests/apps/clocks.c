/* clocks: realtime agrees with the host, monotonic moves forward, sleeps last. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
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
	return 0;
}
