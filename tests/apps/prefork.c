/* prefork WORKERS REQUESTS: a prefork server. The master forks workers that
 * share its listening socket and accept connections; a worker that dies is
 * replaced on SIGCHLD; SIGTERM makes the master stop its workers and exit.
 * The master also forks a client that sends REQUESTS requests, kills one
 * worker, sends REQUESTS more, then sends the master SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXW 16
static pid_t workers[MAXW];
static int nworkers, restarted;
static volatile sig_atomic_t chld, term;
static int ls;

static void on_chld(int s) { (void)s; chld = 1; }
static void on_term(int s) { (void)s; term = 1; }

static void worker(void)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* the master's loop blocks them */
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			continue;
		char buf[64];
		ssize_t n = read(c, buf, sizeof buf);
		if (n > 0) {
			char out[96];
			int m = snprintf(out, sizeof out, "worker %d: %.*s", (int)getpid(), (int)n, buf);
			write(c, out, m);
		}
		close(c);
	}
}

static pid_t spawn(void)
{
	pid_t pid = fork();
	if (pid == 0)
		worker();
	return pid;
}

static int request(struct sockaddr_in *a, int i)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)a, sizeof *a) < 0)
		return 0;
	char msg[32];
	int n = snprintf(msg, sizeof msg, "request %d", i);
	write(c, msg, n);
	char buf[128];
	ssize_t got = read(c, buf, sizeof buf);
	close(c);
	return got > 0 && strstr(buf, msg) != NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	nworkers = argc > 1 ? atoi(argv[1]) : 4;
	int reqs = argc > 2 ? atoi(argv[2]) : 20;
	if (nworkers > MAXW)
		nworkers = MAXW;
	ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(ls, (struct sockaddr *)&a, sizeof a);
	listen(ls, 64);
	socklen_t al = sizeof a;
	getsockname(ls, (struct sockaddr *)&a, &al);

	struct sigaction sa = { .sa_handler = on_chld };
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	for (int i = 0; i < nworkers; i++)
		workers[i] = spawn();

	pid_t master = getpid();
	pid_t client = fork();
	if (client == 0) {
		signal(SIGCHLD, SIG_DFL);
		int ok = 0;
		for (int i = 0; i < reqs; i++)
			ok += request(&a, i);
		kill(workers[0], SIGKILL); /* the master must replace it */
		usleep(100000);
		for (int i = 0; i < reqs; i++)
			ok += request(&a, reqs + i);
		printf("client: %d of %d requests answered\n", ok, 2 * reqs);
		kill(master, SIGTERM);
		_exit(0);
	}
	/* Signals wait blocked until sigsuspend: one that comes while the loop
	 * runs is not lost (pause() would miss a SIGCHLD between the check and
	 * the wait). */
	sigset_t both, old;
	sigemptyset(&both);
	sigaddset(&both, SIGCHLD);
	sigaddset(&both, SIGTERM);
	sigprocmask(SIG_BLOCK, &both, &old);
	int client_done = 0;
	while (!term || chld) {
		if (!chld && !term)
			sigsuspend(&old);
		while (chld) {
			chld = 0;
			int st;
			pid_t pid;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				if (pid == client) {
					client_done = 1;
					continue;
				}
				for (int i = 0; i < nworkers; i++)
					if (workers[i] == pid && !term) {
						workers[i] = spawn();
						restarted++;
					}
			}
		}
	}
	for (int i = 0; i < nworkers; i++)
		kill(workers[i], SIGTERM);
	int gone = 0, st;
	pid_t pid;
	while ((pid = wait(&st)) > 0)
		if (pid != client)
			gone += WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM;
	(void)client_done; /* whether the client is reaped before SIGTERM is a race */
	printf("master: restarted %d worker(s); on SIGTERM %d of %d workers stopped\n",
	       restarted, gone, nworkers);
	return 0;
}
