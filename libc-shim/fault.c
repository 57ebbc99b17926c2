/* CPU exceptions in the program: a page of a mapping not yet populated is
 * mapped and the instruction retried; anything else becomes the signal
 * Linux sends (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) with its siginfo,
 * delivered to the program's handler, which may fix the cause and return
 * to the faulting instruction. Faults in the runtime itself, and signals
 * the program does not handle, end the VM with the host's report. */
#include "shim.h"

#define SI_KERNEL 0x80

__attribute__((noreturn)) void ukf_fault_fatal(void);

void ukf_fault(struct ukf_regs *r)
{
	const volatile struct ukf_xframe *x = (const volatile struct ukf_xframe *)UKF_XFRAME_AT;
	uint64_t vec = x->vector, err = x->error, cr2 = x->cr2;
	int program = r->rip >= UKF_USER_MIN;
	int sig, code = SI_KERNEL;
	uint64_t addr = 0;

	switch (vec) {
	case 14: /* page fault */
		code = ukf_mm_fault(cr2, err);
		if (code == 0)
			return; /* populated: retry */
		sig = UKF_SIGSEGV;
		addr = cr2;
		break;
	case 0: /* divide error */
		sig = UKF_SIGFPE, code = UKF_FPE_INTDIV, addr = r->rip;
		break;
	case 16: case 19: /* x87, SIMD */
		sig = UKF_SIGFPE, code = 0, addr = r->rip;
		break;
	case 1:
		sig = UKF_SIGTRAP, code = UKF_TRAP_TRACE, addr = r->rip;
		break;
	case 3: /* int3: RIP is past it, as Linux reports */
		sig = UKF_SIGTRAP;
		break;
	case 6:
		sig = UKF_SIGILL, code = UKF_ILL_ILLOPN, addr = r->rip;
		break;
	case 17:
		sig = UKF_SIGBUS, code = UKF_BUS_ADRALN, addr = cr2;
		break;
	case 4: case 5: case 12: case 13:
		sig = UKF_SIGSEGV;
		break;
	default:
		ukf_fault_fatal();
	}
	if (!program)
		ukf_fault_fatal(); /* the runtime's own bug, or a bad pointer it took */
	if (!ukf_signal_fault(r, sig, code, addr, vec, err, cr2))
		ukf_fault_fatal();
}
