/* exec SELF: execve of a program in the image, from a forked child: the
 * program is replaced, arguments and environment arrive, descriptors
 * without FD_CLOEXEC survive, and failures return to the caller; chains of
 * #! scripts (data/sN runs data/sN+1, data/s7 runs bin/true, data/loop runs
 * itself). exec truncated PATH: execve of a truncated ELF, which Linux
 * kills the caller for, and the caller carrying on. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e)
{
	return e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : e == ENOEXEC ? "ENOEXEC" :
	       e == ENOTDIR ? "ENOTDIR" : e == ELOOP ? "ELOOP" : e == EIO ? "EIO" :
	       e == EFAULT ? "EFAULT" : "other";
}

/* Run path in a child, as a shell would: its output, then how it ended. */
static void run(const char *path, char **argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		int r = execve(path, argv, NULL);
		printf("execve %s: %d %s, carrying on\n", path, r, en(errno));
		_exit(3);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%s: %s %d\n", path, WIFEXITED(st) ? "exited" : "killed by",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "replaced") == 0) {
		printf("replaced: argc %d argv[2] '%s' EXECVAR '%s' fd5 %s fd6 %s\n", argc, argv[2],
		       getenv("EXECVAR"), fcntl(5, F_GETFD) >= 0 ? "open" : "closed",
		       fcntl(6, F_GETFD) >= 0 ? "open" : "closed");
		return 9;
	}
	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2 && strcmp(argv[1], "truncated") == 0) {
		run(argv[2], argv + 2);
		return 0;
	}
	const char *self = argv[1];
	char *nargv[] = { "exec", "replaced", "two words", NULL };
	char *nenv[] = { "EXECVAR=from the parent", NULL };
	const char *bad[] = { "/nonexistent", "data/notexec", "data", "data/notelf", "data/notexec/x" };
	for (int i = 0; i < 5; i++) {
		int r = execve(bad[i], nargv, nenv);
		printf("execve %s: %d %s\n", bad[i], r, en(errno));
	}
	dup2(1, 5);
	dup2(1, 6);
	fcntl(6, F_SETFD, FD_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		execve(self, nargv, nenv);
		_exit(100);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child exited %d with %d\n", WIFEXITED(st), WEXITSTATUS(st));
	/* execvp searches PATH. */
	pid = fork();
	if (pid == 0) {
		char *a[] = { "true", NULL };
		execvp("true", a);
		_exit(101);
	}
	waitpid(pid, &st, 0);
	printf("execvp true: %d\n", WEXITSTATUS(st));
	/* Five scripts in a row run; a sixth is ELOOP, as a script running
	 * itself. */
	const char *scripts[] = { "data/loop", "data/s0", "data/s2", "data/s3", "data/s6", "data/s7" };
	for (int i = 0; i < 6; i++)
		run(scripts[i], nargv);
	/* The path is opened before the arguments are read. */
	int r = execve("data", (char **)0x1000, nenv);
	printf("execve dir, bad argv: %d %s\n", r, en(errno));
	r = execve("data/notelf", (char **)0x1000, nenv);
	printf("execve notelf, bad argv: %d %s\n", r, en(errno));
	return 0;
}
