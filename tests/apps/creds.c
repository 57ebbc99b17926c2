/* creds: who the program is, and a server's privilege drop: setgroups,
 * setresgid, setresuid, with what Linux allows after each step. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int r) { return r < 0 ? strerror(errno) : "ok"; }

static void show(const char *when)
{
	uid_t r, e, s;
	gid_t gr, ge, gs, groups[64];
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	int n = getgroups(64, groups);
	printf("%s: uid %u/%u/%u gid %u/%u/%u groups %d:", when, r, e, s, gr, ge, gs, n);
	for (int i = 0; i < n; i++)
		printf(" %u", groups[i]);
	printf("\n");
}

int main(void)
{
	show("start");
	if (geteuid() != 0) {
		printf("setuid(0): %s\n", err(setuid(0)));
		printf("setgroups: %s\n", err(setgroups(0, NULL)));
		printf("setresuid to own: %s\n", err(setresuid(-1, getuid(), -1)));
		printf("getgroups size 0: %d\n", getgroups(0, NULL));
		return 0;
	}
	gid_t g[2] = { 100, 200 };
	printf("setgroups: %s\n", err(setgroups(2, g)));
	printf("getgroups too small: %s\n", err(getgroups(1, g)));
	printf("setresgid 50: %s\n", err(setresgid(50, 50, 50)));
	printf("seteuid 60 (saved stays 0): %s\n", err(seteuid(60)));
	show("euid 60");
	printf("setgroups now: %s\n", err(setgroups(0, NULL)));
	printf("setuid 0 back (saved is 0): %s\n", err(setuid(0)));
	show("back");
	printf("setreuid 70,80: %s\n", err(setreuid(70, 80)));
	show("after setreuid");
	printf("setuid 0 now: %s\n", err(setuid(0)));
	printf("setresuid to own ids: %s\n", err(setresuid(80, 70, 80)));
	printf("setfsuid 70 returns old: %d\n", setfsuid(70));
	printf("setfsuid 9 (not allowed) returns old: %d\n", setfsuid(9));
	printf("setuid -1: %s\n", err(setuid((uid_t)-1)));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		show("child");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
