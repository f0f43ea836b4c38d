/*
 * irq.c - device interrupts as drivers see them (arch.h): a driver names its interrupt
 * (enum arch_irq), says where it comes from (an MSI-X entry of a PCI function, or an interrupt
 * line) and which core takes it; this file picks the vector (vectors.h) and programs the MSI-X
 * table (pci.c) or the I/O APIC (ioapic.c). The handler table itself is trap.c's.
 */
#include <isle/errno.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/pci.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/vectors.h"

/* The vector of each driver's interrupt. */
static const uint8_t irq_vector[] = {
	[IRQ_NET] = VEC_NET,
	[IRQ_BLK] = VEC_BLK,
};

int arch_irq_route(struct pci_dev *pci, unsigned index, unsigned core, enum arch_irq irq)
{
	if (!pci)
		return ioapic_route(index, irq_vector[irq], core, true);
	int rc = pci_msix_route(pci, index, core, irq_vector[irq]);
	/* Switching MSI-X on again for each entry is harmless, and an entry not yet routed stays
	 * masked (as the PCI specification has it after reset), so it sends nothing meanwhile. */
	if (rc == 0)
		pci_msix_enable(pci);
	return rc;
}

void arch_irq_handle(enum arch_irq irq, void (*fn)(void *arg), void *arg)
{
	irq_register(irq_vector[irq], fn, arg);
}
