/*
 * mptable.c - the CPU list without ACPI: Intel MultiProcessor Specification 1.4 tables, and
 * the scan of BIOS memory that finds them (and, in acpi.c, a lost RSDP).
 *
 * Machines without ACPI still describe their CPUs: Firecracker writes an MP table at the top of
 * base memory (0x9fc00), SeaBIOS and qboot write one too. The floating pointer structure
 * ("_MP_", 16 bytes, checksummed) points to the configuration table ("PCMP"): a 44-byte
 * header with the local APIC address, then entries, of which isle reads
 *
 *	type 0, processor, 20 bytes: 1 local APIC id, 2 version, 3 flags (bit 0 enabled)
 *	type 2, I/O APIC,   8 bytes: 1 id, 2 version, 3 flags (bit 0 enabled), 4 address u32
 *
 * and steps over types 1, 3 and 4 (8 bytes each). Entries are walked up to the table length, as
 * Linux does: qboot (QEMU microvm) writes an entry count of 0. An entry of an unknown type ends
 * the walk with a warning (the entries before it are used). Like the ACPI parser this is a pure
 * function
 * over a struct phys_access: every structure is mapped before it is read, every length is
 * checked, and a malformed table is reported, not guessed around. A default configuration
 * (floating pointer feature byte 1 != 0: "a standard 2-CPU machine, no table") is refused:
 * no hypervisor uses one.
 */
#include "kernel/compiler.h"
#include <isle/errno.h>
#include <string.h>

#include "arch/x86_64/bootinfo.h"
#include "arch/x86_64/firmware.h"
#include "kernel/printf.h"

#define MPF_SIZE 16          /* floating pointer structure */
#define MPC_HEADER 44        /* configuration table header */
#define MPC_MAX (64u << 10)  /* larger base tables are treated as corrupt */
#define MPC_CPU 0            /* entry type: processor */
#define MPC_CPU_SIZE 20      /* its length */
#define MPC_IOAPIC 2         /* entry type: I/O APIC */
#define MPC_OTHER_SIZE 8     /* length of every other entry type (bus, interrupts) */
#define MPC_LAST_KNOWN 4     /* highest entry type of the base table */
#define MPC_CPU_ENABLED 0x01 /* processor flags */
#define MPC_IOAPIC_ENABLED 0x01

#define BDA_EBDA_SEGMENT 0x40E /* BIOS data area: real-mode segment of the EBDA (u16) */

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len-- > 0)
		sum += *p++;
	return sum;
}

/* Scans [lo, hi) on 16-byte boundaries for a structure valid() accepts; 0 if none. */
static uint64_t scan_area(const struct phys_access *pa, uint64_t lo, uint64_t hi,
                          bool (*valid)(const struct phys_access *pa, uint64_t at))
{
	for (uint64_t at = ALIGN_UP(lo, 16); at + 16 <= hi; at += 16)
		if (valid(pa, at))
			return at;
	return 0;
}

uint64_t fw_scan(const struct phys_access *pa, unsigned areas,
                 bool (*valid)(const struct phys_access *pa, uint64_t at))
{
	uint64_t found = 0;
	if (areas & FW_SCAN_EBDA) {
		const uint8_t *seg = pa->map(BDA_EBDA_SEGMENT, 2, pa->ctx);
		uint64_t ebda = seg ? (uint64_t)(seg[0] | seg[1] << 8) << 4 : 0;
		/* A real EBDA lies just below 640 KiB; anything else is not one. */
		if (ebda >= 0x80000 && ebda < 0xA0000)
			found = scan_area(pa, ebda, ebda + 1024, valid);
	}
	if (!found && (areas & FW_SCAN_BASE_TOP))
		found = scan_area(pa, 0x9FC00, 0xA0000, valid);
	if (!found && (areas & FW_SCAN_E0000))
		found = scan_area(pa, 0xE0000, 0xF0000, valid);
	if (!found && (areas & FW_SCAN_F0000))
		found = scan_area(pa, 0xF0000, 0x100000, valid);
	return found;
}

/* A floating pointer: signature, length 1 (x 16 bytes), checksum. */
static bool mpf_valid(const struct phys_access *pa, uint64_t at)
{
	const uint8_t *f = pa->map(at, MPF_SIZE, pa->ctx);
	return f && memcmp(f, "_MP_", 4) == 0 && f[8] == 1 && checksum(f, MPF_SIZE) == 0;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static void add_cpu(struct acpi_info *out, uint32_t id)
{
	for (unsigned i = 0; i < out->ncpus; i++)
		if (out->apic_id[i] == id)
			return;
	if (out->ncpus == ACPI_MAX_CPUS) {
		out->cpus_truncated = true;
		return;
	}
	out->apic_id[out->ncpus++] = id;
}

static int parse(uint64_t unused, const struct phys_access *pa, void *out_v, struct fw_msg *c)
{
	struct acpi_info *out = out_v;
	(void)unused;
	uint64_t fp = fw_scan(pa, FW_SCAN_EBDA | FW_SCAN_BASE_TOP | FW_SCAN_F0000, mpf_valid);
	if (fp == 0)
		return fw_fail(c, -ENOENT, "no MP floating pointer");
	const uint8_t *f = pa->map(fp, MPF_SIZE, pa->ctx);
	if (f == NULL)
		return fw_fail(c, -EFAULT, "MP floating pointer at 0x%lx is not accessible", fp);
	if (f[11] != 0)
		return fw_fail(c, -ENOTSUP,
		               "MP default configuration %u (no table) is not supported", f[11]);
	uint64_t tbl = rd32(f + 4);
	if (tbl == 0)
		return fw_fail(c, -EINVAL, "MP floating pointer at 0x%lx has no table", fp);
	const uint8_t *h = pa->map(tbl, MPC_HEADER, pa->ctx);
	if (h == NULL)
		return fw_fail(c, -EFAULT, "MP table at 0x%lx is not accessible", tbl);
	if (memcmp(h, "PCMP", 4) != 0)
		return fw_fail(c, -EINVAL, "MP table at 0x%lx has no PCMP signature", tbl);
	uint32_t len = rd16(h + 4);
	if (len < MPC_HEADER || len > MPC_MAX)
		return fw_fail(c, -EINVAL, "MP table at 0x%lx has bad length %u", tbl, len);
	const uint8_t *t = pa->map(tbl, len, pa->ctx);
	if (t == NULL)
		return fw_fail(c, -EFAULT, "MP table at 0x%lx (%u bytes) is not accessible", tbl,
		               len);
	if (checksum(t, len) != 0)
		return fw_fail(c, -EINVAL, "MP table checksum is wrong");
	out->lapic_phys = rd32(t + 36);

	uint32_t off = MPC_HEADER;
	for (unsigned i = 0; off < len; i++) {
		uint8_t type = t[off];
		uint32_t elen = type == MPC_CPU ? MPC_CPU_SIZE : MPC_OTHER_SIZE;
		if (type > MPC_LAST_KNOWN) {
			fw_warn(c, "MP table entry %u has unknown type %u; the rest is ignored", i,
			        type);
			break;
		}
		if (len - off < elen)
			return fw_fail(c, -EINVAL, "MP table entry %u runs past the end", i);
		const uint8_t *e = t + off;
		if (type == MPC_CPU && (e[3] & MPC_CPU_ENABLED))
			add_cpu(out, e[1]);
		if (type == MPC_IOAPIC && (e[3] & MPC_IOAPIC_ENABLED) && !out->has_ioapic) {
			out->has_ioapic = true;
			out->ioapic_phys = rd32(e + 4);
		}
		off += elen;
	}
	if (out->ncpus == 0)
		return fw_fail(c, -ENODEV, "MP table lists no enabled processor");
	if (out->lapic_phys == 0)
		out->lapic_phys = 0xFEE00000;
	return 0;
}

int mptable_parse(const struct phys_access *pa, struct acpi_info *out, char *err, size_t errlen)
{
	int rc = fw_parse(0, pa, out, sizeof(*out), err, errlen, parse);
	if (rc == 0 && out->cpus_truncated)
		fw_warn(&(struct fw_msg){ err, errlen },
		        "more than %u processors; only the first %u are used", ACPI_MAX_CPUS,
		        ACPI_MAX_CPUS);
	return rc;
}
