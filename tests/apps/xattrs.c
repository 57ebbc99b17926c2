/* xattrs: extended attribute calls on files with none (the root directory,
 * /bin): reads are ENODATA, lists are empty, errors for a missing file or a
 * bad name as Linux gives them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
	char b[64];
	show("getxattr /", getxattr("/", "user.x", b, sizeof(b)));
	show("lgetxattr /bin", lgetxattr("/bin", "user.x", b, sizeof(b)));
	show("listxattr /", listxattr("/", b, sizeof(b)));
	show("llistxattr /bin", llistxattr("/bin", b, 0));
	show("getxattr missing file", getxattr("/nonexistent", "user.x", b, sizeof(b)));
	show("getxattr empty name", getxattr("/", "", b, sizeof(b)));
	show("listxattr missing file", listxattr("/nonexistent", b, sizeof(b)));
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	show("fgetxattr /", fgetxattr(fd, "user.x", b, sizeof(b)));
	show("flistxattr /", flistxattr(fd, b, sizeof(b)));
	show("fgetxattr 99", fgetxattr(99, "user.x", b, sizeof(b)));
	return 0;
}
