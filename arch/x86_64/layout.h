/*
 * layout.h - the virtual address space of isle, shared by C, assembly and the linker script.
 *
 *   0x0000_0000_0000_0000  identity map of physical memory (all RAM, the low 4 GiB, and device
 *                          memory above as drivers find it), NX; page 0 is never mapped. Up to
 *                          IDENT_MAX bytes (PML4 entries 0..127). Shared by all cores, read-only
 *                          after boot.
 *   0x0000_7F80_0000_0000  thread stacks: 1 GiB per core, in 64 KiB slots; core c owns
 *                          [STACKS_VMA + c GiB, +1 GiB) and is the only one to change its mappings
 *                          (PML4 entry 255: 256 cores fit in its 512 GiB).
 *   0xFFFF_FFFF_8000_0000  the kernel image (text RX, rodata R, data RW), linked here
 *                          (-mcmodel=kernel) and loaded at physical KERNEL_PHYS.
 *   0xFFFF_FFFF_C000_0000  the core window: every core maps its own private copy of the
 *                          .percore sections here.
 */
#ifndef ISLE_LAYOUT_H
#define ISLE_LAYOUT_H

#define KERNEL_VMA 0xFFFFFFFF80000000
#define KERNEL_PHYS 0x100000
#define WINDOW_VMA 0xFFFFFFFFC0000000
#define IDENT_MAX 0x0000400000000000 /* 64 TiB of physical address space */
#define STACKS_VMA 0x00007F8000000000
#define STACK_SLOT_SIZE 0x10000 /* 64 KiB: at most 60 KiB of stack and at least one guard page */
#define STACK_CORE_SIZE 0x40000000

#define TRAMPOLINE_PHYS 0x8000 /* real-mode start page of application cores */
#define BOOT_STACK_SIZE 0x4000

#endif
