/*
 * apic.h - the local APIC of the calling core: identity, interrupts between cores, the
 * one-shot timer, end of interrupt. x2APIC (MSRs) when the CPU has it, xAPIC (MMIO) otherwise.
 */
#ifndef ISLE_ARCH_APIC_H
#define ISLE_ARCH_APIC_H

#include "kernel/compiler.h"

#define VEC_TIMER 0xF0    /* LAPIC timer: a timer deadline passed */
#define VEC_DOORBELL 0xF1 /* IPI: a message arrived while the core was idle */
#define VEC_SPURIOUS 0xFF

void apic_init(uint64_t xapic_phys); /* boot core, once: picks x2APIC or xAPIC */
void apic_init_core(void);           /* every core */
bool apic_is_x2(void);
uint32_t apic_id(void);
void apic_eoi(void);
void apic_send_ipi(uint32_t apic_id, uint8_t vector);
void apic_send_nmi(uint32_t apic_id);
void apic_send_init(uint32_t apic_id);
void apic_send_sipi(uint32_t apic_id, uint8_t page);
/* Arms the one-shot timer to fire at TSC value `tsc`, or disarms it with 0. */
void apic_timer_arm(uint64_t tsc);
void apic_timer_calibrate(void); /* boot core, after the TSC is calibrated */

#endif
