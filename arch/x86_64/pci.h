/*
 * pci.h - PCI configuration space, BARs and MSI-X, inside arch/. Drivers see struct pci_dev as
 * an opaque handle and the accessors arch.h declares; this header adds what arch code and the
 * host unit tests of the virtio transport need: the struct itself, configuration writes and
 * MSI-X programming (irq.c). Enumeration and BAR mapping happen on the boot core before other
 * cores start; afterwards the device list is read-only ([I]).
 */
#ifndef ISLE_ARCH_PCI_H
#define ISLE_ARCH_PCI_H

#include "kernel/compiler.h"
#include "arch/x86_64/arch.h"

#define PCI_MAX_DEVICES 32

struct pci_bar {
	uint64_t addr; /* [I] physical address (memory) or port (I/O); 0 if unused */
	uint64_t size; /* [I] bytes */
	bool io;       /* [I] I/O-space BAR */
};

struct pci_dev {
	uint8_t bus, dev, fn;          /* [I] location */
	uint16_t vendor, device;       /* [I] ids */
	uint8_t class, subclass;       /* [I] */
	struct pci_bar bar[6];         /* [I] */
	uint8_t msix_cap;              /* [I] config offset of the MSI-X capability, 0 if none */
	uint16_t msix_entries;         /* [I] table size */
	volatile uint32_t *msix_table; /* [I] mapped table (device memory) */
};

/* Scans the buses the first time (pci_find calls it); the number of devices. Boot. */
unsigned pci_init(void);

uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);

/* MSI-X: entry `entry` delivers `vector` to core `core`, unmasked; then pci_msix_enable().
 * Boot. 0, -EINVAL, or -ERANGE when the core's APIC id does not fit the 8-bit destination. */
int pci_msix_route(struct pci_dev *d, unsigned entry, unsigned core, uint8_t vector);
void pci_msix_enable(struct pci_dev *d);

#endif
