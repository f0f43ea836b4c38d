/* ioapic.h - legacy interrupt lines to cores (for devices without MSI-X). */
#ifndef ISLE_ARCH_IOAPIC_H
#define ISLE_ARCH_IOAPIC_H

#include "kernel/compiler.h"

void ioapic_init(uint32_t phys); /* boot core, from the MADT */
/* Delivers line `gsi` as `vector` to `core`. 0, -ENODEV (no I/O APIC) or -EINVAL. */
int ioapic_route(unsigned gsi, uint8_t vector, unsigned core, bool level);

#endif
