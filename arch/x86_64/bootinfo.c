/*
 * bootinfo.c - the parts of struct boot_info that do not depend on the boot protocol.
 *
 * The firmware memory map may be unsorted and overlapping. It is normalised with a sweep over
 * the boundaries of the raw entries: starting at the lowest base, each step finds the next
 * boundary (a base or an end) above the current position; the piece in between is covered by
 * some set of raw entries, and the type of highest precedence among them (see mem_wins) is
 * emitted, merged with the previous piece when both have the same type and touch. The raw
 * entries are read in place and never stored, so any number up to BOOT_MAX_MEM_RAW can be
 * handled with a fixed output array; the cost is O(raw^2), a few milliseconds at worst.
 *
 * Pure code like the parsers that call it (firmware.h): compiled for the kernel and for the
 * host unit tests.
 */
#include "kernel/compiler.h"
#include <isle/errno.h>
#include <stdarg.h>
#include <string.h>

#include "arch/x86_64/bootinfo.h"
#include "kernel/printf.h"

/* One raw memory map entry, as both protocols lay it out. */
struct raw_mem {
	uint64_t addr;     /* first byte */
	uint64_t size;     /* bytes; 0 means the entry is to be skipped */
	uint32_t type;     /* E820 type, 1 = RAM */
	uint32_t reserved; /* must be ignored */
} __packed;

_Static_assert(sizeof(struct raw_mem) == BOOTINFO_MEM_ENTRY_SIZE, "raw entries are 24 bytes");

struct fw_msg fw_msg_init(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return (struct fw_msg){ .buf = err, .len = errlen };
}

int fw_fail(struct fw_msg *m, int rc, const char *fmt, ...)
{
	va_list ap;

	if (m->buf != NULL && m->len > 0) {
		va_start(ap, fmt);
		kvsnprintf(m->buf, m->len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void fw_warn(struct fw_msg *m, const char *fmt, ...)
{
	va_list ap;

	if (m->buf == NULL || m->len == 0 || m->buf[0] != '\0')
		return;
	va_start(ap, fmt);
	kvsnprintf(m->buf, m->len, fmt, ap);
	va_end(ap);
}

int fw_parse(uint64_t arg, const struct phys_access *pa, void *out, size_t out_size, char *err,
             size_t errlen,
             int (*parse)(uint64_t arg, const struct phys_access *pa, void *out, struct fw_msg *m))
{
	struct fw_msg m = fw_msg_init(err, errlen);
	int rc;

	if (out == NULL)
		return fw_fail(&m, -EINVAL, "no output buffer");
	memset(out, 0, out_size);
	if (pa == NULL || pa->map == NULL)
		return fw_fail(&m, -EINVAL, "no physical memory access");
	rc = parse(arg, pa, out, &m);
	if (rc != 0)
		memset(out, 0, out_size);
	return rc;
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
static struct raw_mem mem_raw(const uint8_t *raw, size_t stride, unsigned i)
{
	struct raw_mem e;

	memcpy(&e, raw + (size_t)i * stride, sizeof(e));
	return e;
}

int bootinfo_mem(const uint8_t *raw, unsigned n, size_t stride, struct boot_info *out,
                 struct fw_msg *m)
{
	uint64_t pos = UINT64_MAX;
	bool any = false;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct raw_mem e = mem_raw(raw, stride, i);

		if (e.size == 0)
			continue;
		if (e.addr + e.size < e.addr)
			return fw_fail(m, -EINVAL, "memory map entry %u (0x%lx, 0x%lx bytes) wraps",
			               i, e.addr, e.size);
		if (e.addr < pos)
			pos = e.addr;
		any = true;
	}
	if (!any)
		return fw_fail(m, -ENOENT, "memory map has no non-empty entry");

	while (!out->mem_truncated) {
		uint64_t next = UINT64_MAX;
		bool covered = false, more = false;
		uint32_t type = 0;

		for (i = 0; i < n; i++) {
			struct raw_mem e = mem_raw(raw, stride, i);
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
	return fw_fail(m, -ENOENT, "memory map has no RAM");
}

void bootinfo_warnings(const struct boot_info *out, unsigned nmod_given, struct fw_msg *m)
{
	unsigned i;

	if (out->mem_truncated) {
		const struct boot_mem *last = &out->mem[BOOT_MAX_MEM - 1];

		fw_warn(m, "memory map needs more than %u entries; memory above 0x%lx was dropped",
		        BOOT_MAX_MEM, last->base + last->len);
	}
	if (out->mod_truncated)
		fw_warn(m, "%u modules passed, only the first %u kept", nmod_given,
		        BOOT_MAX_MODULES);
	if (out->cmdline_truncated)
		fw_warn(m, "command line truncated to %u bytes", (unsigned)strlen(out->cmdline));
	for (i = 0; i < out->nmod; i++)
		if (out->mod[i].cmdline_truncated)
			fw_warn(m, "module %u command line truncated", i);
}
