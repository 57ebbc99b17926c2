/* nofile: RLIMIT_NOFILE bounds the descriptors a process gets (EMFILE),
 * dup2 (EBADF) and F_DUPFD (EINVAL), lowered and raised, across fork. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
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
	closefrom3();
	setlim(1024);
	return 0;
}
