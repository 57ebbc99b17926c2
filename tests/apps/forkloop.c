/* forkloop N: N fork/exit/wait cycles, each child exiting with i % 256. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	long sum = 0;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(i % 256);
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
			return 2;
		sum += WEXITSTATUS(st);
	}
	printf("%d cycles, status sum %ld\n", n, sum);
	return 0;
}
