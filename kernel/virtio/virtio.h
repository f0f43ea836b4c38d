/*
 * virtio.h - what a virtio driver needs from a transport (PCI or MMIO), as a table of
 * functions. The boot core uses them while it sets the device up; afterwards a driver only
 * touches its virtqueues (kernel/virtio/virtq.h).
 */
#ifndef ISLE_NET_VIRTIO_H
#define ISLE_NET_VIRTIO_H

#include "kernel/compiler.h"
#include "kernel/virtio/virtq.h"

#define VIRTIO_NO_VECTOR 0xffff

struct pci_dev; /* opaque: arch.h declares what a driver may ask of it */

struct virtio_dev;
/* [I]: a transport's constant table of functions (PCI, MMIO). */
struct virtio_ops {
	uint64_t (*features)(struct virtio_dev *d);
	int (*set_features)(struct virtio_dev *d, uint64_t f); /* sets FEATURES_OK; -EIO */
	uint16_t (*queue_max)(struct virtio_dev *d, uint16_t index);
	/* Configures and enables queue q; `vector` is an MSI-X entry (PCI) or ignored (MMIO). */
	int (*setup_queue)(struct virtio_dev *d, struct virtq *q, uint16_t vector);
	void (*driver_ok)(struct virtio_dev *d);
	void (*fail)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_ops *ops; /* [I] */
	char where[16];               /* [I] "pci 00:01.0" or "mmio", for reports */
	volatile uint8_t *device_cfg; /* [I] device-specific configuration (registers) */
	uint32_t device_cfg_len;      /* [I] its bytes: a driver reads no further */
	/* PCI */
	struct pci_dev *pci;                           /* [I] NULL for MMIO */
	volatile struct virtio_pci_common_cfg *common; /* [I] */
	volatile uint8_t *notify_base;                 /* [I] */
	uint32_t notify_len;                           /* [I] bytes at notify_base */
	uint32_t notify_mult;                          /* [I] notify_off_multiplier */
	/* MMIO */
	volatile uint8_t *mmio; /* [I] register block, NULL for PCI */
	unsigned irq;           /* [I] interrupt line (GSI) */
};

/* Sets up and enables queue `index` of d with at most max_size entries (the device's maximum,
 * if smaller; a power of two) in zeroed shared memory, named `name` in reports (copied), and
 * `vector` its MSI-X entry (PCI; VIRTIO_NO_VECTOR for none). 0, -EIO, -ENOMEM. Boot core. */
int virtio_setup_queue(struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t max_size,
                       uint16_t vector, const char *name);

/* Opens the device (reset, ACKNOWLEDGE, DRIVER) if its capabilities describe usable
 * registers (virtio_pci.c says which). 0 or -ENODEV. Boot core. */
int virtio_pci_open(struct pci_dev *pci, struct virtio_dev *d);
/* Opens the MMIO device at `base` with interrupt line `irq` if it is of type `device_id`
 * (1 = net). 0, or -ENODEV (nothing there, or another type). */
int virtio_mmio_open(uint64_t base, unsigned irq, uint32_t device_id, struct virtio_dev *d);
/* Parses "size@base:irq" as QEMU microvm puts on the command line. 0 or -EINVAL. */
int virtio_mmio_parse(const char *desc, uint64_t *base, unsigned *irq);
/* Acknowledges an MMIO device's interrupt (its interrupt handler calls this). */
void virtio_mmio_ack(struct virtio_dev *d);

#endif
