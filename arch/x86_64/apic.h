/*
 * apic.h - the local APIC of the calling core: identity, interrupts between cores, the timer,
 * end of interrupt. x2APIC (MSRs) when the CPU has it, xAPIC (MMIO) otherwise; the timer in
 * TSC-deadline mode when the CPU has it, the one-shot count-down otherwise. apic_init's flags
 * (from apic=xapic and timer=oneshot on the command line) force the second choice.
 *
 * Addressing. An x2APIC reaches every 32-bit APIC id but 0xFFFFFFFF (broadcast); an xAPIC only
 * ids 0..254 (8 bits, and 0xFF is broadcast). apic_addressable() says which; boot code MUST
 * leave out the CPUs it rejects. The apic_send_* functions refuse such a destination: they send
 * nothing and return -ERANGE (never an IPI to a truncated id, which would reach another CPU).
 *
 * Context: apic_init and apic_timer_calibrate on the boot core at boot; apic_init_core once on
 * every core; the rest on any core, in any context (interrupt handlers included), after
 * apic_init_core.
 */
#ifndef ISLE_ARCH_APIC_H
#define ISLE_ARCH_APIC_H

#include "kernel/compiler.h"

#define APIC_NO_X2APIC (1u << 0)   /* apic_init: xAPIC mode even if the CPU has x2APIC */
#define APIC_NO_DEADLINE (1u << 1) /* apic_init: one-shot timer even with TSC-deadline */

/* Picks the APIC and timer modes (flags: APIC_NO_*) and puts the boot core's APIC in its mode,
 * so that apic_id() works at once. xapic_phys is the MMIO base (0: the default 0xFEE00000). */
void apic_init(uint64_t xapic_phys, unsigned flags);
void apic_init_core(void); /* every core: mode, spurious vector, timer (stopped) */
bool apic_is_x2(void);
bool apic_timer_is_deadline(void);
bool apic_addressable(uint32_t apic_id);
uint32_t apic_id(void); /* x2APIC: all 32 bits; xAPIC: 8 bits */
void apic_eoi(void);
/* 0, or -ERANGE when !apic_addressable(apic_id) (nothing is sent). */
int apic_send_ipi(uint32_t apic_id, uint8_t vector);
int apic_send_nmi(uint32_t apic_id);
int apic_send_init(uint32_t apic_id);
int apic_send_sipi(uint32_t apic_id, uint8_t page);
/* Arms the timer to fire at TSC value `tsc` (at once if that has passed), or disarms it with 0.
 * A one-shot timer may fire early for a deadline more than 2^32 APIC ticks away: callers
 * re-arm when they find nothing due. */
void apic_timer_arm(uint64_t tsc);
void apic_timer_calibrate(void); /* boot core, after the TSC is calibrated */

#endif
