/* Host harness for the rewriter's decoder (guest/rewrite/decode.c): reads
 * lines of hex bytes (an instruction and what follows it) and prints the
 * decoded length and kind, or "0 0" when the decoder refuses. */
#include <stdio.h>
#include <string.h>
#include "decode.h"

int main(void)
{
	char line[512];
	while (fgets(line, sizeof line, stdin)) {
		uint8_t b[32] = { 0 };
		int n = 0;
		for (char *p = line; n < 32 && sscanf(p, "%2hhx", &b[n]) == 1; p += 2)
			n++;
		struct ukf_insn in;
		if (ukf_decode(b, &in))
			printf("%d %d\n", in.len, in.kind);
		else
			printf("0 0\n");
	}
	return 0;
}
