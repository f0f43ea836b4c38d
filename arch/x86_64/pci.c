/*
 * pci.c - PCI through configuration mechanism #1 (ports 0xCF8/0xCFC), which every x86 QEMU
 * machine with PCI offers (pc, q35). The firmware has assigned the BARs; we only read them.
 * BARs above 4 GiB are added to the identity map (paging_map_mmio) while only the boot core
 * runs. MSI-X messages go straight to a core's local APIC (address 0xFEE00000 | apic id << 12).
 */
#include <isle/errno.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/pci.h"
#include "arch/x86_64/setup.h"
#include "kernel/console.h"
#include "kernel/printf.h"

#define CFG_ADDR 0xCF8
#define CFG_DATA 0xCFC
#define CAP_MSIX 0x11

static struct pci_dev devs[PCI_MAX_DEVICES]; /* [I] */
static unsigned ndevs;                       /* [I] */

static uint32_t cfg_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 |
	       (off & 0xfc);
}

static uint32_t raw_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	outl(CFG_ADDR, cfg_addr(bus, dev, fn, off));
	return inl(CFG_DATA);
}

static void raw_write32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	outl(CFG_ADDR, cfg_addr(bus, dev, fn, off));
	outl(CFG_DATA, v);
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
	return raw_read32(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	return (uint16_t)(pci_read32(d, off & ~3) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
	return (uint8_t)(pci_read32(d, off & ~3) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
	raw_write32(d->bus, d->dev, d->fn, off, v);
}

void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	uint32_t old = pci_read32(d, off & ~3);
	unsigned shift = (off & 2) * 8;
	old = (old & ~(0xffffu << shift)) | (uint32_t)v << shift;
	pci_write32(d, off & ~3, old);
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from)
{
	if (!(pci_read16(d, 0x06) & 0x10)) /* status: capability list present */
		return 0;
	uint8_t off = from ? pci_read8(d, from + 1) : pci_read8(d, 0x34);
	for (int guard = 0; off >= 0x40 && guard < 48; guard++) {
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

/* Reads BAR i's address and size (writing all ones to learn the size, then restoring). */
static int read_bar(struct pci_dev *d, int i)
{
	uint16_t off = (uint16_t)(0x10 + 4 * i);
	uint32_t lo = pci_read32(d, off);
	struct pci_bar *b = &d->bar[i];
	if (lo & 1) {
		pci_write32(d, off, 0xffffffff);
		uint32_t sz = pci_read32(d, off) & ~3u;
		pci_write32(d, off, lo);
		b->io = true;
		b->addr = lo & ~3u;
		b->size = sz ? (uint16_t)(~sz + 1) : 0;
		return 1;
	}
	bool is64 = ((lo >> 1) & 3) == 2;
	uint64_t addr = lo & ~15u;
	uint64_t mask = 0xffffffff;
	pci_write32(d, off, 0xffffffff);
	uint64_t sz = pci_read32(d, off) & ~15u;
	pci_write32(d, off, lo);
	if (is64) {
		uint32_t hi = pci_read32(d, off + 4);
		addr |= (uint64_t)hi << 32;
		pci_write32(d, off + 4, 0xffffffff);
		sz |= (uint64_t)pci_read32(d, off + 4) << 32;
		pci_write32(d, off + 4, hi);
		mask = ~0ull;
	}
	b->addr = addr;
	b->size = sz ? ((~sz + 1) & mask) : 0;
	if (b->addr && b->size && b->addr + b->size > (4ull << 30) &&
	    paging_map_mmio(b->addr, b->size) < 0) {
		log_warn("pci %02x:%02x.%u: BAR %u at %#lx cannot be mapped; not used", d->bus,
		         d->dev, d->fn, i, b->addr);
		b->size = 0;
	}
	return is64 ? 2 : 1;
}

static void add_device(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
	if (ndevs == PCI_MAX_DEVICES) {
		log_warn("pci: more than %d devices; ignoring %02x:%02x.%u", PCI_MAX_DEVICES, bus,
		         dev, fn);
		return;
	}
	struct pci_dev *d = &devs[ndevs++];
	*d = (struct pci_dev){ .bus = bus, .dev = dev, .fn = fn };
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	uint32_t cls = pci_read32(d, 0x08);
	d->class = cls >> 24;
	d->subclass = (cls >> 16) & 0xff;
	uint8_t hdr = pci_read8(d, 0x0e) & 0x7f;
	if (hdr == 0)
		for (int i = 0; i < 6;)
			i += read_bar(d, i);
	d->msix_cap = pci_find_cap(d, CAP_MSIX, 0);
	if (d->msix_cap) {
		uint16_t ctl = pci_read16(d, d->msix_cap + 2);
		uint32_t tbl = pci_read32(d, d->msix_cap + 4);
		d->msix_entries = (ctl & 0x7ff) + 1;
		d->msix_table = pci_bar_ptr(d, tbl & 7, tbl & ~7u, d->msix_entries * 16u);
	}
	/* Memory and I/O decoding plus bus mastering (devices DMA into our memory). */
	pci_write16(d, 0x04, pci_read16(d, 0x04) | 0x7);
}

unsigned pci_init(void)
{
	static bool scanned; /* [I] boot core: every driver's probe calls this; scan once */
	if (scanned)
		return ndevs;
	scanned = true;
	/* No PCI at all (microvm): the address register does not hold what we write. */
	outl(CFG_ADDR, 0x80000000u);
	if (inl(CFG_ADDR) != 0x80000000u)
		return 0;
	for (unsigned bus = 0; bus < 256; bus++) {
		for (uint8_t dev = 0; dev < 32; dev++) {
			uint32_t id = raw_read32((uint8_t)bus, dev, 0, 0);
			if ((id & 0xffff) == 0xffff)
				continue;
			bool multi = raw_read32((uint8_t)bus, dev, 0, 0x0c) & 0x00800000;
			for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++) {
				id = raw_read32((uint8_t)bus, dev, fn, 0);
				if ((id & 0xffff) != 0xffff)
					add_device((uint8_t)bus, dev, fn, id);
			}
		}
		/* QEMU puts every device on bus 0 unless bridges are configured; only scan on
		 * while there are bridges to look behind. */
		bool bridge = false;
		for (unsigned i = 0; i < ndevs; i++)
			bridge |= devs[i].class == 0x06 && devs[i].subclass == 0x04 &&
			          devs[i].bus == bus;
		if (!bridge)
			break;
	}
	for (unsigned i = 0; i < ndevs; i++)
		log_debug("pci %02x:%02x.%u %04x:%04x class %02x.%02x%s", devs[i].bus, devs[i].dev,
		          devs[i].fn, devs[i].vendor, devs[i].device, devs[i].class,
		          devs[i].subclass, devs[i].msix_cap ? " msi-x" : "");
	return ndevs;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned i)
{
	pci_init();
	for (unsigned k = 0; k < ndevs; k++)
		if (devs[k].vendor == vendor && devs[k].device == device && i-- == 0)
			return &devs[k];
	return NULL;
}

/* volatile: BAR memory is device registers, so every access through it must reach the device. */
volatile void *pci_bar_ptr(const struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len)
{
	if (bar >= 6 || d->bar[bar].io || !d->bar[bar].addr || off > d->bar[bar].size ||
	    len > d->bar[bar].size - off)
		return NULL;
	return (volatile void *)(uintptr_t)(d->bar[bar].addr + off); /* identity-mapped, uncached */
}

void pci_name(const struct pci_dev *d, char *buf, size_t len)
{
	ksnprintf(buf, len, "pci %02x:%02x.%u", d->bus, d->dev, d->fn);
}

uint64_t pci_bar_size(const struct pci_dev *d, unsigned bar)
{
	return bar < 6 ? d->bar[bar].size : 0;
}

unsigned pci_msix_entries(const struct pci_dev *d)
{
	return d->msix_table ? d->msix_entries : 0;
}

int pci_msix_route(struct pci_dev *d, unsigned entry, unsigned core, uint8_t vector)
{
	if (!d->msix_table || entry >= d->msix_entries || core >= ncores)
		return -EINVAL;
	if (core_desc[core].apic_id > 254)
		return -ERANGE; /* 8 destination bits, 0xFF broadcast (no interrupt remapping) */
	volatile uint32_t *e = d->msix_table + entry * 4; /* device memory: volatile */
	e[0] = 0xFEE00000u | core_desc[core].apic_id << 12;
	e[1] = 0;
	e[2] = vector; /* fixed delivery, edge */
	e[3] = 0;      /* unmasked */
	return 0;
}

void pci_msix_enable(struct pci_dev *d)
{
	if (!d->msix_cap)
		return;
	uint16_t ctl = pci_read16(d, d->msix_cap + 2);
	ctl = (uint16_t)((ctl | 0x8000) & ~0x4000); /* enable, no function mask */
	pci_write16(d, d->msix_cap + 2, ctl);
}
