/*
 * virtio_pci.c - modern virtio over PCI (virtio 1.x, section 4.1). Register layouts come
 * from linux/virtio_pci.h; all register accesses go through volatile pointers into BARs.
 *
 * The device is not trusted with where its registers are: every vendor capability we use must
 * fit in configuration space, name a memory BAR and lie inside it, and be as long as the
 * registers we touch (the common configuration: all of struct virtio_pci_common_cfg; the
 * notification area: 2 bytes at least; the device configuration: what the driver reads, which
 * it checks against device_cfg_len). The first usable capability of each type is taken, as the
 * spec asks; one that is not usable is reported and skipped. A queue's notification address,
 * queue_notify_off * notify_off_multiplier, must leave room for the 2-byte write inside the
 * notification capability (isle does not negotiate VIRTIO_F_NOTIFICATION_DATA, which would
 * need 4), else the queue, and with it the device, is refused. The ISR capability is not used:
 * interrupts come by MSI-X, or the driver polls.
 */
#include <isle/errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/printf.h"
#include "kernel/virtio/virtio.h"

#define PCI_CAP_VNDR 0x09
#define PCI_CFG_SPACE 256 /* bytes of configuration space capabilities may use */
#define NOTIFY_BYTES 2    /* the queue index, written as 16 bits */

/*
 * The registers the vendor capability at `cap` describes, as device memory (volatile, every
 * access goes to the device), with their length in *len; NULL, and why in the log, if the
 * capability is shorter than cap_min bytes, the registers fewer than min_len bytes, or not
 * inside a memory BAR.
 */
static volatile void *cap_regs(struct virtio_dev *vp, uint8_t cap, const char *what,
                               uint8_t cap_min, uint32_t min_len, uint32_t *len)
{
	struct pci_dev *d = vp->pci;
	uint8_t cap_len = pci_read8(d, cap + 2), bar = pci_read8(d, cap + 4);
	uint32_t off = pci_read32(d, cap + 8);
	*len = pci_read32(d, cap + 12);
	volatile void *regs = NULL; /* device memory, as returned */
	if (cap_len < cap_min || cap + cap_len > PCI_CFG_SPACE)
		log_warn("virtio %s: %s capability at %#x of %u bytes (want %u, inside "
		         "configuration space); not used",
		         vp->where, what, cap, cap_len, cap_min);
	else if (*len < min_len)
		log_warn("virtio %s: %s registers of %u bytes, fewer than the %u we use; not used",
		         vp->where, what, *len, min_len);
	else if (!(regs = pci_bar_ptr(d, bar, off, *len)))
		log_warn("virtio %s: %s registers at %#x, %u bytes, not inside memory BAR %u "
		         "(%lu bytes); not used",
		         vp->where, what, off, *len, bar, pci_bar_size(d, bar));
	return regs;
}

static const struct virtio_ops pci_ops;

int virtio_pci_open(struct pci_dev *d, struct virtio_dev *vp)
{
	*vp = (struct virtio_dev){ .ops = &pci_ops, .pci = d };
	pci_name(d, vp->where, sizeof(vp->where));
	uint32_t len;
	for (uint8_t cap = pci_find_cap(d, PCI_CAP_VNDR, 0); cap;
	     cap = pci_find_cap(d, PCI_CAP_VNDR, cap)) {
		switch (pci_read8(d, cap + 3)) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!vp->common)
				vp->common = cap_regs(vp, cap, "common configuration",
				                      sizeof(struct virtio_pci_cap),
				                      sizeof(struct virtio_pci_common_cfg), &len);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (vp->notify_base)
				break;
			vp->notify_base =
			        cap_regs(vp, cap, "notification",
			                 sizeof(struct virtio_pci_notify_cap), NOTIFY_BYTES, &len);
			vp->notify_len = len;
			vp->notify_mult = pci_read32(d, cap + 16);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (vp->device_cfg)
				break;
			vp->device_cfg = cap_regs(vp, cap, "device configuration",
			                          sizeof(struct virtio_pci_cap), 1, &len);
			vp->device_cfg_len = len;
			break;
		}
	}
	if (!vp->common || !vp->notify_base || !vp->device_cfg) {
		log_error("virtio %s: no usable modern virtio capabilities (missing:%s%s%s; "
		          "legacy-only device?); device not used",
		          vp->where, vp->common ? "" : " common", vp->notify_base ? "" : " notify",
		          vp->device_cfg ? "" : " device");
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
	/* in 64 bits: a 16-bit times a 32-bit number must not wrap back into the area */
	uint64_t notify_off = (uint64_t)c->queue_notify_off * vp->notify_mult;
	if (notify_off + NOTIFY_BYTES > vp->notify_len) {
		log_error("virtio %s: queue %u notifies at offset %#lx, beyond the %u bytes of its "
		          "notification capability; device not used",
		          vp->where, q->index, notify_off, vp->notify_len);
		return -EIO;
	}
	q->notify_addr = vp->notify_base + notify_off;
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
