/* files: read a baked tree: open/read/pread/lseek/fstat/stat/getdents/readlink/
 * access/getcwd/chdir, with errors as errno names. argv[1] is the tree root. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EROFS: return "EROFS";
	case EACCES: return "EACCES";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ELOOP: return "ELOOP";
	case EEXIST: return "EEXIST";
	case ESPIPE: return "ESPIPE";
	default: return "other";
	}
}

/* Calls first, then errno: printf's arguments have no evaluation order. */
#define TRY(label, call)                                                   \
	do {                                                               \
		errno = 0;                                                 \
		long r_ = (long)(call);                                    \
		int e_ = errno;                                            \
		printf("%s: %ld %s\n", label, r_, r_ < 0 ? en(e_) : "ok"); \
	} while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

int main(int argc, char **argv)
{
	if (argc < 2 || chdir(argv[1]) != 0) {
		perror("chdir");
		return 2;
	}
	char buf[4096];
	int fd = open("hello.txt", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf);
	printf("read %zd: %.*s", n, (int)n, buf);
	printf("read at EOF: %zd\n", read(fd, buf, sizeof buf));
	printf("lseek SET 6: %ld\n", (long)lseek(fd, 6, SEEK_SET));
	n = read(fd, buf, 4);
	printf("after seek: %.*s\n", (int)n, buf);
	n = pread(fd, buf, 5, 0);
	printf("pread 0: %.*s, pos still %ld\n", (int)n, buf, (long)lseek(fd, 0, SEEK_CUR));
	printf("lseek END: %ld\n", (long)lseek(fd, 0, SEEK_END));
	struct stat st;
	fstat(fd, &st);
	printf("fstat size=%ld reg=%d mode=%o\n", (long)st.st_size, S_ISREG(st.st_mode), st.st_mode & 0777);
	close(fd);
	TRY("read closed fd", read(fd, buf, 1));

	/* A bigger file through stdio, checksummed. */
	FILE *f = fopen("sub/big.bin", "r");
	unsigned long sum = 0, total = 0;
	int c;
	while ((c = getc(f)) != EOF)
		sum = sum * 31 + c, total++;
	fclose(f);
	printf("big.bin %lu bytes sum %lx\n", total, sum);

	printf("stat dir: %d\n", stat("sub", &st) == 0 && S_ISDIR(st.st_mode));
	printf("lstat link: %d\n", lstat("link.txt", &st) == 0 && S_ISLNK(st.st_mode));
	printf("stat link: %d size=%ld\n", stat("link.txt", &st) == 0 && S_ISREG(st.st_mode), (long)st.st_size);
	n = readlink("link.txt", buf, sizeof buf);
	printf("readlink: %.*s\n", (int)n, buf);
	TRY("readlink regular", readlink("hello.txt", buf, sizeof buf));
	TRY("open missing", open("missing", O_RDONLY));
	TRY("open file as dir", open("hello.txt/x", O_RDONLY));
	TRY("open O_DIRECTORY on file", open("hello.txt", O_RDONLY | O_DIRECTORY));
	TRY("open dir for write", open("sub", O_WRONLY));
	TRY("O_NOFOLLOW on link", open("link.txt", O_RDONLY | O_NOFOLLOW));
	TRY("access R_OK", access("hello.txt", R_OK));
	TRY("access X_OK on 0644", access("hello.txt", X_OK));
	fd = open("sub", O_RDONLY | O_DIRECTORY);
	TRY("read a directory", read(fd, buf, 10));
	close(fd);
	TRY("lseek on stdout pipe", lseek(1, 0, SEEK_CUR));

	DIR *d = opendir(".");
	char *names[64];
	int k = 0;
	struct dirent *de;
	while ((de = readdir(d)) && k < 64)
		names[k++] = strdup(de->d_name);
	closedir(d);
	qsort(names, k, sizeof names[0], cmp);
	printf("dir:");
	for (int i = 0; i < k; i++)
		printf(" %s", names[i]);
	printf("\n");

	chdir("sub");
	getcwd(buf, sizeof buf);
	const char *base = strrchr(buf, '/');
	printf("cwd ends with %s\n", base);
	printf("relative ..: %d\n", access("../hello.txt", R_OK));
	return 0;
}
