/* unixnames: AF_UNIX names as Linux gives them: bind, connect, unlink,
 * getsockname/getpeername/accept/recvfrom, autobind and abstract names.
 * "unixnames wait NAME" binds NAME and the abstract NAME, prints "ready"
 * and waits for stdin to close; "unixnames probe NAME" connects to both. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *err(int r)
{
	static char buf[32];
	if (r >= 0)
		return "ok";
	switch (errno) {
	case EADDRINUSE: return "EADDRINUSE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENOENT: return "ENOENT";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

/* addr fills a sockaddr_un: a path, or an abstract name if abs (len bytes). */
static socklen_t addr(struct sockaddr_un *a, const char *name, int abs, size_t len)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (abs) {
		memcpy(a->sun_path + 1, name, len);
		return offsetof(struct sockaddr_un, sun_path) + 1 + len;
	}
	strcpy(a->sun_path, name);
	return sizeof *a;
}

static int sock(int type) { return socket(AF_UNIX, type, 0); }

static int bindp(int s, const char *p)
{
	struct sockaddr_un a;
	socklen_t l = addr(&a, p, 0, 0);
	int r = bind(s, (struct sockaddr *)&a, l);
	if (r == 0)
		listen(s, 8);
	return r;
}

static int connp(int s, const char *p)
{
	struct sockaddr_un a;
	socklen_t l = addr(&a, p, 0, 0);
	return connect(s, (struct sockaddr *)&a, l);
}

/* show prints a name a call gave back: its length and bytes, NULs as @. */
static void show(const char *what, struct sockaddr_un *a, socklen_t l)
{
	printf("%s: len %u '", what, (unsigned)l);
	for (socklen_t i = offsetof(struct sockaddr_un, sun_path); i < l && i < sizeof *a; i++)
		putchar(a->sun_path[i - 2] ? a->sun_path[i - 2] : '@');
	printf("'\n");
}

static void sockname(const char *what, int s, int peer)
{
	struct sockaddr_un a;
	socklen_t l = sizeof a;
	int r = peer ? getpeername(s, (struct sockaddr *)&a, &l) : getsockname(s, (struct sockaddr *)&a, &l);
	if (r < 0)
		printf("%s: %s\n", what, err(r));
	else
		show(what, &a, l);
}

/* reaches says whether a client connected to name lands on listener l. */
static void reaches(const char *what, const char *name, int l)
{
	int c = sock(SOCK_STREAM);
	int r = connp(c, name);
	int got = -1;
	if (r == 0) {
		struct sockaddr_un a;
		socklen_t al = sizeof a;
		int n = accept4(l, (struct sockaddr *)&a, &al, SOCK_NONBLOCK);
		got = n >= 0;
		if (n >= 0) {
			show("  accept gives the client's name", &a, al);
			close(n);
		}
		sockname("  getpeername", c, 1);
	}
	printf("%s: connect %s, reaches its listener %d\n", what, err(r), got);
	close(c);
}

static void paths(void)
{
	int a = sock(SOCK_STREAM);
	printf("bind s1: %s\n", err(bindp(a, "s1")));
	sockname("getsockname s1", a, 0);
	int b = sock(SOCK_STREAM);
	printf("bind s1 again: %s\n", err(bindp(b, "s1")));
	reaches("s1", "s1", a);
	close(a);
	int c = sock(SOCK_STREAM);
	printf("listener closed: connect %s, bind %s\n", err(connp(c, "s1")), err(bindp(b, "s1")));
	close(c);
	printf("unlink s1: %d\n", unlink("s1"));
	c = sock(SOCK_STREAM);
	printf("unlinked: connect %s\n", err(connp(c, "s1")));
	close(c);
	printf("bind s1 anew: %s\n", err(bindp(b, "s1")));
	reaches("s1 anew", "s1", b);

	/* A failed bind leaves the name free. */
	printf("bind a bound socket to s2: %s\n", err(bindp(b, "s2")));
	int d = sock(SOCK_STREAM);
	printf("bind s2: %s\n", err(bindp(d, "s2")));

	/* Names after an unlink go to the socket they name. */
	int n1 = sock(SOCK_STREAM), n2 = sock(SOCK_STREAM), n3 = sock(SOCK_STREAM);
	printf("bind n1 %s n2 %s", err(bindp(n1, "n1")), err(bindp(n2, "n2")));
	unlink("n1");
	printf(" n3 %s\n", err(bindp(n3, "n3")));
	reaches("n2", "n2", n2);
	reaches("n3", "n3", n3);
	sockname("getsockname of unlinked n1", n1, 0);

	c = sock(SOCK_STREAM);
	printf("connect nothing %s, nodir/x %s, /dev/null %s, . %s\n", err(connp(c, "nothing")),
	       err(connp(c, "nodir/x")), err(connp(c, "/dev/null")), err(connp(c, ".")));
	printf("bind nodir/x %s, /dev/null %s, . %s, s2/ %s, new/ %s\n", err(bindp(c, "nodir/x")),
	       err(bindp(c, "/dev/null")), err(bindp(c, ".")), err(bindp(c, "s2/")), err(bindp(c, "new/")));
	printf("connect s2/ %s\n", err(connp(c, "s2/")));
	close(c);

	/* Datagrams carry their sender's name. */
	int d1 = sock(SOCK_DGRAM), d2 = sock(SOCK_DGRAM);
	bindp(d1, "d1");
	bindp(d2, "d2");
	struct sockaddr_un to, from;
	socklen_t tl = addr(&to, "d2", 0, 0), fl = sizeof from;
	sendto(d1, "hi", 2, 0, (struct sockaddr *)&to, tl);
	char buf[8];
	ssize_t k = recvfrom(d2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	printf("recvfrom: %zd bytes\n", k);
	show("  from", &from, fl);
	for (const char *p = "s1\0s2\0n2\0n3\0d1\0d2\0"; *p; p += strlen(p) + 1)
		unlink(p);
}

static void abstract(void)
{
	struct sockaddr_un a;
	socklen_t l = addr(&a, "srv", 1, 3);
	int c = sock(SOCK_STREAM);
	printf("abstract connect before bind: %s\n", err(connect(c, (struct sockaddr *)&a, l)));
	int s = sock(SOCK_STREAM), t = sock(SOCK_STREAM);
	printf("abstract bind %s", err(bind(s, (struct sockaddr *)&a, l)));
	listen(s, 4);
	printf(", again %s\n", err(bind(t, (struct sockaddr *)&a, l)));
	sockname("getsockname abstract", s, 0);
	printf("abstract connect: %s\n", err(connect(c, (struct sockaddr *)&a, l)));
	sockname("getpeername abstract", c, 1);
	close(c);
	close(s);
	printf("abstract bind after close: %s\n", err(bind(t, (struct sockaddr *)&a, l)));
	close(t);

	char longname[107];
	memset(longname, 'L', sizeof longname);
	longname[50] = 0; /* abstract names are bytes, NULs too */
	l = addr(&a, longname, 1, sizeof longname);
	s = sock(SOCK_STREAM);
	printf("abstract bind of 107 bytes: %s\n", err(bind(s, (struct sockaddr *)&a, l)));
	listen(s, 4);
	sockname("getsockname", s, 0);
	c = sock(SOCK_STREAM);
	printf("abstract connect to 107 bytes: %s\n", err(connect(c, (struct sockaddr *)&a, l)));
	close(c);
	close(s);

	/* Autobind: addrlen sizeof(sa_family_t) picks a name of 5 hex digits. */
	int d = sock(SOCK_DGRAM);
	a.sun_family = AF_UNIX;
	printf("autobind: %s", err(bind(d, (struct sockaddr *)&a, sizeof(sa_family_t))));
	socklen_t al = sizeof a;
	getsockname(d, (struct sockaddr *)&a, &al);
	int hex = al == 8 && a.sun_path[0] == 0;
	for (int i = 1; i < 6 && hex; i++)
		hex = strchr("0123456789abcdef", a.sun_path[i]) != NULL;
	printf(", len %u, 5 hex digits %d", (unsigned)al, hex);
	int e = sock(SOCK_DGRAM);
	printf(", sendto it %s", err(sendto(e, "x", 1, 0, (struct sockaddr *)&a, al)));
	printf(", autobind again %s\n", err(bind(d, (struct sockaddr *)&a, sizeof(sa_family_t))));
	close(d);
	close(e);
}

static int wait_mode(const char *name)
{
	int s = sock(SOCK_STREAM), t = sock(SOCK_STREAM);
	struct sockaddr_un a;
	socklen_t l = addr(&a, name, 1, strlen(name));
	if (bindp(s, name) < 0 || bind(t, (struct sockaddr *)&a, l) < 0) {
		perror("bind");
		return 1;
	}
	listen(t, 4);
	printf("ready\n");
	char c;
	while (read(0, &c, 1) > 0)
		;
	unlink(name);
	return 0;
}

static int probe_mode(const char *name)
{
	int c = sock(SOCK_STREAM);
	struct sockaddr_un a;
	socklen_t l = addr(&a, name, 1, strlen(name));
	printf("path %s", err(connp(c, name)));
	printf(", abstract %s\n", err(connect(c, (struct sockaddr *)&a, l)));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "wait") == 0)
		return wait_mode(argv[2]);
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe_mode(argv[2]);
	paths();
	abstract();
	return 0;
}
