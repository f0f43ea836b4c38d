/*
 * boot.S - from the loader's 32-bit entry to C.
 *
 * Two loaders can start the image, and each has its own 32-bit entry:
 *  - a PVH loader (QEMU -kernel, Firecracker, Xen) enters pvh_start32, found through the
 *    XEN_ELFNOTE_PHYS32_ENTRY note below, with %ebx holding the physical address of struct
 *    hvm_start_info;
 *  - a Multiboot2 loader (GRUB's multiboot2 command, from a disk image) finds the Multiboot2
 *    header below in the first 32 KiB of the file, loads the ELF segments at their physical
 *    addresses and enters mb2_start32, named by the header's entry address tag, with %eax =
 *    MB2_BOOTLOADER_MAGIC and %ebx = physical address of the Multiboot2 information.
 * Both arrive in 32-bit protected mode with paging and interrupts off and flat segments (the
 * loader's own GDT, which we replace before the far jump). From boot_common32 on the path is
 * the same: %esi holds the information's address and %ebp says which protocol delivered it
 * (PVH_START_MAGIC, or whatever the Multiboot2 loader put in %eax, which C checks).
 *
 * We build bootstrap page tables that map the low 4 GiB 1:1 and the kernel image at KERNEL_VMA
 * with 2 MiB pages, enter long mode, jump to the kernel's linked address and call
 * boot_main(info, magic). Application cores reuse the same bootstrap tables from the
 * trampoline. The real page tables (permissions, core windows) are built in C (paging.c).
 */
#include "arch/x86_64/layout.h"

#define PHYS(x) ((x) - KERNEL_VMA)

#define CR0_PE 0x00000001
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100
#define EFER_NXE 0x00000800

#define PVH_START_MAGIC 0x336ec578 /* as in firmware.h: tells boot_main it was PVH */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0 /* 32-bit protected mode entry */
#define MB2_TAG_END 0
#define MB2_TAG_ENTRY 3 /* entry address tag: the 32-bit physical entry point */

	/*
	 * The Multiboot2 header: 8-byte aligned within the first 32 KiB of the file (the linker
	 * script puts it first in .boot, at file offset 4096). Its checksum makes the four header
	 * words sum to 0 mod 2^32. Without an address tag the loader reads the ELF program headers.
	 */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
	.short MB2_TAG_ENTRY, 0		/* type, flags (0: required) */
	.long 12			/* size */
	.long mb2_start32
	.balign 8
	.short MB2_TAG_END, 0
	.long 8
mb2_header_end:

	.section .note.pvh, "a"
	.balign 4
	.long 4				/* name size: "Xen\0" */
	.long 8				/* descriptor size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh_start32

	.section .boot.text, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, %esi			/* keep start_info */
	movl $PVH_START_MAGIC, %ebp	/* the protocol, for boot_main */
	jmp boot_common32

	.globl mb2_start32
mb2_start32:
	cli
	cld
	movl %ebx, %esi			/* keep the Multiboot2 information */
	movl %eax, %ebp			/* the loader's magic, checked in C */

boot_common32:
	movl $PHYS(boot_stack_top), %esp

	/* Long mode needs CPUID leaf 0x80000001 bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode

	/* Clear the bootstrap page-table pages (7 pages from boot_pml4). */
	movl $PHYS(boot_pml4), %edi
	xorl %eax, %eax
	movl $(7 * 4096 / 4), %ecx
	rep stosl

	/* PML4[0] -> PDPT_low, PML4[511] -> PDPT_high. */
	movl $PHYS(boot_pdpt_low), %eax
	orl $0x3, %eax
	movl %eax, PHYS(boot_pml4)
	movl $PHYS(boot_pdpt_high), %eax
	orl $0x3, %eax
	movl %eax, PHYS(boot_pml4) + 511 * 8

	/* PDPT_low[0..3] -> four PDs covering 4 GiB; PDPT_high[510] -> PD 0 (the first GiB). */
	movl $PHYS(boot_pd), %eax
	orl $0x3, %eax
	movl $PHYS(boot_pdpt_low), %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b
	movl $PHYS(boot_pd), %eax
	orl $0x3, %eax
	movl %eax, PHYS(boot_pdpt_high) + 510 * 8

	/* 2048 2 MiB pages: present, writable, large. */
	movl $PHYS(boot_pd), %edi
	movl $0x83, %eax
	xorl %edx, %edx
	movl $2048, %ecx
2:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 2b

	/* PAE, long mode (with NX so the C page tables may use it), paging. */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0

	lgdt boot_gdtr
	ljmp $0x18, $boot_long

no_long_mode:
	movl $boot_msg_no_lm, %esi
	movw $0x3f8, %dx
3:	lodsb
	testb %al, %al
	jz 4f
	outb %al, %dx
	jmp 3b
4:	hlt
	jmp 4b

	.code64
boot_long:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_high, %rax
	jmp *%rax

	.section .boot.data, "a"
	.balign 16
	.globl boot_gdt
boot_gdt:
	.quad 0				/* null */
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
boot_gdt_end:
	.globl boot_gdtr
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
	.long 0
boot_msg_no_lm:
	.asciz "isle: this CPU has no long mode (x86_64); cannot boot\r\n"

	.text
	.code64
boot_high:
	movabsq $boot_stack_top, %rsp
	movl %esi, %edi			/* boot_main(information's physical address, */
	movl %ebp, %esi			/*           protocol magic) */
	xorl %ebp, %ebp
	call boot_main
5:	cli
	hlt
	jmp 5b

	.bss
	.balign 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_low:	.skip 4096
boot_pdpt_high:	.skip 4096
boot_pd:	.skip 4 * 4096
	.balign 16
	.globl boot_stack, boot_stack_top
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
