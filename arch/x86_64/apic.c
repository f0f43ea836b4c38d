/*
 * apic.c - local APIC access.
 *
 * x2APIC registers are MSRs 0x800 + (offset >> 4); xAPIC registers are 32-bit MMIO words at
 * the APIC base (identity mapped). The timer uses TSC-deadline mode when the CPU offers it, so a
 * deadline is just a TSC value; otherwise one-shot mode with a count derived from the TSC
 * through a ratio measured once at boot (apic_timer_calibrate).
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"

#define MSR_APIC_BASE 0x1B
#define MSR_TSC_DEADLINE 0x6E0
#define APIC_BASE_EN (1u << 11)
#define APIC_BASE_X2 (1u << 10)

#define REG_ID 0x20
#define REG_TPR 0x80
#define REG_EOI 0xB0
#define REG_SVR 0xF0
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3E0

#define ICR_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)

/* Set once by the boot core before other cores start, then read-only ([I]). */
static bool x2;                   /* [I] x2APIC mode */
static volatile uint32_t *xapic;  /* [I] xAPIC MMIO base (volatile: device registers) */
static bool tsc_deadline;         /* [I] TSC-deadline timer available */
static uint64_t apic_per_tsc_q32; /* [I] APIC timer ticks per TSC tick, 32.32 fixed point */

static uint32_t rd(uint32_t reg)
{
	if (x2)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return xapic[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
	if (x2)
		wrmsr(0x800 + (reg >> 4), v);
	else
		xapic[reg / 4] = v;
}

void apic_init(uint64_t xapic_phys)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	x2 = c & (1u << 21);
	tsc_deadline = c & (1u << 24);
	xapic = (volatile uint32_t *)(uintptr_t)(xapic_phys ? xapic_phys : 0xFEE00000);
}

void apic_init_core(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	base |= APIC_BASE_EN;
	if (x2)
		base |= APIC_BASE_X2;
	wrmsr(MSR_APIC_BASE, base);
	wr(REG_TPR, 0);
	wr(REG_SVR, 0x100 | VEC_SPURIOUS);
	wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	wr(REG_TIMER_DIV, 0xB); /* divide by 1 */
}

bool apic_is_x2(void)
{
	return x2;
}

uint32_t apic_id(void)
{
	if (x2)
		return (uint32_t)rdmsr(0x802);
	return rd(REG_ID) >> 24;
}

void apic_eoi(void)
{
	wr(REG_EOI, 0);
}

static void send_icr(uint32_t dest, uint32_t lo)
{
	if (x2) {
		/* wrmsr to the ICR is not serializing: make earlier stores (the message) visible
		 * to the destination before the interrupt that tells it to look. */
		cpu_mfence();
		wrmsr(0x830, ((uint64_t)dest << 32) | lo);
		return;
	}
	/* ICR_HI then ICR_LO must not be split by an interrupt handler that sends an IPI too. */
	bool on = irq_save();
	wr(REG_ICR_HI, dest << 24);
	wr(REG_ICR_LO, lo);
	for (int i = 0; i < 1000000 && (rd(REG_ICR_LO) & ICR_PENDING); i++)
		cpu_pause();
	irq_restore(on);
}

void apic_send_ipi(uint32_t dest, uint8_t vector)
{
	send_icr(dest, ICR_ASSERT | vector);
}

void apic_send_nmi(uint32_t dest)
{
	send_icr(dest, ICR_ASSERT | (4u << 8));
}

void apic_send_init(uint32_t dest)
{
	send_icr(dest, ICR_ASSERT | (5u << 8));
}

void apic_send_sipi(uint32_t dest, uint8_t page)
{
	send_icr(dest, ICR_ASSERT | (6u << 8) | page);
}

void apic_timer_calibrate(void)
{
	if (tsc_deadline)
		return;
	wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	wr(REG_TIMER_DIV, 0xB);
	wr(REG_TIMER_INIT, 0xFFFFFFFF);
	uint64_t t0 = rdtsc();
	uint64_t wait = tsc_hz() / 2000; /* 0.5 ms */
	while (rdtsc() - t0 < wait)
		cpu_pause();
	uint32_t cur = rd(REG_TIMER_CUR);
	uint64_t t1 = rdtsc();
	wr(REG_TIMER_INIT, 0);
	uint64_t ticks = 0xFFFFFFFFull - cur;
	apic_per_tsc_q32 = (ticks << 32) / (t1 - t0);
	if (apic_per_tsc_q32 == 0)
		apic_per_tsc_q32 = 1;
}

void apic_timer_arm(uint64_t tsc)
{
	if (tsc_deadline) {
		wr(REG_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
		wrmsr(MSR_TSC_DEADLINE, tsc); /* 0 disarms */
		return;
	}
	if (tsc == 0) {
		wr(REG_TIMER_INIT, 0);
		return;
	}
	uint64_t now = rdtsc();
	uint64_t delta = tsc > now ? tsc - now : 1;
	unsigned __int128 count = ((unsigned __int128)delta * apic_per_tsc_q32) >> 32;
	if (count == 0)
		count = 1;
	if (count > 0xFFFFFFFFu)
		count = 0xFFFFFFFFu; /* fires early; the timer code re-arms */
	wr(REG_LVT_TIMER, VEC_TIMER);
	wr(REG_TIMER_INIT, (uint32_t)count);
}
