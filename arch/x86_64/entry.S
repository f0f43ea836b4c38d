/*
 * entry.S - interrupt/exception entry stubs and the thread context switch.
 *
 * Every vector has a stub that pushes a uniform frame (struct trap_frame in trap.h): the
 * vector, an error code (0 where the CPU pushes none) and all general registers, then calls
 * trap_dispatch(frame). The kernel is built without SSE (-mgeneral-regs-only), so entry code
 * saves no vector registers: an application's SSE state survives interrupts untouched.
 */

/*
 * 256 stubs of 16 bytes each, vector v at isr_stubs + 16 * v (gdt.c builds the IDT from that).
 * Vectors 8, 10-14, 17, 21, 29 and 30 come with an error code from the CPU; the others push a 0
 * so that every frame looks the same.
 */
	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	pushq $vec
	.else
	pushq $0
	pushq $vec
	.endif
	jmp isr_common
	.set vec, vec + 1
	.endr
	/* At most 5 + 5 + 5 bytes each (two pushes of imm32, jmp rel32): 16 always fits. */

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector and error code */
	iretq

/*
 * void ctx_switch(void **save_sp, void *next_sp)
 * Saves the callee-saved registers, MXCSR and the x87 control word (also callee-saved in the
 * SysV ABI) on the current stack, stores the stack pointer in *save_sp and resumes next_sp.
 */
	.text
	.globl ctx_switch
ctx_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $16, %rsp
	stmxcsr 8(%rsp)
	fnstcw (%rsp)
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	ldmxcsr 8(%rsp)
	fldcw (%rsp)
	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* First code of a new thread: ctx_switch "returns" here with %r12 = argument, %r13 = function. */
	.globl ctx_thread_entry
ctx_thread_entry:
	movq %r12, %rdi
	andq $-16, %rsp
	call *%r13
	ud2

/* Application cores arrive here from the trampoline: %rcx = own page tables, %rsi = stack,
 * %rdx = C entry, %edi = core id. */
	.globl ap_start64
ap_start64:
	movq %rcx, %cr3
	movq %rsi, %rsp
	xorl %ebp, %ebp
	call *%rdx
	ud2
