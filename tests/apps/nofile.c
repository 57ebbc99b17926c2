/* nofile: RLIMIT_NOFILE bounds the descriptors a process gets (EMFILE),
 * dup2 (EBADF) and F_DUPFD (EINVAL), lowered and raised, across fork;
 * close_range closes or marks many at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fill(void)
{
	int n = 0, fd;
	while ((fd = dup(0)) >= 0)
		n++;
	printf("  dup until %s after %d more\n", errno == EMFILE ? "EMFILE" : strerror(errno), n);
	return n;
}

static void closefrom3(void)
{
	for (int fd = 3; fd < 3000; fd++)
		close(fd);
}

static void setlim(rlim_t cur)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = cur;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		printf("setrlimit %lu: %s\n", (unsigned long)cur, strerror(errno));
}

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#define CR_UNSHARE (1u << 1)
#define CR_CLOEXEC (1u << 2)

static const char *res(long r) { return r < 0 ? strerror(errno) : "ok"; }

static void close_ranges(void)
{
	printf("close_range:\n");
	printf("  first > last: %s\n", res(syscall(SYS_close_range, 10, 9, 0)));
	printf("  unknown flag: %s\n", res(syscall(SYS_close_range, 3, 10, 1)));
	printf("  cloexec 10..20: %s\n", res(syscall(SYS_close_range, 10, 20, CR_CLOEXEC)));
	printf("  fd 9, 10, 20, 21 cloexec: %d %d %d %d\n", fcntl(9, F_GETFD), fcntl(10, F_GETFD),
	       fcntl(20, F_GETFD), fcntl(21, F_GETFD));
	printf("  close 5..7: %s\n", res(syscall(SYS_close_range, 5, 7, 0)));
	printf("  fd 4, 5, 7, 8 open: %d %d %d %d\n", fcntl(4, F_GETFD) >= 0, fcntl(5, F_GETFD) >= 0,
	       fcntl(7, F_GETFD) >= 0, fcntl(8, F_GETFD) >= 0);
	printf("  close 3..~0 unshare: %s\n", res(syscall(SYS_close_range, 3, ~0u, CR_UNSHARE)));
	int open3 = fcntl(3, F_GETFD) >= 0, open1500 = fcntl(1500, F_GETFD) >= 0;
	printf("  fd 3, 1500 open: %d %d; a new fd is %d\n", open3, open1500, dup(0));
	printf("  nothing open in 100..200: %s\n", res(syscall(SYS_close_range, 100, 200, 0)));
}

int main(void)
{
	closefrom3();
	setlim(20);
	printf("limit 20:\n");
	fill();
	printf("  dup2 to 25: %s\n", dup2(0, 25) < 0 ? strerror(errno) : "ok");
	printf("  F_DUPFD 30: %s\n", fcntl(0, F_DUPFD, 30) < 0 ? strerror(errno) : "ok");
	closefrom3();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child inherits it:\n");
		fill();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	setlim(2000);
	printf("limit 2000:\n");
	fill();
	printf("  dup2 to 1500: %s\n", dup2(0, 1500) == 1500 ? "ok" : strerror(errno));
	close_ranges();
	setlim(1024);
	return 0;
}
