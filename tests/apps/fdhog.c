/* fdhog N: N children each make pipes until they fail, and keep them; the
 * parent then checks that poll and read still work for everyone and that
 * every child failed with EMFILE or ENFILE (never ENOMEM, never a crash). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 25;
	struct rlimit rl = { 1024, 1024 };
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1;
	int rep[2], go[2];
	if (pipe(rep) != 0 || pipe(go) != 0)
		return 2;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 3;
		if (pid == 0) {
			int p[2];
			close(go[1]);
			while (pipe(p) == 0)
				;
			char c = errno == EMFILE ? 'M' : errno == ENFILE ? 'N' : 'X';
			write(rep[1], &c, 1);
			read(go[0], &c, 1); /* hold them until the parent is done */
			_exit(0);
		}
	}
	int bad = 0;
	for (int got = 0; got < n;) {
		struct pollfd pfd = { rep[0], POLLIN, 0 };
		if (poll(&pfd, 1, 10000) != 1) {
			printf("poll failed: %s\n", errno ? "error" : "timeout");
			return 4;
		}
		char buf[64];
		ssize_t k = read(rep[0], buf, sizeof(buf));
		if (k <= 0) {
			printf("read failed\n");
			return 5;
		}
		for (ssize_t j = 0; j < k; j++)
			bad += buf[j] != 'M' && buf[j] != 'N';
		got += k;
	}
	close(go[1]); /* EOF: the children go */
	for (int i = 0; i < n; i++)
		wait(NULL);
	printf("%d children at their limit, %d failed otherwise\n", n, bad);
	return bad != 0;
}
