/* The rewriter's x86-64 decoder (decode.h). Lengths follow the Intel SDM's
 * encoding rules for the opcodes listed; anything else is refused, never
 * guessed. */
#include "decode.h"

static int32_t rd32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static int branch(struct ukf_insn *in, const uint8_t *p, const uint8_t *q, int kind, int rel32)
{
	in->kind = (uint8_t)kind;
	in->rel = rel32 ? rd32(q) : (int8_t)*q;
	in->len = (uint8_t)(q + (rel32 ? 4 : 1) - p);
	return 1;
}

int ukf_decode(const uint8_t *p, struct ukf_insn *in)
{
	const uint8_t *q = p;
	int opsize16 = 0, rex = 0, imm = 0, modrm = 0, twobyte = 0;

	in->rip_disp = -1;
	in->kind = UKF_I_PLAIN;
	if (*q == 0x64 || *q == 0x65) /* %fs:, %gs: */
		q++;
	if (*q == 0x66) {
		opsize16 = 1;
		q++;
	}
	if (*q >= 0x40 && *q <= 0x4f)
		rex = *q++;
	uint8_t op = *q++;
	if (op == 0x0f) {
		twobyte = 1;
		op = *q++;
		if (op >= 0x80 && op <= 0x8f && !rex && !opsize16)
			return branch(in, p, q, UKF_I_JCC, 1);
		if (!((op >= 0x40 && op <= 0x4f) || (op >= 0x90 && op <= 0x9f) ||
		      op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf || op == 0xaf ||
		      op == 0x10 || op == 0x11 || op == 0x28 || op == 0x29 || op == 0x1f))
			return 0;
		if ((op == 0x10 || op == 0x11 || op == 0x28 || op == 0x29) && opsize16)
			return 0;
		modrm = 1;
	} else if (op >= 0x70 && op <= 0x7f) {
		if (rex || opsize16)
			return 0;
		return branch(in, p, q, UKF_I_JCC, 0);
	} else if (op == 0xeb || op == 0xe9 || op == 0xe8) {
		if (rex || opsize16)
			return 0;
		return branch(in, p, q, op == 0xe8 ? UKF_I_CALL : UKF_I_JMP, op != 0xeb);
	} else if (op == 0xc3) {
		in->kind = UKF_I_RET;
	} else if (op >= 0xb8 && op <= 0xbf) {
		imm = (rex & 8) ? 8 : opsize16 ? 2 : 4;
	} else if (op >= 0xb0 && op <= 0xb7) {
		imm = 1;
	} else if ((op >= 0x50 && op <= 0x5f) || op == 0x90 || op == 0xc9 || op == 0x99 || op == 0x98) {
		/* push, pop, nop, leave, cltd/cqto, cltq */
	} else if (op == 0x6a) {
		imm = 1;
	} else if (op == 0x68) {
		imm = 4;
	} else {
		switch (op) {
		case 0x00: case 0x01: case 0x02: case 0x03: /* add */
		case 0x08: case 0x09: case 0x0a: case 0x0b: /* or */
		case 0x20: case 0x21: case 0x22: case 0x23: /* and */
		case 0x28: case 0x29: case 0x2a: case 0x2b: /* sub */
		case 0x30: case 0x31: case 0x32: case 0x33: /* xor */
		case 0x38: case 0x39: case 0x3a: case 0x3b: /* cmp */
		case 0x84: case 0x85:                       /* test */
		case 0x88: case 0x89: case 0x8a: case 0x8b: /* mov */
		case 0x8d: case 0x63:                       /* lea, movsxd */
		case 0xd1: case 0xd3:                       /* shifts */
			modrm = 1;
			break;
		case 0x80: case 0x83: case 0xc1: case 0xc6:
			modrm = 1;
			imm = 1;
			break;
		case 0x81: case 0xc7:
			modrm = 1;
			imm = opsize16 ? 2 : 4;
			break;
		case 0xf7: /* test/not/neg/mul/div: only test has an immediate */
			modrm = 1;
			imm = (q[0] & 0x38) == 0 ? (opsize16 ? 2 : 4) : 0;
			break;
		default:
			return 0;
		}
	}
	if (modrm) {
		uint8_t m = *q++;
		unsigned mod = m >> 6;
		if (!twobyte && (op == 0xc6 || op == 0xc7) && ((m >> 3) & 7) != 0)
			return 0;
		if (mod != 3) {
			if ((m & 7) == 4) { /* SIB */
				uint8_t sib = *q++;
				if (mod == 0 && (sib & 7) == 5)
					q += 4;
			} else if (mod == 0 && (m & 7) == 5) {
				in->rip_disp = (int8_t)(q - p);
				q += 4;
			}
			if (mod == 1)
				q += 1;
			else if (mod == 2)
				q += 4;
		}
	}
	q += imm;
	if (q - p > 15)
		return 0;
	in->len = (uint8_t)(q - p);
	return 1;
}
