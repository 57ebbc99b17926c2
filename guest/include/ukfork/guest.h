/* The guest runtime's internal contract: what guest/ (boot, entry, transport)
 * offers libc-shim/ (the Linux syscall ABI), and what libc-shim offers back.
 * Everything here runs in guest ring 3, freestanding, without SSE registers
 * (-mgeneral-regs-only), so a syscall never has to save the FPU state.
 */
#ifndef UKFORK_GUEST_H
#define UKFORK_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include "abi.h"

/* ---- Provided by guest/ -------------------------------------------------- */

/* ukf_hcall issues hypercall nr with its argument struct (which must live
 * below 4 GiB, as all runtime memory does) and returns the struct's ret. */
static inline int64_t ukf_hcall(unsigned nr, void *arg)
{
	uint32_t addr = (uint32_t)(uintptr_t)arg;
	uint16_t port = (uint16_t)(UKF_HC_PORT_BASE + nr);
	__asm__ volatile("outl %0, %1" : : "a"(addr), "Nd"(port) : "memory");
	return *(volatile int64_t *)arg;
}

/* ukf_hcall_value issues hypercall nr with a plain value, nothing to read
 * back (UKF_HC_RING_WAKE). */
static inline void ukf_hcall_value(unsigned nr, uint32_t value)
{
	uint16_t port = (uint16_t)(UKF_HC_PORT_BASE + nr);
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

#define ukf_boot ((struct ukf_bootinfo *)UKF_BOOTINFO_ADDR)

/* Enter the program: RSP = sp, RIP = entry, RDX = 0, other registers zero. */
__attribute__((noreturn)) void ukf_enter_user(uint64_t entry, uint64_t sp);

/* Write to the host's stderr (for the runtime's own messages). */
void ukf_console(const char *s, size_t n);
__attribute__((noreturn)) void ukf_panic(const char *msg);
__attribute__((noreturn)) void ukf_exit(int status);
__attribute__((noreturn)) void ukf_die(int sig);

/* ---- Provided by libc-shim/ ---------------------------------------------- */

/* Dispatch the syscall whose registers are in r; the result goes to r->rax
 * (>= 0 or -errno). Signals are delivered on the way out, by editing r. */
void ukf_syscall(struct ukf_regs *r);

/* Syscall-site rewriting (guest/rewrite): a site that trapped gets a jump to
 * ukf_syscall_fast; reset when a new program is loaded. */
extern uint8_t ukf_entered_fast;
void ukf_rewrite_site(uint64_t rip, uint64_t nr, uint64_t rsp);
void ukf_rewrite_reset(void);

/* Deliver the signals the host interrupted the program for (async entry). */
void ukf_async(struct ukf_regs *r);

/* A CPU exception in ring 3, registers in r, the frame at UKF_XFRAME_AT:
 * resolve it or deliver its signal by editing r (libc-shim/fault.c). */
void ukf_fault(struct ukf_regs *r);

/* Set up the program's memory map from the boot information and run
 * program (argv/envp from the boot block); does not return. */
__attribute__((noreturn)) void ukf_exec_initial(void);

/* Freestanding string/memory helpers (libc-shim/lib.c). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);

#endif /* UKFORK_GUEST_H */
