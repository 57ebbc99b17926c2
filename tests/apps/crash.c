/* crash: dies the way argv[1] says: segv, ill, fpe, abort. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "segv";
	printf("about to %s\n", how);
	fflush(stdout);
	if (strcmp(how, "segv") == 0)
		*(volatile int *)0 = 1;
	if (strcmp(how, "wild") == 0)
		*(volatile int *)0x7ff000000000 = 1;
	if (strcmp(how, "idt") == 0) /* the VM's IDT under ukfork: must fault */
		*(volatile int *)0x2000 = 0;
	if (strcmp(how, "ill") == 0)
		__asm__ volatile("ud2");
	if (strcmp(how, "fpe") == 0) {
		/* In asm: gcc rewrites 1 / z without a division. */
		int q, z = argc - 2, d = 0;
		__asm__ volatile("cltd; idivl %2" : "=a"(q), "+d"(d) : "r"(z), "a"(1));
		printf("%d\n", q);
	}
	return 0;
}
