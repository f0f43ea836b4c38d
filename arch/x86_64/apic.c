/*
 * apic.c - local APIC access.
 *
 * x2APIC registers are MSRs 0x800 + (offset >> 4); xAPIC registers are 32-bit MMIO words at
 * the APIC base (identity mapped). The two modes differ in three more places:
 *
 *   id      x2APIC: all 32 bits of MSR 0x802. xAPIC: bits 24-31 of the ID register.
 *   IPI     x2APIC: one 64-bit write to MSR 0x830, destination in bits 32-63. xAPIC: the
 *           destination into bits 24-31 of ICR high, then ICR low, which sends; the pair must
 *           not be split by an interrupt handler that sends an IPI itself.
 *   order   A WRMSR to an x2APIC register is not serializing, so an IPI is preceded by a fence
 *           that makes earlier stores (the message) visible first. xAPIC MMIO is uncached and
 *           x86 keeps stores in order, so no fence is needed there.
 *
 * The mode is switched with IA32_APIC_BASE, whose rules KVM enforces with #GP: x2APIC only from
 * an enabled xAPIC, xAPIC from x2APIC only through disabled. The boot core switches in
 * apic_init, before anything reads its id; the other cores in apic_init_core.
 *
 * The timer uses TSC-deadline mode when the CPU offers it: the LVT is set to that mode once per
 * core, and a deadline is a TSC value written to IA32_TSC_DEADLINE (0 disarms). Otherwise the
 * one-shot mode, with a count derived from the TSC through a ratio measured once at boot
 * (apic_timer_calibrate).
 *
 * Everything reaches the processor through cpu.h, so tests/unit/test_apic.c runs this file
 * against a fake CPU on the host: that is how the x2APIC and TSC-deadline paths, which QEMU's
 * TCG does not have, are tested.
 */
#include <isle/errno.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/vectors.h"

#define MSR_APIC_BASE 0x1B
#define MSR_TSC_DEADLINE 0x6E0
#define MSR_X2APIC_BASE 0x800
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_ICR 0x830
#define APIC_BASE_EN (1u << 11)
#define APIC_BASE_X2 (1u << 10)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)

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

#define SVR_ENABLE (1u << 8)
#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define LVT_MASKED (1u << 16)
#define LVT_ONESHOT (0u << 17)
#define LVT_TSC_DEADLINE (2u << 17)
#define TIMER_DIV_1 0xB
#define XAPIC_BROADCAST 0xFFu
#define X2APIC_BROADCAST 0xFFFFFFFFu

/* Set once by the boot core before other cores start, then read-only ([I]). */
static bool x2;                   /* [I] x2APIC mode */
static volatile uint32_t *xapic;  /* [I] xAPIC MMIO base (volatile: device registers) */
static bool tsc_deadline;         /* [I] the timer runs in TSC-deadline mode */
static uint64_t apic_per_tsc_q32; /* [I] APIC timer ticks per TSC tick, 32.32 fixed point */

static uint32_t rd(uint32_t reg)
{
	if (x2)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return mmio_read32(&xapic[reg / 4]);
}

static void wr(uint32_t reg, uint32_t v)
{
	if (x2)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
	else
		mmio_write32(&xapic[reg / 4], v);
}

/*
 * Puts the calling core's APIC in the chosen mode from whatever state it is in (the reset state
 * is xAPIC; firmware may have left it disabled or in x2APIC). IA32_APIC_BASE has no direct way
 * from disabled to x2APIC, nor from x2APIC to xAPIC: those go through xAPIC and disabled.
 */
static void enter_mode(void)
{
	const uint64_t mask = APIC_BASE_EN | APIC_BASE_X2;
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint64_t now = base & mask, want = APIC_BASE_EN | (x2 ? APIC_BASE_X2 : 0);
	if (now == want)
		return;
	base &= ~mask;
	if (x2 && now == 0)
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
	else if (!x2 && now == mask)
		wrmsr(MSR_APIC_BASE, base);
	wrmsr(MSR_APIC_BASE, base | want);
}

void apic_init(uint64_t xapic_phys, unsigned flags)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	x2 = (c & CPUID1_ECX_X2APIC) && !(flags & APIC_NO_X2APIC);
	tsc_deadline = (c & CPUID1_ECX_TSC_DEADLINE) && !(flags & APIC_NO_DEADLINE);
	/* volatile: device registers; every access must reach the APIC, once and in order. */
	xapic = (volatile uint32_t *)(uintptr_t)(xapic_phys ? xapic_phys : 0xFEE00000);
	/* Before apic_id(): reading MSR 0x802 outside x2APIC mode is a #GP. */
	enter_mode();
}

void apic_init_core(void)
{
	enter_mode();
	wr(REG_TPR, 0);
	wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	wr(REG_TIMER_DIV, TIMER_DIV_1);
	if (tsc_deadline) {
		wr(REG_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
		/* The SDM asks for a fence between the write that selects TSC-deadline mode and a
		 * later WRMSR to IA32_TSC_DEADLINE: in xAPIC mode the MMIO store is not ordered with
		 * the WRMSR, and a deadline written before the mode took effect would be dropped. */
		cpu_mfence();
		wrmsr(MSR_TSC_DEADLINE, 0);
	} else {
		wr(REG_LVT_TIMER, LVT_ONESHOT | VEC_TIMER);
		wr(REG_TIMER_INIT, 0); /* stopped */
	}
}

bool apic_is_x2(void)
{
	return x2;
}

bool apic_timer_is_deadline(void)
{
	return tsc_deadline;
}

bool apic_addressable(uint32_t id)
{
	return x2 ? id != X2APIC_BROADCAST : id < XAPIC_BROADCAST;
}

uint32_t apic_id(void)
{
	if (x2)
		return (uint32_t)rdmsr(MSR_X2APIC_ID);
	return rd(REG_ID) >> 24;
}

void apic_eoi(void)
{
	wr(REG_EOI, 0);
}

static int send_icr(uint32_t dest, uint32_t lo)
{
	if (!apic_addressable(dest))
		return -ERANGE;
	if (x2) {
		/* wrmsr to the ICR is not serializing: make earlier stores (the message) visible
		 * to the destination before the interrupt that tells it to look. */
		cpu_mfence();
		wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | lo);
		return 0;
	}
	/* ICR_HI then ICR_LO must not be split by an interrupt handler that sends an IPI too. */
	bool on = irq_save();
	wr(REG_ICR_HI, dest << 24);
	wr(REG_ICR_LO, lo);
	for (int i = 0; i < 1000000 && (rd(REG_ICR_LO) & ICR_PENDING); i++)
		cpu_pause();
	irq_restore(on);
	return 0;
}

int apic_send_ipi(uint32_t dest, uint8_t vector)
{
	return send_icr(dest, ICR_ASSERT | ICR_FIXED | vector);
}

int apic_send_nmi(uint32_t dest)
{
	return send_icr(dest, ICR_ASSERT | ICR_NMI);
}

int apic_send_init(uint32_t dest)
{
	return send_icr(dest, ICR_ASSERT | ICR_INIT);
}

int apic_send_sipi(uint32_t dest, uint8_t page)
{
	return send_icr(dest, ICR_ASSERT | ICR_STARTUP | page);
}

void apic_timer_calibrate(void)
{
	if (tsc_deadline)
		return;
	wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	wr(REG_TIMER_INIT, 0xFFFFFFFF);
	uint64_t t0 = rdtsc();
	uint64_t wait = tsc_hz() / 2000; /* 0.5 ms */
	while (rdtsc() - t0 < wait)
		cpu_pause();
	uint32_t cur = rd(REG_TIMER_CUR);
	uint64_t t1 = rdtsc();
	wr(REG_TIMER_INIT, 0);
	wr(REG_LVT_TIMER, LVT_ONESHOT | VEC_TIMER);
	uint64_t ticks = 0xFFFFFFFFull - cur;
	apic_per_tsc_q32 = (ticks << 32) / (t1 - t0);
	if (apic_per_tsc_q32 == 0)
		apic_per_tsc_q32 = 1;
}

void apic_timer_arm(uint64_t tsc)
{
	if (tsc_deadline) {
		wrmsr(MSR_TSC_DEADLINE, tsc); /* 0 disarms; a past deadline fires at once */
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
		count = 1; /* 0 would stop the timer instead of firing it */
	if (count > 0xFFFFFFFFu)
		count = 0xFFFFFFFFu; /* fires early; the caller re-arms */
	wr(REG_TIMER_INIT, (uint32_t)count);
}
