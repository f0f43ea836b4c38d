/* setup.h - what the boot core decided about every core, for smp.c and trap.c. */
#ifndef ISLE_ARCH_SETUP_H
#define ISLE_ARCH_SETUP_H

#include "kernel/compiler.h"
#include "kernel/core.h"

struct core_desc {
	uint32_t apic_id;    /* [I] local APIC id */
	uint64_t cr3;        /* [I] physical address of the core's top-level page table */
	uintptr_t stack_top; /* [I] boot/scheduler stack */
	uintptr_t ist_df, ist_nmi, ist_pf; /* [I] interrupt stack tops */
};
extern struct core_desc core_desc[MAX_CORES];

void setup_core_self(unsigned core);

#endif
