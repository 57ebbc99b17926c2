/* forkbomb N: fork until fork fails (EAGAIN from --max-procs), with every
 * child waiting; report how many were made and the errno, then clean up. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int limit = argc > 1 ? atoi(argv[1]) : 100000;
	int made = 0, err = 0;
	int p[2];
	pipe(p);
	for (; made < limit; made++) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			char c;
			close(p[1]);
			read(p[0], &c, 1); /* until the parent closes the pipe */
			_exit(0);
		}
	}
	close(p[1]);
	int reaped = 0;
	while (wait(NULL) > 0)
		reaped++;
	printf("made %d children, then %s; reaped %d\n", made,
	       err == EAGAIN ? "EAGAIN" : err ? strerror(err) : "stopped", reaped);
	return 0;
}
