/* jobs: job control and parent-death signals. A child stopped by SIGSTOP
 * or SIGTSTP makes no progress and its parent's waitpid(WUNTRACED) and
 * waitid(WSTOPPED) see it stopped, SIGCHLD says CLD_STOPPED; SIGCONT
 * resumes it (WCONTINUED, CLD_CONTINUED); a caught SIGTSTP runs its handler
 * instead; SA_NOCLDSTOP silences SIGCHLD; a fatal signal ends a stopped
 * child; PR_SET_PDEATHSIG fires when the parent exits. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld_codes[8], nchld;

static void on_chld(int s, siginfo_t *si, void *u)
{
	(void)s, (void)u;
	if (nchld < 8)
		chld_codes[nchld++] = si->si_code;
}

static volatile long *counter;

static void spin(void)
{
	for (;;)
		__atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

/* Whether the spinning child moves: within 100 ms (a stopped one must
 * not), or waiting up to 2 s for it (a loaded host may be slow to run a
 * continued one). */
static int moved(void)
{
	long a = *counter;
	usleep(100000);
	return *counter != a;
}

static int moves_again(void)
{
	long a = *counter;
	for (int i = 0; i < 40 && *counter == a; i++)
		usleep(50000);
	return *counter != a;
}

static void tstp_handler(int s)
{
	(void)s;
	counter[1] = 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa = { .sa_sigaction = on_chld, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigaction(SIGCHLD, &sa, NULL);

	/* Each child in a process group of its own, which its parent, in
	 * another group of the session, keeps from being orphaned: Linux
	 * discards SIGTSTP sent to an orphaned group (a test harness may run
	 * us as one). */
	pid_t kid = fork();
	if (kid == 0) {
		setpgid(0, 0);
		spin();
	}
	setpgid(kid, kid);
	usleep(50000);
	printf("running: moves %d\n", moves_again());
	kill(kid, SIGSTOP);
	int st;
	pid_t w = waitpid(kid, &st, WUNTRACED);
	printf("after SIGSTOP: waitpid %d stopped %d by %d; moves %d\n", w == kid, WIFSTOPPED(st), WSTOPSIG(st), moved());
	printf("a second WUNTRACED wait has nothing to report: %d\n", waitpid(kid, &st, WUNTRACED | WNOHANG));
	kill(kid, SIGCONT);
	w = waitpid(kid, &st, WCONTINUED);
	printf("after SIGCONT: waitpid %d continued %d; moves %d\n", w == kid, WIFCONTINUED(st), moves_again());

	/* Stopped by SIGTSTP, seen through waitid. */
	kill(kid, SIGTSTP);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid(P_PID, kid, &si, WSTOPPED | WEXITED);
	printf("SIGTSTP: waitid code %d (CLD_STOPPED %d) status %d; moves %d\n", si.si_code, CLD_STOPPED,
	       si.si_status, moved());
	/* A signal to a stopped child waits for SIGCONT; SIGKILL does not. */
	kill(kid, SIGTERM);
	usleep(50000);
	printf("SIGTERM while stopped: still there %d\n", waitpid(kid, &st, WNOHANG) == 0);
	kill(kid, SIGCONT);
	waitpid(kid, &st, 0);
	printf("then SIGCONT: killed %d by %d\n", WIFSIGNALED(st), WTERMSIG(st));
	kid = fork();
	if (kid == 0)
		spin();
	kill(kid, SIGSTOP);
	waitpid(kid, &st, WUNTRACED);
	kill(kid, SIGKILL);
	waitpid(kid, &st, 0);
	printf("SIGKILL while stopped: killed %d by %d\n", WIFSIGNALED(st), WTERMSIG(st));
	usleep(50000);
	/* The first three are apart; later ones may merge, as SIGCHLD is
	 * a standard signal. */
	printf("SIGCHLD codes:");
	for (int i = 0; i < nchld && i < 3; i++)
		printf(" %d", chld_codes[i]);
	printf("\n");

	/* A caught SIGTSTP runs its handler and does not stop. */
	kid = fork();
	if (kid == 0) {
		setpgid(0, 0);
		signal(SIGTSTP, tstp_handler);
		spin();
	}
	setpgid(kid, kid);
	usleep(50000);
	kill(kid, SIGTSTP);
	usleep(50000);
	printf("caught SIGTSTP: handler ran %ld, still moves %d, waitpid WNOHANG|WUNTRACED %d\n", counter[1], moves_again(),
	       waitpid(kid, &st, WNOHANG | WUNTRACED));
	kill(kid, SIGKILL);
	waitpid(kid, &st, 0);

	/* SA_NOCLDSTOP: no SIGCHLD on stop and continue. */
	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	nchld = 0;
	kid = fork();
	if (kid == 0)
		spin();
	kill(kid, SIGSTOP);
	waitpid(kid, &st, WUNTRACED);
	kill(kid, SIGCONT);
	waitpid(kid, &st, WCONTINUED);
	usleep(50000);
	printf("SA_NOCLDSTOP: %d SIGCHLDs, stopped and continued seen by wait anyway\n", (int)nchld);
	kill(kid, SIGKILL);
	waitpid(kid, &st, 0);

	/* PR_SET_PDEATHSIG: a grandchild learns that its parent exited. */
	int p[2];
	pipe(p);
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			sigset_t usr1;
			sigemptyset(&usr1);
			sigaddset(&usr1, SIGUSR1);
			sigprocmask(SIG_BLOCK, &usr1, NULL);
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			int got = 0;
			prctl(PR_GET_PDEATHSIG, &got);
			write(p[1], "r", 1); /* set: the middle may go */
			int sig;
			sigwait(&usr1, &sig);
			char msg[64];
			int n = snprintf(msg, sizeof msg, "grandchild: pdeathsig %d, got signal %d\n", got, sig);
			write(p[1], msg, n);
			_exit(0);
		}
		char c;
		read(p[0], &c, 1);
		int got = -1;
		prctl(PR_GET_PDEATHSIG, &got);
		printf("middle: its own pdeathsig %d (not inherited)\n", got);
		_exit(0);
	}
	waitpid(mid, &st, 0);
	close(p[1]);
	char buf[128];
	int n = read(p[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("%s", buf);
	return 0;
}
