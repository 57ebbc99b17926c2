/* events: epoll over pipes, sockets, eventfds, timerfds and other epolls
 * (level, edge, one-shot, hang-up, errors, an instance shared through
 * fork, a wait woken from another process, a signal mask while waiting);
 * eventfd counters and semaphores; timerfd expirations. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

/* One wait: how many events, and the first's bits and data. */
static void waitshow(const char *what, int ep, int timeout)
{
	struct epoll_event ev[8];
	int n = epoll_wait(ep, ev, 8, timeout);
	if (n < 0) {
		printf("%-28s %s\n", what, strerror(errno));
		return;
	}
	printf("%-28s %d", what, n);
	for (int i = 0; i < n; i++)
		printf(" [%#x %lu]", ev[i].events, (unsigned long)ev[i].data.u64);
	printf("\n");
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void drain(int fd)
{
	char b[256];
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, b, sizeof b) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

static void levels(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), p[2];
	pipe(p);
	printf("cloexec: %d\n", (fcntl(ep, F_GETFD) & FD_CLOEXEC) != 0);
	add(ep, p[0], EPOLLIN, 7);
	waitshow("level, empty:", ep, 0);
	write(p[1], "a", 1);
	waitshow("level, one byte:", ep, 0);
	waitshow("level, again:", ep, 0);
	drain(p[0]);

	mod(ep, p[0], EPOLLIN | EPOLLET, 8);
	waitshow("edge, empty:", ep, 0);
	write(p[1], "b", 1);
	waitshow("edge, a write:", ep, 0);
	waitshow("edge, nothing new:", ep, 0);
	write(p[1], "c", 1);
	waitshow("edge, another write:", ep, 0);
	drain(p[0]);
	waitshow("edge, drained:", ep, 0);

	mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 9);
	write(p[1], "d", 1);
	waitshow("oneshot:", ep, 0);
	waitshow("oneshot, spent:", ep, 0);
	mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 10);
	waitshow("oneshot, rearmed:", ep, 0);
	drain(p[0]);

	/* The write end: writable, then an error once no reader is left. */
	add(ep, p[1], EPOLLOUT, 11);
	mod(ep, p[0], EPOLLIN, 12);
	waitshow("writable:", ep, 0);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
	close(p[1]);
	waitshow("writer gone (hang-up):", ep, 0);
	close(p[0]);
	waitshow("closed: forgotten:", ep, 0);

	/* An item lives while its file does: a dup keeps it. */
	pipe(p);
	add(ep, p[0], EPOLLIN, 13);
	int d = dup(p[0]);
	close(p[0]);
	write(p[1], "e", 1);
	waitshow("closed, a dup left:", ep, 0);
	close(d);
	waitshow("dup closed too:", ep, 0);
	close(p[1]);
	close(ep);
}

static void errors(void)
{
	int ep = epoll_create1(0), p[2], f = open("/proc/self/exe", O_RDONLY);
	struct epoll_event ev = { .events = EPOLLIN };
	pipe(p);
	printf("create1 bad flag: %s\n", err(epoll_create1(1)));
	printf("create size 0: %s\n", err(epoll_create(0)));
	printf("create size 1: %s\n", epoll_create(1) >= 0 ? "ok" : strerror(errno));
	add(ep, p[0], EPOLLIN, 1);
	printf("add twice: %s\n", err(add(ep, p[0], EPOLLIN, 1)));
	printf("mod unknown: %s\n", err(mod(ep, p[1], EPOLLOUT, 1)));
	printf("del unknown: %s\n", err(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL)));
	printf("bad op: %s\n", err(epoll_ctl(ep, 9, p[1], &ev)));
	printf("regular file: %s\n", err(add(ep, f, EPOLLIN, 1)));
	printf("itself: %s\n", err(add(ep, ep, EPOLLIN, 1)));
	printf("not an epoll: %s\n", err(add(p[0], p[1], EPOLLOUT, 1)));
	printf("bad fd: %s\n", err(add(ep, 999, EPOLLIN, 1)));
	printf("bad epfd: %s\n", err(add(999, p[1], EPOLLIN, 1)));
	printf("exclusive add: %s\n", err(add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 1)));
	printf("exclusive mod: %s\n", err(mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1)));
	printf("exclusive item mod: %s\n", err(mod(ep, p[1], EPOLLOUT, 1)));
	int q[2];
	pipe(q);
	printf("exclusive + oneshot: %s\n", err(add(ep, q[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 1)));
	close(q[0]);
	close(q[1]);
	printf("bad event pointer: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)8)));
	printf("maxevents 0: %s\n", err(epoll_wait(ep, &ev, 0, 0)));
	struct epoll_event *volatile null = NULL;
	printf("events NULL: %s\n", err(epoll_wait(ep, null, 1, 0)));
	printf("wait on a pipe: %s\n", err(epoll_wait(p[0], &ev, 1, 0)));
	close(f);
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* A child adds to the instance it inherited; the parent waits for what
 * the child writes later. */
static void shared(void)
{
	int ep = epoll_create1(0), p[2], q[2];
	pipe(p);
	pipe(q);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		add(ep, p[0], EPOLLIN, 21);
		write(q[1], "x", 1); /* added */
		usleep(50000);
		write(p[1], "y", 1);
		_exit(0);
	}
	char c;
	read(q[0], &c, 1);
	waitshow("child's item, not yet:", ep, 0);
	waitshow("child's item, woken:", ep, 5000);
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(ep);
}

static volatile int got;
static void on_usr1(int s) { (void)s; got++; }

static void masks(void)
{
	int ep = epoll_create1(0);
	struct epoll_event ev;
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	signal(SIGUSR1, on_usr1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	kill(getpid(), SIGUSR1);
	const char *r = err(epoll_pwait(ep, &ev, 1, 10, &block));
	printf("pwait, blocked still: %s, handled %d\n", r, got);
	r = err(epoll_pwait(ep, &ev, 1, 1000, &none));
	printf("pwait, unblocked: %s, handled %d\n", r, got);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	struct timespec ts = { 0, 1000000 };
	printf("pwait2 timeout: %s\n", err(syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8)));
	close(ep);
}

static void nested(void)
{
	int a = epoll_create1(0), b = epoll_create1(0), p[2], s[2];
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	add(a, p[0], EPOLLIN, 31);
	add(a, s[0], EPOLLIN | EPOLLRDHUP, 32);
	add(b, a, EPOLLIN, 33);
	printf("loop: %s\n", err(add(a, b, EPOLLIN, 34)));
	waitshow("outer, nothing:", b, 0);
	write(p[1], "z", 1);
	waitshow("outer, a pipe inside:", b, 0);
	struct pollfd pf = { .fd = a, .events = POLLIN };
	int pn = poll(&pf, 1, 0);
	printf("poll on the epoll: %d %#x\n", pn, pf.revents);
	drain(p[0]);
	waitshow("outer, drained:", b, 0);
	shutdown(s[1], SHUT_WR);
	waitshow("socket peer shut down:", a, 0);
	waitshow("outer sees it:", b, 0);
	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
	close(a);
	close(b);
}

static void eventfds(void)
{
	uint64_t v = 0;
	int e = eventfd(3, 0), ep = epoll_create1(0);
	printf("bad flag: %s\n", err(eventfd(0, 2)));
	add(ep, e, EPOLLIN | EPOLLOUT, 41);
	waitshow("eventfd 3:", ep, 0);
	read(e, &v, 8);
	printf("read %lu\n", (unsigned long)v);
	waitshow("eventfd 0:", ep, 0);
	v = 5;
	write(e, &v, 8);
	write(e, &v, 8);
	read(e, &v, 8);
	printf("two writes of 5 read %lu\n", (unsigned long)v);
	printf("short read: %s\n", err(read(e, &v, 4)));
	v = ~0ull;
	printf("write of ~0: %s\n", err(write(e, &v, 8)));
	close(e);

	e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	for (int i = 0; i < 3; i++) {
		long r = read(e, &v, 8);
		printf("semaphore read: %s %lu\n", err(r), r < 0 ? 0ul : (unsigned long)v);
	}
	fflush(stdout);
	/* A blocked read woken by a write from another process. */
	int b = eventfd(0, 0);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(30000);
		v = 9;
		write(b, &v, 8);
		_exit(0);
	}
	read(b, &v, 8);
	printf("blocked read woken: %lu\n", (unsigned long)v);
	waitpid(pid, NULL, 0);
	close(b);
	close(e);
	close(ep);
}

static void timerfds(void)
{
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), ep = epoll_create1(0);
	struct itimerspec its = { .it_value = { 0, 20000000 }, .it_interval = { 0, 10000000 } }, cur;
	uint64_t n = 0;
	printf("bad clock: %s\n", err(timerfd_create(77, 0)));
	printf("bad flag: %s\n", err(timerfd_create(CLOCK_MONOTONIC, 1)));
	printf("not a timer: %s\n", err(timerfd_settime(ep, 0, &its, NULL)));
	struct itimerspec bad = { .it_value = { 0, 1000000000 } };
	printf("bad nsec: %s\n", err(timerfd_settime(t, 0, &bad, NULL)));
	timerfd_gettime(t, &cur);
	printf("unarmed: %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
	add(ep, t, EPOLLIN, 51);
	waitshow("not yet:", ep, 0);
	timerfd_settime(t, 0, &its, NULL);
	waitshow("expired:", ep, 1000);
	read(t, &n, 8);
	printf("expirations >= 1: %d\n", n >= 1);
	timerfd_gettime(t, &cur);
	printf("interval %ld ns, next within it: %d\n", cur.it_interval.tv_nsec,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 10000000);
	struct itimerspec off = { 0 }, old;
	timerfd_settime(t, 0, &off, &old);
	printf("old interval %ld\n", old.it_interval.tv_nsec);
	/* An absolute time on the realtime clock, already past. */
	int r = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	struct itimerspec past = { .it_value = { 1, 0 } };
	timerfd_settime(r, TFD_TIMER_ABSTIME, &past, NULL);
	printf("past absolute: %s %lu\n", err(read(r, &n, 8)), (unsigned long)n);
	printf("again, nonblocking: %s\n", err(read(r, &n, 8)));
	close(r);
	close(t);
	close(ep);
}

static void owners(void)
{
	int p[2], on = 1;
	pipe(p);
	struct f_owner_ex ex = { 0 };
	const char *r;
	printf("owner at first: %d\n", fcntl(p[0], F_GETOWN));
	r = err(fcntl(p[0], F_SETOWN, getpid()));
	printf("setown self: %s, getown is self: %d\n", r, fcntl(p[0], F_GETOWN) == getpid());
	r = err(fcntl(p[0], F_SETOWN, -getpgrp()));
	printf("setown group: %s, getown is -group: %d\n", r, fcntl(p[0], F_GETOWN) == -getpgrp());
	fcntl(p[0], F_GETOWN_EX, &ex);
	printf("getown_ex: type %d, is group %d\n", ex.type, ex.pid == getpgrp());
	printf("setown nobody there: %s\n", err(fcntl(p[0], F_SETOWN, 999999)));
	ex.type = 7;
	printf("setown_ex bad type: %s\n", err(fcntl(p[0], F_SETOWN_EX, &ex)));
	ex.type = F_OWNER_PID;
	ex.pid = getpid();
	r = err(fcntl(p[0], F_SETOWN_EX, &ex));
	printf("setown_ex pid: %s, getown is self: %d\n", r, fcntl(p[0], F_GETOWN) == getpid());
	printf("setsig 65: %s\n", err(fcntl(p[0], F_SETSIG, 65)));
	r = err(fcntl(p[0], F_SETSIG, SIGUSR2));
	printf("setsig USR2: %s, getsig %d\n", r, fcntl(p[0], F_GETSIG));
	r = err(ioctl(p[0], FIOASYNC, &on));
	printf("FIOASYNC on: %s, O_ASYNC %d\n", r, (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
	on = 0;
	r = err(ioctl(p[0], FIOASYNC, &on));
	printf("FIOASYNC off: %s, O_ASYNC %d\n", r, (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("-- levels\n");
	levels();
	printf("-- errors\n");
	errors();
	printf("-- shared\n");
	shared();
	printf("-- sigmask\n");
	masks();
	printf("-- nested\n");
	nested();
	printf("-- eventfd\n");
	eventfds();
	printf("-- timerfd\n");
	timerfds();
	printf("-- owners\n");
	owners();
	return 0;
}
