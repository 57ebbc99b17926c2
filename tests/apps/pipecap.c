#define _GNU_SOURCE
/* pipecap N ROUNDS: makes N pipes, fills each without blocking and prints
 * what it held; closes them all and does it again, ROUNDS times. What a
 * pipe holds says what backs it (under ukfork: a ring or a host pipe). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10, rounds = argc > 2 ? atoi(argv[2]) : 2;
	static char buf[4096];
	int fds[64][2];
	if (n > 64)
		n = 64;
	for (int round = 0; round < rounds; round++) {
		for (int i = 0; i < n; i++) {
			if (pipe2(fds[i], O_NONBLOCK) < 0) {
				perror("pipe2");
				return 1;
			}
			long held = 0;
			ssize_t w;
			while ((w = write(fds[i][1], buf, sizeof buf)) > 0)
				held += w;
			printf("%s%ld", i ? " " : "", held);
		}
		printf("\n");
		for (int i = 0; i < n; i++) {
			close(fds[i][0]);
			close(fds[i][1]);
		}
	}
	return 0;
}
