/* vmem: the address space as Linux gives it. A sparse 64 GiB reservation,
 * hints, protection that really holds (every unmapped or downgraded page
 * faults), faults delivered to handlers with si_code and si_addr, a handler
 * that fixes the protection and returns, protection kept across fork, a
 * runaway recursion stopped on an alternate stack, mremap moving contents,
 * code made executable, SIGILL/SIGFPE/SIGTRAP. Prints what it sees; the
 * test compares the output with a native run. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf probe_env;
static volatile int last_sig, last_code;
static volatile uintptr_t last_addr;
static volatile int fix_prot; /* the handler makes the page writable and returns */

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_code = si->si_code;
	last_addr = (uintptr_t)si->si_addr;
	if (fix_prot) {
		fix_prot = 0;
		mprotect((void *)((uintptr_t)si->si_addr & ~4095UL), 4096, PROT_READ | PROT_WRITE);
		return; /* the faulting write runs again */
	}
	siglongjmp(probe_env, 1);
}

static const char *code_name(int sig, int code)
{
	if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
	if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
	if (sig == SIGILL && code == ILL_ILLOPN) return "ILL_ILLOPN";
	if (sig == SIGFPE && code == FPE_INTDIV) return "FPE_INTDIV";
	if (sig == SIGTRAP && code == SI_KERNEL) return "SI_KERNEL";
	if (sig == SIGSEGV && code == SI_KERNEL) return "SI_KERNEL";
	return "other";
}

/* 'r' or 'w' access to p: "ok" or the signal it raised. */
static const char *probe(volatile char *p, char how)
{
	static char buf[64];
	last_sig = 0;
	if (sigsetjmp(probe_env, 1) == 0) {
		if (how == 'w')
			*p = 1;
		else
			(void)*p;
		return "ok";
	}
	snprintf(buf, sizeof(buf), "%s %s addr%s", strsignal(last_sig), code_name(last_sig, last_code),
		 last_addr == (uintptr_t)p ? "=p" : "!=p");
	return buf;
}

static void handle(int sig, int onstack)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | (onstack ? SA_ONSTACK : 0);
	sigaction(sig, &sa, 0);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int depth(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	return depth(n + 1) + pad[0];
}

static void overflow_handler(int sig)
{
	char msg[] = "stack overflow caught on the alternate stack\n";
	(void)sig;
	write(1, msg, sizeof(msg) - 1);
	_exit(3);
}

int main(void)
{
	setvbuf(stdout, 0, _IONBF, 0);
	handle(SIGSEGV, 0);
	handle(SIGILL, 0);
	handle(SIGFPE, 0);
	handle(SIGTRAP, 0);

	/* A 64 GiB reservation costs nothing; 16 MiB in its middle is used. */
	size_t big = 64UL << 30;
	char *res = mmap(0, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	printf("reserve 64 GiB: %s\n", res == MAP_FAILED ? "failed" : "ok");
	char *mid = res + big / 2;
	printf("reserved page: %s\n", probe(mid, 'r'));
	printf("mprotect 16 MiB: %d\n", mprotect(mid, 16 << 20, PROT_READ | PROT_WRITE));
	unsigned long sum = 0;
	for (size_t i = 0; i < (16 << 20); i += 4096)
		mid[i] = (char)(i >> 12);
	for (size_t i = 0; i < (16 << 20); i += 4096)
		sum += (unsigned char)mid[i];
	printf("sum %lu\n", sum);
	printf("past the committed part: %s\n", probe(mid + (16 << 20), 'w'));
	printf("munmap 64 GiB: %d\n", munmap(res, big));
	printf("after munmap: %s\n", probe(mid, 'r'));

	/* A hint anywhere in the space is honoured when free. */
	void *hint = (void *)0xc000000000UL;
	char *h = mmap(hint, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("hint 0xc000000000: %s\n", h == hint ? "honoured" : "moved");
	munmap(h, 1 << 20);

	/* Every unmapped and downgraded page faults; the others keep data. */
	int n = 64;
	char *a = mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < n; i++)
		a[i * 4096] = (char)(i + 1);
	for (int i = 0; i < n; i += 2)
		munmap(a + i * 4096, 4096);
	for (int i = 8; i < 24; i++)
		if (i % 2)
			mprotect(a + i * 4096, 4096, PROT_READ);
	int unmapped_fault = 0, ro_fault = 0, ro_read = 0, kept = 0;
	for (int i = 0; i < n; i++) {
		const char *r = probe(a + i * 4096, 'r');
		if (i % 2 == 0) {
			unmapped_fault += strncmp(r, "Segmentation fault SEGV_MAPERR addr=p", 37) == 0;
		} else if (i >= 8 && i < 24) {
			ro_read += strcmp(r, "ok") == 0 && a[i * 4096] == (char)(i + 1);
			ro_fault += strncmp(probe(a + i * 4096, 'w'), "Segmentation fault SEGV_ACCERR addr=p", 37) == 0;
		} else {
			kept += strcmp(probe(a + i * 4096, 'w'), "ok") == 0 && a[i * 4096] == 1;
		}
	}
	printf("unmapped pages faulting: %d/32, read-only: %d/8 readable %d/8 faulting on write, others kept: %d/24\n",
	       unmapped_fault, ro_read, ro_fault, kept);

	/* A handler that fixes the protection and returns resumes the write. */
	volatile char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fix_prot = 1;
	ro[100] = 42;
	printf("fixed by the handler: value %d, signal %s, %s\n", ro[100], strsignal(last_sig),
	       code_name(last_sig, last_code));

	/* Protection holds in a forked child. */
	mprotect((void *)ro, 4096, PROT_READ);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		ro[0] = 1;
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child writing read-only memory: %s\n",
	       WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
	printf("parent still reads: %d\n", ro[100]);

	/* mremap moves the contents. */
	char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(m, "moved");
	strcpy(m + 4096, "too");
	char *m2 = mremap(m, 8192, 1 << 20, MREMAP_MAYMOVE);
	printf("mremap: %s %s, tail zero %d, old: %s\n", m2, m2 + 4096, m2[(1 << 20) - 1] == 0,
	       m2 != m ? probe(m, 'r') : "in place");

	/* Code written, then made executable; not executable before. */
	unsigned char *code = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const unsigned char ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 }; /* mov $42,%eax; ret */
	memcpy(code, ret42, sizeof(ret42));
	last_sig = 0;
	if (sigsetjmp(probe_env, 1) == 0) {
		((int (*)(void))code)();
		printf("executed a writable page\n");
	} else {
		printf("no-exec page: %s %s\n", strsignal(last_sig), code_name(last_sig, last_code));
	}
	mprotect(code, 4096, PROT_READ | PROT_EXEC);
	printf("jit: %d\n", ((int (*)(void))code)());

	/* Other exceptions. */
	if (sigsetjmp(probe_env, 1) == 0)
		__asm__ volatile("ud2");
	printf("ud2: %s %s\n", strsignal(last_sig), code_name(last_sig, last_code));
	if (sigsetjmp(probe_env, 1) == 0) {
		volatile int z = 0, one = 1;
		printf("%d\n", one / z);
	}
	printf("divide: %s %s\n", strsignal(last_sig), code_name(last_sig, last_code));
	if (sigsetjmp(probe_env, 1) == 0)
		__asm__ volatile("int3");
	printf("int3: %s %s\n", strsignal(last_sig), code_name(last_sig, last_code));

	/* A runaway recursion ends in SIGSEGV, handled on an alternate stack. */
	stack_t ss = { .ss_sp = malloc(1 << 16), .ss_size = 1 << 16 };
	sigaltstack(&ss, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = overflow_handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGSEGV, &sa, 0);
	return depth(0);
}
