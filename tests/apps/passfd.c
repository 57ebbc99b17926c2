/* passfd: SCM_RIGHTS between processes: a pipe made after the fork, a
 * file whose offset stays shared, an eventfd and a socket arrive in the
 * other process as the same open files; MSG_CMSG_CLOEXEC; a buffer too
 * small truncates (MSG_CTRUNC); bad descriptors and message types are
 * refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_fds(int s, const int *fds, int n, int type)
{
	char buf[CMSG_SPACE(sizeof(int) * 8)] = { 0 };
	struct iovec io = { .iov_base = "F", .iov_len = 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0) < 0 ? -errno : 0;
}

/* Receives up to max descriptors with a buffer for room of them. */
static int recv_fds(int s, int *fds, int room, int flags, int *mflags)
{
	char buf[CMSG_SPACE(sizeof(int) * 8)];
	char b;
	struct iovec io = { .iov_base = &b, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf,
			    .msg_controllen = room ? CMSG_SPACE(sizeof(int) * room) : 0 };
	if (recvmsg(s, &m, flags) < 0)
		return -errno;
	*mflags = m.msg_flags & MSG_CTRUNC;
	int n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + n, CMSG_DATA(c), sizeof(int) * k);
			n += k;
		}
	return n;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int sv[2], out[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(out); /* the child's lines, printed after the parent's */
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		close(sv[0]);
		int fds[8], fl;
		int n = recv_fds(sv[1], fds, 8, MSG_CMSG_CLOEXEC, &fl);
		printf("child got %d fds, ctrunc %d, cloexec %d\n", n, fl != 0, (fcntl(fds[0], F_GETFD) & FD_CLOEXEC) != 0);
		char buf[32] = { 0 };
		read(fds[0], buf, sizeof buf - 1);
		printf("child reads the pipe made after fork: %s\n", buf);
		printf("child reads the file at the shared offset: %c\n", (read(fds[1], buf, 1), buf[0]));
		lseek(fds[1], 10, SEEK_SET);
		uint64_t v = 0;
		read(fds[2], &v, 8);
		printf("child reads the eventfd: %lu\n", (unsigned long)v);
		write(fds[3], "via passed socket", 17);
		write(sv[1], "k", 1);
		/* Two sent, room for one: the rest is dropped. */
		n = recv_fds(sv[1], fds, 1, 0, &fl);
		printf("room for one: got %d, ctrunc %d\n", n, fl != 0);
		n = recv_fds(sv[1], fds, 0, 0, &fl);
		printf("no room: got %d, ctrunc %d\n", n, fl != 0);
		_exit(0);
	}
	close(sv[1]);
	close(out[1]);
	int p[2], q[2];
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	int f = open("/proc/self/exe", O_RDONLY);
	lseek(f, 1, SEEK_SET); /* an ELF: 'E' next */
	int e = eventfd(5, 0);
	int fds[4] = { p[0], f, e, q[1] };
	printf("send 4: %d\n", send_fds(sv[0], fds, 4, SCM_RIGHTS));
	close(p[0]);
	close(q[1]);
	write(p[1], "made after fork", 15);
	char b;
	read(sv[0], &b, 1);
	printf("parent sees the child's lseek: %ld\n", (long)lseek(f, 0, SEEK_CUR));
	char buf[32] = { 0 };
	read(q[0], buf, sizeof buf - 1);
	printf("parent reads from its socket: %s\n", buf);
	int two[2] = { p[1], f };
	printf("send 2: %d\n", send_fds(sv[0], two, 2, SCM_RIGHTS));
	printf("send 1: %d\n", send_fds(sv[0], two, 1, SCM_RIGHTS));
	int bad[1] = { 99 };
	printf("bad fd: %s\n", strerror(-send_fds(sv[0], bad, 1, SCM_RIGHTS)));
	printf("bad type: %s\n", strerror(-send_fds(sv[0], two, 1, 77)));
	int st;
	waitpid(pid, &st, 0);
	printf("child status %d\n", WEXITSTATUS(st));
	int n;
	while ((n = read(out[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, n, stdout);
	return 0;
}
