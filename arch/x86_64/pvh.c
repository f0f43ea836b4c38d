/*
 * pvh.c - read the PVH start info the hypervisor leaves for isle.
 *
 * A PVH loader (QEMU -kernel, Xen, Firecracker, Cloud Hypervisor) enters the image with %ebx
 * holding the physical address of a struct hvm_start_info. The layout, from Xen's public
 * arch-x86/hvm/start_info.h, is (all little endian):
 *
 *	 0 magic           u32   PVH_START_MAGIC
 *	 4 version         u32   0 or 1 (later versions only append fields)
 *	 8 flags           u32   SIF_* (unused by isle)
 *	12 nr_modules      u32
 *	16 modlist_paddr   u64 -> nr_modules x { paddr u64, size u64, cmdline_paddr u64, rsvd u64 }
 *	24 cmdline_paddr   u64 -> NUL-terminated string
 *	32 rsdp_paddr      u64
 *	-- version >= 1 --
 *	40 memmap_paddr    u64 -> memmap_entries x { addr u64, size u64, type u32, rsvd u32 }
 *	48 memmap_entries  u32
 *	52 reserved        u32
 *
 * An address of 0 means "not present". pvh_parse() copies everything into a struct boot_info so
 * that the memory holding these structures can be reused afterwards.
 *
 * The memory map is normalised by bootinfo_mem() (bootinfo.c), shared with the Multiboot2
 * parser.
 */
#include "kernel/compiler.h"
#include <isle/errno.h>
#include <string.h>

#include "arch/x86_64/bootinfo.h"
#include "arch/x86_64/firmware.h"

/* struct hvm_start_info, version 1 (version 0 ends at memmap_paddr). */
struct pvh_start_info {
	uint32_t magic;          /* PVH_START_MAGIC */
	uint32_t version;        /* layout version */
	uint32_t flags;          /* SIF_* flags, unused */
	uint32_t nr_modules;     /* entries at modlist_paddr */
	uint64_t modlist_paddr;  /* array of struct pvh_module, 0 if none */
	uint64_t cmdline_paddr;  /* kernel command line, 0 if none */
	uint64_t rsdp_paddr;     /* ACPI RSDP, 0 if none */
	uint64_t memmap_paddr;   /* array of struct pvh_memmap_entry (version >= 1) */
	uint32_t memmap_entries; /* entries at memmap_paddr (version >= 1) */
	uint32_t reserved;       /* must be ignored */
} __packed;

#define PVH_START_INFO_V0_SIZE 40 /* bytes of struct pvh_start_info in version 0 */

/* struct hvm_modlist_entry */
struct pvh_module {
	uint64_t paddr;         /* first byte of the module */
	uint64_t size;          /* bytes */
	uint64_t cmdline_paddr; /* module command line, 0 if none */
	uint64_t reserved;      /* must be ignored */
} __packed;

/* struct hvm_memmap_table_entry */
struct pvh_memmap_entry {
	uint64_t addr;     /* first byte */
	uint64_t size;     /* bytes; 0 means the entry is to be skipped */
	uint32_t type;     /* E820 type, 1 = RAM */
	uint32_t reserved; /* must be ignored */
} __packed;

_Static_assert(sizeof(struct pvh_start_info) == 56, "hvm_start_info v1 is 56 bytes");
_Static_assert(sizeof(struct pvh_module) == 32, "hvm_modlist_entry is 32 bytes");
_Static_assert(sizeof(struct pvh_memmap_entry) == BOOTINFO_MEM_ENTRY_SIZE,
               "hvm_memmap_table_entry is bootinfo_mem()'s raw entry");

/*
 * Copies the NUL-terminated string at phys into dst (cap bytes, cap >= 1), one byte at a time
 * so that it never asks map() for a byte past the terminator. A string that does not fit, or
 * that runs into inaccessible memory before its NUL, is cut and flagged. Returns 0, or -EFAULT
 * if not even the first byte is accessible.
 */
static int copy_string(const struct phys_access *pa, uint64_t phys, char *dst, size_t cap,
                       bool *truncated)
{
	size_t i;

	for (i = 0;; i++) {
		const char *c = NULL;

		if (phys + i >= phys)
			c = pa->map(phys + i, 1, pa->ctx);
		if (c == NULL) {
			if (i == 0)
				return -EFAULT;
			*truncated = true;
			break;
		}
		if (*c == '\0')
			break;
		if (i == cap - 1) {
			*truncated = true;
			break;
		}
		dst[i] = *c;
	}
	dst[i] = '\0';
	return 0;
}

/* Copies the module list. */
static int mod_parse(const struct pvh_start_info *si, const struct phys_access *pa,
                     struct boot_info *out, struct fw_msg *m)
{
	const uint8_t *list;
	unsigned i, n;

	if (si->nr_modules == 0)
		return 0;
	if (si->modlist_paddr == 0)
		return fw_fail(m, -EINVAL, "%u modules but no module list", si->nr_modules);
	n = si->nr_modules;
	if (n > BOOT_MAX_MODULES) {
		n = BOOT_MAX_MODULES;
		out->mod_truncated = true;
	}
	list = pa->map(si->modlist_paddr, n * sizeof(struct pvh_module), pa->ctx);
	if (list == NULL)
		return fw_fail(m, -EFAULT, "module list at 0x%lx is not accessible",
		               si->modlist_paddr);

	for (i = 0; i < n; i++) {
		struct boot_module *mod = &out->mod[i];
		struct pvh_module e;

		memcpy(&e, list + i * sizeof(e), sizeof(e));
		if (e.paddr == 0)
			return fw_fail(m, -EINVAL, "module %u is at address 0", i);
		if (e.paddr + e.size < e.paddr)
			return fw_fail(m, -EINVAL, "module %u (0x%lx, 0x%lx bytes) wraps past 2^64",
			               i, e.paddr, e.size);
		mod->base = e.paddr;
		mod->len = e.size;
		if (e.cmdline_paddr != 0 &&
		    copy_string(pa, e.cmdline_paddr, mod->cmdline, sizeof(mod->cmdline),
		                &mod->cmdline_truncated) != 0)
			return fw_fail(m, -EFAULT,
			               "module %u command line at 0x%lx is not accessible", i,
			               e.cmdline_paddr);
		out->nmod++;
	}
	return 0;
}

/* Does the work of pvh_parse() on a zeroed *out. */
static int parse(uint64_t phys, const struct phys_access *pa, void *out_v, struct fw_msg *m)
{
	struct boot_info *out = out_v;
	struct pvh_start_info si;
	const uint8_t *p, *raw;
	int rc;

	memset(&si, 0, sizeof(si));
	p = pa->map(phys, PVH_START_INFO_V0_SIZE, pa->ctx);
	if (p == NULL)
		return fw_fail(m, -EFAULT, "start info at 0x%lx is not accessible", phys);
	memcpy(&si, p, PVH_START_INFO_V0_SIZE);
	if (si.magic != PVH_START_MAGIC)
		return fw_fail(m, -EINVAL, "start info magic is 0x%x, expected 0x%x", si.magic,
		               PVH_START_MAGIC);
	if (si.version == 0)
		return fw_fail(m, -ENOENT, "start info version 0 has no memory map");
	p = pa->map(phys, sizeof(si), pa->ctx);
	if (p == NULL)
		return fw_fail(m, -EFAULT, "start info at 0x%lx is not accessible", phys);
	memcpy(&si, p, sizeof(si));

	/* Memory map. */
	if (si.memmap_paddr == 0 || si.memmap_entries == 0)
		return fw_fail(m, -ENOENT, "start info has no memory map");
	if (si.memmap_entries > BOOT_MAX_MEM_RAW)
		return fw_fail(m, -E2BIG, "memory map has %u entries, at most %u are accepted",
		               si.memmap_entries, BOOT_MAX_MEM_RAW);
	raw = pa->map(si.memmap_paddr, si.memmap_entries * sizeof(struct pvh_memmap_entry),
	              pa->ctx);
	if (raw == NULL)
		return fw_fail(m, -EFAULT, "memory map at 0x%lx is not accessible",
		               si.memmap_paddr);
	rc = bootinfo_mem(raw, si.memmap_entries, sizeof(struct pvh_memmap_entry), out, m);
	if (rc != 0)
		return rc;

	rc = mod_parse(&si, pa, out, m);
	if (rc != 0)
		return rc;

	if (si.cmdline_paddr != 0 &&
	    copy_string(pa, si.cmdline_paddr, out->cmdline, sizeof(out->cmdline),
	                &out->cmdline_truncated) != 0)
		return fw_fail(m, -EFAULT, "command line at 0x%lx is not accessible",
		               si.cmdline_paddr);

	out->rsdp = si.rsdp_paddr;
	bootinfo_warnings(out, si.nr_modules, m);
	return 0;
}

int pvh_parse(uint64_t start_info_phys, const struct phys_access *pa, struct boot_info *out,
              char *err, size_t errlen)
{
	return fw_parse(start_info_phys, pa, out, sizeof(*out), err, errlen, parse);
}
