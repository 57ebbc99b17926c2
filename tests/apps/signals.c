/* signals: handlers across VMs (kill from a child to its parent and back),
 * SIGCHLD, SA_SIGINFO, SA_RESTART vs EINTR, SA_RESETHAND, masks and
 * sigsuspend, sigtimedwait, alarm, raise, default actions, signal to a
 * program spinning in its own code, process groups. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_chld, got_alrm, info_pid, info_code;

static void on_usr1(int sig) { got_usr1++; (void)sig; }
static void on_usr2(int sig) { got_usr2++; (void)sig; }
static void on_alrm(int sig) { got_alrm++; (void)sig; }
static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	got_chld++;
	info_pid = si->si_pid;
	info_code = si->si_code;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);

	/* raise: delivered before raise returns. */
	raise(SIGUSR1);
	printf("raise: handler ran %d\n", got_usr1);

	/* Blocked, then delivered on unblock; sigpending sees it. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	kill(getpid(), SIGUSR2);
	sigset_t pend;
	sigpending(&pend);
	printf("blocked: ran %d, pending %d\n", got_usr2, sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("unblocked: ran %d\n", got_usr2);

	/* SIGCHLD with siginfo from a child VM. */
	struct sigaction sc = { 0 };
	sc.sa_sigaction = on_chld;
	sc.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sc, NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(5);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	printf("SIGCHLD: %d, si_pid is child %d, CLD_EXITED %d, status %d\n", got_chld > 0,
	       info_pid == pid, info_code == CLD_EXITED, WEXITSTATUS(st));

	/* A child signals its parent, which waits in sigsuspend. */
	sigprocmask(SIG_BLOCK, &set, &old);
	got_usr2 = 0;
	pid_t parent = getpid();
	pid = fork();
	if (pid == 0) {
		kill(parent, SIGUSR2);
		_exit(0);
	}
	sigset_t none;
	sigemptyset(&none);
	int r = sigsuspend(&none);
	printf("sigsuspend: %d EINTR %d, handler %d\n", r, errno == EINTR, got_usr2);
	sigprocmask(SIG_SETMASK, &old, NULL);
	waitpid(pid, NULL, 0);

	/* The parent signals a child spinning in its own code. */
	int p[2];
	pipe(p);
	pid = fork();
	if (pid == 0) {
		got_usr1 = 0;
		write(p[1], "r", 1);
		while (!got_usr1)
			;
		_exit(42);
	}
	char c;
	read(p[0], &c, 1);
	kill(pid, SIGUSR1);
	waitpid(pid, &st, 0);
	printf("spinning child got it: exit %d\n", WEXITSTATUS(st));

	/* Default action: terminate; SIG_IGN; kill of a blocked-in-read child. */
	pid = fork();
	if (pid == 0) {
		read(p[0], &c, 1); /* blocks: nobody writes */
		_exit(1);
	}
	usleep(20000);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	printf("SIGTERM: signaled %d by %d\n", WIFSIGNALED(st), WTERMSIG(st));
	signal(SIGTERM, SIG_IGN);
	raise(SIGTERM);
	printf("ignored SIGTERM: still here\n");
	signal(SIGTERM, SIG_DFL);

	/* EINTR without SA_RESTART, restart with it. */
	struct sigaction na = { 0 };
	na.sa_handler = on_alrm;
	sigaction(SIGALRM, &na, NULL);
	alarm(1);
	got_alrm = 0;
	ssize_t n = read(p[0], &c, 1);
	printf("read interrupted by alarm: %zd EINTR %d alrm %d\n", n, errno == EINTR, got_alrm);
	na.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &na, NULL);
	pid = fork();
	if (pid == 0) {
		usleep(300000);
		write(p[1], "x", 1);
		_exit(0);
	}
	struct itimerval it = { { 0, 0 }, { 0, 100000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	got_alrm = 0;
	n = read(p[0], &c, 1);
	printf("read restarted after alarm: %zd '%c' alrm %d\n", n, c, got_alrm);
	waitpid(pid, NULL, 0);

	/* A handler cuts nanosleep short, SA_RESTART or not: EINTR, and the
	 * time left in rem. */
	struct itimerval it2 = { { 0, 0 }, { 0, 100000 } };
	setitimer(ITIMER_REAL, &it2, NULL);
	struct timespec req = { 2, 0 }, rem = { 0, 0 };
	int sr = nanosleep(&req, &rem);
	printf("nanosleep interrupted: %d EINTR %d, rem 1-2 s %d\n", sr, errno == EINTR,
	       rem.tv_sec == 1 || (rem.tv_sec == 2 && rem.tv_nsec == 0));

	/* sigtimedwait: a blocked signal taken synchronously; then a timeout. */
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid == 0) {
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	siginfo_t si;
	int s = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %s from child %d\n", s == SIGUSR2 ? "SIGUSR2" : "other", si.si_pid == pid);
	waitpid(pid, NULL, 0); /* its SIGCHLD must not cut the next wait short */
	struct timespec ts = { 0, 50000000 };
	s = sigtimedwait(&set, &si, &ts);
	printf("sigtimedwait timeout: %d EAGAIN %d\n", s, errno == EAGAIN);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* SA_RESETHAND: the second one takes the default action. */
	pid = fork();
	if (pid == 0) {
		struct sigaction rh = { 0 };
		rh.sa_handler = on_usr1;
		rh.sa_flags = SA_RESETHAND;
		sigaction(SIGUSR1, &rh, NULL);
		raise(SIGUSR1);
		raise(SIGUSR1);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("SA_RESETHAND: second killed by %d\n", WTERMSIG(st));

	/* Process groups: kill(-pgid) reaches every member. */
	pid_t kids[3];
	for (int i = 0; i < 3; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			setpgid(0, i == 0 ? 0 : kids[0]);
			pause();
			_exit(0);
		}
		setpgid(kids[i], kids[0]);
	}
	usleep(50000);
	kill(-kids[0], SIGTERM);
	int killed = 0;
	for (int i = 0; i < 3; i++) {
		waitpid(kids[i], &st, 0);
		killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM;
	}
	printf("kill(-pgid): %d of 3\n", killed);
	errno = 0;
	r = kill(99999, 0);
	printf("kill bad pid: %d ESRCH %d\n", r, errno == ESRCH);
	errno = 0;
	r = kill(getpid(), 99);
	printf("kill bad signal: %d EINVAL %d\n", r, errno == EINVAL);
	return 0;
}
