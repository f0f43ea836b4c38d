/*
 * entry.S - interrupt/exception entry stubs and the thread context switch.
 *
 * Every vector has a stub that pushes a uniform frame (struct trap_frame in trap.h): the
 * vector, an error code (0 where the CPU pushes none) and all general registers, then calls
 * trap_dispatch(frame). The kernel is built without SSE (-mgeneral-regs-only), so entry code
 * saves no vector registers: an application's SSE state survives interrupts untouched.
 */

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.macro isr_stub v
	.balign 16
isr_\v:
	.if HAS_ERR(\v)
	pushq $\v
	.else
	pushq $0
	pushq $\v
	.endif
	jmp isr_common
	.endm

	.altmacro
	.set i, 0
	.rept 256
	isr_stub %i
	.set i, i + 1
	.endr

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

	.macro isr_addr v
	.quad isr_\v
	.endm

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.set i, 0
	.rept 256
	isr_addr %i
	.set i, i + 1
	.endr

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
