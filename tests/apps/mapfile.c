/* mapfile: memory shared by name. MAP_SHARED file mappings (shm_open in
 * /dev/shm, a file in /tmp, a memfd) are one copy for every process that
 * maps them and the file's bytes for read and write; System V segments
 * (shmget, shmat, shmdt, shmctl) with their keys, attach counts and
 * removal; and the errors of each. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *err(long r)
{
	return r < 0 ? strerror(errno) : "ok";
}

/* Four children add to a counter in the mapping and write their slots
 * with pwrite; the parent checks both views. */
static void shared_file(const char *what, int fd)
{
	if (ftruncate(fd, 3 * 4096) < 0) {
		printf("%s: ftruncate: %s\n", what, strerror(errno));
		return;
	}
	long *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("%s: mmap: %s\n", what, strerror(errno));
		return;
	}
	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			for (int k = 0; k < 500; k++)
				__atomic_add_fetch(&m[0], 1, __ATOMIC_SEQ_CST);
			long v = 1000 + i;
			pwrite(fd, &v, sizeof v, 4096 + 8 * i); /* seen in the mapping */
			m[1024 + i] = 2000 + i; /* seen by read */
			_exit(0);
		}
	}
	int bad = 0;
	for (int i = 0; i < 4; i++)
		bad += status_of(kids[i]) != 0;
	long back[4];
	pread(fd, back, sizeof back, 2 * 4096);
	printf("%s: counter %ld, mapped slots %ld %ld %ld %ld, read slots %ld %ld %ld %ld, bad %d\n", what,
	       m[0], m[512], m[513], m[514], m[515], back[0], back[1], back[2], back[3], bad);

	/* A second mapping of the same file is the same memory. */
	long *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	m2[7] = 77;
	printf("%s: second mapping at offset 4096 sees %ld, first sees %ld\n", what, m2[0], m[512 + 7]);
	munmap(m2, 4096);

	/* Truncation zeroes what goes; growing back reads zeros. */
	ftruncate(fd, 4096);
	ftruncate(fd, 3 * 4096);
	struct stat st;
	fstat(fd, &st);
	printf("%s: after shrink and grow: size %lld, first page kept %ld, rest %ld %ld\n", what,
	       (long long)st.st_size, m[0], m[512], m[1024]);
	printf("%s: msync %s\n", what, err(msync(m, 3 * 4096, MS_SYNC)));
	munmap(m, 3 * 4096);
}

static void sysv(void)
{
	key_t key = 0x75666b31;
	int id = shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0) {
		printf("shmget: %s\n", strerror(errno));
		return;
	}
	printf("shmget again: same id %d; IPC_EXCL: %s; larger: %s; no key: %s; size 0: %s\n",
	       shmget(key, 4096, 0600) == id,
	       err(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)),
	       err(shmget(key, 20000, 0600)),
	       err(shmget(0x75666b32, 4096, 0600)),
	       err(shmget(IPC_PRIVATE, 0, 0600)));
	struct shmid_ds ds;
	shmctl(id, IPC_STAT, &ds);
	printf("stat: size %zu, mode %o, nattch %lu, creator is me %d\n", (size_t)ds.shm_segsz,
	       ds.shm_perm.mode & 0777, (unsigned long)ds.shm_nattch, ds.shm_cpid == getpid());

	long *a = shmat(id, NULL, 0);
	long *b = shmat(id, NULL, SHM_RDONLY);
	if (a == (void *)-1 || b == (void *)-1) {
		printf("shmat: %s\n", strerror(errno));
		return;
	}
	a[3] = 33;
	shmctl(id, IPC_STAT, &ds);
	printf("two attaches: the read-only one sees %ld; nattch %lu\n", b[3], (unsigned long)ds.shm_nattch);

	pid_t kid = fork();
	if (kid == 0) {
		struct shmid_ds k;
		shmctl(id, IPC_STAT, &k);
		a[4] = (long)k.shm_nattch; /* the child inherits both attaches */
		for (int i = 0; i < 1000; i++)
			__atomic_add_fetch(&a[5], 1, __ATOMIC_SEQ_CST);
		/* A fresh attach in the child is the same segment. */
		long *c = shmat(id, NULL, 0);
		c[6] = 66;
		_exit(shmdt(c) == 0 ? 0 : 1);
	}
	for (int i = 0; i < 1000; i++)
		__atomic_add_fetch(&a[5], 1, __ATOMIC_SEQ_CST);
	int st = status_of(kid);
	shmctl(id, IPC_STAT, &ds);
	printf("child saw nattch %ld, counter %ld, its own attach wrote %ld, status %d, nattch after %lu, lpid is the child %d\n",
	       a[4], a[5], a[6], st, (unsigned long)ds.shm_nattch, ds.shm_lpid == kid);

	/* A fixed address, and SHM_RND. */
	char *want = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(want, 8 * 4096);
	char *f = shmat(id, want + 4096, 0);
	char *r = shmat(id, want + 4 * 4096 + 100, SHM_RND);
	printf("fixed attach where asked %d, rounded %d, unaligned without SHM_RND: %s, over a mapping without SHM_REMAP: %s\n",
	       f == want + 4096, r == want + 4 * 4096, err((long)shmat(id, want + 100, 0)),
	       err((long)shmat(id, want + 4096, 0)));
	printf("shmdt not at an attach: %s\n",
	       err(shmdt(f + 4096)));
	shmdt(f);
	shmdt(r);

	/* IPC_SET changes the mode; IPC_RMID hides the key, the memory lives
	 * while attached. */
	ds.shm_perm.mode = 0640;
	printf("IPC_SET %s", err(shmctl(id, IPC_SET, &ds)));
	shmctl(id, IPC_STAT, &ds);
	printf(", mode now %o\n", ds.shm_perm.mode & 0777);
	printf("IPC_RMID %s", err(shmctl(id, IPC_RMID, NULL)));
	printf("; key now gone: %s", err(shmget(key, 4096, 0600)));
	shmctl(id, IPC_STAT, &ds);
	printf("; still attached %lu, marked %d, memory still %ld\n", (unsigned long)ds.shm_nattch,
	       (ds.shm_perm.mode & SHM_DEST) != 0, a[3]);
	shmdt(a);
	shmdt(b);
	printf("after the last detach the id is gone: %s; bad id: %s; bad cmd: %s\n",
	       err(shmctl(id, IPC_STAT, &ds)), err(shmctl(0x7ffffff, IPC_STAT, &ds)),
	       err(shmctl(id, 12345, &ds)));

	/* A segment stays after its creator detaches, until removed. */
	int p = shmget(IPC_PRIVATE, 4096, 0600);
	long *q = shmat(p, NULL, 0);
	q[0] = 5;
	shmdt(q);
	q = shmat(p, NULL, 0);
	printf("private segment keeps its bytes without an attach: %ld\n", q[0]);
	shmdt(q);
	shmctl(p, IPC_RMID, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);

	int fd = shm_open("/ukfork-mapfile", O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0) {
		printf("shm_open: %s\n", strerror(errno));
		return 1;
	}
	shared_file("shm_open", fd);
	shm_unlink("/ukfork-mapfile");
	close(fd);

	char path[] = "/tmp/mapfile.XXXXXX";
	fd = mkstemp(path);
	shared_file("tmp file", fd);
	unlink(path);

	fd = (int)syscall(SYS_memfd_create, "ukf", MFD_CLOEXEC);
	shared_file("memfd", fd);
	char link[64], target[256] = "";
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	readlink(link, target, sizeof target - 1);
	printf("memfd link: %s; cloexec %d\n", target, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	close(fd);
	printf("memfd bad flags: %s; long name: %s\n", err(syscall(SYS_memfd_create, "x", 0x1000)),
	       err(syscall(SYS_memfd_create,
			   "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
			   "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
			   "01234567890123456789012345678901234567890123456789",
			   0)));

	/* The access the descriptor gives is the mapping's. */
	char ro[] = "/tmp/mapfile-ro.XXXXXX";
	fd = mkstemp(ro);
	write(fd, "read only\n", 10);
	close(fd);
	fd = open(ro, O_RDONLY);
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("writable shared mapping of a read-only fd: %s\n", m == MAP_FAILED ? strerror(errno) : "mapped");
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	printf("read-only one reads \"%.9s\"; mprotect to write: %s\n", m, err(mprotect(m, 4096, PROT_READ | PROT_WRITE)));
	close(fd);
	fd = open(ro, O_WRONLY);
	printf("shared mapping of a write-only fd: %s\n", err((long)mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd, 0)));
	close(fd);
	unlink(ro);
	int pp[2];
	pipe(pp);
	printf("shared mapping of a pipe: %s\n", err((long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, pp[0], 0)));

	sysv();
	return 0;
}
