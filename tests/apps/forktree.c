/* forktree DEPTH WIDTH: each process forks WIDTH children until DEPTH and
 * exits with 1 + the sum of its children's statuses (mod 256): the root's
 * status counts the processes of the tree. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int node(int depth, int width)
{
	if (depth == 0)
		return 1;
	int sum = 1;
	for (int i = 0; i < width; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			exit(255);
		}
		if (pid == 0)
			_exit(node(depth - 1, width) & 0xff);
	}
	for (int i = 0; i < width; i++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st))
			exit(254);
		sum += WEXITSTATUS(st);
	}
	return sum;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 3, width = argc > 2 ? atoi(argv[2]) : 3;
	int n = node(depth, width);
	printf("tree of depth %d width %d: %d processes (status sum)\n", depth, width, n);
	return 0;
}
