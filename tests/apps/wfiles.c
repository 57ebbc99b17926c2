/* wfiles: writing files as Linux does, errnos included: create, write,
 * truncate, rename, link, symlink, remove, mkdir/rmdir, sync, fallocate,
 * times, modes, owners, directory listings over a changed tree, and the
 * permission rules for a non-root process. Run from a fresh directory
 * (argv[1], made here); prints one line per result. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EBADF: return "EBADF";
	case ELOOP: return "ELOOP";
	case EXDEV: return "EXDEV";
	case EROFS: return "EROFS";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ESPIPE: return "ESPIPE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EFAULT: return "EFAULT";
	case ENXIO: return "ENXIO";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

/* r: a call's result; its errno if it failed. */
static const char *res(long r) { return r < 0 ? en(errno) : "ok"; }
#define TRY(what, call) printf("%s: %s\n", what, res((long)(call)))

static void show(const char *p)
{
	struct stat st;
	if (lstat(p, &st) < 0) {
		printf("  %s: %s\n", p, en(errno));
		return;
	}
	printf("  %s: mode %o nlink %lu uid %u gid %u", p, st.st_mode, (unsigned long)st.st_nlink,
	       st.st_uid, st.st_gid);
	if (!S_ISDIR(st.st_mode))
		printf(" size %lld", (long long)st.st_size);
	printf("\n");
}

static void cat(const char *p)
{
	char b[256];
	int fd = open(p, O_RDONLY);
	if (fd < 0) {
		printf("  cat %s: %s\n", p, en(errno));
		return;
	}
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	for (ssize_t i = 0; i < n; i++)
		if (b[i] == 0)
			b[i] = '.';
	b[n < 0 ? 0 : n] = 0;
	printf("  cat %s: %zd '%s'\n", p, n, b);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ls: a directory's names, sorted, "." and ".." included. */
static void ls(const char *p)
{
	DIR *d = opendir(p);
	if (!d) {
		printf("  ls %s: %s\n", p, en(errno));
		return;
	}
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	printf("  ls %s:", p);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void put(const char *p, const char *s)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, s, strlen(s));
	close(fd);
}

static void create_write(void)
{
	printf("-- create, write, read\n");
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0640);
	printf("open O_CREAT|O_EXCL: %s\n", res(fd));
	TRY("again O_EXCL", open("f", O_RDWR | O_CREAT | O_EXCL, 0640));
	TRY("write", write(fd, "hello", 5));
	TRY("pwrite past the end", pwrite(fd, "X", 1, 10));
	show("f");
	cat("f");
	printf("lseek end: %ld\n", (long)lseek(fd, 0, SEEK_END));
	close(fd);
	fd = open("f", O_WRONLY | O_APPEND);
	lseek(fd, 0, SEEK_SET);
	TRY("append", write(fd, "++", 2));
	TRY("pwrite with O_APPEND", pwrite(fd, "@", 1, 0));
	close(fd);
	cat("f");
	TRY("O_CREAT|O_DIRECTORY", open("newd", O_CREAT | O_DIRECTORY | O_RDONLY, 0755));
	show("newd");
	fd = open("f", O_RDWR | O_TRUNC);
	printf("O_TRUNC: %s\n", res(fd));
	show("f");
	close(fd);
	fd = open("f", O_RDONLY);
	TRY("write to O_RDONLY", write(fd, "x", 1));
	close(fd);
	TRY("creat", (fd = creat("c", 0600)));
	close(fd);
	show("c");
	TRY("open missing", open("missing", O_RDONLY));
	TRY("create under a missing dir", open("nodir/f", O_CREAT | O_WRONLY, 0644));
	TRY("create under a file", open("c/f", O_CREAT | O_WRONLY, 0644));
	TRY("create dir/", open("newdir/", O_CREAT | O_WRONLY, 0644));
	TRY("mkdir under a missing dir", mkdir("nodir/x", 0755));
}

static void dirs(void)
{
	printf("-- mkdir, rmdir, unlink\n");
	TRY("mkdir d", mkdir("d", 0750));
	TRY("mkdir d again", mkdir("d", 0750));
	TRY("mkdir d/e/", mkdir("d/e/", 0755));
	TRY("mkdir of a file", mkdir("c", 0755));
	show("d");
	put("d/file", "in d");
	TRY("rmdir non-empty", rmdir("d"));
	TRY("rmdir a file", rmdir("d/file"));
	TRY("unlink a dir", unlink("d/e"));
	TRY("rmdir .", rmdir("d/e/."));
	TRY("rmdir ..", rmdir("d/e/.."));
	TRY("unlink file/", unlink("d/file/"));
	TRY("rmdir missing", rmdir("d/none"));
	TRY("rmdir d/e", rmdir("d/e"));
	TRY("unlink d/file", unlink("d/file"));
	TRY("unlink again", unlink("d/file"));
	ls("d");
	TRY("rmdir d", rmdir("d"));
	TRY("mkdirat", mkdirat(AT_FDCWD, "d2", 0700));
	show("d2");
	TRY("mknod regular", mknod("node", S_IFREG | 0600, 0));
	show("node");
	TRY("mkfifo", mkfifo("fifo", 0644));
	show("fifo");
}

static void renames(void)
{
	printf("-- rename\n");
	put("r1", "one");
	put("r2", "two");
	mkdir("rd", 0755);
	mkdir("rd2", 0755);
	put("rd2/x", "x");
	TRY("rename over a file", rename("r1", "r2"));
	cat("r2");
	show("r1");
	TRY("rename missing", rename("r1", "r3"));
	TRY("rename file over dir", rename("r2", "rd"));
	TRY("rename dir over file", rename("rd", "r2"));
	TRY("rename dir over non-empty dir", rename("rd", "rd2"));
	TRY("rename dir into itself", rename("rd", "rd/sub"));
	TRY("rename to itself", rename("r2", "r2"));
	TRY("rename into a missing dir", rename("r2", "nodir/r2"));
	TRY("rename dir over empty dir", rename("rd", "rd3") == 0 && mkdir("rd", 0755) == 0 ? rename("rd3", "rd") : -1);
	put("r1", "ONE");
	TRY("RENAME_NOREPLACE", syscall(SYS_renameat2, AT_FDCWD, "r1", AT_FDCWD, "r2", 1));
	TRY("RENAME_EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "r1", AT_FDCWD, "r2", 2));
	cat("r1");
	cat("r2");
	TRY("RENAME_EXCHANGE with a missing name", syscall(SYS_renameat2, AT_FDCWD, "r1", AT_FDCWD, "r9", 2));
	TRY("RENAME_NOREPLACE|EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "r1", AT_FDCWD, "r2", 3));
	TRY("RENAME_NOREPLACE to a new name", syscall(SYS_renameat2, AT_FDCWD, "r1", AT_FDCWD, "r9", 1));
	TRY("rename a dir into another", rename("rd2", "rd/rd2"));
	cat("rd/rd2/x");
	ls(".");
}

static void links(void)
{
	printf("-- link, symlink\n");
	put("l1", "linked");
	TRY("link", link("l1", "l2"));
	show("l1");
	TRY("link to an existing name", link("l1", "l2"));
	TRY("link a dir", link("rd", "rdl"));
	TRY("link missing", link("none", "l3"));
	TRY("unlink l1", unlink("l1"));
	show("l2");
	cat("l2");
	TRY("symlink", symlink("l2", "s1"));
	TRY("symlink dangling", symlink("target", "s2"));
	TRY("symlink over a name", symlink("x", "l2"));
	TRY("symlink empty target", symlink("", "s3"));
	char b[64];
	ssize_t n = readlink("s1", b, sizeof b);
	printf("readlink: %zd '%.*s'\n", n, (int)(n > 0 ? n : 0), b);
	TRY("readlink of a file", readlink("l2", b, sizeof b));
	show("s1");
	cat("s1");
	TRY("open O_NOFOLLOW", open("s1", O_RDONLY | O_NOFOLLOW));
	int fd = open("s2", O_WRONLY | O_CREAT, 0644);
	printf("O_CREAT through a dangling symlink: %s\n", res(fd));
	write(fd, "made", 4);
	close(fd);
	cat("target");
	TRY("O_CREAT|O_EXCL on a symlink", open("s1", O_WRONLY | O_CREAT | O_EXCL, 0644));
	TRY("link a symlink", link("s1", "s1l"));
	show("s1l");
	TRY("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "s1", AT_FDCWD, "s1f", AT_SYMLINK_FOLLOW));
	show("s1f");
	symlink("loop2", "loop1");
	symlink("loop1", "loop2");
	TRY("open a symlink loop", open("loop1", O_RDONLY));
	TRY("mkdir through a symlink", mkdir("s2", 0755));
}

static void sizes(void)
{
	printf("-- truncate, fallocate, sync\n");
	put("t", "0123456789");
	TRY("truncate to 4", truncate("t", 4));
	cat("t");
	TRY("truncate to 20", truncate("t", 20));
	show("t");
	cat("t");
	TRY("truncate negative", truncate("t", -1));
	TRY("truncate a dir", truncate("rd", 0));
	TRY("truncate missing", truncate("none", 0));
	int fd = open("t", O_RDONLY);
	TRY("ftruncate O_RDONLY", ftruncate(fd, 0));
	TRY("fallocate O_RDONLY", fallocate(fd, 0, 0, 100));
	TRY("fsync", fsync(fd));
	TRY("fdatasync", fdatasync(fd));
	TRY("syncfs", syncfs(fd));
	close(fd);
	fd = open("t", O_RDWR);
	TRY("ftruncate", ftruncate(fd, 2));
	TRY("fallocate", fallocate(fd, 0, 0, 100));
	show("t");
	TRY("fallocate KEEP_SIZE", fallocate(fd, 1, 0, 1000));
	show("t");
	TRY("fallocate len 0", fallocate(fd, 0, 0, 0));
	TRY("fallocate negative offset", fallocate(fd, 0, -1, 10));
	close(fd);
	fd = open("sparse", O_RDWR | O_CREAT, 0644);
	TRY("ftruncate to 1 MiB", ftruncate(fd, 1 << 20));
	pwrite(fd, "data", 4, 512 << 10);
	printf("  SEEK_DATA 0: %ld, SEEK_HOLE 512K: %ld, SEEK_DATA past the data: %s\n",
	       (long)lseek(fd, 0, SEEK_DATA), (long)lseek(fd, 512 << 10, SEEK_HOLE),
	       res(lseek(fd, (512 << 10) + 4096, SEEK_DATA)));
	char z[4] = { 1, 1, 1, 1 };
	pread(fd, z, 4, 4096);
	printf("  a hole reads %d%d%d%d\n", z[0], z[1], z[2], z[3]);
	close(fd);
	TRY("ftruncate bad fd", ftruncate(99, 0));
	int p[2];
	pipe(p);
	TRY("fsync a pipe", fsync(p[0]));
	TRY("ftruncate a pipe", ftruncate(p[1], 0));
	close(p[0]);
	close(p[1]);
	sync();
}

static void times_modes(void)
{
	printf("-- times, modes, owners\n");
	put("m", "m");
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1500000000, 987654321 } };
	TRY("utimensat", utimensat(AT_FDCWD, "m", ts, 0));
	struct stat st;
	stat("m", &st);
	printf("  atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	struct timespec omit[2] = { { 0, UTIME_OMIT }, { 7, 0 } };
	TRY("utimensat UTIME_OMIT", utimensat(AT_FDCWD, "m", omit, 0));
	stat("m", &st);
	printf("  atime %ld mtime %ld\n", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	struct timeval tv[2] = { { 42, 5 }, { 43, 6 } };
	TRY("utimes", utimes("m", tv));
	stat("m", &st);
	printf("  atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	struct timespec bad[2] = { { 0, 2000000000 }, { 0, 0 } };
	TRY("utimensat bad nsec", utimensat(AT_FDCWD, "m", bad, 0));
	TRY("utimensat now", utimensat(AT_FDCWD, "m", NULL, 0));
	stat("m", &st);
	printf("  mtime recent: %d\n", st.st_mtim.tv_sec > 1700000000);
	int fd = open("m", O_RDONLY);
	TRY("futimesat of an fd", syscall(SYS_futimesat, fd, NULL, tv));
	stat("m", &st);
	printf("  mtime %ld\n", (long)st.st_mtim.tv_sec);
	TRY("futimens", futimens(fd, ts));
	stat("m", &st);
	printf("  mtime %ld\n", (long)st.st_mtim.tv_sec);
	TRY("utimensat on a symlink, nofollow", utimensat(AT_FDCWD, "s1", ts, AT_SYMLINK_NOFOLLOW));
	TRY("utimensat missing", utimensat(AT_FDCWD, "none", ts, 0));
	TRY("chmod", chmod("m", 04751));
	show("m");
	TRY("fchmod", fchmod(fd, 0600));
	show("m");
	TRY("chmod missing", chmod("none", 0600));
	TRY("chown", chown("m", 1000, 1001));
	show("m");
	TRY("chown -1", chown("m", -1, 1002));
	show("m");
	TRY("fchown", fchown(fd, 0, 0));
	show("m");
	close(fd);
	chmod("m", 06755);
	TRY("chown of a set-id file", chown("m", 1000, 1000));
	show("m");
	TRY("lchown a symlink", lchown("s1", 1005, 1006));
	show("s1");
	show("l2");
	TRY("fchownat AT_SYMLINK_NOFOLLOW", fchownat(AT_FDCWD, "s2", 1007, 1007, AT_SYMLINK_NOFOLLOW));
	show("s2");
	show("target");
}

static void tmpfiles(void)
{
	printf("-- O_TMPFILE\n");
	int fd = open(".", O_TMPFILE | O_RDWR, 0600);
	printf("open O_TMPFILE: %s\n", res(fd));
	write(fd, "anon", 4);
	char b[8] = { 0 };
	pread(fd, b, 4, 0);
	printf("  read back '%s'\n", b);
	struct stat st;
	fstat(fd, &st);
	printf("  nlink %lu size %lld\n", (unsigned long)st.st_nlink, (long long)st.st_size);
	close(fd);
	TRY("O_TMPFILE O_RDONLY", open(".", O_TMPFILE | O_RDONLY, 0600));
	TRY("O_TMPFILE of a file", open("m", O_TMPFILE | O_RDWR, 0600));
	ls(".");
}

/* As uid 1000 in a child: Linux's permission rules. */
static void perms(void)
{
	printf("-- permissions\n");
	mkdir("priv", 0755);
	put("priv/f", "root's");
	chmod("priv/f", 0644);
	mkdir("pub", 0777);
	chmod("pub", 0777); /* past the umask */
	mkdir("sticky", 01777);
	chmod("sticky", 01777);
	put("sticky/rootf", "r");
	put("ro", "read only");
	chmod("ro", 0444);
	put("rw", "everyone");
	chmod("rw", 0666);
	mkdir("closed", 0700);
	put("closed/f", "x");
	TRY("root writes a 0444 file", open("ro", O_WRONLY));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(1000) < 0 || setuid(1000) < 0) {
			printf("cannot drop privileges: %s\n", en(errno));
			_exit(1);
		}
		TRY("write a 0444 file", open("ro", O_WRONLY));
		TRY("O_TRUNC a 0444 file", open("ro", O_RDONLY | O_TRUNC));
		TRY("read a 0444 file", open("ro", O_RDONLY));
		TRY("truncate a 0444 file", truncate("ro", 0));
		TRY("access W_OK", access("ro", W_OK));
		TRY("access R_OK", access("ro", R_OK));
		TRY("create in root's 0755 dir", open("priv/new", O_CREAT | O_WRONLY, 0644));
		TRY("mkdir in root's 0755 dir", mkdir("priv/new", 0755));
		TRY("unlink in root's 0755 dir", unlink("priv/f"));
		TRY("rename in root's 0755 dir", rename("priv/f", "priv/g"));
		TRY("stat through a 0700 dir", open("closed/f", O_RDONLY));
		TRY("chdir to a 0700 dir", chdir("closed"));
		int fd = open("pub/mine", O_CREAT | O_WRONLY, 0640);
		printf("create in a 0777 dir: %s\n", res(fd));
		close(fd);
		show("pub/mine");
		TRY("mkdir in a 0777 dir", mkdir("pub/mydir", 0700));
		show("pub/mydir");
		TRY("chmod root's file", chmod("priv/f", 0777));
		TRY("chmod my file", chmod("pub/mine", 0600));
		TRY("chown my file to root", chown("pub/mine", 0, -1));
		TRY("chown my file's group to root's", chown("pub/mine", -1, 0));
		TRY("chown my file's group to mine", chown("pub/mine", -1, 1000));
		TRY("chown root's file", chown("priv/f", 1000, 1000));
		struct timespec ts[2] = { { 5, 0 }, { 6, 0 } };
		TRY("set times of a 0666 file", utimensat(AT_FDCWD, "rw", ts, 0));
		TRY("touch a 0666 file", utimensat(AT_FDCWD, "rw", NULL, 0));
		TRY("touch root's 0644 file", utimensat(AT_FDCWD, "priv/f", NULL, 0));
		TRY("unlink root's file in a sticky dir", unlink("sticky/rootf"));
		TRY("rename root's file in a sticky dir", rename("sticky/rootf", "sticky/x"));
		fd = open("sticky/minef", O_CREAT | O_WRONLY, 0644);
		close(fd);
		TRY("unlink my file in a sticky dir", unlink("sticky/minef"));
		TRY("hard link root's 0644 file", link("priv/f", "pub/hl"));
		TRY("hard link a 0666 file", link("rw", "pub/hl"));
		TRY("mknod a device", mknod("pub/dev", S_IFCHR | 0600, makedev(1, 3)));
		TRY("rmdir root's dir", rmdir("pub"));
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ls("pub");
	show("pub/mine");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(022);
	if (argc < 2 || mkdir(argv[1], 0755) < 0 || chdir(argv[1]) < 0) {
		printf("usage: wfiles NEWDIR (%s)\n", en(errno));
		return 2;
	}
	create_write();
	dirs();
	renames();
	links();
	sizes();
	times_modes();
	tmpfiles();
	perms();
	ls(".");
	return 0;
}
