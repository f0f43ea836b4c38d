/*
 * virtio_pci.c - modern virtio over PCI (virtio 1.x, section 4.1). Register layouts come
 * from linux/virtio_pci.h; all register accesses go through volatile pointers into BARs.
 */
#include <isle/errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include "arch/x86_64/cpu.h"
#include "kernel/console.h"
#include "kernel/printf.h"
#include "kernel/virtio/virtio.h"

#define PCI_CAP_VNDR 0x09

/* Device registers in a BAR: volatile, every access goes to the device. */
static volatile void *cap_ptr(struct virtio_dev *vp, uint8_t cap, uint32_t min_len)
{
	struct pci_dev *d = vp->pci;
	uint8_t bar = pci_read8(d, cap + 4);
	uint32_t off = pci_read32(d, cap + 8), len = pci_read32(d, cap + 12);
	if (len < min_len)
		return NULL;
	return pci_bar_ptr(d, bar, off, len);
}

static const struct virtio_ops pci_ops;

int virtio_pci_open(struct pci_dev *d, struct virtio_dev *vp)
{
	static char where[24];
	ksnprintf(where, sizeof(where), "pci %02x:%02x.%u", d->bus, d->dev, d->fn);
	*vp = (struct virtio_dev){ .ops = &pci_ops, .pci = d, .where = where };
	for (uint8_t cap = pci_find_cap(d, PCI_CAP_VNDR, 0); cap;
	     cap = pci_find_cap(d, PCI_CAP_VNDR, cap)) {
		switch (pci_read8(d, cap + 3)) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			vp->common = cap_ptr(vp, cap, sizeof(struct virtio_pci_common_cfg));
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			vp->notify_base = cap_ptr(vp, cap, 2);
			vp->notify_mult = pci_read32(d, cap + 16);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!vp->device_cfg)
				vp->device_cfg = cap_ptr(vp, cap, 1);
			break;
		}
	}
	if (!vp->common || !vp->notify_base || !vp->device_cfg) {
		log_error("virtio-pci %02x:%02x.%u: no modern virtio capabilities (legacy-only "
		          "device?)",
		          d->bus, d->dev, d->fn);
		return -ENODEV;
	}
	vp->common->device_status = 0; /* reset */
	for (int i = 0; i < 1000000 && vp->common->device_status; i++)
		cpu_pause();
	vp->common->device_status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	vp->common->device_status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	return 0;
}

static uint64_t pci_features(struct virtio_dev *vp)
{
	vp->common->device_feature_select = 0;
	uint64_t lo = vp->common->device_feature;
	vp->common->device_feature_select = 1;
	uint64_t hi = vp->common->device_feature;
	return lo | hi << 32;
}

static int pci_set_features(struct virtio_dev *vp, uint64_t f)
{
	vp->common->guest_feature_select = 0;
	vp->common->guest_feature = (uint32_t)f;
	vp->common->guest_feature_select = 1;
	vp->common->guest_feature = (uint32_t)(f >> 32);
	vp->common->device_status |= VIRTIO_CONFIG_S_FEATURES_OK;
	if (!(vp->common->device_status & VIRTIO_CONFIG_S_FEATURES_OK))
		return -EIO;
	return 0;
}

static uint16_t pci_queue_max(struct virtio_dev *vp, uint16_t index)
{
	vp->common->queue_select = index;
	return vp->common->queue_size;
}

static int pci_setup_queue(struct virtio_dev *vp, struct virtq *q, uint16_t msix)
{
	volatile struct virtio_pci_common_cfg *c = vp->common; /* device registers */
	c->queue_select = q->index;
	c->queue_size = q->size;
	c->queue_desc_lo = (uint32_t)virtq_desc_addr(q);
	c->queue_desc_hi = (uint32_t)(virtq_desc_addr(q) >> 32);
	c->queue_avail_lo = (uint32_t)virtq_avail_addr(q);
	c->queue_avail_hi = (uint32_t)(virtq_avail_addr(q) >> 32);
	c->queue_used_lo = (uint32_t)virtq_used_addr(q);
	c->queue_used_hi = (uint32_t)(virtq_used_addr(q) >> 32);
	c->queue_msix_vector = msix;
	if (c->queue_msix_vector != msix)
		return -EIO;
	q->notify_addr = vp->notify_base + (uint32_t)c->queue_notify_off * vp->notify_mult;
	q->notify_data = q->index;
	c->queue_enable = 1;
	return 0;
}

static void pci_driver_ok(struct virtio_dev *vp)
{
	vp->common->device_status |= VIRTIO_CONFIG_S_DRIVER_OK;
}

static void pci_fail(struct virtio_dev *vp)
{
	vp->common->device_status |= VIRTIO_CONFIG_S_FAILED;
}

static const struct virtio_ops pci_ops = {
	.features = pci_features,
	.set_features = pci_set_features,
	.queue_max = pci_queue_max,
	.setup_queue = pci_setup_queue,
	.driver_ok = pci_driver_ok,
	.fail = pci_fail,
};
