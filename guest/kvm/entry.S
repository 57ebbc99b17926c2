/* Guest entry points on KVM: runtime header, boot, the syscall entry that
 * works whether `syscall` enters ring 0 (hardware KVM) or stays in ring 3
 * (PVM), program entry, and the ring-0 exception stubs. */
#include "ukfork/abi.h"

	.section .ukf_header, "ax"
	.globl ukf_runtime_header
ukf_runtime_header:
	.long UKF_RUNTIME_MAGIC
	.long UKF_ABI_VERSION
	.quad ukf_start
	.quad ukf_syscall_entry
	.quad ukf_fault_stubs
	.quad ukf_async_entry

	.text
/* Boot: the host starts us in ring 3 with RSP = UKF_RTSTACK_TOP. */
	.globl ukf_start
ukf_start:
	xor %ebp, %ebp
	call ukf_main
	ud2

/* syscall: RCX = user RIP, R11 = user RFLAGS, RSP untouched (the program's;
 * never write below it: the red zone). Saved into globals first: one vCPU.
 * The whole register file goes into a struct ukf_regs at UKF_REGS_AT: a
 * signal handler's frame and sigreturn need all of it. */
	.globl ukf_syscall_entry
	.align 16
ukf_syscall_entry:
	mov %rsp, ukf_user_rsp(%rip)
	mov $UKF_RTSTACK_TOP, %rsp
	push %rax
	movb $0, ukf_entered_fast(%rip)
	mov %cs, %eax
	test $3, %al
	jnz 1f
	/* Ring 0 (hardware KVM): drop to ring 3 on the runtime stack at once. */
	mov %rcx, ukf_user_rip(%rip)
	mov %r11, ukf_user_rflags(%rip)
	lea 2f(%rip), %rcx
	mov $0x2, %r11d
	sysretq
2:	mov ukf_user_rip(%rip), %rcx
	mov ukf_user_rflags(%rip), %r11
1:
ukf_syscall_common:
	pop %rax
	mov $UKF_REGS_AT, %rsp
	mov %rax, UKF_R_RAX(%rsp)
	mov %rax, UKF_R_NR(%rsp)
	mov %rbx, UKF_R_RBX(%rsp)
	mov %rcx, UKF_R_RCX(%rsp)
	mov %rcx, UKF_R_RIP(%rsp)
	mov %rdx, UKF_R_RDX(%rsp)
	mov %rsi, UKF_R_RSI(%rsp)
	mov %rdi, UKF_R_RDI(%rsp)
	mov %rbp, UKF_R_RBP(%rsp)
	mov %r8, UKF_R_R8(%rsp)
	mov %r9, UKF_R_R9(%rsp)
	mov %r10, UKF_R_R10(%rsp)
	mov %r11, UKF_R_R11(%rsp)
	mov %r11, UKF_R_RFLAGS(%rsp)
	mov %r12, UKF_R_R12(%rsp)
	mov %r13, UKF_R_R13(%rsp)
	mov %r14, UKF_R_R14(%rsp)
	mov %r15, UKF_R_R15(%rsp)
	mov ukf_user_rsp(%rip), %rax
	mov %rax, UKF_R_RSP(%rsp)
	movq $UKF_ENTRY_SYSCALL, UKF_R_KIND(%rsp)
	mov %rsp, %rdi
	call ukf_syscall        /* leaves the result in regs->rax */
	jmp ukf_exit_to_user

/* A rewritten syscall site (guest/rewrite) jumps here instead of executing
 * `syscall`: RAX = number, RCX = return RIP, RFLAGS as they were. Stays in
 * ring 3 on any hypervisor and costs no trap. */
	.globl ukf_syscall_fast
	.align 16
ukf_syscall_fast:
	mov %rsp, ukf_user_rsp(%rip)
	mov $UKF_RTSTACK_TOP, %rsp
	push %rax
	pushfq
	pop %r11
	movb $1, ukf_entered_fast(%rip)
	jmp ukf_syscall_common

/* The host interrupted the program in its own code to deliver a signal: it
 * saved the registers at UKF_REGS_AT and pointed RSP there. */
	.globl ukf_async_entry
	.align 16
ukf_async_entry:
	mov %rsp, %rdi
	call ukf_async
	jmp ukf_exit_to_user

/* Restore every register from the struct ukf_regs at RSP and resume the
 * program. RIP and RSP go through globals: nothing is ever written below
 * the program's RSP, and no register is spent on the jump. */
ukf_exit_to_user:
	mov UKF_R_RIP(%rsp), %rax
	mov %rax, ukf_ret_rip(%rip)
	mov UKF_R_RSP(%rsp), %rax
	mov %rax, ukf_ret_rsp(%rip)
	pushq UKF_R_RFLAGS(%rsp)
	popfq
	mov UKF_R_RBX(%rsp), %rbx
	mov UKF_R_RCX(%rsp), %rcx
	mov UKF_R_RDX(%rsp), %rdx
	mov UKF_R_RSI(%rsp), %rsi
	mov UKF_R_RDI(%rsp), %rdi
	mov UKF_R_RBP(%rsp), %rbp
	mov UKF_R_R8(%rsp), %r8
	mov UKF_R_R9(%rsp), %r9
	mov UKF_R_R10(%rsp), %r10
	mov UKF_R_R11(%rsp), %r11
	mov UKF_R_R12(%rsp), %r12
	mov UKF_R_R13(%rsp), %r13
	mov UKF_R_R14(%rsp), %r14
	mov UKF_R_R15(%rsp), %r15
	mov UKF_R_RAX(%rsp), %rax
	mov ukf_ret_rsp(%rip), %rsp
	jmp *ukf_ret_rip(%rip)

/* ukf_enter_user(entry, sp): start a program with a clean register file. */
	.globl ukf_enter_user
ukf_enter_user:
	mov %rsi, %rsp
	mov %rdi, %rcx
	xor %eax, %eax
	xor %ebx, %ebx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	jmp *%rcx

/* Exception stubs, UKF_FAULT_STUB_SIZE bytes each, entered in ring 0 on the
 * TSS.RSP0 stack. Ring 0 is emulated under PVM (~2.5 us an instruction), so
 * it does the least it can: complete the frame (vector, error code, CR2,
 * RAX) at UKF_XFRAME_AT and return to ukf_fault_entry in ring 3. */
	.align 16
	.globl ukf_fault_stubs
ukf_fault_stubs:
	.set vec, 0
	.rept 32
	.align UKF_FAULT_STUB_SIZE
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	nop
	nop
	.else
	pushq $0
	.endif
	pushq $vec
	jmp ukf_fault_common
	.set vec, vec + 1
	.endr

ukf_fault_common:
	push %rax
	mov %cr2, %rax
	push %rax
	pushq $0x23                     /* SS: user data */
	pushq $UKF_FSTACK_TOP
	pushq $2                        /* RFLAGS */
	pushq $0x2b                     /* CS: user code */
	pushq $ukf_fault_entry
	iretq

/* Ring 3, on the fault stack: every register but RAX is the faulting
 * code's. Save them as a struct ukf_regs, let ukf_fault resolve the fault
 * or turn it into a signal (which edits the registers), and resume. A fault
 * inside this handler cannot be handled: the host ends the VM. */
ukf_fault_entry:
	cmpb $0, ukf_in_fault(%rip)
	jne ukf_fault_fatal
	movb $1, ukf_in_fault(%rip)
	sub $UKF_REGS_SIZE, %rsp
	mov %rbx, UKF_R_RBX(%rsp)
	mov %rcx, UKF_R_RCX(%rsp)
	mov %rdx, UKF_R_RDX(%rsp)
	mov %rsi, UKF_R_RSI(%rsp)
	mov %rdi, UKF_R_RDI(%rsp)
	mov %rbp, UKF_R_RBP(%rsp)
	mov %r8, UKF_R_R8(%rsp)
	mov %r9, UKF_R_R9(%rsp)
	mov %r10, UKF_R_R10(%rsp)
	mov %r11, UKF_R_R11(%rsp)
	mov %r12, UKF_R_R12(%rsp)
	mov %r13, UKF_R_R13(%rsp)
	mov %r14, UKF_R_R14(%rsp)
	mov %r15, UKF_R_R15(%rsp)
	mov UKF_XFRAME_AT + UKF_X_RAX, %rax
	mov %rax, UKF_R_RAX(%rsp)
	mov UKF_XFRAME_AT + UKF_X_RIP, %rax
	mov %rax, UKF_R_RIP(%rsp)
	mov UKF_XFRAME_AT + UKF_X_RFLAGS, %rax
	mov %rax, UKF_R_RFLAGS(%rsp)
	mov UKF_XFRAME_AT + UKF_X_RSP, %rax
	mov %rax, UKF_R_RSP(%rsp)
	movq $-1, UKF_R_NR(%rsp)
	movq $UKF_ENTRY_FAULT, UKF_R_KIND(%rsp)
	mov %rsp, %rdi
	call ukf_fault
	movb $0, ukf_in_fault(%rip)
	jmp ukf_exit_to_user

/* ukf_fault_fatal: report the fault at UKF_XFRAME_AT; the host ends the VM. */
	.globl ukf_fault_fatal
ukf_fault_fatal:
	mov UKF_XFRAME_AT + UKF_X_VECTOR, %eax
	mov $(UKF_HC_PORT_BASE + UKF_HC_FAULT), %dx
	out %eax, %dx
	jmp ukf_fault_fatal

	.data
	.align 8
ukf_user_rsp:    .quad 0
ukf_user_rip:    .quad 0
ukf_user_rflags: .quad 0
ukf_ret_rip:     .quad 0
ukf_ret_rsp:     .quad 0
ukf_in_fault:    .byte 0
	.section .note.GNU-stack, "", @progbits
