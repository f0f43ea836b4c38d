/*
 * trampoline.S - where an application core starts.
 *
 * A core woken by INIT-SIPI-SIPI starts in 16-bit real mode at TRAMPOLINE_PHYS (the SIPI vector
 * names that page). smp.c copies this code there and fills the parameter block at its end: the
 * bootstrap page tables (below 4 GiB), the core's own page tables, stack and C entry. The code
 * goes real -> protected -> long mode on the bootstrap tables and jumps to ap_start64
 * (entry.S), which switches to the core's own tables and stack and calls entry(core). Everything here is addressed relative to TRAMPOLINE_PHYS because it runs from
 * the copy, not from where it was linked.
 */
#include "arch/x86_64/layout.h"

#define T(x) (TRAMPOLINE_PHYS + (x) - trampoline_start)

	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end, trampoline_params
	.code16
trampoline_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl T(tramp_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $T(tramp_pm32)

	.code32
tramp_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl T(tp_boot_cr3), %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx		/* EFER: long mode + NX */
	rdmsr
	orl $0x900, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax		/* PG | WP | PE */
	movl %eax, %cr0
	ljmp $0x18, $T(tramp_lm64)

	.code64
tramp_lm64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	/* Still on the bootstrap tables, which may not map this core's stack: hand the
	 * parameters to ap_start64 (kernel text, mapped everywhere) to switch tables first. */
	movq T(tp_cr3), %rcx
	movq T(tp_stack), %rsi
	movl T(tp_core), %edi
	movq T(tp_entry), %rdx
	movabsq $ap_start64, %rax
	jmp *%rax

	.balign 16
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tramp_gdtr:
	.word tramp_gdtr - tramp_gdt - 1
	.long T(tramp_gdt)

	.balign 8
trampoline_params:			/* struct trampoline_params in smp.c */
tp_boot_cr3:	.quad 0
tp_cr3:		.quad 0
tp_stack:	.quad 0
tp_entry:	.quad 0
tp_core:	.quad 0
trampoline_end:
