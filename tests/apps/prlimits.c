/* prlimits: prlimit64 on other processes of the program (read, set, what
 * the target then sees and enforces, Linux's permission rule, ESRCH once
 * it is gone), sysinfo's process count, and clock_getres of the CPU clocks
 * (CLOCK_PROCESS/THREAD_CPUTIME_ID, clock_getcpuclockid,
 * pthread_getcpuclockid, PROF and VIRT) with EINVAL for bad ids. Values
 * that differ between machines are printed as checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }
static const char *num(int e) { return e ? strerror(e) : "ok"; }

static void res(const char *what, clockid_t id)
{
	struct timespec ts = { 7, 7 };
	long r = clock_getres(id, &ts);
	if (r < 0)
		printf("clock_getres %s: %s\n", what, strerror(errno));
	else
		printf("clock_getres %s: %ld.%09ld\n", what, (long)ts.tv_sec, ts.tv_nsec);
}

/* Linux's encoding of CPU clock ids: ~pid << 3 | thread 4 | which. */
static clockid_t cpuclock(pid_t pid, int thread, int which)
{
	return (clockid_t)((~(unsigned)pid << 3) | (thread ? 4 : 0) | which);
}

static void limits_across(void)
{
	int go[2], done[2];
	if (pipe(go) < 0 || pipe(done) < 0)
		return;
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		char c;
		read(go[0], &c, 1);
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		printf("child sees NOFILE %llu/%llu\n", (unsigned long long)rl.rlim_cur,
		       (unsigned long long)rl.rlim_max);
		int last = -1, fd;
		while ((fd = dup(0)) >= 0)
			last = fd;
		printf("child dups up to fd %d, then %s\n", last, strerror(errno));
		for (fd = 7; fd <= last; fd++)
			close(fd);
		fflush(stdout);
		write(done[1], "x", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	struct rlimit mine, old, nl = { 64, 2048 };
	getrlimit(RLIMIT_NOFILE, &mine);
	const char *e = err(prlimit(child, RLIMIT_NOFILE, NULL, &old));
	printf("prlimit child get: %s, same as mine: %d\n", e,
	       old.rlim_cur == mine.rlim_cur && old.rlim_max == mine.rlim_max);
	struct rlimit before = old;
	e = err(prlimit(child, RLIMIT_NOFILE, &nl, &old));
	printf("prlimit child set 64/2048: %s, old is what it was: %d\n", e,
	       old.rlim_cur == before.rlim_cur && old.rlim_max == before.rlim_max);
	prlimit(child, RLIMIT_NOFILE, NULL, &old);
	printf("prlimit child get again: %llu/%llu\n", (unsigned long long)old.rlim_cur,
	       (unsigned long long)old.rlim_max);
	getrlimit(RLIMIT_NOFILE, &old);
	printf("mine unchanged: %d\n", old.rlim_cur == mine.rlim_cur && old.rlim_max == mine.rlim_max);
	fflush(stdout);
	write(go[1], "x", 1);
	char c;
	read(done[0], &c, 1);

	printf("prlimit child resource 99: %s\n", err(prlimit(child, 99, NULL, &old)));
	struct rlimit inverted = { 100, 10 }, huge = { 1 << 21, 1 << 21 };
	printf("prlimit child cur > max: %s\n", err(prlimit(child, RLIMIT_NOFILE, &inverted, NULL)));
	printf("prlimit child NOFILE past nr_open: %s\n", err(prlimit(child, RLIMIT_NOFILE, &huge, NULL)));
	printf("prlimit child bad old pointer: %s\n", err(prlimit(child, RLIMIT_NOFILE, NULL, (void *)8)));
	printf("prlimit pid -5: %s\n", err(prlimit(-5, RLIMIT_NOFILE, NULL, &old)));

	struct sysinfo si;
	e = err(sysinfo(&si));
	printf("sysinfo: %s, procs >= 2: %d\n", e, si.procs >= 2);

	clockid_t id;
	printf("clock_getcpuclockid child: %s\n", num(clock_getcpuclockid(child, &id)));
	res("child's process clock", id);
	res("child's thread clock", cpuclock(child, 1, 2));
	struct timespec ts;
	e = err(clock_gettime(cpuclock(0, 0, 2), &ts));
	printf("clock_gettime own process clock by id: %s\n", e);

	fflush(stdout);
	write(go[1], "x", 1);
	waitpid(child, NULL, 0);
	printf("prlimit reaped child: %s\n", err(prlimit(child, RLIMIT_NOFILE, NULL, &old)));
	printf("clock_getcpuclockid reaped child: %s\n", num(clock_getcpuclockid(child, &id)));
	res("reaped child's clock", cpuclock(child, 0, 2));
}

/* As an unprivileged user: another user's process is off limits, the
 * same user's is not, and no hard limit goes up. Run as root only. */
static void permission(void)
{
	fflush(stdout);
	pid_t a = fork();
	if (a != 0) {
		waitpid(a, NULL, 0);
		return;
	}
	pid_t parent = getppid();
	if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) {
		printf("not root: permission checks skipped\n");
		fflush(stdout);
		_exit(0);
	}
	struct rlimit old, nl;
	printf("as 1000, prlimit root's process: %s\n", err(prlimit(parent, RLIMIT_NOFILE, NULL, &old)));
	int go[2];
	pipe(go);
	fflush(stdout);
	pid_t b = fork();
	if (b == 0) {
		char c;
		read(go[0], &c, 1);
		getrlimit(RLIMIT_CORE, &old);
		printf("b sees CORE %llu/%llu\n", (unsigned long long)old.rlim_cur,
		       (unsigned long long)old.rlim_max);
		fflush(stdout);
		_exit(0);
	}
	printf("as 1000, prlimit own user's process: %s\n", err(prlimit(b, RLIMIT_CORE, NULL, &old)));
	nl = old;
	nl.rlim_max = old.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : old.rlim_max + 1;
	if (nl.rlim_max != RLIM_INFINITY)
		printf("as 1000, raise its hard limit: %s\n", err(prlimit(b, RLIMIT_CORE, &nl, NULL)));
	else
		printf("as 1000, raise its hard limit: %s\n", "Operation not permitted");
	nl = (struct rlimit){ 4096, 8192 };
	printf("as 1000, lower its limit: %s\n", err(prlimit(b, RLIMIT_CORE, &nl, NULL)));
	nl = (struct rlimit){ 4096, 8193 };
	printf("as 1000, raise it again: %s\n", err(prlimit(b, RLIMIT_CORE, &nl, NULL)));
	fflush(stdout);
	write(go[1], "x", 1);
	waitpid(b, NULL, 0);
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOFBF, 4096);
	limits_across();
	permission();

	res("CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID);
	res("CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID);
	clockid_t id;
	printf("clock_getcpuclockid 0: %s\n", num(clock_getcpuclockid(0, &id)));
	res("clock_getcpuclockid 0", id);
	printf("clock_getcpuclockid self: %s\n", num(clock_getcpuclockid(getpid(), &id)));
	res("clock_getcpuclockid self", id);
	printf("pthread_getcpuclockid: %s\n", num(pthread_getcpuclockid(pthread_self(), &id)));
	res("pthread_getcpuclockid", id);
	res("own PROF clock", cpuclock(0, 0, 0));
	res("own VIRT clock", cpuclock(0, 0, 1));
	res("own thread PROF clock", cpuclock(getpid(), 1, 0));
	res("clock fd 0", cpuclock(0, 0, 3));
	res("id 1000", 1000);
	res("id 12", 12);
	struct timespec ts;
	printf("clock_getres null: %s\n", err(clock_getres(cpuclock(0, 0, 2), NULL)));
	printf("clock_getres bad pointer: %s\n", err(clock_getres(CLOCK_PROCESS_CPUTIME_ID, (void *)8)));
	printf("clock_gettime PROF: %s\n", err(clock_gettime(cpuclock(0, 0, 0), &ts)));
	return 0;
}
