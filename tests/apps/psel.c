/* psel: ppoll and pselect6 wait with their signal mask in place of the
 * caller's: a signal they let through interrupts them and runs its handler,
 * one they block stays pending, and the caller's mask is back after. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int got;
static void on_usr1(int sig) { got = sig; }

static void kick_later(void)
{
	pid_t parent = getpid();
	if (fork() == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
}

static void report(const char *what, int r)
{
	sigset_t cur, pend;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	sigpending(&pend);
	printf("%s: %d %s, handler %s, USR1 blocked %d, pending %d\n", what, r,
	       r < 0 ? strerror(errno) : "-", got ? "ran" : "did not run",
	       sigismember(&cur, SIGUSR1), sigismember(&pend, SIGUSR1));
	got = 0;
	wait(NULL);
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &block, NULL);
	int p[2];
	pipe(p);
	struct pollfd pfd = { p[0], POLLIN, 0 };
	struct timespec ts = { 2, 0 }, short_ts = { 0, 200000000 };

	kick_later();
	report("ppoll, mask lets USR1 in", ppoll(&pfd, 1, &ts, &none));

	kick_later();
	report("ppoll, mask blocks USR1", ppoll(&pfd, 1, &short_ts, &block));
	sigprocmask(SIG_UNBLOCK, &block, NULL); /* takes the pending one */
	printf("after unblocking: handler %s\n", got ? "ran" : "did not run");
	got = 0;
	sigprocmask(SIG_BLOCK, &block, NULL);

	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	kick_later();
	report("pselect, mask lets USR1 in", pselect(p[0] + 1, &rs, NULL, NULL, &ts, &none));

	write(p[1], "x", 1); /* ready: returns at once, mask put back */
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	kick_later();
	int r = pselect(p[0] + 1, &rs, NULL, NULL, &ts, &none);
	usleep(100000); /* USR1 arrives while the caller blocks it */
	report("pselect, ready at once", r);
	return 0;
}
