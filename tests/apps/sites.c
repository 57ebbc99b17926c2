/* sites: syscall instructions in the shapes ukfork rewrites (and some it
 * must leave alone), each run several times so that later runs take the
 * rewritten path. stdout must match native; stderr says whether the first
 * site's code was changed (under ukfork it is, natively never). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

long site_adjacent(void);      /* mov $39,%eax; syscall */
long site_write(void);         /* mov $1,%eax; args with a RIP-relative lea; syscall */
long site_redzone(void);       /* data below RSP live across the syscall */
long site_two_entries(int mid); /* a branch into the middle of the run */
extern char site_adjacent_code[];

__asm__(
	".text\n"
	"	int3\n" /* a known byte before the first site: not a prefix */
	".globl site_adjacent\n"
	"site_adjacent:\n"
	"site_adjacent_code:\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	ret\n"
	".globl site_adjacent_code\n"

	".globl site_write\n"
	"site_write:\n"
	"	mov $1, %eax\n"
	"	mov $1, %edi\n"
	"	lea site_msg(%rip), %rsi\n"
	"	mov $13, %edx\n"
	"	syscall\n"
	"	ret\n"

	/* Leaf code keeps data in the red zone below RSP; a rewrite that
	 * pushed a return address would destroy the slot at -8(%rsp). */
	".globl site_redzone\n"
	"site_redzone:\n"
	"	movabs $0x1122334455667788, %rdx\n"
	"	mov %rdx, -8(%rsp)\n"
	"	mov %rdx, -16(%rsp)\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	movabs $0x1122334455667788, %rdx\n"
	"	xor %eax, %eax\n"
	"	cmp %rdx, -8(%rsp)\n"
	"	jne 1f\n"
	"	cmp %rdx, -16(%rsp)\n"
	"	jne 1f\n"
	"	mov $1, %eax\n"
	"1:	ret\n"

	/* Entered at the top, or at 2: with the number already in EAX. */
	".globl site_two_entries\n"
	"site_two_entries:\n"
	"	test %edi, %edi\n"
	"	jnz 3f\n"
	"	mov $39, %eax\n"
	"2:	mov %rdi, %r8\n"
	"	xor %edi, %edi\n"
	"	syscall\n"
	"	ret\n"
	"3:	mov $110, %eax\n" /* getppid */
	"	jmp 2b\n"

	".section .rodata\n"
	"site_msg: .ascii \"site: write\\n\"\n"
	".text\n");

static volatile sig_atomic_t hits;
static void on_usr1(int s) { (void)s; hits++; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	unsigned char before[7];
	memcpy(before, site_adjacent_code, sizeof before);
	pid_t me = getpid(), parent = getppid();
	int ok = 1;
	for (int i = 0; i < 5; i++) {
		ok &= site_adjacent() == me;
		ok &= site_redzone() == 1;
		ok &= site_two_entries(0) == me;
		ok &= site_two_entries(1) == parent;
		ok &= syscall(SYS_getpid) == me;
	}
	printf("sites agree with libc: %s\n", ok ? "yes" : "no");
	for (int i = 0; i < 3; i++)
		site_write();

	/* A child runs the rewritten sites it inherited. */
	pid_t pid = fork();
	if (pid == 0) {
		int cok = site_adjacent() == getpid() && site_redzone() == 1 &&
			  site_two_entries(1) == me;
		_exit(cok ? 3 : 4);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child: exit %d\n", WEXITSTATUS(st));

	/* A signal handler interrupting the program between rewritten calls. */
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 3; i++)
		kill(site_adjacent(), SIGUSR1);
	printf("handler ran %d times\n", (int)hits);

	fprintf(stderr, "site rewritten: %s\n",
		memcmp(before, site_adjacent_code, sizeof before) ? "yes" : "no");
	return 0;
}
