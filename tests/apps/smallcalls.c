/* smallcalls: getrusage, times, getpriority/setpriority, sched_setaffinity,
 * statfs/fstatfs: what they return and their errors, as programs check them
 * at start. Values that differ between machines are printed as checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define BAD ((void *)8)

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

int main(void)
{
	struct rusage ru;
	volatile unsigned long spin = 0;
	for (int i = 0; i < 20000000; i++)
		spin += i;
	const char *e = err(getrusage(RUSAGE_SELF, &ru));
	printf("getrusage self: %s, cpu time > 0: %d, maxrss > 0: %d\n", e,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec > 0,
	       ru.ru_maxrss > 0);
	printf("getrusage children: %s\n", err(getrusage(RUSAGE_CHILDREN, &ru)));
	printf("getrusage 42: %s\n", err(syscall(SYS_getrusage, 42, &ru)));
	printf("getrusage bad buffer: %s\n", err(syscall(SYS_getrusage, RUSAGE_SELF, BAD)));

	struct tms t;
	long ticks = (long)syscall(SYS_times, &t);
	printf("times: %s\n", ticks == -1 ? strerror(errno) : "ok");
	printf("times null buffer: %s\n", err(syscall(SYS_times, NULL)));
	printf("times bad buffer: %s\n", err(syscall(SYS_times, BAD)));

	errno = 0;
	printf("getpriority: %d %s\n", getpriority(PRIO_PROCESS, 0), err(errno ? -1 : 0));
	e = err(setpriority(PRIO_PROCESS, 0, 5));
	printf("setpriority 5: %s, now %d\n", e, getpriority(PRIO_PROCESS, 0));
	e = err(setpriority(PRIO_PROCESS, 0, 50));
	printf("setpriority 50 (clamped): %s, now %d\n", e, getpriority(PRIO_PROCESS, 0));
	printf("raw getpriority: %ld\n", (long)syscall(SYS_getpriority, PRIO_PROCESS, 0));
	printf("setpriority bad which: %s\n", err(setpriority(7, 0, 1)));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child inherits nice: %d\n", getpriority(PRIO_PROCESS, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("getpriority of the dead child: %s\n", err(getpriority(PRIO_PROCESS, pid) == -1 && errno ? -1 : 0));
	setpriority(PRIO_PROCESS, 0, 0);

	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	printf("sched_setaffinity {0}: %s\n", err(sched_setaffinity(0, sizeof(set), &set)));
	CPU_ZERO(&set);
	printf("sched_setaffinity {}: %s\n", err(sched_setaffinity(0, sizeof(set), &set)));
	printf("sched_setaffinity bad mask: %s\n", err(syscall(SYS_sched_setaffinity, 0, sizeof(set), BAD)));
	sched_getaffinity(0, sizeof(set), &set);
	printf("after: CPU 0 allowed %d\n", (int)CPU_ISSET(0, &set));

	struct statfs sf;
	e = err(statfs("/", &sf));
	printf("statfs /: %s, bsize %ld, namelen %ld\n", e, (long)sf.f_bsize, (long)sf.f_namelen);
	printf("statfs /nope: %s\n", err(statfs("/nope", &sf)));
	printf("statfs bad buffer: %s\n", err(syscall(SYS_statfs, "/", BAD)));
	printf("statfs bad path: %s\n", err(syscall(SYS_statfs, BAD, &sf)));
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	printf("fstatfs dir: %s\n", err(fstatfs(fd, &sf)));
	printf("fstatfs 99: %s\n", err(fstatfs(99, &sf)));
	return 0;
}
