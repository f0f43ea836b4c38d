/*
 * test_acpi.c - acpi_parse() against synthetic tables.
 *
 * "Physical memory" is a heap buffer; a physical address is an offset into it. The map
 * callback is strict: it hands the parser a fresh heap copy of exactly the bytes asked for, so
 * AddressSanitizer reports any read past a range the parser mapped, not only past the buffer.
 * The table sets imitate what QEMU builds for pc (RSDP v0 + RSDT), q35 (XSDT, MCFG) and
 * microvm (hardware-reduced FADT, x2APIC), followed by malformed variants and a bounded
 * random-mutation run.
 */
#include "tests/unit/test.h"
#include "tests/unit/fakemem.h"

#include <isle/errno.h>

#include "arch/x86_64/firmware.h"

/* ---- fake physical memory ---------------------------------------------------------------- */

static char err[256]; /* message from the last parse */

static int parse(uint64_t rsdp, struct acpi_info *ai)
{
	struct phys_access pa = { fake_map, NULL };
	int rc;

	rc = acpi_parse(rsdp, &pa, ai, err, sizeof(err));
	fake_release();
	return rc;
}

/* ---- table builders ---------------------------------------------------------------------- */

static uint8_t sum(uint64_t a, uint32_t len)
{
	uint8_t s = 0;

	while (len-- > 0)
		s += mem[a++];
	return s;
}

/* Writes the RSDP; revision >= 2 makes it 36 bytes with an XSDT pointer. */
static void rsdp(uint64_t a, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memcpy(mem + a, "RSD PTR ", 8);
	memcpy(mem + a + 9, "ISLE  ", 6);
	w8(a + 15, rev);
	w32(a + 16, rsdt);
	w8(a + 8, 0);
	w8(a + 8, -sum(a, 20));
	if (rev >= 2) {
		w32(a + 20, 36);
		w64(a + 24, xsdt);
		w8(a + 32, 0);
		w8(a + 32, -sum(a, 36));
	}
}

/* Recomputes a table's checksum from its length field. */
static void sdt_sum(uint64_t a)
{
	w8(a + 9, 0);
	w8(a + 9, -sum(a, r32(a + 4)));
}

/* Writes a table header; the body is the caller's, then sdt_sum(). */
static void sdt(uint64_t a, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(mem + a, sig, 4);
	w32(a + 4, len);
	w8(a + 8, rev);
	memcpy(mem + a + 10, "ISLE  ", 6);
	memcpy(mem + a + 16, "ISLETEST", 8);
	w32(a + 24, 1);
}

/* An RSDT (esize 4) or XSDT (esize 8) listing n tables. */
static void root(uint64_t a, const char *sig, unsigned esize, const uint64_t *tables, unsigned n)
{
	unsigned i;

	sdt(a, sig, 36 + esize * n, 1);
	for (i = 0; i < n; i++) {
		if (esize == 8)
			w64(a + 36 + 8 * i, tables[i]);
		else
			w32(a + 36 + 4 * i, (uint32_t)tables[i]);
	}
	sdt_sum(a);
}

/* MADT builder: madt_begin, entries, madt_end. */
static uint64_t madt_at;  /* table being built */
static uint32_t madt_len; /* its length so far */

static void madt_begin(uint64_t a, uint32_t lapic, uint32_t flags)
{
	madt_at = a;
	madt_len = 44;
	sdt(a, "APIC", 0, 3);
	w32(a + 36, lapic);
	w32(a + 40, flags);
}

static uint64_t madt_entry(uint8_t type, uint8_t len)
{
	uint64_t e = madt_at + madt_len;

	w8(e, type);
	w8(e + 1, len);
	madt_len += len;
	return e;
}

static void madt_lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
	uint64_t e = madt_entry(0, 8);

	w8(e + 2, uid);
	w8(e + 3, id);
	w32(e + 4, flags);
}

static void madt_x2apic(uint32_t id, uint32_t flags)
{
	uint64_t e = madt_entry(9, 16);

	w32(e + 4, id);
	w32(e + 8, flags);
	w32(e + 12, id);
}

static void madt_ioapic(uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint64_t e = madt_entry(1, 12);

	w8(e + 2, id);
	w32(e + 4, addr);
	w32(e + 8, gsi);
}

/* Interrupt source override (type 2) and LAPIC NMI (type 4): present, ignored by isle. */
static void madt_noise(void)
{
	uint64_t e = madt_entry(2, 10);

	w8(e + 3, 0);
	w32(e + 4, 2);
	e = madt_entry(4, 6);
	w8(e + 2, 0xff);
	w8(e + 5, 1);
}

static void madt_end(void)
{
	w32(madt_at + 4, madt_len);
	sdt_sum(madt_at);
}

static void gas(uint64_t a, uint8_t space, uint8_t width, uint64_t addr)
{
	w8(a, space);
	w8(a + 1, width);
	w8(a + 2, 0);
	w8(a + 3, 1);
	w64(a + 4, addr);
}

/* A DSDT whose body is aml. */
static void dsdt(uint64_t a, const uint8_t *aml, size_t n)
{
	sdt(a, "DSDT", 36 + n, 2);
	memcpy(mem + a + 36, aml, n);
	sdt_sum(a);
}

/* Some AML before the interesting part: Scope(\_SB) { Name(_HID, ...) } and a method that
 * mentions _S5_ without defining it (the scanner must not take it for the definition). */
static const uint8_t aml_prefix[] = {
	0x10, 0x0d, '\\', '_', 'S', 'B', '_',  0x08, '_', 'H', 'I', 'D', 0x0a, 0x01,
	0x14, 0x0a, 'P',  'T', 'S', '_', 0x01, 0x70, '_', 'S', '5', '_', 0x60,
};

#define RSDP_AT 0x100
#define RSDT_AT 0x1000
#define XSDT_AT 0x1800
#define FADT_AT 0x2000
#define MADT_AT 0x3000
#define DSDT_AT 0x4000
#define MCFG_AT 0x5000
#define MEM_SIZE 0x8000

/* i440fx "pc": RSDP v0 -> RSDT -> FADT rev 1 (116 bytes, PM1a 0x604) + MADT; 4 CPUs. */
static uint64_t build_pc(void)
{
	static const uint8_t s5[] = { 0x08, '\\', '_',  'S',  '5',  '_',  0x12, 0x08,
		                      0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	uint8_t aml[64];
	uint64_t tables[] = { FADT_AT, MADT_AT };

	mem_new(MEM_SIZE);
	rsdp(RSDP_AT, 0, RSDT_AT, 0);
	root(RSDT_AT, "RSDT", 4, tables, 2);

	sdt(FADT_AT, "FACP", 116, 1);
	w32(FADT_AT + 40, DSDT_AT);
	w32(FADT_AT + 56, 0x600);
	w32(FADT_AT + 64, 0x604);
	w32(FADT_AT + 76, 0x608);
	sdt_sum(FADT_AT);

	madt_begin(MADT_AT, 0xfee00000, 1);
	madt_lapic(0, 0, 1);
	madt_lapic(1, 2, 1);
	madt_lapic(2, 4, 1);
	madt_lapic(3, 6, 1);
	madt_ioapic(0, 0xfec00000, 0);
	madt_noise();
	madt_end();

	memcpy(aml, aml_prefix, sizeof(aml_prefix));
	memcpy(aml + sizeof(aml_prefix), s5, sizeof(s5));
	dsdt(DSDT_AT, aml, sizeof(aml_prefix) + sizeof(s5));
	return RSDP_AT;
}

/* q35: RSDP v2 -> XSDT -> FADT rev 3 (X_ fields, reset reg), MADT, MCFG. The RSDT lists
 * only the MADT, so finding the MCFG proves the XSDT was used. */
static uint64_t build_q35(void)
{
	static const uint8_t s5[] = { 0x08, '_',  'S',  '5',  '_',  0x12,
		                      0x06, 0x04, 0x00, 0x01, 0x00, 0x00 };
	uint8_t aml[64];
	uint64_t xt[] = { FADT_AT, MADT_AT, MCFG_AT };
	uint64_t rt[] = { MADT_AT };

	mem_new(MEM_SIZE);
	rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	root(RSDT_AT, "RSDT", 4, rt, 1);
	root(XSDT_AT, "XSDT", 8, xt, 3);

	sdt(FADT_AT, "FACP", 244, 3);
	w32(FADT_AT + 40, 0x7000); /* stale: X_DSDT must win */
	w32(FADT_AT + 64, 0x604);
	w32(FADT_AT + 112, 1u << 10);
	gas(FADT_AT + 116, 1, 8, 0xcf9);
	w8(FADT_AT + 128, 0x06);
	w64(FADT_AT + 140, DSDT_AT);
	gas(FADT_AT + 172, 1, 16, 0x604);
	sdt_sum(FADT_AT);

	madt_begin(MADT_AT, 0xfee00000, 1);
	madt_lapic(0, 0, 1);
	madt_lapic(1, 1, 1);
	madt_ioapic(0, 0xfec00000, 0);
	madt_noise();
	madt_end();

	sdt(MCFG_AT, "MCFG", 60, 1);
	w64(MCFG_AT + 44, 0xb0000000);
	w16(MCFG_AT + 52, 0);
	w8(MCFG_AT + 54, 0);
	w8(MCFG_AT + 55, 0xff);
	sdt_sum(MCFG_AT);

	memcpy(aml, aml_prefix, sizeof(aml_prefix));
	memcpy(aml + sizeof(aml_prefix), s5, sizeof(s5));
	dsdt(DSDT_AT, aml, sizeof(aml_prefix) + sizeof(s5));
	return RSDP_AT;
}

/* microvm: hardware-reduced FADT rev 5 with SLEEP_CONTROL_REG in memory, x2APIC entries. */
static uint64_t build_microvm(void)
{
	static const uint8_t s5[] = { 0x08, '_',  'S',  '5',  '_',  0x12,
		                      0x06, 0x03, 0x0a, 0x05, 0x00, 0x00 };
	uint64_t xt[] = { FADT_AT, MADT_AT };

	mem_new(MEM_SIZE);
	rsdp(RSDP_AT, 2, 0, XSDT_AT);
	root(XSDT_AT, "XSDT", 8, xt, 2);

	sdt(FADT_AT, "FACP", 276, 5);
	w32(FADT_AT + 112, (1u << 20) | (1u << 10));
	gas(FADT_AT + 116, 0, 8, 0xfea00002); /* reset reg in memory: not usable as a port */
	w8(FADT_AT + 128, 0x42);
	w64(FADT_AT + 140, DSDT_AT);
	gas(FADT_AT + 244, 0, 8, 0xfea00000);
	gas(FADT_AT + 256, 0, 8, 0xfea00001);
	sdt_sum(FADT_AT);

	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_x2apic(0, 1);
	madt_x2apic(1, 1);
	madt_x2apic(300, 1);
	madt_x2apic(301, 1);
	madt_ioapic(0, 0xfec00000, 0);
	madt_end();

	dsdt(DSDT_AT, s5, sizeof(s5));
	return RSDP_AT;
}

/* ---- well-formed tables ------------------------------------------------------------------ */

TEST(pc)
{
	struct acpi_info ai;

	REQUIRE(parse(build_pc(), &ai) == 0);
	CHECK_STR(err, "");
	CHECK_EQ(ai.ncpus, 4);
	CHECK_EQ(ai.apic_id[0], 0);
	CHECK_EQ(ai.apic_id[1], 2);
	CHECK_EQ(ai.apic_id[2], 4);
	CHECK_EQ(ai.apic_id[3], 6);
	CHECK(!ai.cpus_truncated);
	CHECK_EQ(ai.lapic_phys, 0xfee00000);
	CHECK(ai.has_ioapic);
	CHECK_EQ(ai.ioapic_phys, 0xfec00000);
	CHECK_EQ(ai.ioapic_gsi_base, 0);
	CHECK(ai.has_8259);
	CHECK(ai.has_fadt);
	CHECK(!ai.hw_reduced);
	CHECK_EQ(ai.pm1a_cnt, 0x604);
	CHECK_EQ(ai.pm1b_cnt, 0);
	CHECK_EQ(ai.sleep_ctl, 0);
	CHECK(ai.have_s5);
	CHECK_EQ(ai.s5_typa, 5);
	CHECK_EQ(ai.s5_typb, 5);
	CHECK(!ai.have_reset);
	CHECK(!ai.has_mcfg);
	CHECK_EQ(ai.bad_checksums, 0);
}

TEST(q35)
{
	struct acpi_info ai;

	REQUIRE(parse(build_q35(), &ai) == 0);
	CHECK_STR(err, "");
	CHECK_EQ(ai.ncpus, 2);
	CHECK_EQ(ai.pm1a_cnt, 0x604);
	CHECK(ai.have_reset);
	CHECK_EQ(ai.reset_port, 0xcf9);
	CHECK_EQ(ai.reset_value, 6);
	CHECK(ai.have_s5);
	CHECK_EQ(ai.s5_typa, 0);
	CHECK_EQ(ai.s5_typb, 1);
	CHECK(ai.has_mcfg);
	CHECK_EQ(ai.mcfg_base, 0xb0000000);
	CHECK_EQ(ai.mcfg_segment, 0);
	CHECK_EQ(ai.mcfg_bus_start, 0);
	CHECK_EQ(ai.mcfg_bus_end, 255);
}

TEST(microvm)
{
	struct acpi_info ai;

	REQUIRE(parse(build_microvm(), &ai) == 0);
	CHECK_STR(err, "");
	CHECK_EQ(ai.ncpus, 4);
	CHECK_EQ(ai.apic_id[2], 300);
	CHECK_EQ(ai.apic_id[3], 301);
	CHECK(!ai.has_8259);
	CHECK(ai.hw_reduced);
	CHECK_EQ(ai.pm1a_cnt, 0);
	CHECK_EQ(ai.sleep_ctl, 0xfea00000);
	CHECK_EQ(ai.sleep_ctl_space, ACPI_SPACE_MEMORY);
	CHECK(ai.have_s5);
	CHECK_EQ(ai.s5_typa, 5);
	CHECK_EQ(ai.s5_typb, 0);
	CHECK(!ai.have_reset);
	CHECK(!ai.has_mcfg);
}

/* Sleep control in I/O space, as Cloud Hypervisor does it. */
TEST(sleep_ctl_io)
{
	struct acpi_info ai;

	build_microvm();
	gas(FADT_AT + 244, 1, 8, 0x3c0);
	sdt_sum(FADT_AT);
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK_EQ(ai.sleep_ctl, 0x3c0);
	CHECK_EQ(ai.sleep_ctl_space, ACPI_SPACE_IO);
}

/*
 * Cloud Hypervisor's tables (vmm/src/acpi.rs): a revision 6 FADT, hardware-reduced with
 * RESET_REG_SUP, the sleep control and status registers and the reset register in I/O space
 * (port 0x3c0 in older releases, 0x600 in newer ones), reset value 1, the PM timer at 0xb008;
 * a DSDT without \_S5_ (power-off then writes SLP_TYP 5); MCFG; x2APIC-less MADT.
 */
static uint64_t build_cloud_hypervisor(uint16_t port)
{
	static const uint8_t no_s5[] = { 0x10, 0x05, '_', 'S', 'B', '_' }; /* Scope(\_SB) */
	uint64_t xt[] = { FADT_AT, MADT_AT, MCFG_AT };

	mem_new(MEM_SIZE);
	rsdp(RSDP_AT, 2, 0, XSDT_AT);
	root(XSDT_AT, "XSDT", 8, xt, 3);
	sdt(FADT_AT, "FACP", 276, 6);
	w32(FADT_AT + 76, 0xb008);
	gas(FADT_AT + 116, 1, 8, port);
	w8(FADT_AT + 128, 1);
	w32(FADT_AT + 112, (1u << 20) | (1u << 10) | (1u << 8));
	w64(FADT_AT + 140, DSDT_AT);
	gas(FADT_AT + 208, 1, 32, 0xb008);
	gas(FADT_AT + 244, 1, 8, port);
	gas(FADT_AT + 256, 1, 8, port);
	sdt_sum(FADT_AT);
	madt_begin(MADT_AT, 0xfee00000, 0);
	for (uint8_t i = 0; i < 8; i++)
		madt_lapic(i, i, 1);
	madt_ioapic(8, 0xfec00000, 0);
	madt_end();
	sdt(MCFG_AT, "MCFG", 60, 1);
	w64(MCFG_AT + 44, 0xe8000000);
	w8(MCFG_AT + 55, 0);
	w8(MCFG_AT + 55, 0x0f);
	sdt_sum(MCFG_AT);
	dsdt(DSDT_AT, no_s5, sizeof(no_s5));
	return RSDP_AT;
}

TEST(cloud_hypervisor)
{
	const uint16_t ports[] = { 0x3c0, 0x600 };
	for (unsigned i = 0; i < 2; i++) {
		struct acpi_info ai;
		REQUIRE(parse(build_cloud_hypervisor(ports[i]), &ai) == 0);
		CHECK_STR(err, "");
		CHECK_EQ(ai.ncpus, 8);
		CHECK(ai.has_fadt);
		CHECK(ai.hw_reduced);
		CHECK_EQ(ai.pm1a_cnt, 0);
		CHECK_EQ(ai.sleep_ctl, ports[i]);
		CHECK_EQ(ai.sleep_ctl_space, ACPI_SPACE_IO);
		CHECK(!ai.have_s5); /* power_exit writes SLP_TYP 5 then */
		CHECK(ai.have_reset);
		CHECK_EQ(ai.reset_port, ports[i]);
		CHECK_EQ(ai.reset_value, 1);
		CHECK(ai.has_mcfg);
		CHECK_EQ(ai.mcfg_base, 0xe8000000);
	}
}

/* LAPIC and x2APIC entries for the same CPU, disabled and hot-pluggable ones, an override. */
TEST(madt_mixed)
{
	struct acpi_info ai;

	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_lapic(1, 1, 1);
	madt_x2apic(1, 1);   /* duplicate of the LAPIC entry */
	madt_lapic(2, 2, 0); /* disabled */
	madt_lapic(3, 3, 2); /* online capable: not present now */
	madt_x2apic(0x1000, 1);
	madt_x2apic(0x1001, 2);
	{
		uint64_t e = madt_entry(5, 12);

		w64(e + 4, 0x1fee00000ull);
	}
	madt_entry(0x7f, 3); /* unknown type: skipped */
	madt_end();
	sdt_sum(MADT_AT);
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK_EQ(ai.ncpus, 3);
	CHECK_EQ(ai.apic_id[0], 0);
	CHECK_EQ(ai.apic_id[1], 1);
	CHECK_EQ(ai.apic_id[2], 0x1000);
	CHECK_EQ(ai.cpus_hotplug, 2);
	CHECK_EQ(ai.lapic_phys, 0x1fee00000ull);
	CHECK(!ai.has_ioapic);
}

TEST(many_cpus)
{
	struct acpi_info ai;
	unsigned i;

	/* 255 CPUs as QEMU lists them (xAPIC entries), then the same past the limit with x2APIC
	 * ids above 254. */
	build_q35();
	madt_begin(MADT_AT, 0xfee00000, 0);
	for (i = 0; i < 255; i++)
		madt_lapic((uint8_t)i, (uint8_t)i, 1);
	madt_end();
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK_EQ(ai.ncpus, 255);
	CHECK(!ai.cpus_truncated);
	CHECK_EQ(ai.apic_id[254], 254);
	CHECK_STR(err, "");

	build_q35();
	madt_begin(MADT_AT, 0xfee00000, 0);
	for (i = 0; i < 200; i++)
		madt_lapic((uint8_t)i, (uint8_t)i, 1);
	for (i = 200; i < 260; i++)
		madt_x2apic(i * 2, 1);
	madt_end();
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK_EQ(ai.ncpus, ACPI_MAX_CPUS);
	CHECK(ai.cpus_truncated);
	CHECK_EQ(ai.apic_id[255], 510);
	CHECK(err[0] != '\0');
}

/* Checksums other than the RSDP's are counted, not fatal. */
TEST(bad_table_checksum)
{
	struct acpi_info ai;

	build_pc();
	w8(MADT_AT + 9, mem[MADT_AT + 9] + 1);
	w8(DSDT_AT + 9, mem[DSDT_AT + 9] + 1);
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK_EQ(ai.bad_checksums, 2);
	CHECK_EQ(ai.ncpus, 4);
	CHECK(strstr(err, "checksum") != NULL);
}

/* Two-byte PkgLength, WordPrefix values, a non-Package _S5_ before the real one. */
TEST(s5_encodings)
{
	static const uint8_t aml[] = {
		0x08, '_', 'S', '5', '_', 0x0a, 0x05, /* Name(_S5_, 5): not a package */
		0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x02, 0x0b, 0x03, 0x00, 0x07,
	};
	struct acpi_info ai;

	build_pc();
	dsdt(DSDT_AT, aml, sizeof(aml));
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK(ai.have_s5);
	CHECK_EQ(ai.s5_typa, 3);
	CHECK_EQ(ai.s5_typb, 7);
}

/* _S5_ forms that must be refused without failing the parse. */
TEST(s5_rejected)
{
	static const uint8_t too_big[] = { 0x08, '_',  'S',  '5',  '_', 0x12,
		                           0x05, 0x02, 0x0a, 0x08, 0x00 };
	static const uint8_t ones[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0xff, 0x00 };
	static const uint8_t one_elem[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x00 };
	static const uint8_t cut[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a };
	static const uint8_t long_pkg[] = { 0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0xff, 0xff };
	static const uint8_t tail[] = { 0x08, '_', 'S', '5', '_' };
	const struct {
		const uint8_t *aml;
		size_t n;
	} cases[] = {
		{ too_big, sizeof(too_big) },   { ones, sizeof(ones) },
		{ one_elem, sizeof(one_elem) }, { cut, sizeof(cut) },
		{ long_pkg, sizeof(long_pkg) }, { tail, sizeof(tail) },
	};
	struct acpi_info ai;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		build_pc();
		dsdt(DSDT_AT, cases[i].aml, cases[i].n);
		REQUIRE(parse(RSDP_AT, &ai) == 0);
		CHECK(!ai.have_s5);
		CHECK_EQ(ai.s5_typa, 0);
		CHECK_EQ(ai.s5_typb, 0);
	}
}

/* No FADT or MCFG at all is fine. */
TEST(madt_only)
{
	struct acpi_info ai;
	uint64_t t[] = { 0, MADT_AT };

	build_pc();
	root(RSDT_AT, "RSDT", 4, t, 2);
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK(!ai.has_fadt);
	CHECK(!ai.have_s5);
	CHECK_EQ(ai.ncpus, 4);
}

/* ---- malformed tables -------------------------------------------------------------------- */

TEST(rsdp_errors)
{
	struct acpi_info ai;

	build_pc();
	CHECK_EQ(parse(0, &ai), -ENOENT);
	CHECK_EQ(parse(RSDP_AT + 1, &ai), -EINVAL);
	CHECK_EQ(parse(MEM_SIZE - 10, &ai), -EFAULT);
	CHECK_EQ(parse(~0ull - 4, &ai), -EFAULT);

	w8(RSDP_AT + 8, mem[RSDP_AT + 8] + 1);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
	CHECK(strstr(err, "checksum") != NULL);
	CHECK_EQ(ai.ncpus, 0);

	build_q35();
	w8(RSDP_AT + 32, mem[RSDP_AT + 32] + 1);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	build_q35();
	w32(RSDP_AT + 20, 1u << 30); /* absurd extended length */
	w8(RSDP_AT + 8, 0);
	w8(RSDP_AT + 8, -sum(RSDP_AT, 20));
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	build_pc();
	rsdp(RSDP_AT, 0, 0, 0);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
}

TEST(root_outside_memory)
{
	struct acpi_info ai;
	uint64_t t[] = { MADT_AT, 0x7fffffff };

	build_pc();
	rsdp(RSDP_AT, 0, 0x7ffff000, 0);
	CHECK_EQ(parse(RSDP_AT, &ai), -EFAULT);

	build_pc();
	root(RSDT_AT, "RSDT", 4, t, 2);
	CHECK_EQ(parse(RSDP_AT, &ai), -EFAULT);

	build_q35();
	rsdp(RSDP_AT, 2, RSDT_AT, 0xffffffffffffff00ull);
	CHECK_EQ(parse(RSDP_AT, &ai), -EFAULT);

	build_pc();
	rsdp(RSDP_AT, 0, MADT_AT, 0); /* points at the MADT, not an RSDT */
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
}

TEST(truncated_tables)
{
	struct acpi_info ai;

	/* The MADT claims more bytes than memory has. */
	build_pc();
	w32(MADT_AT + 4, MEM_SIZE);
	CHECK_EQ(parse(RSDP_AT, &ai), -EFAULT);

	/* Lengths smaller than the header or absurdly large. */
	build_pc();
	w32(MADT_AT + 4, 20);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
	build_pc();
	w32(RSDT_AT + 4, 0xffffffff);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	/* A MADT without room for its fixed part. */
	build_pc();
	w32(MADT_AT + 4, 40);
	sdt_sum(MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	/* A FADT shorter than ACPI 1.0's. */
	build_pc();
	w32(FADT_AT + 4, 100);
	sdt_sum(FADT_AT);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	/* The DSDT is the last thing in memory and its length runs off the end. */
	build_pc();
	memcpy(mem + MEM_SIZE - 36, mem + DSDT_AT, 36);
	w32(FADT_AT + 40, MEM_SIZE - 36);
	sdt_sum(FADT_AT);
	CHECK_EQ(parse(RSDP_AT, &ai), -EFAULT);

	/* The table ends where memory ends: fine. */
	build_pc();
	{
		static const uint8_t s5[] = {
			0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01
		};

		sdt(MEM_SIZE - 46, "DSDT", 46, 2);
		memcpy(mem + MEM_SIZE - 10, s5, sizeof(s5));
		sdt_sum(MEM_SIZE - 46);
	}
	w32(FADT_AT + 40, MEM_SIZE - 46);
	sdt_sum(FADT_AT);
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK(ai.have_s5);
	CHECK_EQ(ai.s5_typa, 1);
}

TEST(madt_bad_entries)
{
	struct acpi_info ai;

	/* Length 0 and length 1 must stop the walk, not loop forever. */
	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_entry(0, 0);
	madt_len += 8;
	madt_end();
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
	CHECK(strstr(err, "length 0") != NULL);

	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_entry(0, 1);
	madt_len += 1;
	madt_end();
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	/* An entry longer than what is left of the table. */
	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_lapic(1, 1, 1);
	madt_end();
	w8(MADT_AT + 44 + 8 + 1, 20);
	sdt_sum(MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
	CHECK(strstr(err, "past the end") != NULL);

	/* One byte left over after the last entry. */
	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_len += 1;
	madt_end();
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	/* Entries shorter than their type needs. */
	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_entry(0, 6);
	madt_end();
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 1);
	madt_entry(9, 12);
	madt_end();
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	/* No enabled CPU. */
	build_pc();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_lapic(0, 0, 0);
	madt_x2apic(1, 2);
	madt_end();
	CHECK_EQ(parse(RSDP_AT, &ai), -ENODEV);

	/* No MADT at all. */
	{
		uint64_t t[] = { FADT_AT };

		build_pc();
		root(RSDT_AT, "RSDT", 4, t, 1);
		CHECK_EQ(parse(RSDP_AT, &ai), -ENOENT);
	}
}

TEST(bad_mcfg_and_dsdt)
{
	struct acpi_info ai;

	build_q35();
	w8(MCFG_AT + 54, 9);
	w8(MCFG_AT + 55, 3);
	sdt_sum(MCFG_AT);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);

	build_q35();
	w32(MCFG_AT + 4, 44); /* no allocation entries */
	sdt_sum(MCFG_AT);
	REQUIRE(parse(RSDP_AT, &ai) == 0);
	CHECK(!ai.has_mcfg);

	build_q35();
	w64(FADT_AT + 140, MADT_AT); /* X_DSDT points at the wrong table */
	sdt_sum(FADT_AT);
	CHECK_EQ(parse(RSDP_AT, &ai), -EINVAL);
}

/* The message buffer may be tiny or absent. */
TEST(small_err_buffer)
{
	struct phys_access pa = { fake_map, NULL };
	struct acpi_info ai;
	char small[6];

	build_pc();
	memset(small, 'x', sizeof(small));
	CHECK_EQ(acpi_parse(0, &pa, &ai, small, sizeof(small)), -ENOENT);
	CHECK_STR(small, "no RS");
	CHECK_EQ(acpi_parse(0, &pa, &ai, small, 1), -ENOENT);
	CHECK_STR(small, "");
	CHECK_EQ(acpi_parse(0, &pa, &ai, NULL, 0), -ENOENT);
	CHECK_EQ(acpi_parse(RSDP_AT, &pa, &ai, NULL, 0), 0);
	CHECK_EQ(acpi_parse(RSDP_AT, NULL, &ai, NULL, 0), -EINVAL);
	CHECK_EQ(acpi_parse(RSDP_AT, &pa, NULL, NULL, 0), -EINVAL);
	fake_release();
}

/* ---- random mutation --------------------------------------------------------------------- */

/*
 * Flips bytes of a valid table set (mostly inside the tables, sometimes in lengths and
 * pointers), optionally repairs the RSDP checksums so the walk goes deeper, and parses. Any
 * crash, sanitizer report or broken invariant fails the test.
 */
TEST(mutations)
{
	static const uint64_t hot[] = { RSDT_AT + 4, XSDT_AT + 36, FADT_AT + 40, FADT_AT + 140,
		                        MADT_AT + 4, MADT_AT + 45, DSDT_AT + 4,  MCFG_AT + 4 };
	uint8_t *pristine[3];
	struct acpi_info ai;
	unsigned iter, k, ok = 0;

	build_pc();
	pristine[0] = mem;
	mem = NULL;
	build_q35();
	pristine[1] = mem;
	mem = NULL;
	build_microvm();
	pristine[2] = mem;
	mem = malloc(MEM_SIZE);
	if (mem == NULL)
		abort();

	for (iter = 0; iter < 20000; iter++) {
		unsigned flips = 1 + rnd(8);

		memcpy(mem, pristine[iter % 3], MEM_SIZE);
		for (k = 0; k < flips; k++) {
			uint64_t a;

			switch (rnd(4)) {
			case 0:
				a = hot[rnd(ARRAY_SIZE(hot))] + rnd(4);
				break;
			case 1:
				a = RSDP_AT + rnd(36);
				break;
			default:
				a = RSDT_AT + rnd(MCFG_AT + 64 - RSDT_AT);
				break;
			}
			mem[a] ^= (uint8_t)(1u << rnd(8));
			if (rnd(8) == 0)
				mem[a] = (uint8_t)rnd(256);
		}
		if (rnd(2)) {
			w8(RSDP_AT + 8, 0);
			w8(RSDP_AT + 8, -sum(RSDP_AT, 20));
			if (r32(RSDP_AT + 20) == 36) {
				w8(RSDP_AT + 32, 0);
				w8(RSDP_AT + 32, -sum(RSDP_AT, 36));
			}
		}
		if (parse(RSDP_AT, &ai) == 0) {
			ok++;
			CHECK(ai.ncpus >= 1 && ai.ncpus <= ACPI_MAX_CPUS);
			CHECK(ai.s5_typa <= 7 && ai.s5_typb <= 7);
			CHECK(!ai.has_mcfg || ai.mcfg_bus_start <= ai.mcfg_bus_end);
		} else {
			CHECK_EQ(ai.ncpus, 0);
			CHECK(err[0] != '\0');
		}
		CHECK(strlen(err) < sizeof(err));
	}
	fprintf(stderr, "  mutations: %u of %u parsed\n", ok, iter);
	/* The mutations must not all be rejected at the door. */
	CHECK(ok > 1000);
	for (k = 0; k < 3; k++)
		free(pristine[k]);
}

/* ---- without a loader-given RSDP: the BIOS-memory scan ---------------------------------- */

#define LOWMEM_SIZE 0x100000 /* fake memory reaching the BIOS ROM */

TEST(rsdp_scan)
{
	struct phys_access pa = { fake_map, NULL };

	/* Where SeaBIOS and Firecracker put it: in the 0xE0000 segment. */
	mem_new(LOWMEM_SIZE);
	CHECK_EQ(acpi_find_rsdp(&pa), 0);
	rsdp(0xE0010, 2, 0x1000, 0x1800);
	CHECK_EQ(acpi_find_rsdp(&pa), 0xE0010);
	/* A signature with a bad checksum is passed over; a good one further on is found. */
	rsdp(0xF0000, 0, 0x1000, 0);
	mem[0xE0010 + 8]++;
	CHECK_EQ(acpi_find_rsdp(&pa), 0xF0000);
	/* A revision 2 RSDP with a bad extended checksum does not count. */
	mem[0xE0010 + 8]--;
	mem[0xE0010 + 32]++;
	CHECK_EQ(acpi_find_rsdp(&pa), 0xF0000);
	/* Not on a 16-byte boundary: not found. */
	mem_new(LOWMEM_SIZE);
	rsdp(0xE0008, 0, 0x1000, 0);
	CHECK_EQ(acpi_find_rsdp(&pa), 0);
	/* In the first KiB of the EBDA (its segment at 0x40E): found first. */
	mem_new(LOWMEM_SIZE);
	w16(0x40E, 0x9FC0);
	rsdp(0x9FC20, 0, 0x1000, 0);
	rsdp(0xE0000, 0, 0x1000, 0);
	CHECK_EQ(acpi_find_rsdp(&pa), 0x9FC20);
	/* An EBDA pointer to nonsense is ignored. */
	w16(0x40E, 0x0010);
	CHECK_EQ(acpi_find_rsdp(&pa), 0xE0000);
	/* Memory that ends early is never read past. */
	mem_size = 0xE0000 + 10; /* the RSDP there is cut off */
	CHECK_EQ(acpi_find_rsdp(&pa), 0);
	mem_size = LOWMEM_SIZE;
	fake_release();
}

/* ---- MP tables (no ACPI at all) ---------------------------------------------------------- */

static uint64_t mpc_at;    /* configuration table being built */
static uint16_t mpc_count; /* its entries */
static uint16_t mpc_len;   /* its length */

/* The floating pointer at fp and a table header at tbl (Firecracker's layout: both in the last
 * KiB of base memory). */
static void mp_begin(uint64_t fp, uint64_t tbl, uint32_t lapic)
{
	memcpy(mem + fp, "_MP_", 4);
	w32(fp + 4, (uint32_t)tbl);
	w8(fp + 8, 1);
	w8(fp + 9, 4);
	w8(fp + 10, 0);
	w8(fp + 10, -sum(fp, 16));
	mpc_at = tbl;
	mpc_count = 0;
	mpc_len = 44;
	memcpy(mem + tbl, "PCMP", 4);
	w8(tbl + 6, 4);
	memcpy(mem + tbl + 8, "ISLE    ", 8);
	w32(tbl + 36, lapic);
}

static void mp_cpu(uint8_t id, uint8_t flags)
{
	uint64_t e = mpc_at + mpc_len;
	w8(e, 0);
	w8(e + 1, id);
	w8(e + 2, 0x14);
	w8(e + 3, flags);
	mpc_len += 20;
	mpc_count++;
}

static void mp_entry8(uint8_t type, uint8_t b1, uint8_t flags, uint32_t addr)
{
	uint64_t e = mpc_at + mpc_len;
	w8(e, type);
	w8(e + 1, b1);
	w8(e + 2, 0x11);
	w8(e + 3, flags);
	w32(e + 4, addr);
	mpc_len += 8;
	mpc_count++;
}

static void mp_end(void)
{
	w16(mpc_at + 4, mpc_len);
	w16(mpc_at + 34, mpc_count);
	w8(mpc_at + 7, 0);
	w8(mpc_at + 7, -sum(mpc_at, mpc_len));
}

static int mp_parse(struct acpi_info *ai)
{
	struct phys_access pa = { fake_map, NULL };
	int rc = mptable_parse(&pa, ai, err, sizeof(err));
	fake_release();
	return rc;
}

/* Firecracker's table: CPUs 0..3 (the first the boot processor), a bus, the I/O APIC, the
 * interrupt entries. */
static void build_firecracker(unsigned ncpus)
{
	mem_new(LOWMEM_SIZE);
	mp_begin(0x9FC00, 0x9FC10, 0xFEE00000);
	for (unsigned i = 0; i < ncpus; i++)
		mp_cpu((uint8_t)i, i == 0 ? 3 : 1);
	mp_entry8(1, 0, 'I', 0x20415349); /* bus "ISA " */
	mp_entry8(2, (uint8_t)ncpus, 1, 0xFEC00000);
	for (unsigned irq = 0; irq < 16; irq++)
		mp_entry8(3, 0, 0, irq << 24 | irq);
	mp_entry8(4, 3, 0, 0);
	mp_end();
}

TEST(mptable_firecracker)
{
	struct acpi_info ai;

	build_firecracker(4);
	REQUIRE(mp_parse(&ai) == 0);
	CHECK_STR(err, "");
	CHECK_EQ(ai.ncpus, 4);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(ai.apic_id[i], i);
	CHECK_EQ(ai.lapic_phys, 0xFEE00000);
	CHECK(ai.has_ioapic);
	CHECK_EQ(ai.ioapic_phys, 0xFEC00000);
	CHECK(!ai.has_fadt);
	/* 32 CPUs, Firecracker's most. */
	build_firecracker(32);
	REQUIRE(mp_parse(&ai) == 0);
	CHECK_EQ(ai.ncpus, 32);
	CHECK_EQ(ai.apic_id[31], 31);
}

/* qboot (QEMU microvm, acpi=off) writes an entry count of 0: the entries are walked up to the
 * table length, as Linux does. */
TEST(mptable_qboot)
{
	struct acpi_info ai;

	build_firecracker(4);
	w16(0x9FC10 + 34, 0);
	w8(0x9FC10 + 7, 0);
	w8(0x9FC10 + 7, -sum(0x9FC10, mpc_len));
	REQUIRE(mp_parse(&ai) == 0);
	CHECK_EQ(ai.ncpus, 4);
	CHECK(ai.has_ioapic);
}

TEST(mptable_places_and_flags)
{
	struct acpi_info ai;

	/* In the BIOS ROM, with a disabled CPU and a disabled I/O APIC before the enabled one;
	 * lapic 0 in the header means the default. */
	mem_new(LOWMEM_SIZE);
	mp_begin(0xF5A40, 0xF5B00, 0);
	mp_cpu(0, 3);
	mp_cpu(1, 0); /* disabled */
	mp_cpu(2, 1);
	mp_cpu(2, 1); /* a duplicate */
	mp_entry8(2, 8, 0, 0xFEC10000);
	mp_entry8(2, 9, 1, 0xFEC20000);
	mp_end();
	REQUIRE(mp_parse(&ai) == 0);
	CHECK_EQ(ai.ncpus, 2);
	CHECK_EQ(ai.apic_id[1], 2);
	CHECK_EQ(ai.lapic_phys, 0xFEE00000);
	CHECK_EQ(ai.ioapic_phys, 0xFEC20000);
	/* In the EBDA, found before one in the ROM. */
	w16(0x40E, 0x9F00);
	mp_begin(0x9F000, 0x9F100, 0xFEE00000);
	mp_cpu(7, 3);
	mp_end();
	REQUIRE(mp_parse(&ai) == 0);
	CHECK_EQ(ai.ncpus, 1);
	CHECK_EQ(ai.apic_id[0], 7);
}

TEST(mptable_errors)
{
	struct acpi_info ai;

	mem_new(LOWMEM_SIZE);
	CHECK_EQ(mp_parse(&ai), -ENOENT);
	CHECK(strstr(err, "no MP floating pointer") != NULL);
	/* Default configuration: no table. */
	build_firecracker(2);
	w8(0x9FC00 + 11, 5);
	w8(0x9FC00 + 10, 0);
	w8(0x9FC00 + 10, -sum(0x9FC00, 16));
	CHECK_EQ(mp_parse(&ai), -ENOTSUP);
	/* Bad table checksum, signature, length, pointer. */
	build_firecracker(2);
	mem[0x9FC10 + 50]++;
	CHECK_EQ(mp_parse(&ai), -EINVAL);
	CHECK(strstr(err, "checksum") != NULL);
	build_firecracker(2);
	mem[0x9FC10]++;
	CHECK_EQ(mp_parse(&ai), -EINVAL);
	build_firecracker(2);
	w16(0x9FC10 + 4, 10);
	CHECK_EQ(mp_parse(&ai), -EINVAL);
	build_firecracker(2);
	w32(0x9FC00 + 4, 0x7FFFFFF0); /* table outside memory */
	w8(0x9FC00 + 10, 0);
	w8(0x9FC00 + 10, -sum(0x9FC00, 16));
	CHECK_EQ(mp_parse(&ai), -EFAULT);
	/* An entry cut off by the table length. */
	build_firecracker(2);
	w16(0x9FC10 + 4, 44 + 20 + 10);
	w8(0x9FC10 + 7, 0);
	w8(0x9FC10 + 7, -sum(0x9FC10, 44 + 20 + 10));
	CHECK_EQ(mp_parse(&ai), -EINVAL);
	CHECK(strstr(err, "runs past the end") != NULL);
	/* An unknown entry type ends the walk, with a warning; what came before is used. */
	build_firecracker(2);
	w8(0x9FC10 + 44 + 20, 9);
	w8(0x9FC10 + 7, 0);
	w8(0x9FC10 + 7, -sum(0x9FC10, mpc_len));
	CHECK_EQ(mp_parse(&ai), 0);
	CHECK_EQ(ai.ncpus, 1);
	CHECK(strstr(err, "unknown type") != NULL);
	/* Only disabled CPUs. */
	mem_new(LOWMEM_SIZE);
	mp_begin(0x9FC00, 0x9FC10, 0xFEE00000);
	mp_cpu(0, 0);
	mp_end();
	CHECK_EQ(mp_parse(&ai), -ENODEV);
	CHECK_EQ(ai.ncpus, 0);
}

/* Random byte flips in a Firecracker table: never a crash, a sanitizer report or a wrong
 * invariant; a failure always says why. */
TEST(mptable_mutations)
{
	struct acpi_info ai;
	unsigned ok = 0;

	for (unsigned iter = 0; iter < 5000; iter++) {
		build_firecracker(1 + rnd(8));
		unsigned flips = 1 + rnd(6);
		for (unsigned k = 0; k < flips; k++)
			mem[0x9FC00 + rnd(0x180)] ^= (uint8_t)(1u << rnd(8));
		if (rnd(2)) { /* repair the checksums so the walk goes deeper */
			w8(0x9FC10 + 7, 0);
			uint16_t len = (uint16_t)(mem[0x9FC10 + 4] | mem[0x9FC10 + 5] << 8);
			if (len >= 44 && 0x9FC10 + (uint64_t)len <= LOWMEM_SIZE)
				w8(0x9FC10 + 7, -sum(0x9FC10, len));
			w8(0x9FC00 + 10, 0);
			w8(0x9FC00 + 10, -sum(0x9FC00, 16));
		}
		if (mp_parse(&ai) == 0) {
			ok++;
			CHECK(ai.ncpus >= 1 && ai.ncpus <= ACPI_MAX_CPUS);
		} else {
			CHECK_EQ(ai.ncpus, 0);
			CHECK(err[0] != '\0');
		}
	}
	fprintf(stderr, "  mptable mutations: %u of 5000 parsed\n", ok);
	CHECK(ok > 100);
}

int main(void)
{
	RUN(pc);
	RUN(q35);
	RUN(microvm);
	RUN(sleep_ctl_io);
	RUN(cloud_hypervisor);
	RUN(madt_mixed);
	RUN(many_cpus);
	RUN(bad_table_checksum);
	RUN(s5_encodings);
	RUN(s5_rejected);
	RUN(madt_only);
	RUN(rsdp_errors);
	RUN(root_outside_memory);
	RUN(truncated_tables);
	RUN(madt_bad_entries);
	RUN(bad_mcfg_and_dsdt);
	RUN(small_err_buffer);
	RUN(mutations);
	RUN(rsdp_scan);
	RUN(mptable_firecracker);
	RUN(mptable_qboot);
	RUN(mptable_places_and_flags);
	RUN(mptable_errors);
	RUN(mptable_mutations);
	free(mem);
	TEST_EXIT();
}
