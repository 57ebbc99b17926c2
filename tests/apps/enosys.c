/* enosys: a syscall the runtime lacks returns ENOSYS, every time; the host
 * names it once. Also echoes stdin to stdout. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < 3; i++) {
		long r = syscall(SYS_vhangup);
		printf("vhangup: %ld %s\n", r, errno == ENOSYS ? "ENOSYS" : "other");
	}
	char buf[256];
	ssize_t n;
	while ((n = read(0, buf, sizeof buf)) > 0)
		write(1, buf, n);
	return 0;
}
