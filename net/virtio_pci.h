/*
 * virtio_pci.h - the modern (virtio 1.x) PCI transport: capabilities, status handshake,
 * feature negotiation, queue set-up. Used at boot by the boot core only; afterwards drivers
 * touch only their queues' notify registers.
 */
#ifndef ISLE_NET_VIRTIO_PCI_H
#define ISLE_NET_VIRTIO_PCI_H

#include "arch/x86_64/pci.h"
#include "kernel/compiler.h"
#include "net/virtq.h"

struct virtio_pci_common_cfg;

struct virtio_pci {
	struct pci_dev *pci;                           /* [I] */
	volatile struct virtio_pci_common_cfg *common; /* [I] device registers */
	volatile uint8_t *isr;                         /* [I] */
	volatile uint8_t *device_cfg;                  /* [I] device-specific configuration */
	volatile uint8_t *notify_base;                 /* [I] */
	uint32_t notify_mult;                          /* [I] notify_off_multiplier */
};

/* Finds the virtio capabilities; resets the device and acknowledges it. 0 or -ENODEV. */
int virtio_pci_open(struct pci_dev *d, struct virtio_pci *vp);
uint64_t virtio_pci_features(struct virtio_pci *vp);
/* Writes the driver's features and sets FEATURES_OK; -EIO if the device refuses. */
int virtio_pci_set_features(struct virtio_pci *vp, uint64_t features);
uint16_t virtio_pci_queue_max(struct virtio_pci *vp, uint16_t index);
/* Configures queue q (already virtq_init'ed) with MSI-X entry `msix` (0xffff: none) and
 * enables it. 0 or -EIO (the device refused the MSI-X entry). */
int virtio_pci_setup_queue(struct virtio_pci *vp, struct virtq *q, uint16_t msix);
void virtio_pci_driver_ok(struct virtio_pci *vp);
void virtio_pci_fail(struct virtio_pci *vp);

#endif
