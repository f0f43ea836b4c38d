/* ioapic.h - legacy interrupt lines to cores (for devices without MSI-X). */
#ifndef ISLE_ARCH_IOAPIC_H
#define ISLE_ARCH_IOAPIC_H

#include "kernel/compiler.h"

void ioapic_init(uint32_t phys); /* boot core, from the MADT */
/* Whether an I/O APIC answers at phys (no table named one). Boot core. */
bool ioapic_present(uint32_t phys);
/* Delivers line `gsi` as `vector` to `core`. 0, -ENODEV (no I/O APIC), -EINVAL (no such line)
 * or -ERANGE (the core's APIC id does not fit the 8-bit destination). */
int ioapic_route(unsigned gsi, uint8_t vector, unsigned core, bool level);

#endif
