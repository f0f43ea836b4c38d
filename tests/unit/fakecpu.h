/*
 * fakecpu.h - a fake x86 processor for host unit tests of arch code.
 *
 * arch/x86_64/cpu.h, compiled with ISLE_HOST, declares the processor operations (rdmsr, wrmsr,
 * cpuid, rdtsc, inb/outb, 32-bit device registers, mfence, the interrupt flag) as functions;
 * fakecpu.c defines them on the state below. It models what a driver can get wrong:
 *
 *   - IA32_APIC_BASE (MSR 0x1B) and its legal transitions, as KVM enforces them: reserved bits
 *     (0-7, 9) clear; EXTD only if CPUID.1:ECX[21]; never EXTD without EN; never x2APIC ->
 *     xAPIC or disabled -> x2APIC in one write. Disabling resets the APIC's registers.
 *   - x2APIC registers (MSRs 0x800-0x8FF) only in x2APIC mode, xAPIC MMIO only in xAPIC mode;
 *     read-only (ID, version, current count) and write-only (EOI, self IPI) registers; no ICR
 *     high half (0x831) in x2APIC; an EOI write must be 0; the upper 32 bits of everything but
 *     the ICR must be 0.
 *   - The APIC id: 32 bits in MSR 0x802, its low 8 bits in bits 24-31 of the MMIO ID register.
 *   - IPIs: one 64-bit write to MSR 0x830 (destination in bits 32-63), or the MMIO ICR (high
 *     word's bits 24-31, then the low word, which sends). Each is recorded with whether a fence
 *     came right before it and whether interrupts were on.
 *   - The timer: LVT timer mode bits 17-18 (TSC-deadline only if CPUID.1:ECX[24]); a
 *     one-shot count-down at timer_num/timer_den APIC ticks per TSC tick; IA32_TSC_DEADLINE
 *     (0x6E0), #GP without the CPUID bit, ignored while the LVT is not in TSC-deadline mode. A
 *     mode change disarms the timer.
 *   - KVM's paravirtual clock: MSR 0x4b564d01 (only when CPUID says KVM with
 *     KVM_FEATURE_CLOCKSOURCE2) makes the fake fill the 32-byte time information at the
 *     physical address written, by the ABI's byte offsets (version 0, tsc_to_system_mul 24,
 *     tsc_shift 28). The kernel hands out image addresses as va - KERNEL_VMA; the fake adds
 *     KERNEL_VMA back to reach the host object.
 *   - PIT channel 0 (ports 0x40, 0x43) in mode 2, counting at 1.193182 MHz against the TSC.
 *   - A TSC that advances by tsc_step on every rdtsc().
 *
 * A fault (#GP, or an access a real CPU would not honour) is counted in fake.gp, described on
 * stderr and otherwise ignored: tests check fake.gp == 0. Every access is logged in fake.ev.
 */
#ifndef ISLE_TEST_FAKECPU_H
#define ISLE_TEST_FAKECPU_H

#include <stdbool.h>
#include <stdint.h>

#define FAKE_EVENTS 4096
#define FAKE_IPIS 64
#define FAKE_LEAVES 32

enum fake_kind { EV_RDMSR, EV_WRMSR, EV_MMIO_RD, EV_MMIO_WR, EV_FENCE };

/* One access to the processor, in program order. */
struct fake_event {
	enum fake_kind kind;
	uint32_t reg; /* MSR number, or byte offset in the APIC page (MMIO) */
	uint64_t val; /* value written or read */
	bool irq_on;  /* the interrupt flag at the time */
};

/* One interrupt command sent. */
struct fake_ipi {
	uint32_t dest;   /* destination APIC id, as the mode encodes it */
	uint32_t lo;     /* ICR bits 0-31: vector, delivery mode, level */
	bool x2;         /* sent through MSR 0x830 (else MMIO) */
	bool fenced;     /* the access just before the ICR write was a fence */
	bool irq_on;     /* interrupts were on at the ICR write */
	uint32_t icr_hi; /* MMIO: the high word at the time (bits 24-31 are the destination) */
};

struct fake_cpu {
	/* Set by the test (fake_reset gives defaults). */
	uint32_t apic_id;    /* the x2APIC id of this CPU */
	uint64_t tsc;        /* the time stamp counter */
	uint64_t tsc_step;   /* added to tsc before every rdtsc() returns */
	uint32_t timer_num;  /* APIC timer ticks ... */
	uint32_t timer_den;  /* ... per this many TSC ticks */
	uint64_t pit_tsc_hz; /* TSC frequency the PIT counts against; 0: no PIT (reads 0xff) */
	uint32_t pv_mul;     /* kvmclock tsc_to_system_mul the "hypervisor" writes */
	int8_t pv_shift;     /* kvmclock tsc_shift */
	unsigned pv_busy;    /* cpu_pause() calls during which the first update stays unfinished */
	unsigned icr_busy;   /* MMIO ICR reads that still show "send pending" */

	/* State. */
	uint64_t apic_base;                                      /* IA32_APIC_BASE */
	uint32_t apic_regs[1024] __attribute__((aligned(4096))); /* the APIC page, by offset / 4 */
	uint64_t deadline;         /* IA32_TSC_DEADLINE as armed (0: not armed) */
	unsigned deadline_ignored; /* writes dropped because the LVT was not in deadline mode */
	uint64_t timer_start;      /* TSC when the initial count was written */
	bool irq_on;               /* RFLAGS.IF */
	unsigned pauses;           /* cpu_pause() calls */
	uint64_t pv_msr;           /* MSR_KVM_SYSTEM_TIME_NEW as written */
	unsigned pv_enables;       /* writes that enabled it */
	unsigned char *pv_page;    /* the time information being updated, or NULL */
	uint32_t cpuid[FAKE_LEAVES][5]; /* leaf, eax, ebx, ecx, edx */
	unsigned nleaves;
	int pit_state; /* 0 idle, 1 waiting for the low byte, 2 for the high byte */
	uint32_t pit_reload;
	uint64_t pit_start; /* TSC when the reload value was written */
	uint16_t pit_latch;
	int pit_latched; /* bytes of the latch still to read */

	/* What happened. */
	struct fake_ipi ipi[FAKE_IPIS];
	unsigned nipi;
	struct fake_event ev[FAKE_EVENTS];
	unsigned nev;
	unsigned gp; /* faults */
};

extern struct fake_cpu fake;

/* Power-on state: xAPIC enabled (BSP) at the fake page, interrupts on, CPUID empty (leaf 0 says
 * max 1), TSC at 1000 stepping by 10, APIC timer at the TSC's rate, no PIT, no kvmclock. */
void fake_reset(void);
/* Sets CPUID leaf (subleaf 0) to eax, ebx, ecx, edx; leaf 0's eax grows to cover basic leaves. */
void fake_set_cpuid(uint32_t leaf, uint32_t a, uint32_t b, uint32_t c, uint32_t d);
/* ORs bits into CPUID.1:ECX (x2APIC 21, TSC-deadline 24, hypervisor 31). */
void fake_cpuid1_ecx(uint32_t bits);
/* Makes CPUID say "KVMKVMKVM" at base (0x40000000 or 0x40000100) with features in base + 1. */
void fake_kvm(uint32_t base, uint32_t features);
/* The address to give apic_init as the xAPIC base (the fake APIC page). */
uint64_t fake_apic_phys(void);
/* A register of the APIC page by MMIO offset (x2APIC MSR 0x800 + n is offset n << 4). */
uint32_t fake_apic_reg(uint32_t offset);
/* How many logged events match kind and reg. */
unsigned fake_count(enum fake_kind kind, uint32_t reg);
/* Index of the last logged event matching kind and reg, or -1. */
int fake_last(enum fake_kind kind, uint32_t reg);
/* Forgets the event log and the IPIs sent (state stays). */
void fake_clear_log(void);

#endif
