/*
 * smp.c - starting application cores, doorbells, the profiler's dump request, NMIs (the
 * watchdog's request for a report, stopping cores).
 *
 * Cores are started one at a time: the boot core fills the trampoline's parameter block,
 * sends INIT-SIPI-SIPI and waits until the new core reports that it has read the block (it
 * is then running kernel code on its own stack and tables, and sets itself up while the next
 * core starts). Started this way, cores need no lock and no shared counter to pick their
 * parameters.
 */
#include <string.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/setup.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/vectors.h"
#include "kernel/console.h"
#include "kernel/panic.h"

/* In the trampoline page: written by the boot core before it starts a core, read once by that
 * core's trampoline; the boot core reuses it only after ap_started (release/acquire). */
struct trampoline_params {
	uint64_t boot_cr3; /* bootstrap tables (below 4 GiB) for the mode switch */
	uint64_t cr3;      /* the core's own tables */
	uint64_t stack;    /* its boot stack */
	uint64_t entry;    /* C entry: ap_entry */
	uint64_t core;     /* its logical id */
};

extern char trampoline_start[], trampoline_end[], trampoline_params[];
extern char boot_pml4[];

/* Written by the starting core, read by the boot core: "I have consumed the parameters". */
static uint32_t ap_started;

static __noreturn void ap_entry(unsigned core)
{
	/* The trampoline has read the whole parameter block into registers: let the boot core
	 * start the next core now, so that cores set themselves up (and take the first faults on
	 * their own memory) all at once, not one after the other. Release: our reads of the block
	 * happen before the boot core reuses it. */
	__atomic_store_n(&ap_started, 1, __ATOMIC_RELEASE);
	idt_load_early();
	setup_core_self(core);
	kernel_core_start(core);
}

static bool wait_started(uint64_t us)
{
	uint64_t end = rdtsc() + ns_to_tsc(us * 1000);
	while (rdtsc() < end) {
		/* Acquire: pairs with the release in ap_entry. */
		if (__atomic_load_n(&ap_started, __ATOMIC_ACQUIRE))
			return true;
		cpu_pause();
	}
	return false;
}

void arch_start_cores(void)
{
	size_t len = (size_t)(trampoline_end - trampoline_start);
	memcpy((void *)TRAMPOLINE_PHYS, trampoline_start, len);
	struct trampoline_params *p =
	        (void *)(TRAMPOLINE_PHYS + (trampoline_params - trampoline_start));
	for (unsigned c = 1; c < ncores; c++) {
		const struct core_desc *cd = &core_desc[c];
		log_debug("starting core %u (APIC id %u)", c, cd->apic_id);
		p->boot_cr3 = (uint64_t)(uintptr_t)boot_pml4 - KERNEL_VMA;
		p->cr3 = cd->cr3;
		p->stack = cd->stack_top;
		p->entry = (uint64_t)(uintptr_t)ap_entry;
		p->core = c;
		/* Relaxed: no core runs that could read it; the ICR write below orders it first. */
		__atomic_store_n(&ap_started, 0, __ATOMIC_RELAXED);
		/* The parameter stores must be visible before the core can run: the ICR write that
		 * starts it is ordered after them (apic.c fences for x2APIC; xAPIC MMIO is ordered).
		 * The core list holds only ids the APIC can address (setup.c), so this never fails
		 * unless that is broken. */
		if (apic_send_init(cd->apic_id) < 0)
			boot_fail("core %u: APIC id %u cannot be addressed", c, cd->apic_id);
		apic_send_sipi(cd->apic_id, TRAMPOLINE_PHYS >> 12);
		if (!wait_started(10000)) {
			apic_send_sipi(cd->apic_id, TRAMPOLINE_PHYS >> 12);
			if (!wait_started(1000000))
				boot_fail("core %u (APIC id %u) did not start", c, cd->apic_id);
		}
	}
}

unsigned arch_irq_cores(void)
{
	unsigned n = 0;
	while (n < ncores && core_desc[n].apic_id <= 254)
		n++;
	return n;
}

void arch_doorbell(unsigned core)
{
	apic_send_ipi(core_desc[core].apic_id, VEC_DOORBELL);
}

void arch_profile_ipi(unsigned core)
{
	apic_send_ipi(core_desc[core].apic_id, VEC_PROFILE);
}

void arch_nmi(unsigned core)
{
	apic_send_nmi(core_desc[core].apic_id);
}

void arch_stop_others(void)
{
	for (unsigned c = 0; c < ncores; c++)
		if (c != core_id())
			arch_nmi(c);
}

uint64_t arch_now_ns(void)
{
	return tsc_to_ns(rdtsc() - tsc_boot());
}
