/*
 * test_mb2.c - mb2_parse() against synthetic Multiboot2 information.
 *
 * "Physical memory" is a heap buffer; a physical address is an offset into it. The map
 * callback is strict: it hands the parser a fresh heap copy of exactly the bytes asked for, so
 * AddressSanitizer reports any read past a range the parser mapped, not only past the buffer.
 * The well-formed cases imitate what GRUB 2.06 passes under SeaBIOS (ACPI 1.0 RSDP) and under
 * OVMF (ACPI 2.0 RSDP, EFI tags); then malformed variants, one case where acpi_parse() reads
 * the tables through the RSDP copy inside the information, and a bounded random-mutation run.
 */
#include "tests/unit/test.h"
#include "tests/unit/fakemem.h"

#include <isle/errno.h>

#include "arch/x86_64/firmware.h"

static char err[256];       /* message from the last parse */
static struct boot_info bi; /* result of the last parse (too big for the stack of a test) */

#define MBI_AT 0x1000 /* the information */
#define XSDT_AT 0x6000
#define MADT_AT 0x6100
#define MEM_SIZE 0x8000

static int parse(uint64_t at)
{
	struct phys_access pa = { fake_map, NULL };
	int rc;

	rc = mb2_parse(at, &pa, &bi, err, sizeof(err));
	fake_release();
	return rc;
}

/* ---- an information builder -------------------------------------------------------------- */

static uint64_t at;      /* where the next byte goes */
static uint64_t tag_at;  /* start of the open tag */
static uint64_t rsdp_at; /* where the last RSDP copy was put */

static void put(const void *p, size_t n)
{
	memcpy(mem + at, p, n);
	at += n;
}

static void put32(uint32_t v)
{
	put(&v, sizeof(v));
}

static void put64(uint64_t v)
{
	put(&v, sizeof(v));
}

static void put_str(const char *s)
{
	put(s, strlen(s) + 1);
}

static void info_begin(void)
{
	mem_new(MEM_SIZE);
	at = MBI_AT + 8;
}

static void tag_begin(uint32_t type)
{
	tag_at = at;
	put32(type);
	put32(0);
}

/* Closes the open tag: its size, then padding to 8 bytes. */
static void tag_end(void)
{
	w32(tag_at + 4, (uint32_t)(at - tag_at));
	at = (at + 7) & ~7ull;
}

static void info_end(void)
{
	tag_begin(0);
	tag_end();
	w32(MBI_AT, (uint32_t)(at - MBI_AT));
	w32(MBI_AT + 4, 0);
}

static void mmap_entry(uint64_t base, uint64_t len, uint32_t type, uint32_t esize)
{
	uint64_t start = at;

	put64(base);
	put64(len);
	put32(type);
	put32(0);
	while (at < start + esize)
		put32(0xeeeeeeee); /* fields of a later entry version: ignored */
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* An RSDP copy: revision 0 (20 bytes) pointing at the RSDT, or 2 (36 bytes) at the XSDT. */
static void put_rsdp(unsigned revision, uint64_t root)
{
	uint8_t r[36] = "RSD PTR ";
	size_t n = revision >= 2 ? 36 : 20;

	memcpy(r + 9, "BOCHS ", 6);
	r[15] = (uint8_t)revision;
	if (revision >= 2) {
		uint32_t len = 36;

		memcpy(r + 20, &len, 4);
		memcpy(r + 24, &root, 8);
	} else {
		uint32_t rsdt = (uint32_t)root;

		memcpy(r + 16, &rsdt, 4);
	}
	r[8] = (uint8_t)-sum(r, 20);
	if (revision >= 2)
		r[32] = (uint8_t)-sum(r, 36);
	rsdp_at = at;
	put(r, n);
}

/* The common part: command line, loader name, a module, basic memory info, boot device. */
static void build_head(const char *cmdline)
{
	info_begin();
	tag_begin(1);
	put_str(cmdline);
	tag_end();
	tag_begin(2);
	put_str("GRUB 2.06-13+deb12u2");
	tag_end();
	tag_begin(3);
	put32(0x1ff5000);
	put32(0x1ff5000 + 0x10360);
	put_str("initrd");
	tag_end();
	tag_begin(4); /* basic memory information: ignored */
	put32(639);
	put32(523136);
	tag_end();
	tag_begin(5); /* boot device: ignored */
	put32(0x80);
	put32(0);
	put32(0xffffffff);
	tag_end();
}

/* What GRUB's BIOS build passes for a 512 MiB q35 guest under SeaBIOS. */
static void build_bios(void)
{
	build_head("loglevel=debug -- root=/");
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0, 0x9fc00, 1, 24);
	mmap_entry(0x9fc00, 0x400, 2, 24);
	mmap_entry(0xf0000, 0x10000, 2, 24);
	mmap_entry(0x100000, 0x1fee0000, 1, 24);
	mmap_entry(0x1ffe0000, 0x20000, 2, 24);
	mmap_entry(0xb0000000, 0x10000000, 2, 24);
	mmap_entry(0xfed1c000, 0x4000, 2, 24);
	mmap_entry(0xfeffc000, 0x4000, 2, 24);
	mmap_entry(0xfffc0000, 0x40000, 2, 24);
	tag_end();
	tag_begin(14);
	put_rsdp(0, 0x1ffe2000);
	tag_end();
	info_end();
}

/* What GRUB's UEFI build passes under OVMF: EFI tags, an ACPI 2.0 RSDP after the 1.0 one. */
static void build_uefi(uint32_t esize)
{
	build_head("");
	tag_begin(6);
	put32(esize);
	put32(0);
	mmap_entry(0, 0xa0000, 1, esize);
	mmap_entry(0x100000, 0x700000, 1, esize);
	mmap_entry(0x800000, 0x8000, 4, esize);
	mmap_entry(0x808000, 0x8000, 1, esize);
	mmap_entry(0x810000, 0xf0000, 4, esize);
	mmap_entry(0x900000, 0x1e5e0000, 1, esize);
	mmap_entry(0x1eee0000, 0x20000, 3, esize);
	mmap_entry(0x1ef00000, 0x100000, 2, esize);
	mmap_entry(0xb0000000, 0x10000000, 2, esize);
	tag_end();
	tag_begin(12); /* EFI 64-bit system table: ignored */
	put64(0x1f9ee018);
	tag_end();
	tag_begin(14);
	put_rsdp(0, 0x1fb7e000);
	tag_end();
	tag_begin(15);
	put_rsdp(2, XSDT_AT);
	tag_end();
	tag_begin(17); /* EFI memory map: ignored */
	put32(48);
	put32(1);
	for (unsigned i = 0; i < 48; i++)
		put(&i, 1);
	tag_end();
	info_end();
}

/* Offset of the first tag of a type in the information built (the end tag too), 0 if none. */
static uint64_t find_tag(uint32_t type)
{
	for (uint64_t p = MBI_AT + 8;; p += (r32(p + 4) + 7) & ~7u) {
		if (r32(p) == type)
			return p;
		if (r32(p) == 0)
			return 0;
	}
}

static void check_map(const struct boot_mem *want, unsigned n)
{
	CHECK_EQ(bi.nmem, n);
	for (unsigned i = 0; i < n && i < bi.nmem; i++) {
		CHECK_EQ(bi.mem[i].base, want[i].base);
		CHECK_EQ(bi.mem[i].len, want[i].len);
		CHECK_EQ(bi.mem[i].type, want[i].type);
	}
}

/* ---- well-formed input ------------------------------------------------------------------- */

TEST(grub_bios)
{
	static const struct boot_mem want[] = {
		{ 0, 0x9fc00, 1 },          { 0x9fc00, 0x400, 2 },
		{ 0xf0000, 0x10000, 2 },    { 0x100000, 0x1fee0000, 1 },
		{ 0x1ffe0000, 0x20000, 2 }, { 0xb0000000, 0x10000000, 2 },
		{ 0xfed1c000, 0x4000, 2 },  { 0xfeffc000, 0x4000, 2 },
		{ 0xfffc0000, 0x40000, 2 },
	};

	build_bios();
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_STR(err, "");
	check_map(want, ARRAY_SIZE(want));
	CHECK_STR(bi.cmdline, "loglevel=debug -- root=/");
	CHECK(!bi.cmdline_truncated);
	CHECK_STR(bi.loader, "GRUB 2.06-13+deb12u2");
	CHECK_EQ(bi.nmod, 1);
	CHECK_EQ(bi.mod[0].base, 0x1ff5000);
	CHECK_EQ(bi.mod[0].len, 0x10360);
	CHECK_STR(bi.mod[0].cmdline, "initrd");
	CHECK_EQ(bi.rsdp, rsdp_at);
	CHECK(memcmp(mem + bi.rsdp, "RSD PTR ", 8) == 0);
}

/* The ACPI 2.0 tag wins over the 1.0 one; longer map entries are read by their first 24 bytes. */
TEST(grub_uefi)
{
	static const struct boot_mem want[] = {
		{ 0, 0xa0000, 1 },
		{ 0x100000, 0x700000, 1 },
		{ 0x800000, 0x8000, 4 },
		{ 0x808000, 0x8000, 1 },
		{ 0x810000, 0xf0000, 4 },
		{ 0x900000, 0x1e5e0000, 1 },
		{ 0x1eee0000, 0x20000, 3 },
		{ 0x1ef00000, 0x100000, 2 },
		{ 0xb0000000, 0x10000000, 2 },
	};

	for (uint32_t esize = 24; esize <= 40; esize += 8) {
		build_uefi(esize);
		REQUIRE(parse(MBI_AT) == 0);
		CHECK_STR(err, "");
		check_map(want, ARRAY_SIZE(want));
		CHECK_STR(bi.cmdline, "");
		CHECK_EQ(bi.rsdp, find_tag(15) + 8);
		CHECK_EQ(mem[bi.rsdp + 15], 2);
	}
}

/* The same raw map as test_pvh.c's unsorted_overlapping gives the same normalised map. */
TEST(normalised_like_pvh)
{
	static const struct boot_mem want[] = {
		{ 0, 0x90000, 1 },        { 0x100000, 0x150000, 1 }, { 0x250000, 0x10000, 2 },
		{ 0x260000, 0x90000, 1 }, { 0x2f0000, 0x20000, 3 },
	};

	info_begin();
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0x100000, 0x100000, 1, 24);
	mmap_entry(0, 0x80000, 1, 24);
	mmap_entry(0x180000, 0x180000, 1, 24);
	mmap_entry(0x250000, 0x10000, 2, 24);
	mmap_entry(0x80000, 0x10000, 1, 24);
	mmap_entry(0x5000000, 0, 2, 24);
	mmap_entry(0x2f0000, 0x20000, 3, 24);
	mmap_entry(0x100000, 0x1000, 1, 24);
	tag_end();
	info_end();
	REQUIRE(parse(MBI_AT) == 0);
	check_map(want, ARRAY_SIZE(want));
	CHECK_STR(bi.cmdline, "");
	CHECK_STR(bi.loader, "");
	CHECK_EQ(bi.nmod, 0);
	CHECK_EQ(bi.rsdp, 0);
}

/* More than BOOT_MAX_MODULES modules, long and unterminated command lines, modules of 0 bytes. */
TEST(modules)
{
	static const char long_cmd[] = "a-module-command-line-that-is-much-longer-than-the-sixty-"
	                               "three-bytes-kept";

	info_begin();
	for (unsigned i = 0; i < 10; i++) {
		tag_begin(3);
		put32(0x100000 * (i + 1));
		put32(0x100000 * (i + 1) + (i == 3 ? 0 : 0x1000 + i));
		if (i == 1)
			put_str(long_cmd);
		else if (i == 2)
			put("abc", 3); /* no NUL: cut at the tag's end */
		else if (i != 4)
			put_str("m");
		tag_end();
	}
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0, 0x10000000, 1, 24);
	tag_end();
	info_end();
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_EQ(bi.nmod, BOOT_MAX_MODULES);
	CHECK(bi.mod_truncated);
	CHECK_STR(bi.mod[0].cmdline, "m");
	CHECK(!bi.mod[0].cmdline_truncated);
	CHECK_EQ(strlen(bi.mod[1].cmdline), BOOT_MOD_CMDLINE_MAX - 1);
	CHECK(strncmp(bi.mod[1].cmdline, long_cmd, BOOT_MOD_CMDLINE_MAX - 1) == 0);
	CHECK(bi.mod[1].cmdline_truncated);
	CHECK_STR(bi.mod[2].cmdline, "abc");
	CHECK(bi.mod[2].cmdline_truncated);
	CHECK_EQ(bi.mod[3].len, 0);
	CHECK_STR(bi.mod[4].cmdline, "");
	CHECK(bi.mod[4].cmdline_truncated);
	CHECK_EQ(bi.mod[7].base, 0x800000);
	CHECK_EQ(bi.mod[7].len, 0x1007);
	CHECK(strstr(err, "10 modules passed") != NULL);
}

TEST(cmdline_lengths)
{
	static char line[5001];

	/* Exactly BOOT_CMDLINE_MAX - 1 bytes fit. */
	memset(line, 'x', BOOT_CMDLINE_MAX - 1);
	line[BOOT_CMDLINE_MAX - 1] = '\0';
	build_head(line);
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0, 0x10000000, 1, 24);
	tag_end();
	info_end();
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(!bi.cmdline_truncated);
	CHECK_STR(err, "");

	/* 5000 bytes do not. */
	for (unsigned i = 0; i < 5000; i++)
		line[i] = (char)('a' + i % 26);
	line[5000] = '\0';
	build_head(line);
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0, 0x10000000, 1, 24);
	tag_end();
	info_end();
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(bi.cmdline_truncated);
	CHECK(strstr(err, "command line truncated") != NULL);

	/* Not terminated inside its tag: cut at the tag's end. */
	build_bios();
	mem[find_tag(1) + 8 + strlen("loglevel=debug -- root=/")] = 'X';
	w32(find_tag(1) + 4, 8 + (uint32_t)strlen("loglevel=debug -- root=/X"));
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_STR(bi.cmdline, "loglevel=debug -- root=/X");
	CHECK(bi.cmdline_truncated);
}

/* Tags the parser does not know are skipped, whatever their size. */
TEST(unknown_tags)
{
	info_begin();
	tag_begin(21); /* image load base */
	put32(0x100000);
	tag_end();
	tag_begin(0x7fffffff);
	for (unsigned i = 0; i < 13; i++)
		put("z", 1);
	tag_end();
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0x100000, 0x100000, 1, 24);
	tag_end();
	tag_begin(9); /* ELF sections */
	put32(0);
	tag_end();
	info_end();
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_EQ(bi.nmem, 1);
}

/* The RSDP recorded is one acpi_parse() accepts: it reads the tables through the tag's copy. */
TEST(rsdp_to_acpi)
{
	static const uint8_t lapic[2][8] = { { 0, 8, 0, 0, 1, 0, 0, 0 },
		                             { 0, 8, 1, 1, 1, 0, 0, 0 } };
	struct phys_access pa = { fake_map, NULL };
	struct acpi_info *ai = calloc(1, sizeof(*ai));
	uint32_t madt_len = 44 + sizeof(lapic);

	REQUIRE(ai != NULL);
	build_uefi(24);
	/* XSDT with one entry, the MADT with the LAPIC address and two enabled CPUs. */
	memcpy(mem + XSDT_AT, "XSDT", 4);
	w32(XSDT_AT + 4, 36 + 8);
	mem[XSDT_AT + 8] = 1;
	w64(XSDT_AT + 36, MADT_AT);
	mem[XSDT_AT + 9] = (uint8_t)-sum(mem + XSDT_AT, 44);
	memcpy(mem + MADT_AT, "APIC", 4);
	w32(MADT_AT + 4, madt_len);
	mem[MADT_AT + 8] = 5;
	w32(MADT_AT + 36, 0xfee00000);
	w32(MADT_AT + 40, 1);
	memcpy(mem + MADT_AT + 44, lapic, sizeof(lapic));
	mem[MADT_AT + 9] = (uint8_t)-sum(mem + MADT_AT, madt_len);
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_EQ(acpi_parse(bi.rsdp, &pa, ai, err, sizeof(err)), 0);
	fake_release();
	CHECK_STR(err, "");
	CHECK_EQ(ai->ncpus, 2);
	CHECK_EQ(ai->apic_id[1], 1);
	CHECK_EQ(ai->lapic_phys, 0xfee00000);
	free(ai);
}

/* ---- malformed input --------------------------------------------------------------------- */

TEST(bad_header)
{
	build_bios();
	CHECK_EQ(parse(MBI_AT + 4), -EINVAL);
	CHECK(strstr(err, "aligned") != NULL);
	CHECK_EQ(parse(MEM_SIZE), -EFAULT);
	CHECK_EQ(parse(~7ull), -EFAULT);

	w32(MBI_AT, 15);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	w32(MBI_AT, MB2_INFO_MAX + 8);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "total size") != NULL);
	w32(MBI_AT, MEM_SIZE - MBI_AT + 8); /* runs past the end of memory */
	CHECK_EQ(parse(MBI_AT), -EFAULT);
	CHECK_EQ(bi.nmem, 0);
}

TEST(bad_tags)
{
	uint64_t mmap;

	/* A tag shorter than its header. */
	build_bios();
	w32(find_tag(2) + 4, 7);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "tag 2") != NULL);

	/* A tag running past the total size. */
	build_bios();
	w32(find_tag(14) + 4, r32(MBI_AT));
	CHECK_EQ(parse(MBI_AT), -EINVAL);

	/* The total size ends before the end tag. */
	build_bios();
	w32(MBI_AT, r32(MBI_AT) - 8);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "without an end tag") != NULL);

	/* An end tag of the wrong size. */
	build_bios();
	w32(find_tag(0) + 4, 16);
	w32(MBI_AT, r32(MBI_AT) + 8);
	CHECK_EQ(parse(MBI_AT), -EINVAL);

	/* A tag whose size, padded to 8 bytes, reaches past the total. */
	info_begin();
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0, 0x100000, 1, 24);
	tag_end();
	tag_begin(99);
	put32(1);
	tag_end();
	w32(MBI_AT, (uint32_t)(at - MBI_AT - 4)); /* ends inside the padding of tag 99 */
	CHECK_EQ(parse(MBI_AT), -EINVAL);

	/* Single tags twice. */
	static const uint32_t twice[] = { 1, 2, 6, 14 };
	for (unsigned i = 0; i < ARRAY_SIZE(twice); i++) {
		build_bios();
		w32(find_tag(5), twice[i]); /* the boot device tag becomes a second one */
		CHECK_EQ(parse(MBI_AT), -EINVAL);
		CHECK(strstr(err, "a second tag") != NULL);
	}

	/* A module tag without its fixed part, at address 0, or ending before its start. */
	build_bios();
	w32(find_tag(3) + 4, 12);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	build_bios();
	w32(find_tag(3) + 8, 0);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	build_bios();
	w32(find_tag(3) + 12, 0x1ff4fff);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "before it starts") != NULL);

	/* Memory map: entries shorter than 24 bytes, not a whole number of them (9 entries of 24
	 * bytes read as 32-byte ones), no room for its fixed part, no entries. */
	build_bios();
	mmap = find_tag(6);
	w32(mmap + 8, 16);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "at least 24") != NULL);
	build_bios();
	w32(mmap + 8, 0);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	build_bios();
	w32(mmap + 8, 32);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "whole number") != NULL);
	info_begin();
	tag_begin(6);
	put32(24);
	tag_end();
	info_end();
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "memory map tag has size 12") != NULL);
	info_begin();
	tag_begin(6);
	put32(24);
	put32(0);
	tag_end();
	info_end();
	CHECK_EQ(parse(MBI_AT), -ENOENT);
	build_bios();
	w64(mmap + 16 + 24 * 3, 0xfffffffffff00000ull); /* entry 3 wraps */
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "entry 3") != NULL);
	build_bios();
	w32(mmap, 99); /* no memory map at all */
	CHECK_EQ(parse(MBI_AT), -ENOENT);
	CHECK(strstr(err, "no memory map") != NULL);
	CHECK_EQ(bi.nmod, 0);
}

TEST(too_many_entries)
{
	mem_new(MEM_SIZE * 8);
	at = MBI_AT + 8;
	tag_begin(6);
	put32(24);
	put32(0);
	for (unsigned i = 0; i <= BOOT_MAX_MEM_RAW; i++)
		mmap_entry(0x1000 * (uint64_t)i, 0x1000, 1 + i % 2, 24);
	tag_end();
	info_end();
	CHECK_EQ(parse(MBI_AT), -E2BIG);

	/* BOOT_MAX_MEM_RAW entries are accepted; the normalised map keeps the lowest ones. */
	w32(MBI_AT + 8 + 4, 16 + 24 * BOOT_MAX_MEM_RAW);
	w32(MBI_AT + 8 + 16 + 24 * BOOT_MAX_MEM_RAW, 0);
	w32(MBI_AT + 8 + 16 + 24 * BOOT_MAX_MEM_RAW + 4, 8);
	w32(MBI_AT, 8 + 16 + 24 * BOOT_MAX_MEM_RAW + 8);
	REQUIRE(parse(MBI_AT) == 0);
	CHECK_EQ(bi.nmem, BOOT_MAX_MEM);
	CHECK(bi.mem_truncated);
	CHECK(strstr(err, "dropped") != NULL);
}

/* A memory map and one RSDP tag holding `held` bytes of an RSDP of that revision. */
static void build_rsdp(uint32_t type, unsigned revision, uint32_t held, uint32_t length)
{
	info_begin();
	tag_begin(6);
	put32(24);
	put32(0);
	mmap_entry(0, 0x100000, 1, 24);
	tag_end();
	tag_begin(type);
	put_rsdp(revision, XSDT_AT);
	if (revision >= 2)
		w32(rsdp_at + 20, length);
	if (rsdp_at + held < at)
		memset(mem + rsdp_at + held, 0, at - (rsdp_at + held));
	at = rsdp_at + held;
	tag_end();
	info_end();
}

TEST(bad_rsdp)
{
	/* Shorter than the 20 bytes of revision 0. */
	build_rsdp(14, 0, 19, 0);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "tag 14 holds 19 bytes of an RSDP that needs 20") != NULL);
	build_rsdp(14, 0, 20, 0);
	CHECK_EQ(parse(MBI_AT), 0);
	CHECK_EQ(bi.rsdp, rsdp_at);

	/* Revision 2 in 20 bytes, or a length field past the tag. */
	build_rsdp(15, 2, 20, 36);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "needs 36") != NULL);
	build_rsdp(15, 2, 36, 37);
	CHECK_EQ(parse(MBI_AT), -EINVAL);
	CHECK(strstr(err, "needs 37") != NULL);
	build_rsdp(15, 2, 40, 40);
	CHECK_EQ(parse(MBI_AT), 0);

	/* A revision 2 RSDP in the ACPI 1.0 tag is held to the same rule. */
	build_rsdp(14, 2, 20, 36);
	CHECK_EQ(parse(MBI_AT), -EINVAL);

	/* A short length field is acpi_parse()'s to reject; the tag holds what it reads. */
	build_rsdp(15, 2, 36, 20);
	CHECK_EQ(parse(MBI_AT), 0);
}

TEST(arguments)
{
	struct phys_access pa = { fake_map, NULL };
	struct phys_access nomap = { NULL, NULL };
	char small[4];

	build_bios();
	CHECK_EQ(mb2_parse(MBI_AT, NULL, &bi, err, sizeof(err)), -EINVAL);
	CHECK_EQ(mb2_parse(MBI_AT, &nomap, &bi, err, sizeof(err)), -EINVAL);
	CHECK_EQ(mb2_parse(MBI_AT, &pa, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ(mb2_parse(MBI_AT, &pa, &bi, NULL, 0), 0);
	CHECK_EQ(mb2_parse(MBI_AT + 1, &pa, &bi, small, sizeof(small)), -EINVAL);
	CHECK_STR(small, "inf");
	fake_release();
}

/* ---- random mutation --------------------------------------------------------------------- */

/* Checks the promises of struct boot_info and mb2_parse() after a successful parse. */
static void check_invariants(void)
{
	uint32_t total = r32(MBI_AT);
	bool ram = false;

	CHECK(bi.nmem >= 1 && bi.nmem <= BOOT_MAX_MEM);
	for (unsigned i = 0; i < bi.nmem && i < BOOT_MAX_MEM; i++) {
		const struct boot_mem *m = &bi.mem[i];

		CHECK(m->len > 0);
		CHECK(m->base + m->len > m->base);
		if (i > 0) {
			const struct boot_mem *p = &bi.mem[i - 1];

			CHECK(p->base + p->len <= m->base);
			CHECK(p->base + p->len < m->base || p->type != m->type);
		}
		ram |= m->type == BOOT_MEM_RAM;
	}
	CHECK(ram);
	CHECK(memchr(bi.cmdline, '\0', sizeof(bi.cmdline)) != NULL);
	CHECK(memchr(bi.loader, '\0', sizeof(bi.loader)) != NULL);
	CHECK(bi.nmod <= BOOT_MAX_MODULES);
	for (unsigned i = 0; i < bi.nmod && i < BOOT_MAX_MODULES; i++) {
		CHECK(bi.mod[i].base != 0);
		CHECK(memchr(bi.mod[i].cmdline, '\0', sizeof(bi.mod[i].cmdline)) != NULL);
	}
	/* The RSDP lies inside the information, with all the bytes its revision needs. */
	if (bi.rsdp != 0) {
		uint32_t need = mem[bi.rsdp + 15] >= 2 ? r32(bi.rsdp + 20) : 20;

		CHECK(bi.rsdp >= MBI_AT + 16 && bi.rsdp + 20 <= MBI_AT + total);
		if (mem[bi.rsdp + 15] >= 2)
			CHECK(bi.rsdp + (need > 36 ? need : 36) <= MBI_AT + total);
	}
}

/* Flips bytes of the header, the tag headers, the memory map, modules, strings and RSDPs. */
TEST(mutations)
{
	uint8_t *pristine;
	unsigned iter, ok = 0, nareas = 0;
	struct fake_area areas[24];

	build_uefi(24);
	areas[nareas].at = MBI_AT;
	areas[nareas++].len = 8;
	for (uint64_t p = MBI_AT + 8;; p += (r32(p + 4) + 7) & ~7u) {
		areas[nareas].at = p; /* the tag header: type and size */
		areas[nareas++].len = 8;
		if (r32(p) == 0)
			break;
		areas[nareas].at = p + 8; /* its payload */
		areas[nareas++].len = r32(p + 4) - 8;
	}
	pristine = mem;
	mem = malloc(MEM_SIZE);
	if (mem == NULL)
		abort();
	for (iter = 0; iter < 20000; iter++) {
		fake_mutate(pristine, MEM_SIZE, areas, nareas);
		if (parse(MBI_AT) == 0) {
			ok++;
			check_invariants();
		} else {
			CHECK_EQ(bi.nmem, 0);
			CHECK(err[0] != '\0');
		}
	}
	fprintf(stderr, "  mutations: %u of %u parsed\n", ok, iter);
	CHECK(ok > 1000);
	free(pristine);
}

int main(void)
{
	RUN(grub_bios);
	RUN(grub_uefi);
	RUN(normalised_like_pvh);
	RUN(modules);
	RUN(cmdline_lengths);
	RUN(unknown_tags);
	RUN(rsdp_to_acpi);
	RUN(bad_header);
	RUN(bad_tags);
	RUN(too_many_entries);
	RUN(bad_rsdp);
	RUN(arguments);
	RUN(mutations);
	free(mem);
	TEST_EXIT();
}
