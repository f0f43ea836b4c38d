/*
 * tsc.c - TSC frequency and conversions.
 *
 * Sources, best first: CPUID leaf 0x15 (crystal ratio), the hypervisor leaf 0x40000010 (TSC
 * kHz, offered by QEMU/KVM and others), and finally the PIT: channel 2 counts a known interval
 * (1.193182 MHz clock) while we read the TSC. The PIT runs on host time under TCG, like the TSC,
 * so the ratio holds even if the vCPU is descheduled; we take the shortest of a few runs.
 * All values are written once by the boot core before the others start ([I]).
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"

static uint64_t hz;        /* [I] TSC ticks per second */
static uint64_t boot_tsc;  /* [I] TSC at boot */
static uint64_t ns_mult;   /* [I] ns per tick, 32.32 fixed point */
static uint64_t tick_mult; /* [I] ticks per ns, 32.32 fixed point */

#define PIT_HZ 1193182
#define PIT_CMD 0x43
#define PIT_CH0 0x40
static uint64_t from_cpuid(const char **src)
{
	uint32_t a, b, c, d;
	cpuid(0, 0, &a, &b, &c, &d);
	if (a >= 0x15) {
		cpuid(0x15, 0, &a, &b, &c, &d);
		if (a && b && c) {
			*src = "cpuid 0x15";
			return (uint64_t)c * b / a;
		}
	}
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (a >= 0x40000010 && a < 0x40000100) {
		cpuid(0x40000010, 0, &a, &b, &c, &d);
		if (a) {
			*src = "hypervisor cpuid";
			return (uint64_t)a * 1000;
		}
	}
	return 0;
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

const char *tsc_calibrate(void)
{
	const char *src = "pit";
	hz = from_cpuid(&src);
	if (!hz) {
		uint64_t best = 0;
		/* Two short runs (boot time matters); the shorter reading is the one least
		 * disturbed. 500 us is 596 PIT ticks: about 0.2% resolution. */
		for (int i = 0; i < 2; i++) {
			uint64_t f = pit_measure(500);
			if (f && (!best || f < best))
				best = f;
		}
		hz = best;
	}
	if (hz < 10000000) {
		/* No usable source: assume 1 GHz so time still advances, and say so. */
		hz = 1000000000;
		src = "none (assuming 1 GHz)";
	}
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
