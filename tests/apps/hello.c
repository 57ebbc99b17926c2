/* hello: the smallest end-to-end check, stdout and exit status. */
#include <stdio.h>

int main(void)
{
	printf("hello from a unikernel\n");
	return 0;
}
