/*
 * test_virtio_pci.c - the modern virtio-pci transport (kernel/virtio/virtio_pci.c) against a
 * fake PCI function.
 *
 * The fake is 256 bytes of configuration space holding a list of vendor capabilities, and a memory
 * BAR in host memory where the registers they describe live (pci_read*, pci_find_cap, pci_bar_ptr,
 * pci_bar_size and pci_name are defined here, in place of arch/x86_64/pci.c). A good device opens
 * and its queue rings at queue_notify_off * notify_off_multiplier inside the notification area.
 * Then each case lies about one thing: a notification offset past the capability's length, a
 * multiplier whose product wraps around 32 bits, capabilities too short or past configuration
 * space, registers outside the BAR or in an I/O or reserved BAR, a common configuration too small;
 * the transport must refuse what it cannot use, say why, and take the first usable capability of
 * each type.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_pci.h>
#include <isle/errno.h>
#include "arch/x86_64/pci.h" /* struct pci_dev, opaque to the transport */
#include "kernel/console.h"
#include "kernel/printf.h"
#include "kernel/virtio/virtio.h"
#include "test.h"

/* ---- what the kernel provides: the log, kept ----------------------------------------------- */

static char logged[4096]; /* every warning and error since the last clear, one per line */
static int errors_logged; /* log_error calls since the last clear */

void klog(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = strlen(logged);
	if (level <= LOG_WARN && n < sizeof(logged) - 1) {
		vsnprintf(logged + n, sizeof(logged) - n - 1, fmt, ap);
		strcat(logged, "\n");
	}
	if (level == LOG_ERROR)
		errors_logged++;
	va_end(ap);
}

static void log_clear(void)
{
	logged[0] = 0;
	errors_logged = 0;
}

void cpu_pause(void)
{
}

/* ---- the fake PCI function ----------------------------------------------------------------- */

#define BAR 4            /* the BAR the registers are in */
#define BAR_SIZE 0x4000  /* its size */
#define COMMON_AT 0x0000 /* where the registers are in it */
#define DEVICE_AT 0x2000
#define DEVICE_LEN 0x100
#define NOTIFY_AT 0x3000
#define NOTIFY_LEN 0x1000
#define NOTIFY_MULT 4

static uint8_t cfg[256];                          /* configuration space */
static uint8_t bar_mem[BAR_SIZE] __aligned(4096); /* the registers */
static struct pci_dev dev;
static uint8_t last_cap; /* the last capability added, 0 if none */

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
	(void)d;
	uint32_t v = 0xffffffff; /* past configuration space: what a bus reads */
	if (off + 4u <= sizeof(cfg))
		memcpy(&v, cfg + off, 4);
	return v;
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	return (uint16_t)(pci_read32(d, off & ~3) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
	return (uint8_t)(pci_read32(d, off & ~3) >> ((off & 3) * 8));
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from)
{
	(void)d;
	for (uint8_t at = from ? cfg[from + 1] : cfg[0x34]; at; at = cfg[at + 1])
		if (cfg[at] == id)
			return at;
	return 0;
}

volatile void *pci_bar_ptr(const struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len)
{
	const struct pci_bar *b = bar < 6 ? &d->bar[bar] : NULL;
	bool inside = b && !b->io && b->addr && off <= b->size && len <= b->size - off;
	return inside ? (volatile void *)(uintptr_t)(b->addr + off) : NULL;
}

uint64_t pci_bar_size(const struct pci_dev *d, unsigned bar)
{
	return bar < 6 ? d->bar[bar].size : 0;
}

void pci_name(const struct pci_dev *d, char *buf, size_t len)
{
	ksnprintf(buf, len, "pci %02x:%02x.%u", d->bus, d->dev, d->fn);
}

/* Starts an empty function at 00:03.0 with the memory BAR. */
static void fake_new(void)
{
	memset(cfg, 0, sizeof(cfg));
	memset(bar_mem, 0, sizeof(bar_mem));
	dev = (struct pci_dev){ .bus = 0, .dev = 3, .fn = 0 };
	dev.bar[BAR] = (struct pci_bar){ .addr = (uintptr_t)bar_mem, .size = BAR_SIZE };
	last_cap = 0;
	log_clear();
}

/* Adds a vendor capability of `type` at config offset `at` (cap_len bytes), describing
 * [off, off + len) of BAR `bar`; for a notification capability, `mult` follows. */
static void add_cap(uint8_t at, uint8_t cap_len, uint8_t type, uint8_t bar, uint32_t off,
                    uint32_t len, uint32_t mult)
{
	if (last_cap)
		cfg[last_cap + 1] = at;
	else
		cfg[0x34] = at;
	last_cap = at;
	cfg[at] = 0x09; /* vendor-specific */
	cfg[at + 1] = 0;
	cfg[at + 2] = cap_len;
	cfg[at + 3] = type;
	cfg[at + 4] = bar;
	memcpy(cfg + at + 8, &off, 4);
	memcpy(cfg + at + 12, &len, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && at + 20 <= (int)sizeof(cfg))
		memcpy(cfg + at + 16, &mult, 4);
}

static void add_common(uint8_t at)
{
	add_cap(at, 16, VIRTIO_PCI_CAP_COMMON_CFG, BAR, COMMON_AT,
	        sizeof(struct virtio_pci_common_cfg), 0);
}

static void add_notify(uint8_t at, uint32_t mult)
{
	add_cap(at, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR, NOTIFY_AT, NOTIFY_LEN, mult);
}

static void add_device(uint8_t at)
{
	add_cap(at, 16, VIRTIO_PCI_CAP_DEVICE_CFG, BAR, DEVICE_AT, DEVICE_LEN, 0);
}

/* A device as QEMU lays it out. */
static void fake_good(void)
{
	fake_new();
	add_common(0x40);
	add_cap(0x50, 16, VIRTIO_PCI_CAP_ISR_CFG, BAR, 0x1000, 0x1000, 0);
	add_device(0x60);
	add_notify(0x70, NOTIFY_MULT);
}

static volatile struct virtio_pci_common_cfg *common(void)
{
	return (volatile struct virtio_pci_common_cfg *)(bar_mem + COMMON_AT);
}

/* ---- queues -------------------------------------------------------------------------------- */

static struct virtq q;
static uint8_t ring[8192] __aligned(4096), meta[8 * 16];

/* Sets up queue 0 with the device saying it notifies at queue_notify_off. */
static int setup_queue(struct virtio_dev *vp, uint16_t queue_notify_off)
{
	memset(ring, 0, sizeof(ring));
	virtq_init(&q, "q0", 0, 8, ring, meta);
	common()->queue_notify_off = queue_notify_off;
	return vp->ops->setup_queue(vp, &q, VIRTIO_NO_VECTOR);
}

static bool logged_has(const char *text)
{
	return strstr(logged, text) != NULL;
}

TEST(good_device)
{
	struct virtio_dev vp;
	fake_good();
	REQUIRE(virtio_pci_open(&dev, &vp) == 0);
	CHECK(vp.common == common());
	CHECK(vp.device_cfg == bar_mem + DEVICE_AT);
	CHECK_EQ(vp.device_cfg_len, DEVICE_LEN);
	CHECK(vp.notify_base == bar_mem + NOTIFY_AT);
	CHECK_EQ(vp.notify_len, NOTIFY_LEN);
	CHECK_STR(vp.where, "pci 00:03.0");
	CHECK_EQ(setup_queue(&vp, 3), 0);
	CHECK(q.notify_addr == bar_mem + NOTIFY_AT + 3 * NOTIFY_MULT);
	/* the last 2 bytes of the area */
	CHECK_EQ(setup_queue(&vp, NOTIFY_LEN / NOTIFY_MULT - 1), 0);
	CHECK(q.notify_addr == bar_mem + NOTIFY_AT + NOTIFY_LEN - NOTIFY_MULT);
	CHECK_EQ(common()->queue_enable, 1);
	CHECK_STR(logged, "");
}

/* Multiplier 0: every queue rings at the start of the area. */
TEST(one_doorbell_for_all)
{
	struct virtio_dev vp;
	fake_new();
	add_common(0x40);
	add_device(0x50);
	add_notify(0x60, 0);
	REQUIRE(virtio_pci_open(&dev, &vp) == 0);
	CHECK_EQ(setup_queue(&vp, 0xffff), 0);
	CHECK(q.notify_addr == bar_mem + NOTIFY_AT);
}

/* The hole of issue 10: notify offsets were not checked against the capability's length. */
TEST(notify_offset_beyond_the_capability)
{
	struct virtio_dev vp;
	fake_good();
	REQUIRE(virtio_pci_open(&dev, &vp) == 0);
	common()->queue_enable = 0;
	CHECK_EQ(setup_queue(&vp, NOTIFY_LEN / NOTIFY_MULT), -EIO); /* right after the area */
	CHECK(logged_has("queue 0 notifies at offset 0x1000"));
	CHECK(logged_has("device not used"));
	CHECK_EQ(common()->queue_enable, 0);
	log_clear();
	CHECK_EQ(setup_queue(&vp, 0xffff), -EIO); /* far past the BAR */
	CHECK_EQ(errors_logged, 1);

	/* A multiplier that leaves only 1 byte for the 2-byte write. */
	fake_new();
	add_common(0x40);
	add_device(0x50);
	add_cap(0x60, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR, NOTIFY_AT, 0x11, 0x10);
	REQUIRE(virtio_pci_open(&dev, &vp) == 0);
	CHECK_EQ(setup_queue(&vp, 0), 0);
	CHECK_EQ(setup_queue(&vp, 1), -EIO);
}

/* queue_notify_off * multiplier computed in 32 bits wraps back into the area. */
TEST(notify_product_wraps)
{
	struct virtio_dev vp;
	fake_new();
	add_common(0x40);
	add_device(0x50);
	add_notify(0x60, 0x80000000u);
	REQUIRE(virtio_pci_open(&dev, &vp) == 0);
	CHECK_EQ(setup_queue(&vp, 0), 0);
	CHECK_EQ(setup_queue(&vp, 2), -EIO); /* 2 * 2^31 = 2^32: 0 in 32 bits */
	CHECK(logged_has("queue 0 notifies at offset 0x100000000"));
}

/* Without its multiplier field (16 bytes, not 20), a notification capability is unusable. */
TEST(short_notify_capability)
{
	struct virtio_dev vp;
	fake_new();
	add_common(0x40);
	add_device(0x50);
	add_cap(0x60, 16, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR, NOTIFY_AT, NOTIFY_LEN, 0);
	add_cap(0x70, 16, VIRTIO_PCI_CAP_ISR_CFG, BAR, 0x1000, 0x1000, 0);
	CHECK_EQ(virtio_pci_open(&dev, &vp), -ENODEV);
	CHECK(logged_has("notification capability at 0x60 of 16 bytes (want 20"));
	CHECK(logged_has("missing: notify"));
	CHECK(logged_has("device not used"));
}

/* A capability whose fields run past configuration space. */
TEST(capability_past_config_space)
{
	struct virtio_dev vp;
	fake_new();
	add_common(0x40);
	add_device(0x50);
	add_cap(0xf0, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR, NOTIFY_AT, NOTIFY_LEN, 4);
	CHECK_EQ(virtio_pci_open(&dev, &vp), -ENODEV);
	CHECK(logged_has("notification capability at 0xf0"));
}

TEST(registers_outside_the_bar)
{
	struct virtio_dev vp;
	/* common configuration running past the end of the BAR */
	fake_new();
	add_cap(0x40, 16, VIRTIO_PCI_CAP_COMMON_CFG, BAR, BAR_SIZE - 16,
	        sizeof(struct virtio_pci_common_cfg), 0);
	add_device(0x50);
	add_notify(0x60, 4);
	CHECK_EQ(virtio_pci_open(&dev, &vp), -ENODEV);
	CHECK(logged_has("not inside memory BAR 4 (16384 bytes)"));
	CHECK(logged_has("missing: common"));

	/* a notification area whose offset + length wraps around 32 bits */
	fake_new();
	add_common(0x40);
	add_device(0x50);
	add_cap(0x60, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR, 0xfffff000u, 0x2000, 4);
	CHECK_EQ(virtio_pci_open(&dev, &vp), -ENODEV);

	/* device configuration in a reserved BAR number, and in an I/O BAR */
	fake_new();
	add_common(0x40);
	add_cap(0x50, 16, VIRTIO_PCI_CAP_DEVICE_CFG, 6, 0, 0x100, 0);
	add_notify(0x60, 4);
	CHECK_EQ(virtio_pci_open(&dev, &vp), -ENODEV);
	CHECK(logged_has("missing: device"));
	fake_new();
	dev.bar[1] = (struct pci_bar){ .addr = 0xc000, .size = 0x100, .io = true };
	add_common(0x40);
	add_cap(0x50, 16, VIRTIO_PCI_CAP_DEVICE_CFG, 1, 0, 0x100, 0);
	add_notify(0x60, 4);
	CHECK_EQ(virtio_pci_open(&dev, &vp), -ENODEV);
}

TEST(common_configuration_too_small)
{
	struct virtio_dev vp;
	fake_new();
	add_cap(0x40, 16, VIRTIO_PCI_CAP_COMMON_CFG, BAR, COMMON_AT,
	        sizeof(struct virtio_pci_common_cfg) - 1, 0);
	add_device(0x50);
	add_notify(0x60, 4);
	CHECK_EQ(virtio_pci_open(&dev, &vp), -ENODEV);
	CHECK(logged_has("common configuration registers of 55 bytes"));
}

/* The spec: the driver uses the first capability of each type it can use. */
TEST(first_usable_capability)
{
	struct virtio_dev vp;
	/* a bad one first: skipped (and said so), the good one after it used */
	fake_new();
	add_cap(0x40, 16, VIRTIO_PCI_CAP_COMMON_CFG, BAR, BAR_SIZE, 56, 0);
	add_common(0x50);
	add_device(0x60);
	add_notify(0x70, NOTIFY_MULT);
	CHECK_EQ(virtio_pci_open(&dev, &vp), 0);
	CHECK(vp.common == common());
	CHECK(logged_has("common configuration registers at 0x4000"));
	CHECK_EQ(errors_logged, 0);

	/* a good one first: a later bad or different one does not replace it */
	fake_new();
	add_common(0x40);
	add_device(0x50);
	add_notify(0x60, NOTIFY_MULT);
	add_cap(0x78, 16, VIRTIO_PCI_CAP_COMMON_CFG, BAR, BAR_SIZE, 56, 0);
	add_cap(0x88, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR, 0, 0x10, 1);
	add_cap(0x9c, 16, VIRTIO_PCI_CAP_DEVICE_CFG, BAR, 0x1000, 0x10, 0);
	CHECK_EQ(virtio_pci_open(&dev, &vp), 0);
	CHECK(vp.common == common());
	CHECK(vp.notify_base == bar_mem + NOTIFY_AT && vp.notify_mult == NOTIFY_MULT);
	CHECK(vp.device_cfg == bar_mem + DEVICE_AT && vp.device_cfg_len == DEVICE_LEN);
}

/* Each device keeps its own name for reports. */
TEST(where_per_device)
{
	struct virtio_dev a, b;
	fake_good();
	REQUIRE(virtio_pci_open(&dev, &a) == 0);
	dev.dev = 4;
	dev.fn = 1;
	REQUIRE(virtio_pci_open(&dev, &b) == 0);
	CHECK_STR(a.where, "pci 00:03.0");
	CHECK_STR(b.where, "pci 00:04.1");
}

int main(void)
{
	RUN(good_device);
	RUN(one_doorbell_for_all);
	RUN(notify_offset_beyond_the_capability);
	RUN(notify_product_wraps);
	RUN(short_notify_capability);
	RUN(capability_past_config_space);
	RUN(registers_outside_the_bar);
	RUN(common_configuration_too_small);
	RUN(first_usable_capability);
	RUN(where_per_device);
	TEST_EXIT();
}
