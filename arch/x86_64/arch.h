/*
 * arch.h - the machine services the portable kernel uses: boot-time shared memory, starting
 * cores, mapping thread stacks, doorbells, the timer, and leaving the VM. Together with cpu.h
 * (interrupts, TSC, barriers) this is all of arch/ that kernel/ sees.
 */
#ifndef ISLE_ARCH_H
#define ISLE_ARCH_H

#include "kernel/compiler.h"
#include "arch/x86_64/cpu.h"

/* Zeroed, cache-line aligned memory in the shared region. Boot core only, before other cores
 * start; never freed. NULL when the shared region is exhausted. */
void *boot_alloc(size_t bytes);
/* The same, not zeroed: for large areas whose user initialises what it needs (message rings). */
void *boot_alloc_raw(size_t bytes);
/* One zeroed 4 KiB-aligned page of it (page tables). */
void *boot_alloc_page(void);

/* Starts cores 1..ncores-1; each calls kernel_core_start(core) on its own stack. */
void arch_start_cores(void);

/* Thread stacks: slot `slot` of `core` is [base, base + STACK_SLOT_SIZE); a stack of `len`
 * bytes occupies its top, the rest stays unmapped as the guard. */
uintptr_t arch_stack_slot(unsigned core, unsigned slot);
unsigned arch_stack_slots(void);
int arch_stack_map(uintptr_t top, size_t len); /* calling core's slots only; -ENOMEM */
/* Unmaps and frees the pages of [top - len, top) of a slot of the calling core, flushing its
 * own TLB; other cores may still hold translations until they call arch_stack_tlb_flush. */
void arch_stack_unmap(uintptr_t top, size_t len);
/* Drops every translation of thread stacks (every core's) the calling core's TLB holds. */
void arch_stack_tlb_flush(void);
/* Which core's stack area holds va, or -1. */
int arch_stack_owner(uintptr_t va);

/* An interrupt (device, timer, doorbell) arrived on this core since irq_seen_clear(): the idle
 * path checks it with interrupts off, so an interrupt that came after its last look for work
 * (and whose handler therefore woke nothing) does not leave the core halted. */
bool irq_seen_since_clear(void);
void irq_seen_clear(void);

void arch_doorbell(unsigned core); /* IPI that wakes an idle core */
/* How many cores, from core 0 on, a device interrupt can reach: an MSI or I/O APIC message has
 * 8 destination bits (0xFF is broadcast) and isle programs no interrupt remapping, so cores
 * from the first with an APIC id above 254 get no device queue. */
unsigned arch_irq_cores(void);
void arch_timer_arm(uint64_t deadline_ns); /* one-shot at boot-relative time; 0 disarms */
/* The periodic ticks a core's timer carries beside the scheduler's deadline (timer.c). */
enum arch_tick {
	TICK_PROFILE,  /* calls profile_tick (profile=HZ) */
	TICK_WATCHDOG, /* calls watchdog_tick (watchdog=MS) */
	TICK_KINDS
};
/* Starts the tick `kind` on the calling core: the first after period_ns + phase_ns, then every
 * period_ns, from the timer interrupt. Ticks share the LAPIC timer with arch_timer_arm's
 * deadline and never delay it. Any context. */
void arch_tick_start(enum arch_tick kind, uint64_t period_ns, uint64_t phase_ns);
void arch_tick_stop(enum arch_tick kind);
void arch_profile_ipi(unsigned core);  /* asks a core to write its profile (VEC_PROFILE) */
uint64_t arch_now_ns(void);            /* ns since boot */
void arch_stop_others(void);           /* NMI every other core into a halt (panic) */
__noreturn void arch_exit(int status); /* see power.h */
/* An NMI to one core: even with interrupts off it enters trap.c, which halts it if a panic is
 * in progress, else asks the watchdog (watchdog_nmi: the core reports itself if stuck). */
void arch_nmi(unsigned core);
/* Shuts the CPU down with a triple fault, as a broken kernel would: only for the test that
 * proves such a crash is reported as a failure (tests/guest/crash_triple.c). */
__noreturn void arch_triple_fault(void);

/* Boot-stage timestamps recorded before the console was ready, for the boot log. */
struct boot_stage {
	const char *name; /* what finished */
	uint64_t tsc;     /* when */
};
const struct boot_stage *arch_boot_stages(unsigned *n);
const char *arch_describe(void);        /* one line: machine, APIC mode, TSC source */
const char *arch_describe_memory(void); /* one line: how RAM was shared out */
/* The wall clock from the RTC: seconds since 1970 (UTC), 0 if unknown. Boot core, once. */
int64_t arch_rtc_seconds(void);

/* virtio-mmio devices the firmware tables declare (microvm). */
struct acpi_mmio_dev;
const struct acpi_mmio_dev *arch_virtio_mmio(unsigned *n);

/* The initrd and other modules the hypervisor loaded. */
struct boot_module;
const struct boot_module *arch_modules(unsigned *n);

#endif
