/* sigfd: signalfd reads the signals the process blocked: from kill, from a
 * child's exit (SIGCHLD with its status), several in one read; poll and
 * epoll wake for them; a changed mask; the errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *err(long r)
{
	return r < 0 ? strerror(errno) : "ok";
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		printf("signalfd: %s\n", strerror(errno));
		return 1;
	}
	struct signalfd_siginfo si[4];
	printf("nothing pending: %s\n", err(read(fd, si, sizeof si)));
	printf("buffer too small: %s\n", err(read(fd, si, 100)));

	kill(getpid(), SIGUSR1);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ready = poll(&p, 1, 1000);
	printf("poll sees it: %d revents %#x\n", ready, p.revents);
	long n = read(fd, si, sizeof si);
	printf("read %ld bytes: signo %u code %d from me %d\n", n, si[0].ssi_signo, si[0].ssi_code,
	       si[0].ssi_pid == (unsigned)getpid());
	printf("then nothing: %s\n", err(read(fd, si, sizeof si)));

	/* Two at once. */
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	n = read(fd, si, sizeof si);
	printf("two pending: %ld records, %u then %u\n", n / (long)sizeof si[0], si[0].ssi_signo, si[1].ssi_signo);

	/* A child's exit, through epoll, blocking. */
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	pid_t kid = fork();
	if (kid == 0) {
		usleep(50000);
		_exit(3);
	}
	struct epoll_event got;
	int k = epoll_wait(ep, &got, 1, 5000);
	printf("epoll woke: %d data %u\n", k, got.data.u32);
	n = read(fd, si, sizeof si);
	printf("SIGCHLD: %ld records, signo %u code %d pid is the child %d status %d\n", n / (long)sizeof si[0],
	       si[0].ssi_signo, si[0].ssi_code, si[0].ssi_pid == (unsigned)kid, si[0].ssi_status);
	int st;
	waitpid(kid, &st, 0);
	printf("child status %d\n", WEXITSTATUS(st));

	/* A blocking read waits for a signal from another process. */
	int bfd = signalfd(-1, &set, 0);
	kid = fork();
	if (kid == 0) {
		usleep(50000);
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	n = read(bfd, si, sizeof si);
	printf("blocking read: %d, signo %u from the child %d\n", n > 0, si[0].ssi_signo, si[0].ssi_pid == (unsigned)kid);
	waitpid(kid, &st, 0);
	read(fd, si, sizeof si); /* the SIGCHLD */

	/* A new mask on the same fd. */
	sigset_t only;
	sigemptyset(&only);
	sigaddset(&only, SIGUSR2);
	printf("change mask: same fd %d\n", signalfd(fd, &only, 0) == fd);
	kill(getpid(), SIGUSR1);
	printf("SIGUSR1 not in it: %s\n", err(read(fd, si, sizeof si)));
	sigset_t pend;
	sigpending(&pend);
	printf("still pending for the process: %d\n", sigismember(&pend, SIGUSR1));
	signalfd(fd, &set, 0);
	n = read(fd, si, sizeof si);
	printf("back in the mask: signo %u\n", si[0].ssi_signo);

	/* A blocked signal is never ignored: SIG_IGN or not, it waits for the
	 * signalfd (PostgreSQL's latches ignore SIGURG and read it so). */
	sigset_t urg;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	sigprocmask(SIG_BLOCK, &urg, NULL);
	signal(SIGURG, SIG_IGN);
	int ufd = signalfd(-1, &urg, SFD_NONBLOCK);
	kill(getpid(), SIGURG);
	n = read(ufd, si, sizeof si);
	printf("ignored but blocked SIGURG: %ld records, signo %u\n", n / (long)sizeof si[0], n > 0 ? si[0].ssi_signo : 0);
	signal(SIGURG, SIG_DFL);
	kill(getpid(), SIGURG);
	n = read(ufd, si, sizeof si);
	printf("default-ignored but blocked SIGURG: %ld records\n", n / (long)sizeof si[0]);
	sigprocmask(SIG_UNBLOCK, &urg, NULL);
	signal(SIGURG, SIG_IGN);
	kill(getpid(), SIGURG);
	printf("ignored and unblocked: %s\n", err(read(ufd, si, sizeof si)));

	printf("not a signalfd: %s; bad flags: %s; bad size: %s\n", err(signalfd(ep, &set, 0)),
	       err(signalfd(-1, &set, 0x4)), err(syscall(SYS_signalfd4, -1, &set, 4, 0)));
	char link[64], target[64] = "";
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	readlink(link, target, sizeof target - 1);
	printf("link %s\n", target);
	return 0;
}
