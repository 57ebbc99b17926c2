/* The syscall table and dispatcher: every Linux syscall the guest implements. */
#include "shim.h"

/* The table (zsyscalls.h) is generated from syscalls.tsv, which also says
 * how far each call follows Linux (docs/syscalls.md). Numbers without a
 * handler return -ENOSYS, and the host is told the first time each is seen. */
#include "zsyscalls.h"

#define NR_MAX UKF_NR_MAX

struct ukf_regs *ukf_cur_frame;

/* One bit per syscall number already reported as missing. */
static uint64_t reported[NR_MAX / 64];

static void report(unsigned hc, uint64_t nr, const uint64_t *args, int64_t result)
{
	struct ukf_hc_syscall s = { .nr = nr, .result = result };
	memcpy(s.args, args, sizeof(s.args));
	ukf_hcall(hc, &s);
}

void ukf_syscall(struct ukf_regs *f)
{
	const uint64_t args[6] = { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 };
	uint64_t nr = f->nr;
	int trace = (ukf_boot->flags & UKF_BOOT_TRACE) != 0;
	int64_t r;

	ukf_cur_frame = f;
	if (!ukf_entered_fast && !(ukf_boot->flags & UKF_BOOT_NOREWRITE))
		ukf_rewrite_site(f->rip, nr, f->rsp);
	ukf_sys_fn fn = nr < NR_MAX ? ukf_syscalls[nr] : 0;
	if (fn) {
		/* exit never returns: trace it on the way in. */
		if (trace && (nr == __NR_exit || nr == __NR_exit_group))
			report(UKF_HC_TRACE, nr, args, 0);
		r = fn(args);
	} else {
		/* Out-of-range numbers (x32, garbage) are reported every time. */
		if (nr >= NR_MAX || !(reported[nr / 64] & (1ULL << (nr % 64)))) {
			if (nr < NR_MAX)
				reported[nr / 64] |= 1ULL << (nr % 64);
			report(UKF_HC_UNSUPPORTED, nr, args, -ENOSYS);
		}
		r = -ENOSYS;
	}
	if (trace)
		report(UKF_HC_TRACE, nr, args, r);
	f->rax = (uint64_t)r;
	ukf_signal_check(f);
	ukf_cur_frame = 0;
}
