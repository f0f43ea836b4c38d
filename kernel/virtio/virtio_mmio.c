/*
 * virtio_mmio.c - virtio over memory-mapped registers (virtio 1.x, section 4.2; register
 * offsets from linux/virtio_mmio.h), as QEMU microvm offers. QEMU names each device on the
 * kernel command line as virtio_mmio.device=<size>@<base>:<irq> (without ACPI) or declares it
 * in the DSDT (with ACPI; see acpi.c). An MMIO device has one
 * interrupt line for all its queues, routed through the I/O APIC to the boot core.
 */
#include <string.h>
#include <isle/errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/virtio/virtio.h"

#define MAGIC 0x74726976 /* "virt" */
/* Device configuration bytes after VIRTIO_MMIO_CONFIG (0x100): QEMU and Firecracker give each
 * device a 0x200-byte window. */
#define MMIO_CONFIG_BYTES 0x100

static uint32_t rd(struct virtio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->mmio + off); /* device register */
}

static void wr(struct virtio_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->mmio + off) = v; /* device register */
}

/* "512@0xfeb00e00:12" (size may have a K suffix, numbers in C notation). */
static bool parse(const char *s, uint64_t *size, uint64_t *base, unsigned *irq)
{
	char *end;
	*size = strtoull(s, &end, 0);
	if (*end == 'K' || *end == 'k') {
		*size <<= 10;
		end++;
	}
	if (*end != '@')
		return false;
	*base = strtoull(end + 1, &end, 0);
	if (*end != ':')
		return false;
	*irq = (unsigned)strtoul(end + 1, &end, 0);
	return *end == 0 && *size >= 0x100 && *base && *base < (4ull << 30) && *irq < 240;
}

static uint64_t mmio_features(struct virtio_dev *d)
{
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static int mmio_set_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_FEATURES_OK);
	return rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK ? 0 : -EIO;
}

static uint16_t mmio_queue_max(struct virtio_dev *d, uint16_t index)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, index);
	uint32_t n = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	return (uint16_t)MIN(n, 32768u);
}

static int mmio_setup_queue(struct virtio_dev *d, struct virtq *q, uint16_t vector)
{
	(void)vector; /* one interrupt line for all queues */
	wr(d, VIRTIO_MMIO_QUEUE_SEL, q->index);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, q->size);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)virtq_desc_addr(q));
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(virtq_desc_addr(q) >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)virtq_avail_addr(q));
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(virtq_avail_addr(q) >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)virtq_used_addr(q));
	wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(virtq_used_addr(q) >> 32));
	q->notify_addr = d->mmio + VIRTIO_MMIO_QUEUE_NOTIFY;
	q->notify_data = q->index;
	q->notify_32 = true;
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static void mmio_driver_ok(struct virtio_dev *d)
{
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void mmio_fail(struct virtio_dev *d)
{
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_FAILED);
}

static const struct virtio_ops mmio_ops = {
	.features = mmio_features,
	.set_features = mmio_set_features,
	.queue_max = mmio_queue_max,
	.setup_queue = mmio_setup_queue,
	.driver_ok = mmio_driver_ok,
	.fail = mmio_fail,
};

int virtio_mmio_parse(const char *desc, uint64_t *base, unsigned *irq)
{
	uint64_t size;
	if (!parse(desc, &size, base, irq)) {
		log_warn("virtio-mmio: cannot parse virtio_mmio.device=%s (want size@base:irq)",
		         desc);
		return -EINVAL;
	}
	return 0;
}

int virtio_mmio_open(uint64_t base, unsigned irq, uint32_t device_id, struct virtio_dev *d)
{
	/* .mmio: the device's register block (volatile: every access reaches the device). */
	*d = (struct virtio_dev){ .ops = &mmio_ops,
		                  .mmio = (volatile uint8_t *)(uintptr_t)base,
		                  .irq = irq,
		                  .where = "mmio" };
	if (rd(d, VIRTIO_MMIO_MAGIC_VALUE) != MAGIC || rd(d, VIRTIO_MMIO_DEVICE_ID) != device_id)
		return -ENODEV;
	if (rd(d, VIRTIO_MMIO_VERSION) != 2) {
		log_warn("virtio-mmio at %#lx: legacy (version 1) device; not supported", base);
		return -ENODEV;
	}
	d->device_cfg = d->mmio + VIRTIO_MMIO_CONFIG;
	d->device_cfg_len = MMIO_CONFIG_BYTES;
	wr(d, VIRTIO_MMIO_STATUS, 0); /* reset */
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	return 0;
}

void virtio_mmio_ack(struct virtio_dev *d)
{
	wr(d, VIRTIO_MMIO_INTERRUPT_ACK, rd(d, VIRTIO_MMIO_INTERRUPT_STATUS));
}
