/*
 * empty.S - QEMU's floor: a PVH kernel that does nothing but say one byte and leave.
 * ci/bench-boot measures it beside isle, so the numbers show what isle itself costs.
 */
	.section .note.pvh, "a"
	.balign 4
	.long 4, 8, 18			/* "Xen", 8-byte descriptor, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad start

	.text
	.code32
	.globl start
start:
	movw $0x3f8, %dx
	movb $'!', %al
	outb %al, %dx
	movb $'\n', %al
	outb %al, %dx
	movw $0xf4, %dx			/* isa-debug-exit: status 0 -> QEMU exits 1 */
	xorl %eax, %eax
	outl %eax, %dx
1:	hlt
	jmp 1b
