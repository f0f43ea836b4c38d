/*
 * tsc.h - time from the time stamp counter. The TSC runs at a constant rate on every core
 * (invariant TSC, or host time under QEMU TCG); its frequency is measured once at boot.
 */
#ifndef ISLE_ARCH_TSC_H
#define ISLE_ARCH_TSC_H

#include "kernel/compiler.h"
#include "arch/x86_64/arch.h" /* tsc_to_ns, declared there for portable code */

/* Measures the TSC frequency (CPUID leaves, KVM's clock, else the PIT). Boot core, once.
 * Returns the source used, for the boot log. */
const char *tsc_calibrate(void);
/* The TSC frequency from KVM's pvclock scale (tsc_to_system_mul, tsc_shift):
 * 10^9 * 2^32 / (mul * 2^shift), to the nearest kHz; 0 if that is not a plausible TSC. */
uint64_t tsc_hz_from_pvclock(uint32_t mul, int shift);
uint64_t tsc_hz(void);
uint64_t tsc_boot(void); /* TSC at the first instruction of C code */
void tsc_set_boot(uint64_t t);
uint64_t ns_to_tsc(uint64_t ns);

#endif
