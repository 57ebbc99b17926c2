/* Syscall-site rewriting: a `syscall` that trapped once is given a fast path
 * that never executes the instruction again.
 *
 * Why: where `syscall` stays in ring 3 (PVM), reaching ukf_syscall_entry
 * through it costs ~20 µs; a jump costs nothing. The rewrite never touches
 * the syscall instruction itself and never uses the program's stack (the
 * red zone below RSP stays intact). It replaces one straight-line run of
 * instructions that ends at the syscall, starting at an instruction that is
 * known to be one, with a 5-byte `jmp` to a stub. The stub executes a
 * relocated copy of that run, sets RCX to the syscall's return address, as
 * `syscall` does, and jumps to ukf_syscall_fast. Code that branches into
 * the middle of the run still finds the original bytes there and traps.
 *
 * A run's start is trusted in two cases only:
 *  - `mov $N,%eax` (b8) or `mov $N,%rax` (48 c7 c0) whose N is the number
 *    that just trapped, not preceded by a prefix byte: only that one
 *    instruction is replaced;
 *  - the entry of the function that contains the syscall, proven by the
 *    `call` before the return address on the stack, when nothing before
 *    the syscall branches and nothing after it branches back (musl's
 *    wrappers).
 * Every instruction of the run must decode with the small whitelist below
 * and none may branch; decoding from the start must land exactly on the
 * syscall. Anything else keeps trapping.
 *
 * Stubs live in the runtime when the site is in the low 4 GiB (a static
 * program), else in a stub area the runtime maps next to the code, within
 * a rel32 jump (a shared library, mapped high as Linux maps it). */
#include "ukfork/guest.h"
#include "shim.h"
#include "decode.h"

#define RUN_MAX 128      /* longest run copied into a stub, bytes */
#define STUB_MAX (RUN_MAX + 16)
#define STUB_AREA 32768  /* per program; reset at exec */
#define FAILED_SLOTS 64  /* sites already refused, so as not to retry them */

static uint8_t stubs[STUB_AREA] __attribute__((aligned(16)));
static uint32_t stubs_used;

/* Stub areas next to code far from the runtime. */
#define NEAR_AREAS 16
#define NEAR_SIZE 65536
static struct { uint64_t base; uint32_t used; } near[NEAR_AREAS];
static uint32_t nnear;
static uint64_t failed[FAILED_SLOTS];
uint8_t ukf_entered_fast; /* set by ukf_syscall_fast, cleared by the trap entry */

extern char ukf_syscall_fast[];

void ukf_rewrite_reset(void)
{
	stubs_used = 0;
	nnear = 0;
	memset(failed, 0, sizeof(failed));
}

/* Whether a rel32 at from (the address after it) reaches to. */
static int reaches(uint64_t from, uint64_t to)
{
	int64_t d = (int64_t)(to - from);
	return d >= INT32_MIN && d <= INT32_MAX;
}

/* Where a stub of up to n bytes for the run at start goes: 0 if nowhere. */
static uint64_t stub_place(uint64_t start, uint64_t n, int *in_runtime)
{
	uint64_t rt = (uint64_t)(uintptr_t)(stubs + stubs_used);
	if (start + n < 0xffffffffu && stubs_used + n <= STUB_AREA && reaches(start + 5, rt)) {
		*in_runtime = 1;
		return rt;
	}
	*in_runtime = 0;
	for (uint32_t i = 0; i < nnear; i++)
		if (near[i].used + n <= NEAR_SIZE && reaches(start + 5, near[i].base + near[i].used) &&
		    reaches(start + 5, near[i].base + near[i].used + n))
			return near[i].base + near[i].used;
	if (nnear == NEAR_AREAS)
		return 0;
	uint64_t a = ukf_mm_stub_area(start, NEAR_SIZE);
	if (!a || !reaches(start + 5, a) || !reaches(start + 5, a + NEAR_SIZE))
		return 0;
	near[nnear].base = a;
	near[nnear].used = 0;
	return near[nnear++].base;
}

/* Account for a stub of n bytes written at at. */
static void stub_used(uint64_t at, uint64_t n, int in_runtime)
{
	n = (n + 15) & ~15ULL;
	if (in_runtime) {
		stubs_used += (uint32_t)n;
		return;
	}
	for (uint32_t i = 0; i < nnear; i++)
		if (at >= near[i].base && at < near[i].base + NEAR_SIZE)
			near[i].used = (uint32_t)(at + n - near[i].base);
}

static int32_t rd32(const uint8_t *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

static int is_prefix(uint8_t b)
{
	return (b >= 0x40 && b <= 0x4f) || b == 0x66 || b == 0x67 || b == 0xf0 ||
	       b == 0xf2 || b == 0xf3 || b == 0x26 || b == 0x2e || b == 0x36 ||
	       b == 0x3e || b == 0x64 || b == 0x65 || b == 0x0f;
}

/* Where a site may be: program memory that is mapped now (the rewriter
 * never populates, and never reads a page the program could not). */
static int readable(uint64_t a, uint64_t n)
{
	return a >= UKF_USER_MIN && ukf_mm_readable(a, n);
}

/* straight reports whether [from, to) decodes into whitelisted non-branch
 * instructions ending exactly at to. */
static int straight(uint64_t from, uint64_t to)
{
	struct ukf_insn in;
	for (uint64_t a = from; a < to; a += in.len)
		if (!ukf_decode(UKF_UPTR(const uint8_t, a), &in) || in.kind != UKF_I_PLAIN)
			return 0;
	return 1;
}

/* run_at_mov finds `mov $nr,%eax` or `mov $nr,%rax` starting a straight
 * run that ends at the syscall s. */
static uint64_t run_at_mov(uint64_t s, uint64_t nr)
{
	for (uint64_t j = 5; j <= RUN_MAX; j++) {
		uint64_t m = s - j;
		if (!readable(m - 1, j + 1))
			return 0;
		const uint8_t *p = UKF_UPTR(const uint8_t, m);
		uint64_t next;
		if (p[0] == 0xb8 && nr <= 0xffffffffu && (uint32_t)rd32(p + 1) == nr)
			next = m + 5;
		else if (j >= 7 && p[0] == 0x48 && p[1] == 0xc7 && p[2] == 0xc0 &&
			 (uint64_t)(int64_t)rd32(p + 3) == nr)
			next = m + 7;
		else
			continue;
		if (is_prefix(p[-1]))
			continue;
		if (straight(next, s))
			return m;
	}
	return 0;
}

/* tail_safe walks the code after a syscall at s, to the end of its function,
 * and reports whether no branch there can land in (f, s]: a loop back
 * into the run could land inside the jump that replaces its first bytes. */
static int tail_safe(uint64_t f, uint64_t s)
{
	uint64_t a = s + 2, reach = 0; /* reach: furthest forward branch target */
	struct ukf_insn in;
	for (int n = 0; n < 64; n++, a += in.len) {
		if (!readable(a, 16) || !ukf_decode(UKF_UPTR(const uint8_t, a), &in))
			return 0;
		if (in.kind == UKF_I_PLAIN || in.kind == UKF_I_CALL)
			continue;
		if (in.kind != UKF_I_RET) {
			uint64_t t = a + in.len + (int64_t)in.rel;
			if (t > f && t <= s)
				return 0;
			if (in.kind == UKF_I_JCC && t > reach)
				reach = t;
			if (in.kind == UKF_I_JMP && t > a && t < a + 256 && t > reach)
				reach = t; /* a jump ahead within the function */
		}
		if ((in.kind == UKF_I_RET || in.kind == UKF_I_JMP) && a + in.len >= reach)
			return 1; /* the function ends here */
	}
	return 0;
}

/* wrapper_entry follows a return address to the function it called
 * (through up to three jumps), or returns 0. */
static uint64_t wrapper_entry(uint64_t ret)
{
	if (!readable(ret - 5, 5) || UKF_UPTR(const uint8_t, ret - 5)[0] != 0xe8)
		return 0;
	uint64_t f = ret + (int64_t)rd32(UKF_UPTR(const uint8_t, ret - 4));
	struct ukf_insn in;
	for (int hops = 0; hops < 3 && readable(f, 16); hops++) {
		if (!ukf_decode(UKF_UPTR(const uint8_t, f), &in) || in.kind != UKF_I_JMP)
			break;
		f += in.len + (int64_t)in.rel;
	}
	return f;
}

/* run_in_wrapper handles a syscall in a function reached by a direct call
 * whose every instruction before the syscall is in the whitelist, as
 * musl's wrappers are: the run is the whole function. The return address
 * is looked for in the first slots of the stack (the function may have
 * made room for locals). */
static uint64_t run_in_wrapper(uint64_t s, uint64_t rsp)
{
	for (int k = 0; k < 32 && readable(rsp + 8 * k, 8); k++) {
		uint64_t f = wrapper_entry(*UKF_UPTR(const uint64_t, rsp + 8 * k));
		if (f && f < s && s - f <= RUN_MAX && readable(f, s - f) &&
		    straight(f, s) && tail_safe(f, s))
			return f;
	}
	return 0;
}

static int failed_before(uint64_t s)
{
	return failed[(s >> 1) % FAILED_SLOTS] == s;
}

/* ukf_rewrite_site is called for a syscall that trapped at s (RIP after it
 * is s+2), with RAX = nr and the program's RSP. */
void ukf_rewrite_site(uint64_t rip, uint64_t nr, uint64_t rsp)
{
	uint64_t s = rip - 2;
	if (!readable(s, 2) || failed_before(s))
		return;
	const uint8_t *sp = UKF_UPTR(const uint8_t, s);
	if (sp[0] != 0x0f || sp[1] != 0x05)
		return;
	uint64_t start = run_at_mov(s, nr);
	if (!start)
		start = run_in_wrapper(s, rsp);
	uint64_t len = s - start;
	int in_runtime;
	uint64_t stub = start && len >= 5 && len <= RUN_MAX ? stub_place(start, len + 24, &in_runtime) : 0;
	if (!stub) {
		failed[(s >> 1) % FAILED_SLOTS] = s;
		return;
	}
	/* The run, relocated: RIP-relative displacements keep their target. */
	uint8_t buf[STUB_MAX + 24];
	uint8_t *o = buf;
	struct ukf_insn in;
	for (uint64_t a = start; a < s; a += in.len) {
		ukf_decode(UKF_UPTR(const uint8_t, a), &in);
		memcpy(o, UKF_UPTR(const uint8_t, a), in.len);
		if (in.rip_disp >= 0) {
			uint64_t target = a + in.len + (int64_t)rd32(o + in.rip_disp);
			uint64_t at = stub + (uint64_t)(o - buf) + in.len;
			if (!reaches(at, target)) {
				failed[(s >> 1) % FAILED_SLOTS] = s;
				return;
			}
			int32_t d = (int32_t)(target - at);
			memcpy(o + in.rip_disp, &d, 4);
		}
		o += in.len;
	}
	uint64_t fast = (uint64_t)(uintptr_t)ukf_syscall_fast;
	if (in_runtime) {
		*o++ = 0xb9; /* mov $s+2,%ecx: syscall's return address, as it sets it */
		uint32_t back = (uint32_t)(s + 2);
		memcpy(o, &back, 4);
		o += 4;
		*o++ = 0xe9; /* jmp ukf_syscall_fast */
		int32_t rel = (int32_t)(fast - (stub + (uint64_t)(o - buf) + 4));
		memcpy(o, &rel, 4);
		o += 4;
	} else {
		static const uint8_t lea[3] = { 0x48, 0x8d, 0x0d }; /* lea s+2(%rip),%rcx */
		memcpy(o, lea, 3);
		o += 3;
		int32_t rel = (int32_t)(s + 2 - (stub + (uint64_t)(o - buf) + 4));
		memcpy(o, &rel, 4);
		o += 4;
		static const uint8_t jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 }; /* jmp *0(%rip) */
		memcpy(o, jmp, 6);
		o += 6;
		memcpy(o, &fast, 8);
		o += 8;
	}
	uint64_t n = (uint64_t)(o - buf);
	if (in_runtime)
		memcpy(UKF_UPTR(uint8_t, stub), buf, n);
	else if (ukf_mm_poke(stub, buf, n) < 0)
		return;
	stub_used(stub, n, in_runtime);

	/* Last: the jump over the run's first bytes (one vCPU: no one else
	 * is executing them). */
	uint8_t j[5] = { 0xe9 };
	int32_t to = (int32_t)(stub - (start + 5));
	memcpy(j + 1, &to, 4);
	ukf_mm_poke(start, j, 5); /* text is not writable: through its frames */
}
