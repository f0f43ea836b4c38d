/*
 * test_apic.c - the local-APIC driver (arch/x86_64/apic.c) against a fake CPU
 * (tests/unit/fakecpu.c): x2APIC and TSC-deadline, which QEMU's TCG does not offer, and xAPIC and
 * the one-shot timer, which the guest tests also run for real.
 *
 * Each test builds a CPU (CPUID bits, APIC id, the state firmware left), runs the driver as boot
 * code does (apic_init, apic_id, apic_init_core, ...) and checks the MSR and MMIO accesses the
 * fake recorded, and that none of them would have faulted.
 */
#include <isle/errno.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/tsc.h"
#include "tests/unit/fakecpu.h"
#include "tests/unit/test.h"

#define X2APIC (1u << 21)
#define DEADLINE (1u << 24)

#define MSR_APIC_BASE 0x1B
#define MSR_TSC_DEADLINE 0x6E0
#define MSR_ID 0x802
#define MSR_TPR 0x808
#define MSR_EOI 0x80B
#define MSR_SVR 0x80F
#define MSR_ICR 0x830
#define MSR_ICR_HI 0x831 /* does not exist in x2APIC mode */
#define MSR_LVT_TIMER 0x832
#define MSR_TIMER_INIT 0x838
#define MSR_TIMER_DIV 0x83E

#define R_ID 0x20
#define R_TPR 0x80
#define R_EOI 0xB0
#define R_SVR 0xF0
#define R_ICR_LO 0x300
#define R_ICR_HI 0x310
#define R_LVT_TIMER 0x320
#define R_TIMER_INIT 0x380
#define R_TIMER_CUR 0x390
#define R_TIMER_DIV 0x3E0

#define BASE_EN (1ull << 11)
#define BASE_EXTD (1ull << 10)
#define BASE_BSP (1ull << 8)

/* The ICR low words isle sends: level assert, physical destination, no shorthand. */
#define ICR_FIXED_DOORBELL 0x40F1 /* fixed, vector 0xF1 */
#define ICR_NMI 0x4400
#define ICR_INIT 0x4500
#define ICR_SIPI_08 0x4608 /* start-up at page 8 (0x8000) */

/*
 * A fresh CPU in its reset state (xAPIC enabled), with ecx_bits in CPUID.1:ECX, and a TSC of
 * 1 GHz that the hypervisor leaf 0x40000010 announces (so tsc_hz() is exact). Runs apic_init
 * with flags, as boot code does.
 */
static void boot_cpu(uint32_t ecx_bits, uint32_t id, unsigned flags)
{
	fake_reset();
	fake_cpuid1_ecx(ecx_bits | 1u << 31);
	fake_set_cpuid(0x40000000, 0x40000010, 0, 0, 0);
	fake_set_cpuid(0x40000010, 1000000, 0, 0, 0);
	fake.apic_id = id;
	tsc_calibrate();
	apic_init(fake_apic_phys(), flags);
}

/* Another CPU of the same machine, as an application core starts: reset state, not the BSP,
 * the boot core's choices already made. */
static void app_cpu(uint32_t ecx_bits, uint32_t id)
{
	fake_reset();
	fake_cpuid1_ecx(ecx_bits | 1u << 31);
	fake.apic_base &= ~BASE_BSP;
	fake.apic_id = id;
}

/* How many logged accesses of any kind touched the xAPIC MMIO page. */
static unsigned mmio_accesses(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fake.nev; i++)
		n += fake.ev[i].kind == EV_MMIO_RD || fake.ev[i].kind == EV_MMIO_WR;
	return n;
}

static unsigned x2_msr_accesses(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fake.nev; i++)
		n += (fake.ev[i].kind == EV_RDMSR || fake.ev[i].kind == EV_WRMSR) &&
		     fake.ev[i].reg >= 0x800 && fake.ev[i].reg <= 0x8FF;
	return n;
}

static uint64_t last_write(enum fake_kind kind, uint32_t reg)
{
	int i = fake_last(kind, reg);
	return i < 0 ? ~0ull : fake.ev[i].val;
}

/* ---- x2APIC --------------------------------------------------------------------------------- */

TEST(x2_mode_switch)
{
	boot_cpu(X2APIC, 1, 0);
	CHECK(apic_is_x2());
	CHECK_EQ(fake_count(EV_WRMSR, MSR_APIC_BASE), 1);
	uint64_t base = last_write(EV_WRMSR, MSR_APIC_BASE);
	CHECK_EQ(base & (BASE_EN | BASE_EXTD), BASE_EN | BASE_EXTD);
	CHECK_EQ(base & ~0xFFFull, fake_apic_phys()); /* the base address is kept */
	CHECK(base & BASE_BSP);
	CHECK_EQ(fake.gp, 0);
}

/* Boot code reads the boot core's id right after apic_init, before apic_init_core: MSR 0x802
 * must already be readable (outside x2APIC mode it is a #GP). */
TEST(x2_id_right_after_init)
{
	boot_cpu(X2APIC, 300, 0);
	CHECK_EQ(apic_id(), 300);
	CHECK_EQ(fake_count(EV_RDMSR, MSR_ID), 1);
	CHECK_EQ(mmio_accesses(), 0);
	CHECK_EQ(fake.gp, 0);
}

TEST(x2_id_all_32_bits)
{
	static const uint32_t ids[] = { 0, 1, 254, 255, 256, 4095, 70000, 0xFFFFFFFE };
	for (unsigned i = 0; i < ARRAY_SIZE(ids); i++) {
		boot_cpu(X2APIC, ids[i], 0);
		apic_init_core();
		CHECK_EQ(apic_id(), ids[i]);
	}
	CHECK_EQ(fake.gp, 0);
}

TEST(x2_init_core_registers)
{
	boot_cpu(X2APIC, 2, 0);
	fake_clear_log();
	apic_init_core();
	CHECK_EQ(last_write(EV_WRMSR, MSR_SVR), 0x1FF); /* enabled, spurious vector 0xFF */
	CHECK_EQ(last_write(EV_WRMSR, MSR_TPR), 0);
	CHECK_EQ(last_write(EV_WRMSR, MSR_TIMER_DIV), 0xB);  /* divide by 1 */
	CHECK_EQ(last_write(EV_WRMSR, MSR_LVT_TIMER), 0xF0); /* one-shot, unmasked, VEC_TIMER */
	CHECK_EQ(fake_apic_reg(R_SVR), 0x1FF);
	CHECK_EQ(mmio_accesses(), 0);
	CHECK_EQ(fake.gp, 0);
}

TEST(x2_eoi)
{
	boot_cpu(X2APIC, 2, 0);
	apic_init_core();
	fake_clear_log();
	apic_eoi();
	CHECK_EQ(fake.nev, 1);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_EOI), 1);
	CHECK_EQ(last_write(EV_WRMSR, MSR_EOI), 0);
	CHECK_EQ(fake.gp, 0);
}

/* Every IPI is one 64-bit write to MSR 0x830: destination in bits 32-63, command in 0-31. */
TEST(x2_ipi_encodings)
{
	static const uint32_t dests[] = { 0, 1, 254, 255, 256, 1000, 70000, 0xFFFFFFFE };
	boot_cpu(X2APIC, 0, 0);
	apic_init_core();
	for (unsigned i = 0; i < ARRAY_SIZE(dests); i++) {
		uint32_t d = dests[i];
		fake_clear_log();
		CHECK_EQ(apic_send_ipi(d, 0xF1), 0);
		CHECK_EQ(apic_send_nmi(d), 0);
		CHECK_EQ(apic_send_init(d), 0);
		CHECK_EQ(apic_send_sipi(d, 0x08), 0);
		REQUIRE(fake.nipi == 4);
		static const uint32_t lo[] = { ICR_FIXED_DOORBELL, ICR_NMI, ICR_INIT, ICR_SIPI_08 };
		for (unsigned k = 0; k < 4; k++) {
			CHECK(fake.ipi[k].x2);
			CHECK_EQ(fake.ipi[k].dest, d);
			CHECK_EQ(fake.ipi[k].lo, lo[k]);
		}
		CHECK_EQ(fake_count(EV_WRMSR, MSR_ICR), 4);
		CHECK_EQ(last_write(EV_WRMSR, MSR_ICR), (uint64_t)d << 32 | ICR_SIPI_08);
		CHECK_EQ(fake_count(EV_WRMSR, MSR_ICR_HI), 0);
		CHECK_EQ(mmio_accesses(), 0);
	}
	CHECK_EQ(fake.gp, 0);
}

/* The message an IPI announces is stored before the IPI: WRMSR to the ICR is not serializing,
 * so a fence must come right before it. */
TEST(x2_ipi_fenced)
{
	boot_cpu(X2APIC, 0, 0);
	apic_init_core();
	fake_clear_log();
	apic_send_ipi(5, 0xF1);
	apic_send_nmi(6);
	apic_send_init(7);
	apic_send_sipi(7, 8);
	REQUIRE(fake.nipi == 4);
	for (unsigned k = 0; k < 4; k++)
		CHECK(fake.ipi[k].fenced);
	CHECK_EQ(fake.gp, 0);
}

TEST(x2_broadcast_id_refused)
{
	boot_cpu(X2APIC, 0, 0);
	apic_init_core();
	CHECK(apic_addressable(0xFFFFFFFE));
	CHECK(!apic_addressable(0xFFFFFFFF));
	fake_clear_log();
	CHECK_EQ(apic_send_ipi(0xFFFFFFFF, 0xF1), -ERANGE);
	CHECK_EQ(apic_send_init(0xFFFFFFFF), -ERANGE);
	CHECK_EQ(fake.nipi, 0);
	CHECK_EQ(fake.nev, 0);
}

/* Firmware may leave the APIC disabled: x2APIC is then reached through xAPIC. */
TEST(x2_from_disabled)
{
	fake_reset();
	fake_cpuid1_ecx(X2APIC);
	fake.apic_base &= ~BASE_EN;
	fake.apic_id = 9;
	apic_init(fake_apic_phys(), 0);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_APIC_BASE), 2);
	CHECK_EQ(fake.apic_base & (BASE_EN | BASE_EXTD), BASE_EN | BASE_EXTD);
	CHECK_EQ(apic_id(), 9);
	CHECK_EQ(fake.gp, 0);
}

/* Firmware may already have switched to x2APIC: nothing to write. */
TEST(x2_already_on)
{
	fake_reset();
	fake_cpuid1_ecx(X2APIC);
	fake.apic_base |= BASE_EXTD;
	fake.apic_id = 260;
	apic_init(fake_apic_phys(), 0);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_APIC_BASE), 0);
	CHECK_EQ(apic_id(), 260);
	CHECK_EQ(fake.gp, 0);
}

/* An application core starts in xAPIC mode (INIT-SIPI) and switches in apic_init_core. */
TEST(x2_application_core)
{
	boot_cpu(X2APIC, 0, 0);
	apic_init_core();
	app_cpu(X2APIC, 513);
	apic_init_core();
	CHECK_EQ(fake.apic_base & (BASE_EN | BASE_EXTD), BASE_EN | BASE_EXTD);
	CHECK_EQ(apic_id(), 513);
	CHECK_EQ(fake_apic_reg(R_SVR), 0x1FF);
	CHECK_EQ(mmio_accesses(), 0);
	CHECK_EQ(fake.gp, 0);
}

/* apic=xapic: xAPIC on a CPU that has x2APIC, even when firmware left x2APIC on (which is left
 * only through disabled). */
TEST(xapic_forced)
{
	boot_cpu(X2APIC, 3, APIC_NO_X2APIC);
	CHECK(!apic_is_x2());
	CHECK_EQ(fake_count(EV_WRMSR, MSR_APIC_BASE), 0);
	apic_init_core();
	CHECK_EQ(apic_id(), 3);
	CHECK_EQ(x2_msr_accesses(), 0);
	CHECK_EQ(fake.gp, 0);

	fake_reset();
	fake_cpuid1_ecx(X2APIC);
	fake.apic_base |= BASE_EXTD;
	fake.apic_id = 4;
	apic_init(fake_apic_phys(), APIC_NO_X2APIC);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_APIC_BASE), 2);
	CHECK_EQ(fake.apic_base & (BASE_EN | BASE_EXTD), BASE_EN);
	apic_init_core();
	CHECK_EQ(apic_id(), 4);
	CHECK_EQ(fake_apic_reg(R_SVR), 0x1FF);
	CHECK_EQ(fake.gp, 0);
}

/* ---- TSC-deadline timer --------------------------------------------------------------------- */

/* The LVT selects TSC-deadline mode (bits 17-18 = 10b) once per core, with a fence before any
 * write to IA32_TSC_DEADLINE (the SDM's rule for xAPIC mode; done in both modes). */
static void check_deadline_setup(void)
{
	CHECK(apic_timer_is_deadline());
	uint32_t lvt = fake_apic_reg(R_LVT_TIMER);
	CHECK_EQ((lvt >> 17) & 3, 2);
	CHECK_EQ(lvt & 0xFF, 0xF0);
	CHECK_EQ(lvt & (1u << 16), 0); /* unmasked */
	int lvt_at = fake_last(apic_is_x2() ? EV_WRMSR : EV_MMIO_WR,
	                       apic_is_x2() ? MSR_LVT_TIMER : R_LVT_TIMER);
	int msr_at = fake_last(EV_WRMSR, MSR_TSC_DEADLINE);
	REQUIRE(lvt_at >= 0 && msr_at > lvt_at);
	bool fenced = false;
	for (int i = lvt_at + 1; i < msr_at; i++)
		fenced |= fake.ev[i].kind == EV_FENCE;
	CHECK(fenced);
	CHECK_EQ(fake.deadline, 0); /* set up disarmed */
}

static void check_deadline_arm(void)
{
	fake_clear_log();
	apic_timer_arm(123456789);
	CHECK_EQ(fake.nev, 1);
	CHECK_EQ(last_write(EV_WRMSR, MSR_TSC_DEADLINE), 123456789);
	CHECK_EQ(fake.deadline, 123456789); /* taken: the LVT was in deadline mode */
	apic_timer_arm(0x8000000000000001ull);
	CHECK_EQ(fake.deadline, 0x8000000000000001ull); /* all 64 bits */
	apic_timer_arm(0);
	CHECK_EQ(last_write(EV_WRMSR, MSR_TSC_DEADLINE), 0);
	CHECK_EQ(fake.deadline, 0);
	CHECK_EQ(fake.deadline_ignored, 0);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_TIMER_INIT) + fake_count(EV_MMIO_WR, R_TIMER_INIT), 0);
}

TEST(deadline_x2apic)
{
	boot_cpu(X2APIC | DEADLINE, 0, 0);
	apic_init_core();
	check_deadline_setup();
	fake_clear_log();
	apic_timer_calibrate(); /* nothing to measure */
	CHECK_EQ(fake.nev, 0);
	check_deadline_arm();
	CHECK_EQ(fake.gp, 0);
}

TEST(deadline_xapic)
{
	boot_cpu(DEADLINE, 0, 0);
	apic_init_core();
	check_deadline_setup();
	check_deadline_arm();
	CHECK_EQ(fake.gp, 0);
}

TEST(deadline_application_core)
{
	boot_cpu(X2APIC | DEADLINE, 0, 0);
	apic_init_core();
	app_cpu(X2APIC | DEADLINE, 1);
	apic_init_core();
	check_deadline_setup();
	check_deadline_arm();
	CHECK_EQ(fake.gp, 0);
}

/* timer=oneshot: the one-shot timer although TSC-deadline is offered; IA32_TSC_DEADLINE is
 * never written. */
TEST(deadline_offered_oneshot_forced)
{
	boot_cpu(X2APIC | DEADLINE, 0, APIC_NO_DEADLINE);
	CHECK(!apic_timer_is_deadline());
	apic_init_core();
	CHECK_EQ((fake_apic_reg(R_LVT_TIMER) >> 17) & 3, 0);
	apic_timer_calibrate();
	fake.tsc_step = 0;
	apic_timer_arm(fake.tsc + 5000);
	CHECK(fake_apic_reg(R_TIMER_INIT) > 0);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_TSC_DEADLINE), 0);
	CHECK_EQ(fake.gp, 0);
}

/* ---- one-shot timer ------------------------------------------------------------------------- */

/* Calibrates against a fake APIC timer that runs at num/den of the TSC's rate; leaves the TSC
 * standing still so that counts are exact. */
static void oneshot_cpu(uint32_t ecx_bits, uint32_t num, uint32_t den)
{
	boot_cpu(ecx_bits, 0, 0);
	apic_init_core();
	fake.timer_num = num;
	fake.timer_den = den;
	fake.tsc_step = 8;
	apic_timer_calibrate();
	fake.tsc_step = 0;
}

static uint32_t init_count(void)
{
	return fake_apic_reg(R_TIMER_INIT);
}

static void check_oneshot(uint32_t ecx_bits)
{
	oneshot_cpu(ecx_bits, 1, 4); /* one APIC tick per 4 TSC ticks */
	/* Calibration leaves the LVT one-shot, unmasked, and the timer stopped. */
	CHECK_EQ(fake_apic_reg(R_LVT_TIMER), 0xF0);
	CHECK_EQ(init_count(), 0);
	CHECK(fake.pauses > 0);

	uint64_t now = fake.tsc;
	apic_timer_arm(now + 4000);
	CHECK_EQ(init_count(), 1000);
	fake.tsc = now + 3996;
	CHECK(fake_apic_reg(R_TIMER_CUR) > 0);
	fake.tsc = now + 4000;
	CHECK_EQ(fake_apic_reg(R_TIMER_CUR), 0); /* fires at the deadline */

	now = fake.tsc;
	apic_timer_arm(now + 2);
	CHECK_EQ(init_count(), 1); /* 0.5 ticks: rounds to 0, which would never fire */
	apic_timer_arm(now);
	CHECK_EQ(init_count(), 1); /* due now */
	apic_timer_arm(now - 1000);
	CHECK_EQ(init_count(), 1); /* already passed: at once */
	apic_timer_arm(now + (4ull << 32) - 4);
	CHECK_EQ(init_count(), 0xFFFFFFFF); /* the largest count that fits */
	apic_timer_arm(now + (1ull << 40));
	CHECK_EQ(init_count(), 0xFFFFFFFF); /* clamped: fires early, the caller re-arms */
	apic_timer_arm(~0ull);
	CHECK_EQ(init_count(), 0xFFFFFFFF);
	apic_timer_arm(0);
	CHECK_EQ(init_count(), 0); /* disarmed */
	CHECK_EQ(fake.gp, 0);
}

TEST(oneshot_xapic)
{
	check_oneshot(0);
	CHECK_EQ(x2_msr_accesses(), 0);
}

TEST(oneshot_x2apic)
{
	check_oneshot(X2APIC);
	CHECK_EQ(mmio_accesses(), 0);
}

/* Calibration for other ratios: KVM's APIC timer at 1 GHz against TSCs of 2.6 GHz and 0.8 GHz. */
TEST(oneshot_calibration_ratios)
{
	static const uint32_t ratio[][2] = { { 10, 26 }, { 5, 4 }, { 3, 1 }, { 1, 1 } };
	for (unsigned i = 0; i < ARRAY_SIZE(ratio); i++) {
		oneshot_cpu(X2APIC, ratio[i][0], ratio[i][1]);
		uint64_t delta = 26000000; /* 10 ms at 2.6 GHz */
		apic_timer_arm(fake.tsc + delta);
		double want = (double)delta * ratio[i][0] / ratio[i][1];
		double got = init_count();
		CHECK(got > want * 0.999 && got <= want * 1.0001);
	}
	CHECK_EQ(fake.gp, 0);
}

/* ---- xAPIC ---------------------------------------------------------------------------------- */

TEST(xapic_registers)
{
	boot_cpu(0, 7, 0);
	CHECK(!apic_is_x2());
	CHECK(!apic_timer_is_deadline());
	CHECK_EQ(fake_count(EV_WRMSR, MSR_APIC_BASE), 0); /* already enabled at reset */
	CHECK_EQ(apic_id(), 7);
	apic_init_core();
	CHECK_EQ(last_write(EV_MMIO_WR, R_SVR), 0x1FF);
	CHECK_EQ(last_write(EV_MMIO_WR, R_TPR), 0);
	CHECK_EQ(last_write(EV_MMIO_WR, R_TIMER_DIV), 0xB);
	CHECK_EQ(last_write(EV_MMIO_WR, R_LVT_TIMER), 0xF0);
	fake_clear_log();
	apic_eoi();
	CHECK_EQ(fake.nev, 1);
	CHECK_EQ(last_write(EV_MMIO_WR, R_EOI), 0);
	CHECK_EQ(x2_msr_accesses(), 0);
	CHECK_EQ(fake.gp, 0);
}

/* ICR high (destination in bits 24-31) then ICR low, with interrupts off across the pair. */
TEST(xapic_ipi_encodings)
{
	static const uint32_t dests[] = { 0, 1, 100, 254 };
	static const uint32_t lo[] = { ICR_FIXED_DOORBELL, ICR_NMI, ICR_INIT, ICR_SIPI_08 };
	boot_cpu(0, 0, 0);
	apic_init_core();
	for (unsigned i = 0; i < ARRAY_SIZE(dests); i++) {
		uint32_t d = dests[i];
		fake_clear_log();
		CHECK_EQ(apic_send_ipi(d, 0xF1), 0);
		CHECK_EQ(apic_send_nmi(d), 0);
		CHECK_EQ(apic_send_init(d), 0);
		CHECK_EQ(apic_send_sipi(d, 0x08), 0);
		REQUIRE(fake.nipi == 4);
		for (unsigned k = 0; k < 4; k++) {
			CHECK(!fake.ipi[k].x2);
			CHECK_EQ(fake.ipi[k].dest, d);
			CHECK_EQ(fake.ipi[k].icr_hi, d << 24);
			CHECK_EQ(fake.ipi[k].lo, lo[k]);
			CHECK(!fake.ipi[k].irq_on);
		}
		/* each ICR low write comes after its ICR high write, both with interrupts off */
		int hi_at = -1;
		for (unsigned e = 0; e < fake.nev; e++) {
			if (fake.ev[e].kind != EV_MMIO_WR)
				continue;
			if (fake.ev[e].reg == R_ICR_HI)
				hi_at = (int)e;
			if (fake.ev[e].reg == R_ICR_LO) {
				CHECK(hi_at >= 0 && !fake.ev[hi_at].irq_on && !fake.ev[e].irq_on);
				hi_at = -1;
			}
		}
		CHECK(fake.irq_on); /* restored */
		CHECK_EQ(x2_msr_accesses(), 0);
	}
	CHECK_EQ(fake.gp, 0);
}

TEST(xapic_ipi_keeps_interrupts_off)
{
	boot_cpu(0, 0, 0);
	apic_init_core();
	fake.irq_on = false; /* a handler, or boot code, with interrupts off */
	CHECK_EQ(apic_send_ipi(1, 0xF1), 0);
	CHECK(!fake.irq_on);
}

TEST(xapic_ipi_waits_while_pending)
{
	boot_cpu(0, 0, 0);
	apic_init_core();
	fake_clear_log();
	fake.icr_busy = 3;
	unsigned pauses = fake.pauses;
	CHECK_EQ(apic_send_ipi(1, 0xF1), 0);
	CHECK_EQ(fake_count(EV_MMIO_RD, R_ICR_LO), 4);
	CHECK_EQ(fake.pauses - pauses, 3);
	CHECK(fake.irq_on);
}

/* An xAPIC reaches ids 0..254 only: 255 is broadcast, and more than 8 bits would be truncated
 * to another CPU's id. Such a destination is refused, and nothing is written. */
TEST(xapic_unaddressable_refused)
{
	static const uint32_t bad[] = { 255, 256, 300, 0x10001, 0xFFFFFFFF };
	boot_cpu(0, 0, 0);
	apic_init_core();
	CHECK(apic_addressable(0));
	CHECK(apic_addressable(254));
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		fake_clear_log();
		CHECK(!apic_addressable(bad[i]));
		CHECK_EQ(apic_send_ipi(bad[i], 0xF1), -ERANGE);
		CHECK_EQ(apic_send_nmi(bad[i]), -ERANGE);
		CHECK_EQ(apic_send_init(bad[i]), -ERANGE);
		CHECK_EQ(apic_send_sipi(bad[i], 8), -ERANGE);
		CHECK_EQ(fake.nipi, 0);
		CHECK_EQ(fake.nev, 0);
	}
	/* forced xAPIC on an x2APIC machine: same rule */
	boot_cpu(X2APIC, 0, APIC_NO_X2APIC);
	apic_init_core();
	CHECK(!apic_addressable(300));
	CHECK_EQ(apic_send_ipi(300, 0xF1), -ERANGE);
	CHECK_EQ(fake.gp, 0);
}

int main(void)
{
	RUN(x2_mode_switch);
	RUN(x2_id_right_after_init);
	RUN(x2_id_all_32_bits);
	RUN(x2_init_core_registers);
	RUN(x2_eoi);
	RUN(x2_ipi_encodings);
	RUN(x2_ipi_fenced);
	RUN(x2_broadcast_id_refused);
	RUN(x2_from_disabled);
	RUN(x2_already_on);
	RUN(x2_application_core);
	RUN(xapic_forced);
	RUN(deadline_x2apic);
	RUN(deadline_xapic);
	RUN(deadline_application_core);
	RUN(deadline_offered_oneshot_forced);
	RUN(oneshot_xapic);
	RUN(oneshot_x2apic);
	RUN(oneshot_calibration_ratios);
	RUN(xapic_registers);
	RUN(xapic_ipi_encodings);
	RUN(xapic_ipi_keeps_interrupts_off);
	RUN(xapic_ipi_waits_while_pending);
	RUN(xapic_unaddressable_refused);
	TEST_EXIT();
}
