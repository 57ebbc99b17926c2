/* manypipes N: N pipes at once (more than ukfork maps as rings, so some are
 * host pipes), a child writing into each, the parent reading all of them
 * with poll until every child is done; prints what each pipe carried. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXP 32

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 12;
	if (n > MAXP)
		n = MAXP;
	/* Vectors through one pipe: writev gathers, readv scatters. */
	int v[2];
	pipe(v);
	struct iovec out[3] = { { "ab", 2 }, { "cde", 3 }, { "f", 1 } };
	char b1[2], b2[10] = { 0 };
	struct iovec in[2] = { { b1, sizeof b1 }, { b2, sizeof b2 } };
	ssize_t w = writev(v[1], out, 3);
	int avail = -1, on = 1;
	ioctl(v[0], FIONREAD, &avail);
	ssize_t r = readv(v[0], in, 2);
	printf("writev %zd, FIONREAD %d, readv %zd: %.2s|%s\n", w, avail, r, b1, b2);
	/* The ioctls Linux serves for any fd. */
	ioctl(v[0], FIONBIO, &on);
	errno = 0;
	r = read(v[0], b2, 1);
	printf("FIONBIO: read %zd errno %s\n", r, errno == EAGAIN ? "EAGAIN" : "other");
	ioctl(v[0], FIOCLEX);
	printf("FIOCLEX: cloexec %d\n", fcntl(v[0], F_GETFD) & FD_CLOEXEC);
	ioctl(v[0], FIONCLEX);
	printf("FIONCLEX: cloexec %d\n", fcntl(v[0], F_GETFD) & FD_CLOEXEC);
	close(v[0]);
	close(v[1]);

	int rd[MAXP];
	long got[MAXP] = { 0 }, sum[MAXP] = { 0 };
	for (int i = 0; i < n; i++) {
		int p[2];
		if (pipe(p) < 0) {
			perror("pipe");
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			for (int k = 0; k < i; k++)
				close(rd[k]); /* the others' read ends */
			char buf[1000];
			for (int k = 0; k < 100 + i * 37; k++) {
				memset(buf, 'a' + (k + i) % 26, sizeof buf);
				if (write(p[1], buf, (size_t)(k % 997) + 1) < 0)
					_exit(2);
			}
			_exit(0);
		}
		close(p[1]);
		rd[i] = p[0];
	}
	struct pollfd pf[MAXP];
	int open = n;
	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = rd[i], .events = POLLIN };
	while (open > 0) {
		if (poll(pf, n, 5000) <= 0) {
			printf("poll timed out with %d open\n", open);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			char buf[4096];
			ssize_t r = read(pf[i].fd, buf, sizeof buf);
			if (r <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open--;
				continue;
			}
			got[i] += r;
			for (ssize_t k = 0; k < r; k++)
				sum[i] += (unsigned char)buf[k];
		}
	}
	int st, bad = 0;
	while (wait(&st) > 0)
		bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	for (int i = 0; i < n; i++)
		printf("pipe %d: %ld bytes, sum %ld\n", i, got[i], sum[i]);
	printf("children failed: %d\n", bad);
	return 0;
}
