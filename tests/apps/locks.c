/* locks: fcntl record locks and flock between processes: conflicts and
 * F_GETLK, a wait until the holder lets go, POSIX locks going with any
 * close of the file and with exit, shared read locks, EDEADLK, OFD locks,
 * flock on shared and separate descriptions, a wait cut by a signal, and
 * the errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];

static const char *err(int r) { return r < 0 ? strerror(errno) : "ok"; }

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock l = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &l);
}

static void getlk(const char *who, int fd, short type, off_t start, off_t len, pid_t holder)
{
	struct flock l = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	fcntl(fd, F_GETLK, &l);
	printf("%s F_GETLK [%ld,+%ld): type %s", who, (long)start, (long)len,
	       l.l_type == F_UNLCK ? "unlocked" : l.l_type == F_WRLCK ? "write" : "read");
	if (l.l_type != F_UNLCK)
		printf(" at %ld+%ld by %s", (long)l.l_start, (long)l.l_len, l.l_pid == holder ? "the holder" : "someone else");
	printf("\n");
}

static int wait_child(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void on_alarm(int s) { (void)s; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	strcpy(path, "/tmp/locksXXXXXX");
	int fd = mkstemp(path);
	write(fd, "0123456789abcdefghij", 20);
	pid_t me = getpid(), c;

	printf("-- conflicts\n");
	printf("parent write-locks [0,10): %s\n", err(lk(fd, F_SETLK, F_WRLCK, 0, 10)));
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		getlk("child", f, F_WRLCK, 5, 2, me);
		getlk("child", f, F_WRLCK, 10, 5, me);
		printf("child [5,7): %s\n", err(lk(f, F_SETLK, F_WRLCK, 5, 2)));
		printf("child [10,20): %s\n", err(lk(f, F_SETLK, F_WRLCK, 10, 10)));
		_exit(0);
	}
	wait_child(c);
	getlk("parent", fd, F_WRLCK, 0, 0, me); /* its own locks do not conflict */

	printf("-- a wait until the holder lets go\n");
	int p[2];
	pipe(p);
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		write(p[1], "w", 1);
		int r = lk(f, F_SETLKW, F_WRLCK, 0, 10);
		printf("child's F_SETLKW came back: %s\n", err(r));
		_exit(0);
	}
	char b;
	read(p[0], &b, 1);
	usleep(50000);
	printf("parent unlocks: %s\n", err(lk(fd, F_SETLK, F_UNLCK, 0, 10)));
	wait_child(c);

	printf("-- POSIX locks go with any close of the file\n");
	lk(fd, F_SETLK, F_WRLCK, 0, 0);
	int other = open(path, O_RDONLY);
	close(other);
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		printf("child after the parent closed another fd: %s\n", err(lk(f, F_SETLK, F_WRLCK, 0, 0)));
		_exit(0);
	}
	wait_child(c);

	printf("-- and with exit\n");
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		lk(f, F_SETLK, F_WRLCK, 0, 5);
		_exit(0);
	}
	wait_child(c);
	printf("parent after the holder exited: %s\n", err(lk(fd, F_SETLK, F_WRLCK, 0, 5)));
	lk(fd, F_SETLK, F_UNLCK, 0, 0);

	printf("-- read locks share\n");
	lk(fd, F_SETLK, F_RDLCK, 0, 10);
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		printf("child read lock: %s\n", err(lk(f, F_SETLK, F_RDLCK, 0, 10)));
		printf("child write lock: %s\n", err(lk(f, F_SETLK, F_WRLCK, 5, 1)));
		_exit(0);
	}
	wait_child(c);
	lk(fd, F_SETLK, F_UNLCK, 0, 0);

	printf("-- deadlock\n");
	lk(fd, F_SETLK, F_WRLCK, 0, 1);
	int q[2];
	pipe(q);
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		lk(f, F_SETLK, F_WRLCK, 1, 1);
		write(q[1], "h", 1);
		int r = lk(f, F_SETLKW, F_WRLCK, 0, 1); /* waits for the parent */
		printf("child got [0,1): %s\n", err(r));
		_exit(0);
	}
	read(q[0], &b, 1);
	usleep(50000);
	printf("parent waits for the child's [1,2): %s\n", err(lk(fd, F_SETLKW, F_WRLCK, 1, 1)));
	lk(fd, F_SETLK, F_UNLCK, 0, 0);
	wait_child(c);

	printf("-- a wait cut by a signal\n");
	lk(fd, F_SETLK, F_WRLCK, 0, 0);
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		struct sigaction sa = { .sa_handler = on_alarm };
		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		printf("child's F_SETLKW: %s\n", err(lk(f, F_SETLKW, F_WRLCK, 0, 0)));
		_exit(0);
	}
	wait_child(c);
	lk(fd, F_SETLK, F_UNLCK, 0, 0);

	printf("-- OFD locks\n");
	int a = open(path, O_RDWR), d = open(path, O_RDWR);
	printf("first description: %s\n", err(lk(a, F_OFD_SETLK, F_WRLCK, 0, 4)));
	printf("second description, same process: %s\n", err(lk(d, F_OFD_SETLK, F_WRLCK, 0, 4)));
	if ((c = fork()) == 0) {
		printf("child, the first description inherited: %s\n", err(lk(a, F_OFD_SETLK, F_WRLCK, 0, 4)));
		_exit(0);
	}
	wait_child(c);
	struct flock l = { .l_type = F_WRLCK, .l_pid = 7 };
	printf("OFD with l_pid set: %s\n", err(fcntl(a, F_OFD_SETLK, &l)));
	close(a);
	printf("after the first closed: %s\n", err(lk(d, F_OFD_SETLK, F_WRLCK, 0, 4)));
	close(d);

	printf("-- flock\n");
	a = open(path, O_RDWR);
	printf("parent LOCK_EX: %s\n", err(flock(a, LOCK_EX)));
	if ((c = fork()) == 0) {
		int f = open(path, O_RDWR);
		printf("child, own description, LOCK_EX|LOCK_NB: %s\n", err(flock(f, LOCK_EX | LOCK_NB)));
		printf("child, own description, LOCK_SH|LOCK_NB: %s\n", err(flock(f, LOCK_SH | LOCK_NB)));
		printf("child, inherited description, LOCK_EX: %s\n", err(flock(a, LOCK_EX | LOCK_NB)));
		_exit(0);
	}
	wait_child(c);
	printf("bad op: %s\n", err(flock(a, 99)));
	close(a);
	d = open(path, O_RDWR);
	printf("after the holder closed: %s\n", err(flock(d, LOCK_EX | LOCK_NB)));
	close(d);

	printf("-- errors\n");
	int ro = open(path, O_RDONLY);
	printf("write lock on a read-only fd: %s\n", err(lk(ro, F_SETLK, F_WRLCK, 0, 1)));
	printf("bad type: %s\n", err(lk(fd, F_SETLK, 9, 0, 1)));
	struct flock w = { .l_type = F_RDLCK, .l_whence = 7 };
	printf("bad whence: %s\n", err(fcntl(fd, F_SETLK, &w)));
	printf("before the start: %s\n", err(lk(fd, F_SETLK, F_RDLCK, 2, -5)));
	printf("F_GETLK of F_UNLCK: %s\n", err(lk(fd, F_GETLK, F_UNLCK, 0, 1)));
	printf("bad pointer: %s\n", err(fcntl(fd, F_SETLK, (struct flock *)8)));
	unlink(path);
	return 0;
}
