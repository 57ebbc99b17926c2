/* sleeper: waits forever, either asleep (nanosleep) or spinning in user code,
 * for the Ctrl-C tests. Prints "ready" first. */
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	int spin = argc > 1 && strcmp(argv[1], "spin") == 0;
	printf("ready\n");
	fflush(stdout);
	volatile unsigned long n = 0;
	for (;;) {
		if (spin) {
			n++;
		} else {
			struct timespec ts = {3600, 0};
			nanosleep(&ts, NULL);
		}
	}
}
