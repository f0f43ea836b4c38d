/* gdt.h - per-core descriptor tables and CPU features. */
#ifndef ISLE_ARCH_GDT_H
#define ISLE_ARCH_GDT_H

#include "kernel/compiler.h"

#define IST_DF 1
#define IST_NMI 2
#define IST_PF 3
#define IST_STACK_SIZE 8192

/* Loads this core's GDT, TSS (with the three IST stack tops given) and IDT; enables SSE. */
void gdt_init_core(uintptr_t ist_df, uintptr_t ist_nmi, uintptr_t ist_pf);

/*
 * Loads the early IDT: the 32 exception vectors, on the bootstrap code selector, so that an
 * exception before gdt_init_core (no core window, no per-core IDT yet) is reported on the
 * serial port (trap.c) instead of ending in a silent triple fault. The first thing the boot
 * core and each starting core do.
 */
void idt_load_early(void);
/* This core still runs on the early IDT. */
bool idt_is_early(void);

#endif
