/*
 * test_pvh.c - pvh_parse() against synthetic start info.
 *
 * "Physical memory" is a heap buffer; a physical address is an offset into it. The map
 * callback is strict: it hands the parser a fresh heap copy of exactly the bytes asked for, so
 * AddressSanitizer reports any read past a range the parser mapped, not only past the buffer.
 */
#include "tests/unit/test.h"
#include "tests/unit/fakemem.h"

#include <isle/errno.h>

#include "arch/x86_64/firmware.h"

/* ---- fake physical memory ---------------------------------------------------------------- */

static char err[256];       /* message from the last parse */
static struct boot_info bi; /* result of the last parse (too big for the stack of a test) */

#define SI_AT 0x100      /* start info */
#define MMAP_AT 0x200    /* memory map, room for 320 entries */
#define MODS_AT 0x2000   /* module list */
#define MODCMD_AT 0x2400 /* module command lines, 0x40 apart */
#define CMD_AT 0x3000    /* kernel command line */
#define MEM_SIZE 0x8000

static int parse(uint64_t si)
{
	struct phys_access pa = { fake_map, NULL };
	int rc;

	rc = pvh_parse(si, &pa, &bi, err, sizeof(err));
	fake_release();
	return rc;
}

static void start_info(uint32_t magic, uint32_t version, uint32_t nmods, uint64_t cmdline,
                       uint64_t rsdp, uint32_t nmmap)
{
	w32(SI_AT, magic);
	w32(SI_AT + 4, version);
	w32(SI_AT + 8, 0);
	w32(SI_AT + 12, nmods);
	w64(SI_AT + 16, nmods ? MODS_AT : 0);
	w64(SI_AT + 24, cmdline);
	w64(SI_AT + 32, rsdp);
	w64(SI_AT + 40, nmmap ? MMAP_AT : 0);
	w32(SI_AT + 48, nmmap);
	w32(SI_AT + 52, 0);
}

static void mmap_entry(unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	w64(MMAP_AT + 24 * i, addr);
	w64(MMAP_AT + 24 * i + 8, size);
	w32(MMAP_AT + 24 * i + 16, type);
	w32(MMAP_AT + 24 * i + 20, 0);
}

static void module(unsigned i, uint64_t base, uint64_t size, const char *cmdline)
{
	w64(MODS_AT + 32 * i, base);
	w64(MODS_AT + 32 * i + 8, size);
	w64(MODS_AT + 32 * i + 16, cmdline ? MODCMD_AT + 0x40 * i : 0);
	w64(MODS_AT + 32 * i + 24, 0);
	if (cmdline)
		memcpy(mem + MODCMD_AT + 0x40 * i, cmdline, strlen(cmdline) + 1);
}

/* What QEMU -kernel builds for a 128 MiB pc guest with an initrd. */
static void build_qemu(void)
{
	static const char cmdline[] = "console=ttyS0 isle.cores=4";

	mem_new(MEM_SIZE);
	start_info(PVH_START_MAGIC, 1, 1, CMD_AT, 0xf5a40, 5);
	mmap_entry(0, 0, 0x9fc00, 1);
	mmap_entry(1, 0x9fc00, 0x400, 2);
	mmap_entry(2, 0xf0000, 0x10000, 2);
	mmap_entry(3, 0x100000, 0x7ee0000, 1);
	mmap_entry(4, 0xfffc0000, 0x40000, 2);
	module(0, 0x7000000, 0x12345, "initrd");
	memcpy(mem + CMD_AT, cmdline, sizeof(cmdline));
}

static void check_map(const struct boot_mem *want, unsigned n)
{
	unsigned i;

	CHECK_EQ(bi.nmem, n);
	for (i = 0; i < n && i < bi.nmem; i++) {
		CHECK_EQ(bi.mem[i].base, want[i].base);
		CHECK_EQ(bi.mem[i].len, want[i].len);
		CHECK_EQ(bi.mem[i].type, want[i].type);
	}
}

/* ---- well-formed input ------------------------------------------------------------------- */

TEST(qemu)
{
	static const struct boot_mem want[] = {
		{ 0, 0x9fc00, 1 },          { 0x9fc00, 0x400, 2 },      { 0xf0000, 0x10000, 2 },
		{ 0x100000, 0x7ee0000, 1 }, { 0xfffc0000, 0x40000, 2 },
	};

	build_qemu();
	REQUIRE(parse(SI_AT) == 0);
	CHECK_STR(err, "");
	check_map(want, ARRAY_SIZE(want));
	CHECK(!bi.mem_truncated);
	CHECK_STR(bi.cmdline, "console=ttyS0 isle.cores=4");
	CHECK(!bi.cmdline_truncated);
	CHECK_EQ(bi.rsdp, 0xf5a40);
	CHECK_EQ(bi.nmod, 1);
	CHECK_EQ(bi.mod[0].base, 0x7000000);
	CHECK_EQ(bi.mod[0].len, 0x12345);
	CHECK_STR(bi.mod[0].cmdline, "initrd");
	CHECK(!bi.mod_truncated);
}

/* Later versions only append fields: read as version 1. No command line, no RSDP. */
TEST(version2_minimal)
{
	build_qemu();
	start_info(PVH_START_MAGIC, 2, 0, 0, 0, 5);
	REQUIRE(parse(SI_AT) == 0);
	CHECK_EQ(bi.nmem, 5);
	CHECK_STR(bi.cmdline, "");
	CHECK_EQ(bi.rsdp, 0);
	CHECK_EQ(bi.nmod, 0);
}

TEST(unsorted_overlapping)
{
	static const struct boot_mem want[] = {
		{ 0, 0x90000, 1 },        { 0x100000, 0x150000, 1 }, { 0x250000, 0x10000, 2 },
		{ 0x260000, 0x90000, 1 }, { 0x2f0000, 0x20000, 3 },
	};

	build_qemu();
	start_info(PVH_START_MAGIC, 1, 0, 0, 0, 8);
	mmap_entry(0, 0x100000, 0x100000, 1);
	mmap_entry(1, 0, 0x80000, 1);
	mmap_entry(2, 0x180000, 0x180000, 1); /* overlaps the first */
	mmap_entry(3, 0x250000, 0x10000, 2);  /* a hole punched in RAM */
	mmap_entry(4, 0x80000, 0x10000, 1);   /* adjacent to entry 1 */
	mmap_entry(5, 0x5000000, 0, 2);       /* zero length: skipped */
	mmap_entry(6, 0x2f0000, 0x20000, 3);  /* overlaps the end of RAM */
	mmap_entry(7, 0x100000, 0x1000, 1);   /* duplicate */
	REQUIRE(parse(SI_AT) == 0);
	check_map(want, ARRAY_SIZE(want));
}

/* Where non-RAM types overlap: ACPI loses to reserved, otherwise the larger type wins. */
TEST(type_precedence)
{
	static const struct boot_mem want[] = {
		{ 0x0, 0x1000, 3 },    { 0x1000, 0x1000, 2 }, { 0x2000, 0x1000, 4 },
		{ 0x3000, 0x1000, 2 }, { 0x4000, 0x4000, 1 },
	};

	build_qemu();
	start_info(PVH_START_MAGIC, 1, 0, 0, 0, 5);
	mmap_entry(0, 0x0, 0x8000, 1);
	mmap_entry(1, 0x0, 0x2000, 3);
	mmap_entry(2, 0x1000, 0x3000, 2);
	mmap_entry(3, 0x2000, 0x1000, 4);
	mmap_entry(4, 0x2000, 0x800, 3);
	REQUIRE(parse(SI_AT) == 0);
	check_map(want, ARRAY_SIZE(want));
}

/* Entries up to the very top of the address space are fine. */
TEST(top_of_memory)
{
	build_qemu();
	start_info(PVH_START_MAGIC, 1, 0, 0, 0, 2);
	mmap_entry(0, 0x100000, 0x100000, 1);
	mmap_entry(1, 0xfffffffffffff000ull, 0xfff, 2);
	REQUIRE(parse(SI_AT) == 0);
	CHECK_EQ(bi.nmem, 2);
	CHECK_EQ(bi.mem[1].base + bi.mem[1].len, 0xffffffffffffffffull);
}

/* More pieces than mem[] holds: the lowest BOOT_MAX_MEM are kept, with a warning. */
TEST(too_many_pieces)
{
	unsigned i;

	build_qemu();
	start_info(PVH_START_MAGIC, 1, 0, 0, 0, 200);
	for (i = 0; i < 200; i++)
		mmap_entry(199 - i, 0x100000 * (uint64_t)i, 0x80000, i % 2 ? 1 : 2);
	REQUIRE(parse(SI_AT) == 0);
	CHECK_EQ(bi.nmem, BOOT_MAX_MEM);
	CHECK(bi.mem_truncated);
	CHECK_EQ(bi.mem[BOOT_MAX_MEM - 1].base, 0x100000 * (uint64_t)(BOOT_MAX_MEM - 1));
	CHECK(strstr(err, "dropped") != NULL);
}

TEST(modules)
{
	static const char long_cmd[] = "a-module-command-line-that-is-much-longer-than-the-sixty-"
	                               "three-bytes-kept";
	unsigned i;

	build_qemu();
	start_info(PVH_START_MAGIC, 1, 10, 0, 0, 5);
	for (i = 0; i < 10; i++)
		module(i, 0x1000000 * (uint64_t)(i + 1), 0x1000 + i, i == 2 ? NULL : "m");
	module(1, 0x2000000, 0x1001, NULL);
	w64(MODS_AT + 32 + 16, CMD_AT);
	memcpy(mem + CMD_AT, long_cmd, sizeof(long_cmd));
	REQUIRE(parse(SI_AT) == 0);
	CHECK_EQ(bi.nmod, BOOT_MAX_MODULES);
	CHECK(bi.mod_truncated);
	CHECK_STR(bi.mod[0].cmdline, "m");
	CHECK_EQ(strlen(bi.mod[1].cmdline), BOOT_MOD_CMDLINE_MAX - 1);
	CHECK(strncmp(bi.mod[1].cmdline, long_cmd, BOOT_MOD_CMDLINE_MAX - 1) == 0);
	CHECK(bi.mod[1].cmdline_truncated);
	CHECK_STR(bi.mod[2].cmdline, "");
	CHECK_EQ(bi.mod[7].base, 0x8000000);
	CHECK_EQ(bi.mod[7].len, 0x1007);
	CHECK(strstr(err, "modules") != NULL);
}

TEST(module_errors)
{
	build_qemu();
	module(0, 0, 0x1000, NULL);
	CHECK_EQ(parse(SI_AT), -EINVAL);

	build_qemu();
	module(0, 0xfffffffffffff000ull, 0x2000, NULL);
	CHECK_EQ(parse(SI_AT), -EINVAL);

	build_qemu();
	w64(SI_AT + 16, 0);
	CHECK_EQ(parse(SI_AT), -EINVAL);

	build_qemu();
	w64(SI_AT + 16, MEM_SIZE - 16);
	CHECK_EQ(parse(SI_AT), -EFAULT);

	build_qemu();
	w64(MODS_AT + 16, MEM_SIZE + 5);
	CHECK_EQ(parse(SI_AT), -EFAULT);
	CHECK_EQ(bi.nmod, 0);
	CHECK_EQ(bi.nmem, 0);
}

TEST(cmdline_lengths)
{
	unsigned i;

	/* Exactly BOOT_CMDLINE_MAX - 1 bytes fit. */
	build_qemu();
	memset(mem + CMD_AT, 'x', BOOT_CMDLINE_MAX - 1);
	mem[CMD_AT + BOOT_CMDLINE_MAX - 1] = '\0';
	REQUIRE(parse(SI_AT) == 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(!bi.cmdline_truncated);
	CHECK_STR(err, "");

	/* 5000 bytes do not. */
	build_qemu();
	for (i = 0; i < 5000; i++)
		mem[CMD_AT + i] = 'a' + i % 26;
	REQUIRE(parse(SI_AT) == 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(bi.cmdline_truncated);
	CHECK_EQ(bi.cmdline[BOOT_CMDLINE_MAX - 2], 'a' + (BOOT_CMDLINE_MAX - 2) % 26);
	CHECK(strstr(err, "command line") != NULL);

	/* Not terminated before memory ends. */
	build_qemu();
	memset(mem + MEM_SIZE - 10, 'z', 10);
	w64(SI_AT + 24, MEM_SIZE - 10);
	REQUIRE(parse(SI_AT) == 0);
	CHECK_STR(bi.cmdline, "zzzzzzzzzz");
	CHECK(bi.cmdline_truncated);

	/* Not accessible at all. */
	build_qemu();
	w64(SI_AT + 24, MEM_SIZE);
	CHECK_EQ(parse(SI_AT), -EFAULT);
	build_qemu();
	w64(SI_AT + 24, ~0ull);
	CHECK_EQ(parse(SI_AT), -EFAULT);
}

/* ---- malformed input --------------------------------------------------------------------- */

TEST(bad_start_info)
{
	build_qemu();
	w32(SI_AT, 0x336ec579);
	CHECK_EQ(parse(SI_AT), -EINVAL);
	CHECK(strstr(err, "magic") != NULL);
	CHECK_EQ(bi.nmem, 0);

	build_qemu();
	CHECK_EQ(parse(MEM_SIZE - 39), -EFAULT);
	CHECK_EQ(parse(~0ull - 8), -EFAULT);

	/* A version 1 header whose second half is past the end of memory. */
	build_qemu();
	memcpy(mem + MEM_SIZE - 40, mem + SI_AT, 40);
	CHECK_EQ(parse(MEM_SIZE - 40), -EFAULT);
}

TEST(no_memory_map)
{
	build_qemu();
	w32(SI_AT + 4, 0);
	CHECK_EQ(parse(SI_AT), -ENOENT);
	CHECK(strstr(err, "version 0") != NULL);

	build_qemu();
	w64(SI_AT + 40, 0);
	CHECK_EQ(parse(SI_AT), -ENOENT);

	build_qemu();
	w32(SI_AT + 48, 0);
	CHECK_EQ(parse(SI_AT), -ENOENT);

	/* Only zero-length entries. */
	build_qemu();
	start_info(PVH_START_MAGIC, 1, 0, 0, 0, 2);
	mmap_entry(0, 0x1000, 0, 1);
	mmap_entry(1, 0x2000, 0, 1);
	CHECK_EQ(parse(SI_AT), -ENOENT);

	/* No RAM. */
	build_qemu();
	start_info(PVH_START_MAGIC, 1, 0, 0, 0, 2);
	mmap_entry(0, 0x0, 0x100000, 2);
	mmap_entry(1, 0x0, 0x100000, 1);
	CHECK_EQ(parse(SI_AT), -ENOENT);
	CHECK(strstr(err, "no RAM") != NULL);
}

TEST(bad_memory_map)
{
	build_qemu();
	w64(SI_AT + 40, MEM_SIZE - 24 * 4);
	CHECK_EQ(parse(SI_AT), -EFAULT);

	build_qemu();
	w32(SI_AT + 48, BOOT_MAX_MEM_RAW + 1);
	CHECK_EQ(parse(SI_AT), -E2BIG);

	build_qemu();
	mmap_entry(2, 0xfffffffffffff000ull, 0x1000, 2); /* ends at exactly 2^64 */
	CHECK_EQ(parse(SI_AT), -EINVAL);
	CHECK(strstr(err, "entry 2") != NULL);
}

TEST(arguments)
{
	struct phys_access pa = { fake_map, NULL };
	struct phys_access nomap = { NULL, NULL };
	char small[4];

	build_qemu();
	CHECK_EQ(pvh_parse(SI_AT, NULL, &bi, err, sizeof(err)), -EINVAL);
	CHECK_EQ(pvh_parse(SI_AT, &nomap, &bi, err, sizeof(err)), -EINVAL);
	CHECK_EQ(pvh_parse(SI_AT, &pa, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ(pvh_parse(SI_AT, &pa, &bi, NULL, 0), 0);
	w32(SI_AT, 0);
	CHECK_EQ(pvh_parse(SI_AT, &pa, &bi, small, sizeof(small)), -EINVAL);
	CHECK_STR(small, "sta");
	fake_release();
}

/* ---- random mutation --------------------------------------------------------------------- */

/* Checks the promises of struct boot_info after a successful parse. */
static void check_invariants(void)
{
	bool ram = false;
	unsigned i;

	CHECK(bi.nmem >= 1 && bi.nmem <= BOOT_MAX_MEM);
	for (i = 0; i < bi.nmem && i < BOOT_MAX_MEM; i++) {
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
	CHECK(bi.nmod <= BOOT_MAX_MODULES);
	for (i = 0; i < bi.nmod && i < BOOT_MAX_MODULES; i++) {
		CHECK(bi.mod[i].base != 0);
		CHECK(memchr(bi.mod[i].cmdline, '\0', sizeof(bi.mod[i].cmdline)) != NULL);
	}
}

/* Flips bytes of the start info, memory map, module list and strings, then parses. */
TEST(mutations)
{
	static const struct fake_area areas[] = {
		{ SI_AT, 56 },  { MMAP_AT, 24 * 5 }, { MODS_AT, 32 },   { MODCMD_AT, 8 },
		{ CMD_AT, 32 }, { SI_AT + 12, 1 },   { SI_AT + 48, 2 }, { MMAP_AT + 8, 8 },
	};
	uint8_t *pristine;
	unsigned iter, ok = 0;

	build_qemu();
	pristine = mem;
	mem = malloc(MEM_SIZE);
	if (mem == NULL)
		abort();
	for (iter = 0; iter < 20000; iter++) {
		fake_mutate(pristine, MEM_SIZE, areas, ARRAY_SIZE(areas));
		if (parse(SI_AT) == 0) {
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
	RUN(qemu);
	RUN(version2_minimal);
	RUN(unsorted_overlapping);
	RUN(type_precedence);
	RUN(top_of_memory);
	RUN(too_many_pieces);
	RUN(modules);
	RUN(module_errors);
	RUN(cmdline_lengths);
	RUN(bad_start_info);
	RUN(no_memory_map);
	RUN(bad_memory_map);
	RUN(arguments);
	RUN(mutations);
	free(mem);
	TEST_EXIT();
}
