/* forkrace: 4 children each hold a pipe and loop on fork/wait while the
 * parent returns after 0.3 s: the run ends with forks in flight. Natively
 * the children stop once orphaned. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int p[2];
	if (pipe(p) != 0)
		return 1;
	pid_t parent = getpid();
	for (int i = 0; i < 4; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			close(1);
			while (getppid() == parent) {
				pid_t c = fork();
				if (c == 0)
					_exit(0);
				if (c > 0)
					waitpid(c, NULL, 0);
			}
			_exit(0);
		}
	}
	usleep(300000);
	printf("parent done\n");
	return 0;
}
