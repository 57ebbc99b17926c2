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

	.text
/* Boot: the host starts us in ring 3 with RSP = UKF_RTSTACK_TOP. */
	.globl ukf_start
ukf_start:
	xor %ebp, %ebp
	call ukf_main
	ud2

/* syscall: RCX = user RIP, R11 = user RFLAGS, RSP untouched (the program's;
 * never write below it: the red zone). Saved into globals first: one vCPU. */
	.globl ukf_syscall_entry
	.align 16
ukf_syscall_entry:
	mov %rsp, ukf_user_rsp(%rip)
	mov $UKF_RTSTACK_TOP, %rsp
	push %rax
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
1:	pop %rax
	push ukf_user_rsp(%rip)
	push %rcx
	push %r11
	push %rdi
	push %rsi
	push %rdx
	push %r10
	push %r8
	push %r9
	push %rax
	sub $8, %rsp            /* struct ukf_sysframe, 16-byte aligned */
	mov %rsp, %rdi
	call ukf_syscall
	add $16, %rsp           /* pad, nr */
	pop %r9
	pop %r8
	pop %r10
	pop %rdx
	pop %rsi
	pop %rdi
	pop %r11
	pop %rcx
	pop ukf_user_rsp(%rip)
	push %r11               /* flags restored on our stack: nothing is */
	popfq                   /* ever written below the program's RSP */
	mov ukf_user_rsp(%rip), %rsp
	jmp *%rcx

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
 * TSS.RSP0 stack. Each makes the frame uniform (vector, error code, RIP, CS,
 * RFLAGS, RSP, SS) and reports it with one `out`; the host ends the VM. */
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
	mov (%rsp), %eax
	mov $(UKF_HC_PORT_BASE + UKF_HC_FAULT), %dx
	out %eax, %dx
	hlt
	jmp ukf_fault_common

	.data
	.align 8
ukf_user_rsp:    .quad 0
ukf_user_rip:    .quad 0
ukf_user_rflags: .quad 0
	.section .note.GNU-stack, "", @progbits
