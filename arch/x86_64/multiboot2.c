/*
 * multiboot2.c - read the Multiboot2 information a boot loader (GRUB) leaves for isle.
 *
 * A Multiboot2 loader enters mb2_start32 (boot.S) with %eax = MB2_BOOTLOADER_MAGIC and %ebx
 * holding the physical address of the information, which is (all little endian):
 *
 *	0 total_size  u32   bytes, this header and the end tag included
 *	4 reserved    u32
 *	8 tags        each { type u32, size u32, payload }, at an 8-byte aligned offset; size
 *	              counts the 8-byte tag header but not the padding to the next tag; a tag of
 *	              type 0 and size 8 ends the list
 *
 * The tags isle reads (offsets from the start of the tag):
 *
 *	 1 command line   8 NUL-terminated string
 *	 2 loader name    8 NUL-terminated string
 *	 3 module         8 mod_start u32, 12 mod_end u32 (first byte after), 16 string
 *	 6 memory map     8 entry_size u32, 12 entry_version u32, 16 entries of entry_size bytes,
 *	                  each starting { base u64, length u64, type u32, reserved u32 }
 *	14 ACPI 1.0 RSDP  8 a copy of the RSDP (20 bytes)
 *	15 ACPI 2.0 RSDP  8 a copy of the RSDP (its length field's bytes)
 *
 * The header is mapped first to learn total_size; once that is bounded the whole information
 * is mapped once and every tag is read inside that mapping, with every size checked against
 * what is left of it. A first walk validates the list and notes where the single tags are; a
 * second one copies the modules in order. The memory map goes through bootinfo_mem(), the same
 * normalisation the PVH parser uses.
 *
 * The RSDP is the one thing not copied out: boot_info.rsdp is the physical address of the copy
 * inside tag 15 (or 14), which the caller hands to acpi_parse() before it reuses any memory.
 */
#include "kernel/compiler.h"
#include <isle/errno.h>
#include <string.h>

#include "arch/x86_64/bootinfo.h"
#include "arch/x86_64/firmware.h"

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

#define MB2_HEADER_SIZE 8 /* total_size, reserved */
#define MB2_TAG_HEADER 8  /* type, size */
#define MB2_MODULE_FIXED 16
#define MB2_MMAP_FIXED 16
#define RSDP_V1_BYTES 20 /* the part every revision has, with the first checksum */
#define RSDP_V2_BYTES 36 /* revision >= 2: the length field and the XSDT address */

/* Where the single tags are: offsets from the start of the information, 0 if absent. */
struct mb2_found {
	uint32_t cmdline;  /* tag 1 */
	uint32_t loader;   /* tag 2 */
	uint32_t mmap;     /* tag 6 */
	uint32_t acpi_old; /* tag 14 */
	uint32_t acpi_new; /* tag 15 */
	unsigned nmod;     /* type 3 tags seen */
};

/* One walk through the tags. */
struct mb2_walk {
	const uint8_t *info; /* the whole information, total bytes mapped */
	uint32_t total;      /* its total_size */
	uint32_t off;        /* offset of the next tag to look at */
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Steps to the next tag: its offset, type and size in *off, *type and *size. Returns 1 for a
 * tag, 0 at the end tag, or -EINVAL if the list is malformed.
 */
static int next_tag(struct mb2_walk *w, uint32_t *off, uint32_t *type, uint32_t *size,
                    struct fw_msg *m)
{
	uint32_t left = w->total - w->off, step;

	if (left < MB2_TAG_HEADER)
		return fw_fail(m, -EINVAL, "tags run to the end (%u bytes) without an end tag",
		               w->total);
	*off = w->off;
	*type = rd32(w->info + w->off);
	*size = rd32(w->info + w->off + 4);
	if (*size < MB2_TAG_HEADER || *size > left)
		return fw_fail(m, -EINVAL, "tag %u at offset %u has size %u (%u bytes left)", *type,
		               *off, *size, left);
	if (*type == MB2_TAG_END) {
		if (*size != MB2_TAG_HEADER)
			return fw_fail(m, -EINVAL, "end tag at offset %u has size %u", *off, *size);
		return 0;
	}
	step = ALIGN_UP(*size, 8u);
	w->off = step > left ? w->total : w->off + step;
	return 1;
}

/* Validates the tag list and fills *f. */
static int find_tags(const uint8_t *info, uint32_t total, struct mb2_found *f, struct fw_msg *m)
{
	struct mb2_walk w = { info, total, MB2_HEADER_SIZE };
	uint32_t off, type, size, *slot;
	int rc;

	while ((rc = next_tag(&w, &off, &type, &size, m)) > 0) {
		switch (type) {
		case MB2_TAG_CMDLINE:
			slot = &f->cmdline;
			break;
		case MB2_TAG_LOADER:
			slot = &f->loader;
			break;
		case MB2_TAG_MMAP:
			slot = &f->mmap;
			break;
		case MB2_TAG_ACPI_OLD:
			slot = &f->acpi_old;
			break;
		case MB2_TAG_ACPI_NEW:
			slot = &f->acpi_new;
			break;
		case MB2_TAG_MODULE:
			if (size < MB2_MODULE_FIXED)
				return fw_fail(m, -EINVAL, "module tag at offset %u has size %u",
				               off, size);
			f->nmod++;
			continue;
		default:
			continue;
		}
		if (*slot != 0)
			return fw_fail(m, -EINVAL, "a second tag %u at offset %u", type, off);
		*slot = off;
	}
	return rc;
}

/*
 * Copies the string in the n bytes at src into dst (cap >= 1 bytes): up to its NUL, cut at
 * cap - 1 bytes, or cut at n bytes when there is no NUL; a cut sets *truncated.
 */
static void copy_string(const uint8_t *src, size_t n, char *dst, size_t cap, bool *truncated)
{
	size_t i;

	for (i = 0; i < n && src[i] != '\0'; i++) {
		if (i == cap - 1)
			break;
		dst[i] = (char)src[i];
	}
	if (i == n || (i < n && src[i] != '\0'))
		*truncated = true;
	dst[i] = '\0';
}

/* Reads the memory map tag at off. */
static int mmap_parse(const uint8_t *info, uint32_t off, struct boot_info *out, struct fw_msg *m)
{
	uint32_t size = rd32(info + off + 4), esize, n;

	if (size < MB2_MMAP_FIXED)
		return fw_fail(m, -EINVAL, "memory map tag has size %u", size);
	esize = rd32(info + off + 8);
	if (esize < BOOTINFO_MEM_ENTRY_SIZE)
		return fw_fail(m, -EINVAL, "memory map entries are %u bytes, at least %u expected",
		               esize, BOOTINFO_MEM_ENTRY_SIZE);
	if ((size - MB2_MMAP_FIXED) % esize != 0)
		return fw_fail(
		        m, -EINVAL,
		        "memory map tag of %u bytes is not a whole number of %u-byte entries", size,
		        esize);
	n = (size - MB2_MMAP_FIXED) / esize;
	if (n > BOOT_MAX_MEM_RAW)
		return fw_fail(m, -E2BIG, "memory map has %u entries, at most %u are accepted", n,
		               BOOT_MAX_MEM_RAW);
	return bootinfo_mem(info + off + MB2_MMAP_FIXED, n, esize, out, m);
}

/* Copies the module tags, in order. The list was validated by find_tags(). */
static int mod_parse(const uint8_t *info, uint32_t total, struct boot_info *out, struct fw_msg *m)
{
	struct mb2_walk w = { info, total, MB2_HEADER_SIZE };
	uint32_t off, type, size;
	unsigned i = 0;

	while (next_tag(&w, &off, &type, &size, m) > 0) {
		const uint8_t *t = info + off;
		uint32_t start, end;
		struct boot_module *mod;

		if (type != MB2_TAG_MODULE)
			continue;
		start = rd32(t + 8);
		end = rd32(t + 12);
		if (start == 0)
			return fw_fail(m, -EINVAL, "module %u is at address 0", i);
		if (end < start)
			return fw_fail(m, -EINVAL, "module %u ends (0x%x) before it starts (0x%x)",
			               i, end, start);
		if (out->nmod == BOOT_MAX_MODULES) {
			out->mod_truncated = true;
			i++;
			continue;
		}
		mod = &out->mod[out->nmod++];
		mod->base = start;
		mod->len = end - start;
		copy_string(t + MB2_MODULE_FIXED, size - MB2_MODULE_FIXED, mod->cmdline,
		            sizeof(mod->cmdline), &mod->cmdline_truncated);
		i++;
	}
	return 0;
}

/* Records the physical address of the RSDP copy in the tag at off (tag 15 or 14). */
static int rsdp_parse(uint64_t info_phys, const uint8_t *info, uint32_t off, struct boot_info *out,
                      struct fw_msg *m)
{
	const uint8_t *t = info + off;
	uint32_t type = rd32(t), held = rd32(t + 4) - MB2_TAG_HEADER, need = RSDP_V1_BYTES;

	if (held >= RSDP_V1_BYTES && t[MB2_TAG_HEADER + 15] >= 2) {
		need = RSDP_V2_BYTES;
		if (held >= RSDP_V2_BYTES)
			need = MAX(need, rd32(t + MB2_TAG_HEADER + 20));
	}
	if (held < need)
		return fw_fail(m, -EINVAL, "tag %u holds %u bytes of an RSDP that needs %u", type,
		               held, need);
	out->rsdp = info_phys + off + MB2_TAG_HEADER;
	return 0;
}

/* Does the work of mb2_parse() on a zeroed *out. */
static int parse(uint64_t phys, const struct phys_access *pa, void *out_v, struct fw_msg *m)
{
	struct boot_info *out = out_v;
	struct mb2_found f = { 0 };
	const uint8_t *info;
	uint32_t total;
	bool cut = false;
	int rc;

	if (phys % 8 != 0)
		return fw_fail(m, -EINVAL, "information at 0x%lx is not 8-byte aligned", phys);
	info = pa->map(phys, MB2_HEADER_SIZE, pa->ctx);
	if (info == NULL)
		return fw_fail(m, -EFAULT, "information at 0x%lx is not accessible", phys);
	total = rd32(info);
	if (total < MB2_HEADER_SIZE + MB2_TAG_HEADER || total > MB2_INFO_MAX)
		return fw_fail(m, -EINVAL, "information has total size %u (%u..%u expected)", total,
		               MB2_HEADER_SIZE + MB2_TAG_HEADER, MB2_INFO_MAX);
	info = pa->map(phys, total, pa->ctx);
	if (info == NULL)
		return fw_fail(m, -EFAULT, "information at 0x%lx (%u bytes) is not accessible",
		               phys, total);
	rc = find_tags(info, total, &f, m);
	if (rc != 0)
		return rc;

	if (f.mmap == 0)
		return fw_fail(m, -ENOENT, "information has no memory map (tag 6)");
	rc = mmap_parse(info, f.mmap, out, m);
	if (rc != 0)
		return rc;

	rc = mod_parse(info, total, out, m);
	if (rc != 0)
		return rc;

	if (f.cmdline != 0)
		copy_string(info + f.cmdline + MB2_TAG_HEADER,
		            rd32(info + f.cmdline + 4) - MB2_TAG_HEADER, out->cmdline,
		            sizeof(out->cmdline), &out->cmdline_truncated);
	if (f.loader != 0)
		copy_string(info + f.loader + MB2_TAG_HEADER,
		            rd32(info + f.loader + 4) - MB2_TAG_HEADER, out->loader,
		            sizeof(out->loader), &cut);

	if (f.acpi_new != 0 || f.acpi_old != 0) {
		rc = rsdp_parse(phys, info, f.acpi_new != 0 ? f.acpi_new : f.acpi_old, out, m);
		if (rc != 0)
			return rc;
	}
	bootinfo_warnings(out, f.nmod, m);
	return 0;
}

int mb2_parse(uint64_t info_phys, const struct phys_access *pa, struct boot_info *out, char *err,
              size_t errlen)
{
	return fw_parse(info_phys, pa, out, sizeof(*out), err, errlen, parse);
}
