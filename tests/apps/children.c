/* children N: touch 8 MiB, fork N children that wait on a pipe, print
 * "ready N", wait for a line on stdin, then let them go and reap them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, made = 0;
	char *mem = malloc(8 << 20);
	memset(mem, 1, 8 << 20);
	int p[2];
	pipe(p);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char c;
			close(p[1]);
			read(p[0], &c, 1);
			_exit(mem[i] == 1 ? 0 : 1);
		}
		if (pid < 0) {
			perror("fork");
			break;
		}
		made++;
	}
	close(p[0]);
	printf("ready %d\n", made);
	fflush(stdout);
	char line[16];
	fgets(line, sizeof line, stdin);
	close(p[1]);
	int st, ok = 0;
	while (wait(&st) > 0)
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("reaped %d cleanly\n", ok);
	return 0;
}
