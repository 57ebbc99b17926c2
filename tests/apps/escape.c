/* escape: tries to reach host files from inside the image; every attempt
 * must fail. Prints one line per attempt: what it tried and what it got. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static void try(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY);
	char buf[256] = {0};
	if (fd >= 0) {
		read(fd, buf, sizeof buf - 1);
		printf("%s: OPENED %s: %.40s\n", what, path, buf);
		close(fd);
		return;
	}
	printf("%s: refused (%s)\n", what, strerror(errno));
}

int main(void)
{
	try("absolute", "/etc/passwd");
	try("dotdot", "../../../../../../etc/passwd");
	try("dotdot from root", "/../../etc/passwd");
	try("abs symlink", "/escape/abs");
	try("rel symlink", "/escape/rel");
	try("dir symlink", "/escape/dir/passwd");
	try("proc root", "/proc/self/root/etc/passwd");
	try("proc of pid 1", "/proc/1/root/etc/passwd");
	chdir("/escape");
	try("cwd dotdot", "../../etc/passwd");
	struct stat st;
	printf("stat /etc/hostname: %s\n", stat("/etc/hostname", &st) == 0 ? "FOUND" : "refused");
	return 0;
}
