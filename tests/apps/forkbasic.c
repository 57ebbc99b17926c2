/* forkbasic: fork returns twice, memory is copied not shared, the child sees
 * its parent, wait reports real statuses (exit codes and signals). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter = 100;
static char big[1 << 20];

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	memset(big, 'p', sizeof big);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		counter++;
		memset(big, 'c', sizeof big);
		printf("child: ppid is parent %d, pid differs %d, counter %d\n",
		       getppid() == parent, getpid() != parent, counter);
		_exit(42);
	}
	int st;
	pid_t w = waitpid(pid, &st, 0);
	printf("parent: waited right child %d, exited %d, status %d\n", w == pid, WIFEXITED(st), WEXITSTATUS(st));
	printf("parent: counter %d, big untouched %d\n", counter, big[0] == 'p' && big[sizeof big - 1] == 'p');

	/* A child killed by a signal. */
	pid = fork();
	if (pid == 0) {
		*(volatile int *)0 = 1;
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("parent: child signaled %d, signal %d\n", WIFSIGNALED(st), WTERMSIG(st));

	/* Several children, reaped in any order; then no child left. */
	int sum = 0;
	for (int i = 1; i <= 5; i++)
		if (fork() == 0)
			_exit(i);
	for (int i = 0; i < 5; i++) {
		wait(&st);
		sum += WEXITSTATUS(st);
	}
	printf("parent: five children summed %d\n", sum);
	printf("parent: wait with no children: %d\n", wait(&st));
	/* WNOHANG with a child still running. */
	pid = fork();
	if (pid == 0) {
		usleep(200000);
		_exit(3);
	}
	printf("parent: WNOHANG while running %d\n", waitpid(pid, &st, WNOHANG));
	waitpid(pid, &st, 0);
	printf("parent: then %d\n", WEXITSTATUS(st));

	/* An orphan is adopted by the first process (a subreaper natively). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int p[2];
	pipe(p);
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			char c;
			read(p[0], &c, 1); /* until the middle process is gone */
			printf("orphan: adopted by the first process %d\n", getppid() == parent);
			_exit(9);
		}
		_exit(0);
	}
	waitpid(pid, &st, 0);
	write(p[1], "x", 1);
	pid_t w2 = wait(&st);
	printf("parent: reaped the orphan %d with %d\n", w2 > 0, WEXITSTATUS(st));
	return 0;
}
