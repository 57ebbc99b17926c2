/* sigstorm N: parent and child bounce SIGUSR1 N times with sigsuspend (no
 * signal is lost to coalescing), then the parent sends a burst of blocked
 * real-time and standard signals and counts what arrives. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits, rt, usr2;
static void on_usr1(int s) { (void)s; hits++; }
static void on_rt(int s) { (void)s; rt++; }
static void on_usr2(int s) { (void)s; usr2++; }

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 500;
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			while (hits <= i)
				sigsuspend(&old);
			kill(parent, SIGUSR1);
		}
		_exit(hits == n ? 0 : 1);
	}
	for (int i = 0; i < n; i++) {
		kill(pid, SIGUSR1);
		while (hits <= i)
			sigsuspend(&old);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("ping-pong: parent got %d, child %s\n", (int)hits, WEXITSTATUS(st) == 0 ? "got all" : "lost some");

	/* While blocked, standard signals coalesce to one. */
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_rt;
	sigaction(SIGRTMIN, &sa, NULL);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	for (int i = 0; i < 10; i++)
		kill(getpid(), SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	printf("10 blocked SIGUSR2: handled %d\n", (int)usr2);
	return 0;
}
