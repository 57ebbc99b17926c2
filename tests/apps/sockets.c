/* sockets: a TCP server forking a child (VM) per connection, UDP, AF_UNIX
 * socketpair and a named AF_UNIX socket, addresses and options. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void tcp(void)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(ls, (struct sockaddr *)&a, sizeof a);
	listen(ls, 16);
	socklen_t al = sizeof a;
	getsockname(ls, (struct sockaddr *)&a, &al);
	printf("tcp: bound to loopback %d, port set %d\n", a.sin_addr.s_addr == htonl(INADDR_LOOPBACK), ntohs(a.sin_port) != 0);
	int v = 0;
	socklen_t vl = sizeof v;
	getsockopt(ls, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
	printf("tcp: SO_ACCEPTCONN %d\n", v);

	/* Three clients, forked; the server forks a handler per connection. */
	for (int i = 0; i < 3; i++) {
		if (fork() == 0) {
			int c = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(c, (struct sockaddr *)&a, sizeof a) < 0)
				_exit(10);
			char msg[32];
			int n = snprintf(msg, sizeof msg, "client %d", i);
			send(c, msg, n, 0);
			shutdown(c, SHUT_WR);
			char buf[64];
			int got = 0, k;
			while ((k = recv(c, buf + got, sizeof buf - got, 0)) > 0)
				got += k;
			_exit(got == n + 5 && memcmp(buf, "echo:", 5) == 0 ? 0 : 11);
		}
	}
	for (int i = 0; i < 3; i++) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof peer;
		int c = accept(ls, (struct sockaddr *)&peer, &pl);
		if (fork() == 0) {
			close(ls);
			char buf[64];
			int got = 0, k;
			while ((k = read(c, buf + got, sizeof buf - got)) > 0)
				got += k;
			write(c, "echo:", 5);
			write(c, buf, got);
			_exit(0);
		}
		close(c);
	}
	int ok = 0, st;
	while (wait(&st) > 0)
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("tcp: %d of 6 processes happy\n", ok);
	close(ls);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	int r = connect(c, (struct sockaddr *)&a, sizeof a);
	printf("tcp: connect to a closed port: %d ECONNREFUSED %d\n", r, errno == ECONNREFUSED);
	close(c);
}

static void udp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(s, (struct sockaddr *)&a, sizeof a);
	socklen_t al = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &al);
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(c, "datagram", 8, 0, (struct sockaddr *)&a, sizeof a);
	char buf[32];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	printf("udp: %zd '%.*s' from loopback %d\n", n, (int)n, buf, from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	close(s);
	close(c);
}

static void local(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	if (fork() == 0) {
		close(sv[0]);
		write(sv[1], "over a socketpair", 17);
		_exit(0);
	}
	close(sv[1]);
	char buf[64];
	ssize_t n = read(sv[0], buf, sizeof buf);
	wait(NULL);
	printf("unix: %.*s\n", (int)n, buf);

	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, "/tmp-ukfork-test.sock");
	unlink(a.sun_path);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		perror("bind");
	listen(s, 4);
	struct sockaddr_un got;
	socklen_t gl = sizeof got;
	getsockname(s, (struct sockaddr *)&got, &gl);
	printf("unix: bound name '%s'\n", got.sun_path);
	if (fork() == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof a) < 0)
			_exit(1);
		write(c, "by name", 7);
		_exit(0);
	}
	int c = accept(s, NULL, NULL);
	n = read(c, buf, sizeof buf);
	wait(NULL);
	printf("unix: %.*s\n", (int)n, buf);
	close(c);
	close(s);
	unlink(a.sun_path);
	struct sockaddr_un nope = { .sun_family = AF_UNIX };
	strcpy(nope.sun_path, "/no-such-socket");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	errno = 0;
	int r = connect(c, (struct sockaddr *)&nope, sizeof nope);
	printf("unix: connect to nothing: %d ENOENT %d\n", r, errno == ENOENT);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tcp();
	udp();
	local();
	return 0;
}
