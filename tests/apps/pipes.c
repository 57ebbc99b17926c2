/* pipes: pipes between processes (VMs): data, EOF when the last writer
 * closes, EPIPE when the last reader has, O_NONBLOCK, dup2 onto stdout,
 * poll, and a shared file offset after fork. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (int i = 0; i < 100; i++) {
			char line[64];
			int n = snprintf(line, sizeof line, "line %d from the child\n", i);
			write(p[1], line, n);
		}
		_exit(0);
	}
	close(p[1]);
	char buf[8192];
	size_t total = 0;
	int lines = 0;
	ssize_t n;
	while ((n = read(p[0], buf, sizeof buf)) > 0) {
		total += n;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	printf("read %zu bytes, %d lines, then EOF (%zd)\n", total, lines, n);
	close(p[0]);
	waitpid(pid, NULL, 0);

	/* A writer with SIGPIPE at its default dies of it. */
	pipe(p);
	close(p[0]);
	pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		write(p[1], "x", 1);
		_exit(0);
	}
	close(p[1]);
	int pst;
	waitpid(pid, &pst, 0);
	printf("writer without reader: killed by SIGPIPE %d\n", WIFSIGNALED(pst) && WTERMSIG(pst) == SIGPIPE);

	/* EPIPE when no reader is left. */
	pipe(p);
	close(p[0]);
	errno = 0;
	n = write(p[1], "x", 1);
	printf("write without reader: %zd %s\n", n, errno == EPIPE ? "EPIPE" : "other");
	close(p[1]);

	/* Non-blocking read on an empty pipe, then poll. */
	pipe2(p, O_NONBLOCK);
	errno = 0;
	n = read(p[0], buf, 1);
	printf("nonblocking empty read: %zd %s\n", n, errno == EAGAIN ? "EAGAIN" : "other");
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	printf("poll empty, 50 ms: %d\n", poll(&pf, 1, 50));
	write(p[1], "hi", 2);
	int ready = poll(&pf, 1, 1000);
	printf("poll after write: %d revents POLLIN %d\n", ready, (pf.revents & POLLIN) != 0);
	fd_set rs;
	int isset;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	struct timeval tv = { 1, 0 };
	ready = select(p[0] + 1, &rs, NULL, NULL, &tv);
	isset = FD_ISSET(p[0], &rs);
	printf("select: %d isset %d\n", ready, isset);
	printf("fcntl O_NONBLOCK set: %d\n", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
	close(p[0]);
	close(p[1]);

	/* A child's stdout redirected into a pipe with dup2, as a shell does. */
	pipe(p);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		printf("through dup2\n");
		_exit(7);
	}
	close(p[1]);
	n = 0;
	for (ssize_t k; (k = read(p[0], buf + n, sizeof buf - n)) > 0;)
		n += k;
	int st;
	waitpid(pid, &st, 0);
	printf("parent got: %.*s", (int)n, buf);
	printf("child status %d\n", WEXITSTATUS(st));

	/* Ping-pong. */
	int a[2], b[2];
	pipe(a);
	pipe(b);
	pid = fork();
	if (pid == 0) {
		int v;
		while (read(a[0], &v, sizeof v) == sizeof v) {
			v++;
			write(b[1], &v, sizeof v);
			if (v >= 1000)
				break;
		}
		_exit(0);
	}
	int v = 0;
	while (v < 1000) {
		v++;
		write(a[1], &v, sizeof v);
		read(b[0], &v, sizeof v);
	}
	waitpid(pid, NULL, 0);
	printf("ping-pong reached %d\n", v);

	/* fds: dup shares the offset, cloexec flags, dup to a high number. */
	int d = dup(1);
	printf("dup gave %d, fcntl F_GETFD %d\n", d, fcntl(d, F_GETFD));
	fcntl(d, F_SETFD, FD_CLOEXEC);
	printf("after F_SETFD: %d\n", fcntl(d, F_GETFD));
	printf("F_DUPFD 100: %d\n", fcntl(1, F_DUPFD, 100));
	errno = 0;
	int r = dup2(999, 5);
	printf("dup2 bad fd: %d %s\n", r, errno == EBADF ? "EBADF" : "other");
	return 0;
}
