/*
 * ioapic.c - routing a legacy interrupt line (GSI) of the I/O APIC to one core. Used for
 * devices without MSI-X (virtio-mmio on microvm). Boot core, before other cores start.
 */
#include <isle/errno.h>
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/setup.h"

#define IOREGSEL 0x00
#define IOWIN 0x10

static uint32_t ioapic_base; /* [I] physical (identity-mapped) address, 0 if none */

void ioapic_init(uint32_t phys)
{
	ioapic_base = phys;
}

bool ioapic_present(uint32_t phys)
{
	volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)phys; /* device registers */
	io[IOREGSEL / 4] = 1; /* version register: entries - 1 in bits 16-23, version in 0-7 */
	uint32_t v = io[IOWIN / 4];
	return v != 0xFFFFFFFF && v != 0 && (v & 0xff) >= 0x10;
}

static void wr(uint32_t reg, uint32_t v)
{
	volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)ioapic_base; /* device registers */
	io[IOREGSEL / 4] = reg;
	io[IOWIN / 4] = v;
}

static uint32_t rd(uint32_t reg)
{
	volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)ioapic_base; /* device registers */
	io[IOREGSEL / 4] = reg;
	return io[IOWIN / 4];
}

int ioapic_route(unsigned gsi, uint8_t vector, unsigned core, bool level)
{
	if (!ioapic_base || core >= ncores)
		return -ENODEV;
	if (core_desc[core].apic_id > 254)
		return -ERANGE; /* 8 destination bits, 0xFF broadcast (no interrupt remapping) */
	unsigned entries = ((rd(1) >> 16) & 0xff) + 1;
	if (gsi >= entries)
		return -EINVAL;
	/* Fixed delivery, physical destination, active high; level-triggered lines stay asserted
	 * until the device is acknowledged. */
	wr(0x10 + 2 * gsi + 1, core_desc[core].apic_id << 24);
	wr(0x10 + 2 * gsi, vector | (level ? 1u << 15 : 0));
	return 0;
}
