/* random: getrandom fills buffers and does not repeat itself. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <errno.h>

int main(void)
{
	unsigned char a[64], b[64];
	ssize_t na = getrandom(a, sizeof a, 0);
	ssize_t nb = getrandom(b, sizeof b, GRND_NONBLOCK);
	printf("got %zd and %zd bytes\n", na, nb);
	printf("differ %d\n", memcmp(a, b, sizeof a) != 0);
	int ones = 0;
	for (int i = 0; i < 64; i++)
		ones += __builtin_popcount(a[i]);
	printf("bit balance plausible %d\n", ones > 160 && ones < 352);
	errno = 0;
	ssize_t bad = getrandom(a, 8, 0x40);
	printf("bad flags: %zd %s\n", bad, errno == EINVAL ? "EINVAL" : "other");
	return 0;
}
