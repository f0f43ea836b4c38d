/*
 * test_tsc.c - the TSC frequency sources (arch/x86_64/tsc.c) against a fake CPU
 * (tests/unit/fakecpu.c): CPUID 0x15, the hypervisor leaf 0x40000010 and KVM's paravirtual
 * clock, which QEMU's TCG does not offer, and the PIT, which the guest tests also run for real.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/tsc.h"
#include "tests/unit/fakecpu.h"
#include "tests/unit/test.h"

#define HYPERVISOR (1u << 31)
#define KVM_FEATURE_CLOCKSOURCE (1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

/*
 * KVM's scale for a TSC of khz kHz, as KVM computes it (kvm_get_time_scale with 10^9 ns/s):
 * ns = ((ticks << shift) * mul) >> 32. The values below were computed from that algorithm for
 * each frequency.
 */
static const struct {
	uint64_t khz;
	uint32_t mul;
	int shift;
} kvm_scales[] = {
	{ 1000000, 0x80000000, 1 },  /* 1.0 GHz: a positive shift */
	{ 2100000, 0xf3cf3cf3, -1 }, /* 2.1 GHz */
	{ 2600000, 0xc4ec4ec4, -1 }, /* 2.6 GHz */
	{ 3700000, 0x8a60dd67, -1 }, /* 3.7 GHz: the exact quotient is 3700000001.25 Hz */
	{ 2593625, 0xc56837f7, -1 }, /* the PIT's reading on this project's build machine */
	{ 1234567, 0xcf5c32e1, 0 },  /* shift 0 */
	{ 500000, 0x80000000, 2 },   /* 500 MHz */
	{ 50000, 0xa0000000, 5 },    /* 50 MHz */
	{ 5000000, 0xcccccccc, -2 }, /* 5 GHz */
};

TEST(pvclock_kvm_scales)
{
	for (unsigned i = 0; i < ARRAY_SIZE(kvm_scales); i++)
		CHECK_EQ(tsc_hz_from_pvclock(kvm_scales[i].mul, kvm_scales[i].shift),
		         kvm_scales[i].khz * 1000);
}

TEST(pvclock_garbage_rejected)
{
	CHECK_EQ(tsc_hz_from_pvclock(0, 0), 0);           /* never written */
	CHECK_EQ(tsc_hz_from_pvclock(0, -1), 0);          /* mul 0 with any shift */
	CHECK_EQ(tsc_hz_from_pvclock(1, -1), 0);          /* 8.6e18 Hz */
	CHECK_EQ(tsc_hz_from_pvclock(0xFFFFFFFF, 32), 0); /* 0.23 Hz */
	CHECK_EQ(tsc_hz_from_pvclock(0x80000000, 10), 0); /* 1.95 MHz: below 10 MHz */
	CHECK_EQ(tsc_hz_from_pvclock(0x80000000, -6), 0); /* 128 GHz: above 100 GHz */
	CHECK_EQ(tsc_hz_from_pvclock(0xc4ec4ec4, 33), 0); /* shifts beyond +-32 */
	CHECK_EQ(tsc_hz_from_pvclock(0xc4ec4ec4, -33), 0);
	CHECK_EQ(tsc_hz_from_pvclock(0xc4ec4ec4, 127), 0);
	CHECK_EQ(tsc_hz_from_pvclock(0xc4ec4ec4, -128), 0);
	/* the edges of the plausible range stay in */
	CHECK_EQ(tsc_hz_from_pvclock(0xc8000000, 7), 10000000);      /* 10 MHz */
	CHECK_EQ(tsc_hz_from_pvclock(0xa3d70a3d, -6), 100000000000); /* 100 GHz */
	CHECK_EQ(tsc_hz_from_pvclock(0xcccccccc, -3), 10000000000);  /* 10 GHz */
}

/* A CPU with nothing but what a test adds; the TSC steps by 100 per read. */
static void cpu(void)
{
	fake_reset();
	fake.tsc_step = 100;
}

static void hypervisor_leaf(uint32_t khz)
{
	fake_cpuid1_ecx(HYPERVISOR);
	fake_set_cpuid(0x40000000, 0x40000010, 0, 0, 0);
	fake_set_cpuid(0x40000010, khz, 0, 0, 0);
}

/* KVM at base with kvmclock giving the scale of a TSC of khz. */
static void kvmclock(uint32_t base, uint64_t khz)
{
	fake_kvm(base, KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_CLOCKSOURCE2);
	for (unsigned i = 0; i < ARRAY_SIZE(kvm_scales); i++)
		if (kvm_scales[i].khz == khz) {
			fake.pv_mul = kvm_scales[i].mul;
			fake.pv_shift = (int8_t)kvm_scales[i].shift;
		}
}

TEST(crystal_0x15)
{
	cpu();
	fake_set_cpuid(0x15, 2, 216, 24000000, 0); /* 24 MHz crystal * 216 / 2 */
	CHECK_STR(tsc_calibrate(), "cpuid 0x15");
	CHECK_EQ(tsc_hz(), 2592000000);
	/* ahead of the hypervisor's sources */
	hypervisor_leaf(3000000);
	kvmclock(0x40000100, 2600000);
	CHECK_STR(tsc_calibrate(), "cpuid 0x15");
	CHECK_EQ(tsc_hz(), 2592000000);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_KVM_SYSTEM_TIME_NEW), 0);
	CHECK_EQ(fake.gp, 0);
}

TEST(crystal_0x15_unusable)
{
	cpu();
	fake_set_cpuid(0x15, 2, 216, 0, 0); /* crystal not enumerated */
	hypervisor_leaf(2100000);
	CHECK_STR(tsc_calibrate(), "hypervisor cpuid");
	CHECK_EQ(tsc_hz(), 2100000000);

	cpu();
	fake_set_cpuid(0x15, 0, 216, 24000000, 0); /* no ratio */
	hypervisor_leaf(2100000);
	CHECK_STR(tsc_calibrate(), "hypervisor cpuid");

	cpu();
	fake_set_cpuid(0x15, 1, 0xFFFFFFFF, 0xFFFFFFFF, 0); /* absurd: 1.8e19 Hz */
	hypervisor_leaf(2100000);
	CHECK_STR(tsc_calibrate(), "hypervisor cpuid");

	cpu();
	fake_set_cpuid(0x15, 2, 216, 24000000, 0);
	fake.cpuid[0][1] = 0x14; /* leaf 0x15 beyond the maximum basic leaf: not there */
	hypervisor_leaf(2100000);
	CHECK_STR(tsc_calibrate(), "hypervisor cpuid");
	CHECK_EQ(fake.gp, 0);
}

TEST(hypervisor_leaf_0x40000010)
{
	cpu();
	hypervisor_leaf(2593625);
	CHECK_STR(tsc_calibrate(), "hypervisor cpuid");
	CHECK_EQ(tsc_hz(), 2593625000);
	/* ahead of kvmclock */
	kvmclock(0x40000000, 2600000);
	fake_set_cpuid(0x40000000, 0x40000010, 0x4b4d564b, 0x564b4d56, 0x4d);
	CHECK_STR(tsc_calibrate(), "hypervisor cpuid");
	CHECK_EQ(tsc_hz(), 2593625000);
	CHECK_EQ(fake_count(EV_WRMSR, MSR_KVM_SYSTEM_TIME_NEW), 0);
	CHECK_EQ(fake.gp, 0);
}

TEST(hypervisor_leaf_absent)
{
	cpu();
	hypervisor_leaf(2593625);
	fake.cpuid[1][3] &= ~HYPERVISOR; /* no hypervisor: leaves 0x4000xxxx mean nothing */
	fake.pit_tsc_hz = 2000000000;
	CHECK_STR(tsc_calibrate(), "pit");

	cpu();
	hypervisor_leaf(2593625);
	fake_set_cpuid(0x40000000, 0x40000001, 0, 0, 0); /* the leaf is beyond the maximum */
	fake.pit_tsc_hz = 2000000000;
	CHECK_STR(tsc_calibrate(), "pit");

	cpu();
	hypervisor_leaf(5); /* 5 kHz: broken */
	fake.pit_tsc_hz = 2000000000;
	CHECK_STR(tsc_calibrate(), "pit");
	CHECK_EQ(fake.gp, 0);
}

/* The kvmclock MSR got the time information's physical address | 1 (32-byte aligned), and
 * was turned off again with 0. */
static void check_kvmclock_msr(void)
{
	REQUIRE(fake_count(EV_WRMSR, MSR_KVM_SYSTEM_TIME_NEW) == 2);
	int i = fake_last(EV_WRMSR, MSR_KVM_SYSTEM_TIME_NEW);
	CHECK_EQ(fake.ev[i].val, 0);
	uint64_t on = 0;
	for (int k = 0; k < i; k++)
		if (fake.ev[k].kind == EV_WRMSR && fake.ev[k].reg == MSR_KVM_SYSTEM_TIME_NEW)
			on = fake.ev[k].val;
	CHECK_EQ(on & 1, 1);
	CHECK_EQ(on & 30, 0);
	CHECK(on - 1 + KERNEL_VMA != 0); /* a kernel image address, as the fake maps it back */
	CHECK_EQ(fake.pv_msr, 0);
	CHECK_EQ(fake.pv_enables, 1);
}

TEST(kvmclock_frequencies)
{
	static const uint64_t khz[] = { 1000000, 2100000, 2600000, 3700000, 1234567, 500000 };
	for (unsigned i = 0; i < ARRAY_SIZE(khz); i++) {
		cpu();
		kvmclock(0x40000000, khz[i]);
		CHECK_STR(tsc_calibrate(), "kvmclock");
		CHECK_EQ(tsc_hz(), khz[i] * 1000);
		check_kvmclock_msr();
	}
	CHECK_EQ(fake.gp, 0);
}

/* With Hyper-V enlightenments KVM's leaves move to 0x40000100. */
TEST(kvmclock_behind_hyperv)
{
	cpu();
	fake_cpuid1_ecx(HYPERVISOR);
	fake_set_cpuid(0x40000000, 0x4000000B, 0x7263694D, 0x666F736F,
	               0x76482074); /* Microsoft Hv */
	kvmclock(0x40000100, 3700000);
	CHECK_STR(tsc_calibrate(), "kvmclock");
	CHECK_EQ(tsc_hz(), 3700000000);
	check_kvmclock_msr();
	CHECK_EQ(fake.gp, 0);
}

/* The hypervisor is in the middle of an update (odd version, fields half written) for a while:
 * the reader waits for an even version and takes the finished values. */
TEST(kvmclock_update_in_progress)
{
	cpu();
	kvmclock(0x40000000, 2600000);
	fake.pv_busy = 5;
	CHECK_STR(tsc_calibrate(), "kvmclock");
	CHECK_EQ(tsc_hz(), 2600000000);
	CHECK(fake.pauses >= 5);
	check_kvmclock_msr();
	CHECK_EQ(fake.gp, 0);
}

TEST(kvmclock_unusable)
{
	/* only the old clock source (MSR 0x12): not used */
	cpu();
	fake_kvm(0x40000000, KVM_FEATURE_CLOCKSOURCE);
	fake.pit_tsc_hz = 2000000000;
	CHECK_STR(tsc_calibrate(), "pit");
	CHECK_EQ(fake_count(EV_WRMSR, MSR_KVM_SYSTEM_TIME_NEW), 0);

	/* no KVM signature */
	cpu();
	fake_kvm(0x40000000, KVM_FEATURE_CLOCKSOURCE2);
	fake_set_cpuid(0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0); /* "KVMKVMKV" */
	fake.pit_tsc_hz = 2000000000;
	CHECK_STR(tsc_calibrate(), "pit");
	CHECK_EQ(fake_count(EV_WRMSR, MSR_KVM_SYSTEM_TIME_NEW), 0);

	/* garbage scale: mul 0 */
	cpu();
	kvmclock(0x40000000, 2600000);
	fake.pv_mul = 0;
	fake.pit_tsc_hz = 2000000000;
	CHECK_STR(tsc_calibrate(), "pit");
	check_kvmclock_msr();

	/* the update never finishes: give up, turn it off, fall back */
	cpu();
	kvmclock(0x40000000, 2600000);
	fake.pv_busy = 1000000;
	fake.pit_tsc_hz = 2000000000;
	CHECK_STR(tsc_calibrate(), "pit");
	check_kvmclock_msr();
	CHECK_EQ(fake.gp, 0);
}

/* What runs under TCG: the PIT against the TSC. */
TEST(pit)
{
	static const uint64_t f[] = { 2593625000, 1000000000, 3700000000 };
	for (unsigned i = 0; i < ARRAY_SIZE(f); i++) {
		cpu();
		fake.pit_tsc_hz = f[i];
		CHECK_STR(tsc_calibrate(), "pit");
		double err = (double)tsc_hz() / (double)f[i] - 1;
		CHECK(err > -0.003 && err < 0.003);
	}
	CHECK_EQ(fake.gp, 0);
}

TEST(no_source)
{
	cpu();
	fake.tsc_step = 10000; /* the PIT wait gives up after 50 M ticks */
	CHECK_STR(tsc_calibrate(), "none (assuming 1 GHz)");
	CHECK_EQ(tsc_hz(), 1000000000);
}

TEST(conversions)
{
	cpu();
	kvmclock(0x40000000, 2600000);
	tsc_calibrate();
	uint64_t ticks = ns_to_tsc(1000000000);
	CHECK(ticks >= 2599999999 && ticks <= 2600000000); /* rounded down */
	uint64_t ns = tsc_to_ns(2600000000);
	CHECK(ns >= 999999999 && ns <= 1000000000);
	CHECK_EQ(tsc_to_ns(0), 0);
}

int main(void)
{
	RUN(pvclock_kvm_scales);
	RUN(pvclock_garbage_rejected);
	RUN(crystal_0x15);
	RUN(crystal_0x15_unusable);
	RUN(hypervisor_leaf_0x40000010);
	RUN(hypervisor_leaf_absent);
	RUN(kvmclock_frequencies);
	RUN(kvmclock_behind_hyperv);
	RUN(kvmclock_update_in_progress);
	RUN(kvmclock_unusable);
	RUN(pit);
	RUN(no_source);
	RUN(conversions);
	TEST_EXIT();
}
