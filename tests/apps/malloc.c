/* malloc: heavy allocation through brk and mmap, with contents verified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	unsigned long check = 0;
	void *keep[256] = {0};
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < 256; i++) {
			size_t sz = (size_t)((i * 7919 + r * 104729) % 200000) + 1;
			free(keep[i]);
			unsigned char *p = malloc(sz);
			if (!p) {
				printf("malloc %zu failed\n", sz);
				return 1;
			}
			memset(p, (i + r) & 0xff, sz);
			keep[i] = p;
		}
		for (int i = 0; i < 256; i++) {
			size_t sz = (size_t)((i * 7919 + r * 104729) % 200000) + 1;
			unsigned char *p = keep[i];
			if (p[0] != ((i + r) & 0xff) || p[sz - 1] != ((i + r) & 0xff)) {
				printf("corruption at round %d block %d\n", r, i);
				return 1;
			}
			check += p[sz / 2];
		}
	}
	/* Big blocks: realloc growth and an explicit mmap/munmap. */
	char *big = NULL;
	for (size_t sz = 1 << 16; sz <= (32u << 20); sz <<= 1) {
		big = realloc(big, sz);
		big[sz - 1] = 1;
	}
	free(big);
	char *m = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int zero = m != MAP_FAILED && m[0] == 0 && m[(8 << 20) - 1] == 0;
	memset(m, 0x5a, 8 << 20);
	munmap(m, 8 << 20);
	char *m2 = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zero &= m2[0] == 0 && m2[4 << 20] == 0;
	printf("rounds %d checksum %lu fresh mmap zeroed %d\n", rounds, check, zero);
	return 0;
}
