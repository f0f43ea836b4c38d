/*
 * tsc.h - time from the time stamp counter. The TSC runs at a constant rate on every core
 * (invariant TSC, or host time under QEMU TCG); its frequency is measured once at boot.
 */
#ifndef ISLE_ARCH_TSC_H
#define ISLE_ARCH_TSC_H

#include "kernel/compiler.h"

/* Measures the TSC frequency (CPUID leaves, else the PIT). Boot core, once. Returns the
 * source used, for the boot log. */
const char *tsc_calibrate(void);
uint64_t tsc_hz(void);
uint64_t tsc_boot(void); /* TSC at the first instruction of C code */
void tsc_set_boot(uint64_t t);
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);

#endif
