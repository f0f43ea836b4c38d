/*
 * pci.h - PCI configuration space, BARs, capabilities and MSI-X, for device drivers.
 * Enumeration and BAR mapping happen on the boot core before other cores start; afterwards the
 * device list is read-only ([I]). MSI-X entries are programmed at boot too: a driver routes
 * vector entry k to the core that owns the queue behind it.
 */
#ifndef ISLE_ARCH_PCI_H
#define ISLE_ARCH_PCI_H

#include "kernel/compiler.h"

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

/* Scans the buses; boot core, before other cores start. Returns the number of devices. */
unsigned pci_init(void); /* scans the bus the first time; the number of devices */
/* The i-th device with this vendor and device id, or NULL. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned i);

uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
/* Offset of the first capability `id` at or after `from` (0 = the first), or 0. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);
/* Pointer to [bar + off, + len) of a memory BAR, or NULL if it does not fit. Device memory:
 * volatile, so that every access reaches the device. */
volatile void *pci_bar_ptr(const struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len);

/* MSI-X: entry `entry` delivers `vector` to core `core`. Then pci_msix_enable(). Boot core.
 * 0, -EINVAL, or -ERANGE when the core's APIC id does not fit the 8-bit destination. */
int pci_msix_route(struct pci_dev *d, unsigned entry, unsigned core, uint8_t vector);
void pci_msix_enable(struct pci_dev *d);

#endif
