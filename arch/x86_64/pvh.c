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
 * The firmware memory map may be unsorted and overlapping. It is normalised with a sweep over
 * the boundaries of the raw entries: starting at the lowest base, each step finds the next
 * boundary (a base or an end) above the current position; the piece in between is covered by
 * some set of raw entries, and the type of highest precedence among them (see mem_wins) is
 * emitted, merged with the previous piece when both have the same type and touch. The raw
 * entries are read in place and never stored, so any number up to BOOT_MAX_MEM_RAW can be
 * handled with a fixed output array; the cost is O(raw^2), a few milliseconds at worst.
 */
#include "kernel/compiler.h"
#include <isle/errno.h>
#include <stdarg.h>
#include <string.h>

#include "arch/x86_64/firmware.h"
#include "kernel/printf.h"

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
_Static_assert(sizeof(struct pvh_memmap_entry) == 24, "hvm_memmap_table_entry is 24 bytes");

/* Where messages go: the caller's err buffer. */
struct pvh_msg {
	char *buf;  /* caller's buffer, NULL if it wants no message */
	size_t len; /* its size in bytes */
};

/* Records why parsing failed and returns rc, a -errno. */
__attribute__((format(printf, 3, 4))) static int fail(struct pvh_msg *m, int rc, const char *fmt,
                                                      ...)
{
	va_list ap;

	if (m->buf != NULL && m->len > 0) {
		va_start(ap, fmt);
		kvsnprintf(m->buf, m->len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Records a warning unless an earlier one is already there. */
__attribute__((format(printf, 2, 3))) static void warn(struct pvh_msg *m, const char *fmt, ...)
{
	va_list ap;

	if (m->buf == NULL || m->len == 0 || m->buf[0] != '\0')
		return;
	va_start(ap, fmt);
	kvsnprintf(m->buf, m->len, fmt, ap);
	va_end(ap);
}

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

/*
 * True if memory type a takes precedence over type b where both cover the same bytes: RAM
 * loses to everything, ACPI-reclaimable loses to everything else, and among the rest the larger
 * type number wins (an arbitrary but deterministic choice; all of them mean "not RAM").
 */
static bool mem_wins(uint32_t a, uint32_t b)
{
	unsigned rank_a = a == BOOT_MEM_RAM ? 0 : a == BOOT_MEM_ACPI ? 1 : 2;
	unsigned rank_b = b == BOOT_MEM_RAM ? 0 : b == BOOT_MEM_ACPI ? 1 : 2;

	if (rank_a != rank_b)
		return rank_a > rank_b;
	return a > b;
}

/* Appends [base, base + len) of type to the map, merging with the previous entry. */
static void mem_emit(struct boot_info *out, uint64_t base, uint64_t len, uint32_t type)
{
	struct boot_mem *last = out->nmem > 0 ? &out->mem[out->nmem - 1] : NULL;

	if (last != NULL && last->type == type && last->base + last->len == base) {
		last->len += len;
		return;
	}
	if (out->nmem == BOOT_MAX_MEM) {
		out->mem_truncated = true;
		return;
	}
	out->mem[out->nmem].base = base;
	out->mem[out->nmem].len = len;
	out->mem[out->nmem].type = type;
	out->nmem++;
}

/* Reads raw memory map entry i. */
static struct pvh_memmap_entry mem_raw(const uint8_t *raw, unsigned i)
{
	struct pvh_memmap_entry e;

	memcpy(&e, raw + (size_t)i * sizeof(e), sizeof(e));
	return e;
}

/* Normalises the n raw entries at raw into out->mem (see the top of the file). */
static int mem_parse(const uint8_t *raw, unsigned n, struct boot_info *out, struct pvh_msg *m)
{
	uint64_t pos = UINT64_MAX;
	bool any = false;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct pvh_memmap_entry e = mem_raw(raw, i);

		if (e.size == 0)
			continue;
		if (e.addr + e.size < e.addr)
			return fail(m, -EINVAL, "memory map entry %u (0x%lx, 0x%lx bytes) wraps", i,
			            e.addr, e.size);
		if (e.addr < pos)
			pos = e.addr;
		any = true;
	}
	if (!any)
		return fail(m, -ENOENT, "memory map has no non-empty entry");

	while (!out->mem_truncated) {
		uint64_t next = UINT64_MAX;
		bool covered = false, more = false;
		uint32_t type = 0;

		for (i = 0; i < n; i++) {
			struct pvh_memmap_entry e = mem_raw(raw, i);
			uint64_t end = e.addr + e.size;

			if (e.size == 0 || end <= pos)
				continue;
			if (e.addr > pos) {
				if (e.addr < next)
					next = e.addr;
			} else if (!covered || mem_wins(e.type, type)) {
				covered = true;
				type = e.type;
			}
			if (end < next)
				next = end;
			more = true;
		}
		if (!more)
			break;
		if (covered)
			mem_emit(out, pos, next - pos, type);
		pos = next;
	}

	for (i = 0; i < out->nmem; i++)
		if (out->mem[i].type == BOOT_MEM_RAM)
			return 0;
	return fail(m, -ENOENT, "memory map has no RAM");
}

/* Copies the module list. */
static int mod_parse(const struct pvh_start_info *si, const struct phys_access *pa,
                     struct boot_info *out, struct pvh_msg *m)
{
	const uint8_t *list;
	unsigned i, n;

	if (si->nr_modules == 0)
		return 0;
	if (si->modlist_paddr == 0)
		return fail(m, -EINVAL, "%u modules but no module list", si->nr_modules);
	n = si->nr_modules;
	if (n > BOOT_MAX_MODULES) {
		n = BOOT_MAX_MODULES;
		out->mod_truncated = true;
	}
	list = pa->map(si->modlist_paddr, n * sizeof(struct pvh_module), pa->ctx);
	if (list == NULL)
		return fail(m, -EFAULT, "module list at 0x%lx is not accessible",
		            si->modlist_paddr);

	for (i = 0; i < n; i++) {
		struct boot_module *mod = &out->mod[i];
		struct pvh_module e;

		memcpy(&e, list + i * sizeof(e), sizeof(e));
		if (e.paddr == 0)
			return fail(m, -EINVAL, "module %u is at address 0", i);
		if (e.paddr + e.size < e.paddr)
			return fail(m, -EINVAL, "module %u (0x%lx, 0x%lx bytes) wraps past 2^64", i,
			            e.paddr, e.size);
		mod->base = e.paddr;
		mod->len = e.size;
		if (e.cmdline_paddr != 0 &&
		    copy_string(pa, e.cmdline_paddr, mod->cmdline, sizeof(mod->cmdline),
		                &mod->cmdline_truncated) != 0)
			return fail(m, -EFAULT, "module %u command line at 0x%lx is not accessible",
			            i, e.cmdline_paddr);
		out->nmod++;
	}
	return 0;
}

/* Does the work of pvh_parse() on a zeroed *out. */
static int parse(uint64_t phys, const struct phys_access *pa, struct boot_info *out,
                 struct pvh_msg *m)
{
	struct pvh_start_info si;
	const uint8_t *p, *raw;
	unsigned i;
	int rc;

	memset(&si, 0, sizeof(si));
	p = pa->map(phys, PVH_START_INFO_V0_SIZE, pa->ctx);
	if (p == NULL)
		return fail(m, -EFAULT, "start info at 0x%lx is not accessible", phys);
	memcpy(&si, p, PVH_START_INFO_V0_SIZE);
	if (si.magic != PVH_START_MAGIC)
		return fail(m, -EINVAL, "start info magic is 0x%x, expected 0x%x", si.magic,
		            PVH_START_MAGIC);
	if (si.version == 0)
		return fail(m, -ENOENT, "start info version 0 has no memory map");
	p = pa->map(phys, sizeof(si), pa->ctx);
	if (p == NULL)
		return fail(m, -EFAULT, "start info at 0x%lx is not accessible", phys);
	memcpy(&si, p, sizeof(si));

	/* Memory map. */
	if (si.memmap_paddr == 0 || si.memmap_entries == 0)
		return fail(m, -ENOENT, "start info has no memory map");
	if (si.memmap_entries > BOOT_MAX_MEM_RAW)
		return fail(m, -E2BIG, "memory map has %u entries, at most %u are accepted",
		            si.memmap_entries, BOOT_MAX_MEM_RAW);
	raw = pa->map(si.memmap_paddr, si.memmap_entries * sizeof(struct pvh_memmap_entry),
	              pa->ctx);
	if (raw == NULL)
		return fail(m, -EFAULT, "memory map at 0x%lx is not accessible", si.memmap_paddr);
	rc = mem_parse(raw, si.memmap_entries, out, m);
	if (rc != 0)
		return rc;

	rc = mod_parse(&si, pa, out, m);
	if (rc != 0)
		return rc;

	if (si.cmdline_paddr != 0 &&
	    copy_string(pa, si.cmdline_paddr, out->cmdline, sizeof(out->cmdline),
	                &out->cmdline_truncated) != 0)
		return fail(m, -EFAULT, "command line at 0x%lx is not accessible",
		            si.cmdline_paddr);

	out->rsdp = si.rsdp_paddr;

	if (out->mem_truncated) {
		const struct boot_mem *last = &out->mem[BOOT_MAX_MEM - 1];

		warn(m, "memory map needs more than %u entries; memory above 0x%lx was dropped",
		     BOOT_MAX_MEM, last->base + last->len);
	}
	if (out->mod_truncated)
		warn(m, "%u modules passed, only the first %u kept", si.nr_modules,
		     BOOT_MAX_MODULES);
	if (out->cmdline_truncated)
		warn(m, "command line truncated to %u bytes", (unsigned)strlen(out->cmdline));
	for (i = 0; i < out->nmod; i++)
		if (out->mod[i].cmdline_truncated)
			warn(m, "module %u command line truncated", i);
	return 0;
}

int pvh_parse(uint64_t start_info_phys, const struct phys_access *pa, struct boot_info *out,
              char *err, size_t errlen)
{
	struct pvh_msg m = { .buf = err, .len = errlen };
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return fail(&m, -EINVAL, "no output buffer");
	memset(out, 0, sizeof(*out));
	if (pa == NULL || pa->map == NULL)
		return fail(&m, -EINVAL, "no physical memory access");
	rc = parse(start_info_phys, pa, out, &m);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}
