/* x86-64 instruction decoder for syscall-site rewriting: lengths and kinds
 * of the small set of instructions the rewriter may walk or copy. Pure C on
 * a byte buffer, so that a host test can check it against objdump. */
#ifndef UKFORK_REWRITE_DECODE_H
#define UKFORK_REWRITE_DECODE_H

#include <stdint.h>

enum {
	UKF_I_PLAIN = 1, /* no control flow: may be copied into a stub */
	UKF_I_JCC,       /* conditional branch, rel8 or rel32 */
	UKF_I_JMP,       /* jmp rel8 / rel32 */
	UKF_I_CALL,      /* call rel32 */
	UKF_I_RET,       /* ret */
};

struct ukf_insn {
	uint8_t len;
	uint8_t kind;    /* UKF_I_* */
	int8_t rip_disp; /* offset of a RIP-relative disp32 in the instruction, or -1 */
	int32_t rel;     /* branch displacement from the next instruction */
};

/* ukf_decode fills in for the instruction at p (up to 15 bytes readable) and
 * returns 1, or returns 0 when it is outside the whitelist: integer moves,
 * ALU, lea, shifts, setcc/cmovcc, SSE moves, push/pop, nop, and branches. */
int ukf_decode(const uint8_t *p, struct ukf_insn *in);

#endif
