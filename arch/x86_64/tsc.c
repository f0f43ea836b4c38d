/*
 * tsc.c - TSC frequency and conversions.
 *
 * Sources, best first; the first that gives a plausible frequency (10 MHz .. 100 GHz) wins:
 *
 *   cpuid 0x15        crystal Hz (ECX) * EBX / EAX, when the crystal frequency is enumerated.
 *   hypervisor cpuid  leaf 0x40000010: TSC kHz in EAX (QEMU/KVM with vmware-cpuid-freq, VMware).
 *   kvmclock          KVM's paravirtual clock. We hand the hypervisor a 32-byte time information
 *                     block (MSR_KVM_SYSTEM_TIME_NEW = its physical address | 1); it writes the
 *                     scale it converts TSC ticks to ns with, ns = ((ticks << shift) * mul) >> 32
 *                     (a negative shift shifts right), so Hz = 10^9 * 2^32 / (mul * 2^shift).
 *                     Read once at boot, then turned off (the MSR written with 0).
 *   pit               channel 0 counts a known interval (1.193182 MHz clock) while we read the TSC.
 *                     The PIT runs on host time under TCG, like the TSC, so the ratio holds even if
 *                     the vCPU is descheduled; we take the shortest of a few runs.
 *
 * Under TCG only the PIT exists; the other sources are tested on the host against a fake CPU
 * (tests/unit/test_tsc.c). All values are written once by the boot core before the others start
 * ([I]).
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/tsc.h"

static uint64_t hz;        /* [I] TSC ticks per second */
static uint64_t boot_tsc;  /* [I] TSC at boot */
static uint64_t ns_mult;   /* [I] ns per tick, 32.32 fixed point */
static uint64_t tick_mult; /* [I] ticks per ns, 32.32 fixed point */

#define TSC_HZ_MIN 10000000ull     /* 10 MHz: below this a source is broken */
#define TSC_HZ_MAX 100000000000ull /* 100 GHz: likewise */

#define PIT_HZ 1193182
#define PIT_CMD 0x43
#define PIT_CH0 0x40

#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define KVM_SIGNATURE_EBX 0x4b4d564b /* "KVMKVMKVM\0\0\0" */
#define KVM_SIGNATURE_ECX 0x564b4d56
#define KVM_SIGNATURE_EDX 0x0000004d
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

/*
 * KVM's time information for one vCPU (the pvclock ABI, 32 bytes, must not cross a page). The
 * hypervisor writes it while it is enabled; version is odd while an update is under way.
 * Ownership: the hypervisor's; the core only reads it, through a volatile pointer, retrying
 * while version is odd or changes.
 */
struct pvclock_time_info {
	uint32_t version;       /* even: the fields are consistent; 0: never written */
	uint32_t pad0;          /* unused */
	uint64_t tsc_timestamp; /* TSC at system_time (unused here) */
	uint64_t system_time;   /* ns since the VM started (unused here) */
	uint32_t mul;           /* tsc_to_system_mul: ns per shifted tick, 0.32 fixed point */
	int8_t shift;           /* tsc_shift: ticks are shifted left by this (right if < 0) */
	uint8_t flags;          /* unused */
	uint8_t pad[2];         /* unused */
} __packed;

_Static_assert(sizeof(struct pvclock_time_info) == 32, "the pvclock ABI is 32 bytes");

/* Written by the hypervisor between the two MSR writes in from_kvmclock, read by the boot core
 * there; 32-byte aligned so that it never crosses a page. */
static struct pvclock_time_info pvclock __aligned(32);

/* A frequency a source may give; anything else means the source is broken. */
static bool plausible(uint64_t f)
{
	return f >= TSC_HZ_MIN && f <= TSC_HZ_MAX;
}

static uint64_t from_crystal(void)
{
	uint32_t a, b, c, d;
	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 0x15)
		return 0;
	cpuid(0x15, 0, &a, &b, &c, &d); /* a: denominator, b: numerator, c: crystal Hz */
	if (!a || !b || !c)
		return 0;
	return (uint64_t)c * b / a;
}

static bool hypervisor_present(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return c & CPUID1_ECX_HYPERVISOR;
}

static uint64_t from_hypervisor_leaf(void)
{
	uint32_t a, b, c, d;
	if (!hypervisor_present())
		return 0;
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (a < 0x40000010 || a >= 0x40000100)
		return 0;
	cpuid(0x40000010, 0, &a, &b, &c, &d);
	return (uint64_t)a * 1000;
}

/* The base of KVM's CPUID leaves: 0x40000000, or 0x40000100 when Hyper-V's come first. */
static uint32_t kvm_cpuid_base(void)
{
	static const uint32_t bases[] = { 0x40000000, 0x40000100 };
	if (!hypervisor_present())
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(bases); i++) {
		uint32_t a, b, c, d;
		cpuid(bases[i], 0, &a, &b, &c, &d);
		if (b == KVM_SIGNATURE_EBX && c == KVM_SIGNATURE_ECX && d == KVM_SIGNATURE_EDX)
			return bases[i];
	}
	return 0;
}

uint64_t tsc_hz_from_pvclock(uint32_t mul, int shift)
{
	if (mul == 0 || shift < -32 || shift > 32)
		return 0;
	/* 10^9 * 2^32 < 2^62: shifted left by at most 32, and mul shifted by at most 32, both fit */
	unsigned __int128 num = (unsigned __int128)1000000000 << 32, den = mul;
	if (shift < 0)
		num <<= -shift;
	else
		den <<= shift;
	/* KVM derives mul from the TSC's kHz and rounds it down, so the quotient is a fraction of
	 * a Hz high: the nearest kHz is the frequency the hypervisor runs the TSC at. */
	unsigned __int128 f = (num / den + 500) / 1000 * 1000;
	return f <= TSC_HZ_MAX && plausible((uint64_t)f) ? (uint64_t)f : 0;
}

static uint64_t from_kvmclock(void)
{
	uint32_t base = kvm_cpuid_base(), a, b, c, d;
	if (!base)
		return 0;
	cpuid(base + 1, 0, &a, &b, &c, &d);
	if (!(a & KVM_FEATURE_CLOCKSOURCE2))
		return 0;
	/* volatile: the hypervisor writes the block behind the compiler's back; every field is
	 * read from memory, in program order (x86 does not reorder loads with loads). */
	const volatile struct pvclock_time_info *pv = &pvclock;
	uint64_t phys = (uint64_t)(uintptr_t)&pvclock - KERNEL_VMA;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, phys | 1);
	uint32_t mul = 0;
	int shift = 0;
	bool ok = false;
	/* Version protocol: the fields are consistent if the version was even and unchanged
	 * around reading them. KVM fills the block before the WRMSR returns; a few retries cover
	 * an update racing with us. */
	for (int tries = 0; tries < 1000 && !ok; tries++) {
		uint32_t v = pv->version;
		mul = pv->mul;
		shift = pv->shift;
		ok = v != 0 && !(v & 1) && v == pv->version;
		if (!ok)
			cpu_pause();
	}
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0); /* off: the hypervisor stops writing our .bss */
	return ok ? tsc_hz_from_pvclock(mul, shift) : 0;
}

static uint16_t pit_read(void)
{
	outb(PIT_CMD, 0x00); /* latch channel 0 */
	uint8_t lo = inb(PIT_CH0);
	uint8_t hi = inb(PIT_CH0);
	return (uint16_t)(lo | hi << 8);
}

/*
 * One PIT measurement of about `us` microseconds: channel 0 counts down from 0xffff at
 * 1.193182 MHz (its interrupt is masked); we read the TSC at two counter edges. Channel 0 is
 * used because its gate is always on (channel 2 needs the PC speaker port, which microvm lacks).
 * Returns 0 if the counter does not move (no PIT), giving up after ~50 M TSC ticks.
 */
static uint64_t pit_measure(unsigned us)
{
	uint32_t want = PIT_HZ / 1000 * us / 1000;
	outb(PIT_CMD, 0x34); /* channel 0, lo/hi byte, mode 2 (rate generator) */
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);
	uint64_t limit = rdtsc() + 50000000;
	uint16_t first = pit_read(), start;
	while ((start = pit_read()) == first) /* start on an edge */
		if (rdtsc() > limit)
			return 0;
	uint64_t t0 = rdtsc();
	uint32_t elapsed;
	do {
		elapsed = (uint16_t)(start - pit_read());
		if (rdtsc() > limit)
			return 0;
	} while (elapsed < want);
	uint64_t t1 = rdtsc();
	return (t1 - t0) * PIT_HZ / elapsed;
}

static uint64_t from_pit(void)
{
	uint64_t best = 0;
	/* Two short runs (boot time matters); the shorter reading is the one least disturbed.
	 * 500 us is 596 PIT ticks: about 0.2% resolution. */
	for (int i = 0; i < 2; i++) {
		uint64_t f = pit_measure(500);
		if (f && (!best || f < best))
			best = f;
	}
	return best;
}

static const struct tsc_source {
	const char *name;          /* for the boot log */
	uint64_t (*measure)(void); /* TSC Hz, or 0 */
} sources[] = {
	{ "cpuid 0x15", from_crystal },
	{ "hypervisor cpuid", from_hypervisor_leaf },
	{ "kvmclock", from_kvmclock },
	{ "pit", from_pit },
};

const char *tsc_calibrate(void)
{
	const char *src = "none (assuming 1 GHz)";
	hz = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(sources) && !hz; i++) {
		uint64_t f = sources[i].measure();
		if (plausible(f)) {
			hz = f;
			src = sources[i].name;
		}
	}
	if (!hz)
		hz = 1000000000; /* no usable source: time still advances, and the log says so */
	ns_mult = (uint64_t)(((unsigned __int128)1000000000 << 32) / hz);
	tick_mult = (uint64_t)(((unsigned __int128)hz << 32) / 1000000000);
	return src;
}

uint64_t tsc_hz(void)
{
	return hz;
}

uint64_t tsc_boot(void)
{
	return boot_tsc;
}

void tsc_set_boot(uint64_t t)
{
	boot_tsc = t;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32);
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * tick_mult) >> 32);
}
