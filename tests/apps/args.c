/* args: argv, envp and the auxiliary vector as a program sees them (static
 * or dynamic: addresses are printed as checks, ASLR moves them natively). */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <elf.h>

extern char **environ;
extern char _start[];

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "UKF_", 4) == 0)
			printf("env %s\n", *e);
	printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
	printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
	printf("AT_PHNUM=%lu\n", getauxval(AT_PHNUM));
	printf("AT_PHDR!=0 %d\n", getauxval(AT_PHDR) != 0);
	printf("AT_ENTRY is _start: %d\n", getauxval(AT_ENTRY) == (unsigned long)_start);
	printf("AT_BASE page-aligned: %d\n", getauxval(AT_BASE) % 4096 == 0);
	unsigned long ms = getauxval(51); /* AT_MINSIGSTKSZ */
	printf("AT_MINSIGSTKSZ plausible: %d\n", ms >= 1024 && ms <= 65536);
	printf("AT_UID=%lu AT_GID=%lu AT_SECURE=%lu\n", getauxval(AT_UID), getauxval(AT_GID), getauxval(AT_SECURE));
	printf("AT_HWCAP!=0 %d\n", getauxval(AT_HWCAP) != 0);
	const unsigned char *r = (const void *)getauxval(AT_RANDOM);
	int nz = 0;
	for (int i = 0; r && i < 16; i++)
		nz |= r[i];
	printf("AT_RANDOM set %d\n", r != NULL && nz != 0);
	const char *fn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN ends with /args: %d\n", fn && strlen(fn) >= 5 && strcmp(fn + strlen(fn) - 5, "/args") == 0);
	/* The stack must be 16-byte aligned at main's entry per the ABI. */
	long x __attribute__((aligned(16)));
	printf("stack aligned %d\n", ((unsigned long)&x & 15) == 0);
	return 0;
}
