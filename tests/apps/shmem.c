/* shmem: MAP_SHARED|MAP_ANONYMOUS memory stays one copy across fork:
 * children and grandchildren add to counters the parent reads, writes go
 * both ways, a read(2) into it is seen by the others, while a private
 * mapping stays copied; munmap and mprotect in a child leave the parent
 * alone; madvise keeps the contents; exec leaves it behind. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	if (argc > 1) { /* exec'd by a child: a fresh program */
		printf("exec'd program runs: %s\n", argv[1]);
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	long *sh = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long *pv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pv == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	printf("fresh shared memory reads zero: %d\n", sh[0] == 0 && sh[(1 << 20) / 8 - 1] == 0);

	/* Four children, each with a grandchild, add to one counter. */
	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			pid_t g = fork();
			for (int k = 0; k < 1000; k++)
				__atomic_add_fetch(&sh[0], 1, __ATOMIC_SEQ_CST);
			sh[1 + i] = 100 + i;
			pv[0] = 5; /* private: the parent never sees it */
			if (g == 0)
				_exit(0);
			_exit(status_of(g));
		}
	}
	int bad = 0;
	for (int i = 0; i < 4; i++)
		bad += status_of(kids[i]) != 0;
	printf("counter %ld (want 8000), slots %ld %ld %ld %ld, private %ld, bad children %d\n",
	       sh[0], sh[1], sh[2], sh[3], sh[4], pv[0], bad);

	/* Both ways, in turn, through a pipe. */
	int p[2], q[2];
	pipe(p);
	pipe(q);
	pid_t c = fork();
	if (c == 0) {
		char b;
		read(p[0], &b, 1);
		printf("child sees the parent's write: %ld\n", sh[10]);
		sh[11] = 77;
		/* The host writes into shared memory: a read(2) lands there. */
		read(p[0], (char *)&sh[20], 6);
		write(q[1], "x", 1);
		/* The child's own view goes; the parent's stays. */
		mprotect(sh, 4096, PROT_READ);
		munmap((char *)sh + (512 << 10), 512 << 10);
		read(p[0], &b, 1);
		printf("child after mprotect reads: %ld\n", sh[10]);
		sh[10] = 1; /* SIGSEGV */
		_exit(0);
	}
	sh[10] = 42;
	write(p[1], "g", 1);
	write(p[1], "hello!", 6);
	char b;
	read(q[0], &b, 1);
	printf("parent sees the child's write: %ld, and its read: %.6s\n", sh[11], (char *)&sh[20]);
	write(p[1], "g", 1);
	printf("child's write to its read-only view: status %d\n", status_of(c));
	sh[(768 << 10) / 8] = 9;
	sh[10] = 43;
	printf("parent still writes both halves: %ld %ld\n", sh[10], sh[(768 << 10) / 8]);

	/* madvise(DONTNEED) on shared memory keeps what others see. */
	madvise(sh, 1 << 20, MADV_DONTNEED);
	printf("after MADV_DONTNEED: %ld %ld\n", sh[10], sh[0]);

	/* A child that execs leaves its mappings; the parent keeps the object. */
	if ((c = fork()) == 0) {
		sh[30] = 30;
		execl("/proc/self/exe", argv[0], "after exec", (char *)NULL);
		execl(argv[0], argv[0], "after exec", (char *)NULL);
		_exit(99);
	}
	int st = status_of(c);
	printf("exec child status %d, its write before exec: %ld\n", st, sh[30]);

	/* Many objects come and go. */
	int ok = 1;
	for (int i = 0; i < 200; i++) {
		long *m = mmap(NULL, 8192 * (1 + i % 4), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			ok = 0;
			break;
		}
		m[0] = i;
		ok &= m[0] == i && m[1] == 0;
		munmap(m, 8192 * (1 + i % 4));
	}
	printf("200 objects made and dropped: %d\n", ok);

	/* A large reservation of shared memory costs only what is touched. */
	size_t big = (size_t)256 << 20;
	char *lg = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lg == MAP_FAILED) {
		perror("mmap 256 MiB shared");
		return 1;
	}
	if ((c = fork()) == 0) {
		lg[big - 1] = 'z';
		lg[big / 2] = 'm';
		_exit(0);
	}
	status_of(c);
	printf("256 MiB shared, child wrote at the end and middle: %c %c\n", lg[big - 1], lg[big / 2]);
	return 0;
}
