/* mmbench N: what the address space costs, N times each, in microseconds:
 * mmap and munmap of 64 KiB anonymous, mprotect of 64 KiB to read-only and back,
 * the first touch of a fresh page (a 4 MiB mapping touched page by page,
 * per page), a demand-populated page of a 64 MiB mapping (per page), a
 * fault handled by a SIGSEGV handler that fixes the protection, and a
 * 64 GiB PROT_NONE reservation with its munmap. Output for ukfork bench
 * compare: "NAME median X first Y 100th Z". */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *name, double *v, int n)
{
	double first = v[0], h = n >= 100 ? v[99] : v[n - 1];
	qsort(v, n, sizeof *v, cmp);
	printf("%s median %.2f first %.2f 100th %.2f\n", name, v[n / 2], first, h);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	mprotect((void *)((uintptr_t)si->si_addr & ~4095UL), 4096, PROT_READ | PROT_WRITE);
}

#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	double *v = calloc(n, sizeof(double));

	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		char *p = mmap(0, 65536, PROT_READ | PROT_WRITE, ANON, -1, 0);
		munmap(p, 65536);
		v[i] = now_us() - t0;
	}
	report("mmap and munmap 64 KiB", v, n);

	char *p = mmap(0, 65536, PROT_READ | PROT_WRITE, ANON, -1, 0);
	for (int i = 0; i < 65536; i += 4096)
		p[i] = 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		mprotect(p, 65536, PROT_READ);
		mprotect(p, 65536, PROT_READ | PROT_WRITE);
		v[i] = now_us() - t0;
	}
	report("mprotect 64 KiB RO and back", v, n);

	for (int i = 0; i < n; i++) {
		char *q = mmap(0, 4 << 20, PROT_READ | PROT_WRITE, ANON, -1, 0);
		double t0 = now_us();
		for (int k = 0; k < (4 << 20); k += 4096)
			q[k] = 1;
		v[i] = (now_us() - t0) / 1024;
		munmap(q, 4 << 20);
	}
	report("first touch per page (4 MiB)", v, n);

	for (int i = 0; i < n; i++) {
		char *q = mmap(0, 64 << 20, PROT_READ | PROT_WRITE, ANON, -1, 0);
		double t0 = now_us();
		for (int k = 0; k < (4 << 20); k += 4096)
			q[k] = 1;
		v[i] = (now_us() - t0) / 1024;
		munmap(q, 64 << 20);
	}
	report("demand page per page (64 MiB map)", v, n);

	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	sigaction(SIGSEGV, &sa, 0);
	volatile char *ro = mmap(0, 4096, PROT_READ | PROT_WRITE, ANON, -1, 0);
	ro[0] = 1;
	for (int i = 0; i < n; i++) {
		mprotect((void *)ro, 4096, PROT_READ);
		double t0 = now_us();
		ro[0] = 2;
		v[i] = now_us() - t0;
	}
	report("write fault fixed by a handler", v, n);

	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		char *r = mmap(0, 64UL << 30, PROT_NONE, ANON | MAP_NORESERVE, -1, 0);
		munmap(r, 64UL << 30);
		v[i] = now_us() - t0;
	}
	report("reserve and munmap 64 GiB", v, n);
	return 0;
}
