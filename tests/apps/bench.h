/* What the benchmark programs share: a clock in microseconds, and the
 * "NAME median X first Y 100th Z" line ukfork bench compare reads. */
#ifndef UKFORK_BENCH_H
#define UKFORK_BENCH_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Print the median, first and 100th of n samples (v is sorted after). */
static inline void report(const char *what, double *v, int n)
{
	double first = v[0], hundredth = n >= 100 ? v[99] : v[n - 1];
	qsort(v, n, sizeof *v, cmp_double);
	printf("%s median %.2f first %.2f 100th %.2f\n", what, v[n / 2], first, hundredth);
}
#endif
