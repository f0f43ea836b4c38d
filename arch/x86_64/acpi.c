/*
 * acpi.c - read the few ACPI tables isle needs (ACPI 6.x, chapter 5).
 *
 * The walk is: RSDP -> XSDT (or RSDT on ACPI 1.0) -> the first MADT ("APIC"), FADT ("FACP") and
 * MCFG listed -> the DSDT named by the FADT. isle runs no AML interpreter; the only thing it
 * wants from the DSDT is the \_S5_ package (the SLP_TYP values that power the machine off), and
 * it finds it by scanning for the byte pattern of Name(_S5_, Package(){...}).
 *
 * Every table starts with the same 36-byte header:
 *
 *	 0 signature[4]   4 length u32   8 revision u8   9 checksum u8   10 oem_id[6]
 *	16 oem_table_id[8]   24 oem_revision u32   28 creator_id u32   32 creator_revision u32
 *
 * and all the bytes of a table sum to 0 (mod 256). Fields are little endian and not
 * necessarily aligned, so they are read with memcpy (rd8/rd16/rd32/rd64). Those readers take
 * the table length too and return 0 for a field that lies beyond it, which is exactly how ACPI
 * says a shorter, older table is to be read (e.g. a revision 1 FADT has no X_ fields).
 *
 * Trust: a table is only read after map() has granted its whole length, its length is at least
 * its fixed part, and every variable part (MADT entries, RSDT/XSDT pointers, MCFG allocations,
 * the _S5_ package) is bounds checked against that length before it is read.
 */
#include "kernel/compiler.h"
#include <isle/errno.h>
#include <stdarg.h>
#include <string.h>

#include "arch/x86_64/bootinfo.h"
#include "arch/x86_64/firmware.h"
#include "kernel/printf.h"

#define RSDP_V1_SIZE 20    /* bytes covered by the RSDP's first checksum */
#define RSDP_V2_SIZE 36    /* size of the ACPI 2.0+ RSDP */
#define RSDP_MAX_SIZE 4096 /* larger RSDP lengths are treated as corrupt */
#define SDT_HEADER 36      /* size of the common table header */

#define MADT_ENTRIES 44              /* offset of the first MADT entry */
#define MADT_PCAT_COMPAT (1u << 0)   /* MADT flags: dual 8259 PICs installed */
#define MADT_LAPIC 0                 /* entry type: processor local APIC */
#define MADT_IOAPIC 1                /* entry type: I/O APIC */
#define MADT_LAPIC_OVERRIDE 5        /* entry type: 64-bit local APIC address */
#define MADT_X2APIC 9                /* entry type: processor local x2APIC */
#define CPU_ENABLED (1u << 0)        /* processor flags: usable now */
#define CPU_ONLINE_CAPABLE (1u << 1) /* processor flags: may be hot-added later */

#define FADT_MIN_SIZE 116             /* ACPI 1.0 FADT; anything shorter is malformed */
#define FADT_DSDT 40                  /* u32 physical address of the DSDT */
#define FADT_PM1A_CNT 64              /* u32 I/O port */
#define FADT_PM1B_CNT 68              /* u32 I/O port */
#define FADT_FLAGS 112                /* u32 feature flags */
#define FADT_RESET_REG 116            /* GAS */
#define FADT_RESET_VALUE 128          /* u8 */
#define FADT_X_DSDT 140               /* u64 */
#define FADT_X_PM1A_CNT 172           /* GAS */
#define FADT_X_PM1B_CNT 184           /* GAS */
#define FADT_SLEEP_CONTROL 244        /* GAS, ACPI 5.0+ */
#define FADT_RESET_REG_SUP (1u << 10) /* flags: RESET_REG is valid */
#define FADT_HW_REDUCED (1u << 20)    /* flags: hardware-reduced ACPI, no fixed hardware */

#define MCFG_ENTRIES 44    /* offset of the first MCFG allocation (after 8 reserved bytes) */
#define MCFG_ENTRY_SIZE 16 /* base u64, segment u16, bus start u8, bus end u8, reserved u32 */

#define GAS_SIZE 12 /* generic address structure: space, width, offset, access size, u64 */

#define AML_ZERO 0x00    /* ZeroOp */
#define AML_ONE 0x01     /* OneOp */
#define AML_NAME 0x08    /* NameOp */
#define AML_BYTE 0x0a    /* BytePrefix */
#define AML_WORD 0x0b    /* WordPrefix */
#define AML_DWORD 0x0c   /* DWordPrefix */
#define AML_QWORD 0x0e   /* QWordPrefix */
#define AML_PACKAGE 0x12 /* PackageOp */
#define AML_ROOT '\\'    /* RootChar of a NameString */

/* State of one acpi_parse() call. */
struct acpi_ctx {
	const struct phys_access *pa; /* how to reach physical memory */
	struct acpi_info *out;        /* where results go */
	struct fw_msg *m;             /* where messages go */
};

/* A generic address structure, decoded. */
struct gas {
	uint8_t space; /* ACPI_SPACE_MEMORY, ACPI_SPACE_IO, ... */
	uint64_t addr; /* address in that space, 0 if absent */
};

/* Little-endian field readers; a field that does not fit in len bytes reads as 0. */
static uint8_t rd8(const uint8_t *t, uint32_t len, uint32_t off)
{
	return off < len ? t[off] : 0;
}

static uint16_t rd16(const uint8_t *t, uint32_t len, uint32_t off)
{
	uint16_t v = 0;

	if (off <= len && len - off >= sizeof(v))
		memcpy(&v, t + off, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *t, uint32_t len, uint32_t off)
{
	uint32_t v = 0;

	if (off <= len && len - off >= sizeof(v))
		memcpy(&v, t + off, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *t, uint32_t len, uint32_t off)
{
	uint64_t v = 0;

	if (off <= len && len - off >= sizeof(v))
		memcpy(&v, t + off, sizeof(v));
	return v;
}

/* Reads the generic address structure at off; all zero if it does not fit. */
static struct gas rd_gas(const uint8_t *t, uint32_t len, uint32_t off)
{
	struct gas g = { 0, 0 };

	if (off <= len && len - off >= GAS_SIZE) {
		g.space = t[off];
		g.addr = rd64(t, len, off + 4);
	}
	return g;
}

/* Returns addr as an I/O port, or 0 if it is out of range. */
static uint32_t io_port(uint64_t addr)
{
	return addr <= 0xffff ? (uint32_t)addr : 0;
}

/* Returns an I/O port from a GAS, or 0 if it is absent, not in I/O space or out of range. */
static uint32_t gas_port(struct gas g)
{
	return g.space == ACPI_SPACE_IO ? io_port(g.addr) : 0;
}

static uint8_t checksum(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	while (len-- > 0)
		sum += *p++;
	return sum;
}

/* Copies a 4-byte signature into text for messages, replacing what is not printable. */
static void sig_text(const uint8_t *sig, char text[5])
{
	unsigned i;

	for (i = 0; i < 4; i++)
		text[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
	text[4] = '\0';
}

/*
 * Maps the table at phys, which must carry signature sig: checks the header, maps the whole
 * length and checks the checksum (a mismatch is counted, not fatal). On success *tbl and *len
 * describe the table.
 */
static int table_map(struct acpi_ctx *c, uint64_t phys, const char *sig, const uint8_t **tbl,
                     uint32_t *len)
{
	const uint8_t *t;
	uint32_t n;
	char found[5];

	t = c->pa->map(phys, SDT_HEADER, c->pa->ctx);
	if (t == NULL)
		return fw_fail(c->m, -EFAULT, "%s at 0x%lx is not accessible", sig, phys);
	if (memcmp(t, sig, 4) != 0) {
		sig_text(t, found);
		return fw_fail(c->m, -EINVAL, "table at 0x%lx is '%s', expected %s", phys, found,
		               sig);
	}
	n = rd32(t, SDT_HEADER, 4);
	if (n < SDT_HEADER || n > ACPI_TABLE_MAX)
		return fw_fail(c->m, -EINVAL, "%s at 0x%lx has bad length %u", sig, phys, n);
	t = c->pa->map(phys, n, c->pa->ctx);
	if (t == NULL)
		return fw_fail(c->m, -EFAULT, "%s at 0x%lx (%u bytes) is not accessible", sig, phys,
		               n);
	if (checksum(t, n) != 0) {
		c->out->bad_checksums++;
		fw_warn(c->m, "%s at 0x%lx has a bad checksum; used anyway", sig, phys);
	}
	*tbl = t;
	*len = n;
	return 0;
}

/* Adds one processor entry from the MADT. */
static void madt_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t flags)
{
	unsigned i;

	if (!(flags & CPU_ENABLED)) {
		if (flags & CPU_ONLINE_CAPABLE)
			out->cpus_hotplug++;
		return;
	}
	for (i = 0; i < out->ncpus; i++)
		if (out->apic_id[i] == apic_id)
			return;
	if (out->ncpus == ACPI_MAX_CPUS) {
		out->cpus_truncated = true;
		return;
	}
	out->apic_id[out->ncpus++] = apic_id;
}

/* The minimum length of a MADT entry isle reads, 0 for the types it ignores. */
static unsigned madt_entry_min(uint8_t type)
{
	switch (type) {
	case MADT_LAPIC:
		return 8;
	case MADT_IOAPIC:
	case MADT_LAPIC_OVERRIDE:
		return 12;
	case MADT_X2APIC:
		return 16;
	default:
		return 0;
	}
}

/*
 * MADT: 36 header, 36 local APIC address u32, 40 flags u32, then entries of { type u8,
 * length u8, ... } up to the table length.
 */
static int madt_parse(struct acpi_ctx *c, const uint8_t *t, uint32_t len)
{
	struct acpi_info *out = c->out;
	uint32_t off;

	if (len < MADT_ENTRIES)
		return fw_fail(c->m, -EINVAL, "MADT is %u bytes, shorter than its fixed part", len);
	out->lapic_phys = rd32(t, len, 36);
	out->has_8259 = (rd32(t, len, 40) & MADT_PCAT_COMPAT) != 0;

	for (off = MADT_ENTRIES; off < len;) {
		const uint8_t *e = t + off;
		uint8_t type, elen;

		if (len - off < 2)
			return fw_fail(c->m, -EINVAL, "MADT entry at offset %u is cut off", off);
		type = e[0];
		elen = e[1];
		if (elen < 2)
			return fw_fail(c->m, -EINVAL, "MADT entry at offset %u has length %u", off,
			               elen);
		if (elen > len - off)
			return fw_fail(c->m, -EINVAL, "MADT entry at offset %u runs past the end",
			               off);
		if (elen < madt_entry_min(type))
			return fw_fail(c->m, -EINVAL,
			               "MADT type %u entry at offset %u is too short (%u)", type,
			               off, elen);

		switch (type) {
		case MADT_LAPIC:
			madt_cpu(out, e[3], rd32(e, elen, 4));
			break;
		case MADT_X2APIC:
			madt_cpu(out, rd32(e, elen, 4), rd32(e, elen, 8));
			break;
		case MADT_IOAPIC:
			if (!out->has_ioapic) {
				out->has_ioapic = true;
				out->ioapic_phys = rd32(e, elen, 4);
				out->ioapic_gsi_base = rd32(e, elen, 8);
			}
			break;
		case MADT_LAPIC_OVERRIDE:
			out->lapic_phys = rd64(e, elen, 4);
			break;
		}
		off += elen;
	}

	if (out->ncpus == 0)
		return fw_fail(c->m, -ENODEV, "MADT lists no enabled processor");
	if (out->cpus_truncated)
		fw_warn(c->m, "more than %u processors; only the first %u are used", ACPI_MAX_CPUS,
		        ACPI_MAX_CPUS);
	return 0;
}

/*
 * Reads one integer element of the _S5_ package at t[*p] (the package ends at end) and
 * advances *p. Accepts ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix, and, as some hand-written
 * tables have them, bare bytes 2..7. SLP_TYP is a 3-bit field, so larger values are refused.
 */
static bool s5_int(const uint8_t *t, uint32_t end, uint32_t *p, uint8_t *val)
{
	uint64_t v;
	uint32_t size;

	if (*p >= end)
		return false;
	switch (t[*p]) {
	case AML_BYTE:
		size = 1;
		break;
	case AML_WORD:
		size = 2;
		break;
	case AML_DWORD:
		size = 4;
		break;
	case AML_QWORD:
		size = 8;
		break;
	default:
		if (t[*p] > 7) /* covers OnesOp and every other opcode */
			return false;
		*val = t[*p]; /* ZeroOp, OneOp or a bare byte */
		*p += 1;
		return true;
	}
	if (end - *p - 1 < size)
		return false;
	v = 0;
	memcpy(&v, t + *p + 1, size);
	if (v > 7)
		return false;
	*val = (uint8_t)v;
	*p += 1 + size;
	return true;
}

/*
 * Decodes Package(){a, b, ...} at t[p]: PackageOp, PkgLength (1 to 4 bytes; the top two bits
 * of the first byte count the bytes that follow, and the length includes the PkgLength bytes
 * themselves), NumElements, elements. Needs at least two elements.
 */
static bool s5_package(const uint8_t *t, uint32_t len, uint32_t p, uint8_t *a, uint8_t *b)
{
	uint32_t pkglen, follow, end, i;

	if (p >= len || t[p] != AML_PACKAGE)
		return false;
	p++;
	if (p >= len)
		return false;
	follow = t[p] >> 6;
	if (follow == 0) {
		pkglen = t[p] & 0x3f;
	} else {
		if (len - p - 1 < follow)
			return false;
		pkglen = t[p] & 0x0f;
		for (i = 1; i <= follow; i++)
			pkglen |= (uint32_t)t[p + i] << (4 + 8 * (i - 1));
	}
	if (pkglen < follow + 2 || pkglen > len - p)
		return false;
	end = p + pkglen;
	p += follow + 1;
	if (t[p] < 2) /* NumElements; p < end since pkglen >= follow + 2 */
		return false;
	p++;
	return s5_int(t, end, &p, a) && s5_int(t, end, &p, b);
}

/*
 * Finds virtio-mmio devices: after each _HID string "LNRO0005", the next Memory32Fixed resource
 * descriptor (86 09 00 rw base len) and Extended Interrupt descriptor (89 len len flags 1 irq)
 * within the device's few bytes of _CRS. No AML interpreter: a device written differently is
 * simply not found (and then not used).
 */
static void dsdt_scan_mmio(struct acpi_info *out, const uint8_t *t, uint32_t len)
{
	for (uint32_t i = SDT_HEADER; i + 8 <= len && out->nmmio < ACPI_MAX_MMIO; i++) {
		if (memcmp(t + i, "LNRO0005", 8) != 0)
			continue;
		uint32_t end = MIN(len, i + 160);
		struct acpi_mmio_dev d = { 0 };
		bool mem = false, irq = false;
		for (uint32_t k = i + 8; k + 12 <= end && !(mem && irq); k++) {
			if (!mem && t[k] == 0x86 && t[k + 1] == 0x09 && t[k + 2] == 0x00) {
				d.base = rd32(t, len, k + 4);
				d.len = rd32(t, len, k + 8);
				mem = true;
			} else if (!irq && t[k] == 0x89 && t[k + 1] >= 6 && t[k + 2] == 0 &&
			           t[k + 4] >= 1) {
				d.irq = rd32(t, len, k + 5);
				irq = true;
			}
		}
		if (mem && irq && d.base && d.len >= 0x100 && d.irq < 240)
			out->mmio[out->nmmio++] = d;
	}
}

/* Scans the DSDT body for Name(_S5_, Package(){...}) or Name(\_S5_, ...). */
static void dsdt_scan(struct acpi_info *out, const uint8_t *t, uint32_t len)
{
	uint32_t i;

	for (i = SDT_HEADER + 1; i + 4 <= len; i++) {
		if (memcmp(t + i, "_S5_", 4) != 0)
			continue;
		if (t[i - 1] != AML_NAME &&
		    !(t[i - 1] == AML_ROOT && i >= SDT_HEADER + 2 && t[i - 2] == AML_NAME))
			continue;
		if (s5_package(t, len, i + 4, &out->s5_typa, &out->s5_typb)) {
			out->have_s5 = true;
			return;
		}
	}
	out->s5_typa = 0;
	out->s5_typb = 0;
}

/* FADT: power-off and reset registers, and the DSDT. */
static int fadt_parse(struct acpi_ctx *c, const uint8_t *t, uint32_t len)
{
	struct acpi_info *out = c->out;
	const uint8_t *dsdt;
	uint32_t flags, dsdt_len;
	uint64_t dsdt_phys;
	struct gas g;
	int rc;

	if (len < FADT_MIN_SIZE)
		return fw_fail(c->m, -EINVAL, "FADT is %u bytes, shorter than %u", len,
		               FADT_MIN_SIZE);
	out->has_fadt = true;
	flags = rd32(t, len, FADT_FLAGS);
	out->hw_reduced = (flags & FADT_HW_REDUCED) != 0;

	/* The X_ GAS when it names an I/O port, else the ACPI 1.0 field (always I/O space). */
	out->pm1a_cnt = gas_port(rd_gas(t, len, FADT_X_PM1A_CNT));
	if (out->pm1a_cnt == 0)
		out->pm1a_cnt = io_port(rd32(t, len, FADT_PM1A_CNT));
	out->pm1b_cnt = gas_port(rd_gas(t, len, FADT_X_PM1B_CNT));
	if (out->pm1b_cnt == 0)
		out->pm1b_cnt = io_port(rd32(t, len, FADT_PM1B_CNT));

	g = rd_gas(t, len, FADT_SLEEP_CONTROL);
	if (g.addr != 0 && (g.space == ACPI_SPACE_MEMORY || g.space == ACPI_SPACE_IO)) {
		out->sleep_ctl = g.addr;
		out->sleep_ctl_space = g.space;
	}

	if ((flags & FADT_RESET_REG_SUP) && len > FADT_RESET_VALUE) {
		out->reset_port = gas_port(rd_gas(t, len, FADT_RESET_REG));
		out->have_reset = out->reset_port != 0;
		if (out->have_reset)
			out->reset_value = rd8(t, len, FADT_RESET_VALUE);
	}

	dsdt_phys = rd64(t, len, FADT_X_DSDT);
	if (dsdt_phys == 0)
		dsdt_phys = rd32(t, len, FADT_DSDT);
	if (dsdt_phys == 0)
		return 0;
	rc = table_map(c, dsdt_phys, "DSDT", &dsdt, &dsdt_len);
	if (rc != 0)
		return rc;
	dsdt_scan(out, dsdt, dsdt_len);
	dsdt_scan_mmio(out, dsdt, dsdt_len);
	return 0;
}

/* MCFG: 36 header, 8 reserved, then 16-byte allocations; isle uses the first. */
static int mcfg_parse(struct acpi_ctx *c, const uint8_t *t, uint32_t len)
{
	struct acpi_info *out = c->out;
	uint64_t base;
	uint8_t start, end;

	if (len < MCFG_ENTRIES)
		return fw_fail(c->m, -EINVAL, "MCFG is %u bytes, shorter than its fixed part", len);
	if (len - MCFG_ENTRIES < MCFG_ENTRY_SIZE)
		return 0;
	base = rd64(t, len, MCFG_ENTRIES);
	start = rd8(t, len, MCFG_ENTRIES + 10);
	end = rd8(t, len, MCFG_ENTRIES + 11);
	if (base == 0 || start > end)
		return fw_fail(c->m, -EINVAL, "MCFG entry (base 0x%lx, buses %u-%u) is invalid",
		               base, start, end);
	out->has_mcfg = true;
	out->mcfg_base = base;
	out->mcfg_segment = rd16(t, len, MCFG_ENTRIES + 8);
	out->mcfg_bus_start = start;
	out->mcfg_bus_end = end;
	return 0;
}

/*
 * Validates the RSDP and returns in *root, *sig and *esize the table it points to: the XSDT
 * (8-byte entries) when revision >= 2 gives one, else the RSDT (4-byte entries).
 */
static int rsdp_parse(struct acpi_ctx *c, uint64_t phys, uint64_t *root, const char **sig,
                      uint32_t *esize)
{
	const uint8_t *r;
	uint32_t len;
	uint64_t xsdt = 0;

	if (phys == 0)
		return fw_fail(c->m, -ENOENT, "no RSDP");
	r = c->pa->map(phys, RSDP_V1_SIZE, c->pa->ctx);
	if (r == NULL)
		return fw_fail(c->m, -EFAULT, "RSDP at 0x%lx is not accessible", phys);
	if (memcmp(r, "RSD PTR ", 8) != 0)
		return fw_fail(c->m, -EINVAL, "no RSDP signature at 0x%lx", phys);
	if (checksum(r, RSDP_V1_SIZE) != 0)
		return fw_fail(c->m, -EINVAL, "RSDP checksum is wrong");

	if (r[15] >= 2) {
		r = c->pa->map(phys, RSDP_V2_SIZE, c->pa->ctx);
		if (r == NULL)
			return fw_fail(c->m, -EFAULT, "RSDP at 0x%lx is not accessible", phys);
		len = rd32(r, RSDP_V2_SIZE, 20);
		if (len < RSDP_V2_SIZE || len > RSDP_MAX_SIZE)
			return fw_fail(c->m, -EINVAL, "RSDP has bad length %u", len);
		r = c->pa->map(phys, len, c->pa->ctx);
		if (r == NULL)
			return fw_fail(c->m, -EFAULT, "RSDP at 0x%lx (%u bytes) is not accessible",
			               phys, len);
		if (checksum(r, len) != 0)
			return fw_fail(c->m, -EINVAL, "RSDP extended checksum is wrong");
		xsdt = rd64(r, len, 24);
	}

	if (xsdt != 0) {
		*root = xsdt;
		*sig = "XSDT";
		*esize = 8;
	} else {
		*root = rd32(r, RSDP_V1_SIZE, 16);
		*sig = "RSDT";
		*esize = 4;
	}
	if (*root == 0)
		return fw_fail(c->m, -EINVAL, "RSDP points to no RSDT or XSDT");
	return 0;
}

/* An RSDP at `at`: signature, checksum, and the extended checksum from revision 2 on. */
static bool rsdp_valid(const struct phys_access *pa, uint64_t at)
{
	const uint8_t *r = pa->map(at, RSDP_V1_SIZE, pa->ctx);

	if (r == NULL || memcmp(r, "RSD PTR ", 8) != 0 || checksum(r, RSDP_V1_SIZE) != 0)
		return false;
	if (r[15] < 2)
		return true;
	r = pa->map(at, RSDP_V2_SIZE, pa->ctx);
	if (r == NULL)
		return false;
	uint32_t len = rd32(r, RSDP_V2_SIZE, 20);
	if (len < RSDP_V2_SIZE || len > RSDP_MAX_SIZE)
		return false;
	r = pa->map(at, len, pa->ctx);
	return r != NULL && checksum(r, len) == 0;
}

uint64_t acpi_find_rsdp(const struct phys_access *pa)
{
	return fw_scan(pa, FW_SCAN_EBDA | FW_SCAN_E0000 | FW_SCAN_F0000, rsdp_valid);
}

/* Does the work of acpi_parse() on a zeroed *out. */
static int parse(struct acpi_ctx *c, uint64_t rsdp_phys)
{
	uint64_t root_phys, madt = 0, fadt = 0, mcfg = 0;
	const uint8_t *root, *t;
	uint32_t root_len, esize, i, n, len;
	const char *root_sig;
	int rc;

	rc = rsdp_parse(c, rsdp_phys, &root_phys, &root_sig, &esize);
	if (rc != 0)
		return rc;
	rc = table_map(c, root_phys, root_sig, &root, &root_len);
	if (rc != 0)
		return rc;

	/* A trailing partial pointer (length not a multiple of esize) is ignored. */
	n = (root_len - SDT_HEADER) / esize;
	for (i = 0; i < n; i++) {
		uint64_t phys = esize == 8 ? rd64(root, root_len, SDT_HEADER + i * 8)
		                           : rd32(root, root_len, SDT_HEADER + i * 4);

		if (phys == 0)
			continue;
		t = c->pa->map(phys, SDT_HEADER, c->pa->ctx);
		if (t == NULL)
			return fw_fail(c->m, -EFAULT, "%s entry %u (0x%lx) is not accessible",
			               root_sig, i, phys);
		if (madt == 0 && memcmp(t, "APIC", 4) == 0)
			madt = phys;
		else if (fadt == 0 && memcmp(t, "FACP", 4) == 0)
			fadt = phys;
		else if (mcfg == 0 && memcmp(t, "MCFG", 4) == 0)
			mcfg = phys;
	}

	if (madt == 0)
		return fw_fail(c->m, -ENOENT, "%s lists no MADT", root_sig);
	rc = table_map(c, madt, "APIC", &t, &len);
	if (rc == 0)
		rc = madt_parse(c, t, len);
	if (rc == 0 && fadt != 0) {
		rc = table_map(c, fadt, "FACP", &t, &len);
		if (rc == 0)
			rc = fadt_parse(c, t, len);
	}
	if (rc == 0 && mcfg != 0) {
		rc = table_map(c, mcfg, "MCFG", &t, &len);
		if (rc == 0)
			rc = mcfg_parse(c, t, len);
	}
	return rc;
}

static int parse_entry(uint64_t rsdp_phys, const struct phys_access *pa, void *out,
                       struct fw_msg *m)
{
	struct acpi_ctx c = { .pa = pa, .out = out, .m = m };
	return parse(&c, rsdp_phys);
}

int acpi_parse(uint64_t rsdp_phys, const struct phys_access *pa, struct acpi_info *out, char *err,
               size_t errlen)
{
	return fw_parse(rsdp_phys, pa, out, sizeof(*out), err, errlen, parse_entry);
}
