/*
 * fakecpu.c - the fake processor behind arch/x86_64/cpu.h on the host (see fakecpu.h).
 *
 * The architectural rules come from the Intel SDM (vol. 3, "Advanced Programmable Interrupt
 * Controller": x2APIC register map, IA32_APIC_BASE, TSC-deadline mode) and from what KVM
 * enforces, which is what isle meets in production.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "tests/unit/fakecpu.h"

struct fake_cpu fake;

#define MSR_APIC_BASE 0x1B
#define MSR_TSC_DEADLINE 0x6E0
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define BASE_BSP (1ull << 8)
#define BASE_EXTD (1ull << 10)
#define BASE_EN (1ull << 11)
#define BASE_RESERVED 0x2FFull /* bits 0-7 and 9 */

#define R_ID 0x20
#define R_VERSION 0x30
#define R_EOI 0xB0
#define R_SVR 0xF0
#define R_ICR_LO 0x300
#define R_ICR_HI 0x310
#define R_LVT_TIMER 0x320
#define R_LVT_ERROR 0x370
#define R_TIMER_INIT 0x380
#define R_TIMER_CUR 0x390
#define R_SELF_IPI 0x3F0

#define PIT_HZ 1193182

static void gp(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  fake cpu: fault: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fake.gp++;
}

static void log_ev(enum fake_kind kind, uint32_t reg, uint64_t val)
{
	if (fake.nev < FAKE_EVENTS)
		fake.ev[fake.nev++] = (struct fake_event){ kind, reg, val, fake.irq_on };
}

/* Whether the access before the one just logged was a fence. */
static bool prev_is_fence(void)
{
	return fake.nev > 1 && fake.ev[fake.nev - 2].kind == EV_FENCE;
}

static bool has_cpuid_bit(uint32_t leaf, int reg, uint32_t bit)
{
	for (unsigned i = 0; i < fake.nleaves; i++)
		if (fake.cpuid[i][0] == leaf)
			return fake.cpuid[i][1 + reg] & bit;
	return false;
}

static bool x2_mode(void)
{
	return (fake.apic_base & (BASE_EN | BASE_EXTD)) == (BASE_EN | BASE_EXTD);
}

static bool xapic_mode(void)
{
	return (fake.apic_base & (BASE_EN | BASE_EXTD)) == BASE_EN;
}

static bool has_deadline(void)
{
	return has_cpuid_bit(1, 2, 1u << 24);
}

static uint32_t *reg(uint32_t off)
{
	return &fake.apic_regs[off / 4];
}

/* The LVT timer's mode: 0 one-shot, 1 periodic, 2 TSC-deadline (bit 18 is reserved, and
 * ignored, without the CPUID bit). */
static unsigned timer_mode(uint32_t lvt)
{
	unsigned m = (lvt >> 17) & 3;
	return has_deadline() ? m : (m & 1);
}

static uint32_t timer_current(void)
{
	uint32_t init = *reg(R_TIMER_INIT);
	if (init == 0 || timer_mode(*reg(R_LVT_TIMER)) == 2)
		return 0;
	unsigned __int128 elapsed =
	        (unsigned __int128)(fake.tsc - fake.timer_start) * fake.timer_num / fake.timer_den;
	return elapsed >= init ? 0 : init - (uint32_t)elapsed;
}

/* The power-up state of the APIC's registers (also after it is disabled). */
static void apic_regs_reset(void)
{
	memset(fake.apic_regs, 0, sizeof(fake.apic_regs));
	*reg(R_VERSION) = 0x50014;
	*reg(R_SVR) = 0xFF;
	for (uint32_t off = R_LVT_TIMER; off <= R_LVT_ERROR; off += 0x10)
		*reg(off) = 1u << 16; /* masked */
	*reg(0x2F0) = 1u << 16;       /* LVT CMCI */
	fake.deadline = 0;
}

void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.tsc = 1000;
	fake.tsc_step = 10;
	fake.timer_num = fake.timer_den = 1;
	fake.irq_on = true;
	fake.apic_base = (uint64_t)(uintptr_t)fake.apic_regs | BASE_EN | BASE_BSP;
	apic_regs_reset();
	fake_set_cpuid(0, 1, 0x756e6547, 0x6c65746e, 0x49656e69); /* "GenuineIntel", max leaf 1 */
	fake_set_cpuid(1, 0, 0, 0, 0);
}

void fake_set_cpuid(uint32_t leaf, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	unsigned i;
	for (i = 0; i < fake.nleaves; i++)
		if (fake.cpuid[i][0] == leaf)
			break;
	if (i == fake.nleaves) {
		if (fake.nleaves == FAKE_LEAVES) {
			gp("test error: more than %d CPUID leaves", FAKE_LEAVES);
			return;
		}
		fake.nleaves++;
	}
	fake.cpuid[i][0] = leaf;
	fake.cpuid[i][1] = a;
	fake.cpuid[i][2] = b;
	fake.cpuid[i][3] = c;
	fake.cpuid[i][4] = d;
	if (leaf != 0 && leaf < 0x40000000 && fake.cpuid[0][0] == 0 && fake.cpuid[0][1] < leaf)
		fake.cpuid[0][1] = leaf;
}

void fake_cpuid1_ecx(uint32_t bits)
{
	for (unsigned i = 0; i < fake.nleaves; i++)
		if (fake.cpuid[i][0] == 1)
			fake.cpuid[i][3] |= bits;
}

void fake_kvm(uint32_t base, uint32_t features)
{
	fake_cpuid1_ecx(1u << 31);
	fake_set_cpuid(base, base + 1, 0x4b4d564b, 0x564b4d56, 0x4d); /* "KVMKVMKVM\0\0\0" */
	fake_set_cpuid(base + 1, features, 0, 0, 0);
}

uint64_t fake_apic_phys(void)
{
	return (uint64_t)(uintptr_t)fake.apic_regs;
}

uint32_t fake_apic_reg(uint32_t offset)
{
	return offset == R_TIMER_CUR ? timer_current() : *reg(offset);
}

unsigned fake_count(enum fake_kind kind, uint32_t r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fake.nev; i++)
		n += fake.ev[i].kind == kind && fake.ev[i].reg == r;
	return n;
}

int fake_last(enum fake_kind kind, uint32_t r)
{
	for (int i = (int)fake.nev - 1; i >= 0; i--)
		if (fake.ev[i].kind == kind && fake.ev[i].reg == r)
			return i;
	return -1;
}

void fake_clear_log(void)
{
	fake.nev = 0;
	fake.nipi = 0;
}

/* ---- the operations of cpu.h ----------------------------------------------------------------- */

uint64_t rdtsc(void)
{
	fake.tsc += fake.tsc_step;
	return fake.tsc;
}

static void pv_publish(bool done);

void cpu_pause(void)
{
	fake.pauses++;
	if (fake.pv_page && fake.pv_busy && --fake.pv_busy == 0)
		pv_publish(true);
}

bool irq_save(void)
{
	bool was = fake.irq_on;
	fake.irq_on = false;
	return was;
}

void irq_restore(bool on)
{
	if (on)
		fake.irq_on = true;
}

void cpu_mfence(void)
{
	log_ev(EV_FENCE, 0, 0);
}

void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	(void)sub;
	*a = *b = *c = *d = 0;
	for (unsigned i = 0; i < fake.nleaves; i++)
		if (fake.cpuid[i][0] == leaf) {
			*a = fake.cpuid[i][1];
			*b = fake.cpuid[i][2];
			*c = fake.cpuid[i][3];
			*d = fake.cpuid[i][4];
		}
}

/* A write to the interrupt command register: x2 (one MSR write) or the MMIO low word. */
static void send_ipi(bool x2, uint32_t dest, uint32_t lo)
{
	if (fake.nipi == FAKE_IPIS)
		return;
	struct fake_ipi *p = &fake.ipi[fake.nipi++];
	p->dest = dest;
	p->lo = lo;
	p->x2 = x2;
	p->fenced = prev_is_fence();
	p->irq_on = fake.irq_on;
	p->icr_hi = *reg(R_ICR_HI);
}

/* A write to the LVT timer: a mode change disarms the timer. */
static void lvt_timer_write(uint32_t v)
{
	if (timer_mode(v) != timer_mode(*reg(R_LVT_TIMER))) {
		fake.deadline = 0;
		*reg(R_TIMER_INIT) = 0;
	}
	*reg(R_LVT_TIMER) = v;
}

static void timer_init_write(uint32_t v)
{
	if (timer_mode(*reg(R_LVT_TIMER)) == 2)
		return; /* ignored in TSC-deadline mode */
	*reg(R_TIMER_INIT) = v;
	fake.timer_start = fake.tsc;
}

static void apic_base_write(uint64_t v)
{
	uint64_t old = fake.apic_base & (BASE_EN | BASE_EXTD);
	uint64_t next = v & (BASE_EN | BASE_EXTD);
	if (v & BASE_RESERVED) {
		gp("IA32_APIC_BASE: reserved bits in %#llx", (unsigned long long)v);
		return;
	}
	if ((v & BASE_EXTD) && !has_cpuid_bit(1, 2, 1u << 21)) {
		gp("IA32_APIC_BASE: EXTD without x2APIC in CPUID");
		return;
	}
	if (next == BASE_EXTD) {
		gp("IA32_APIC_BASE: EXTD without EN is invalid");
		return;
	}
	if (old == (BASE_EN | BASE_EXTD) && next == BASE_EN) {
		gp("IA32_APIC_BASE: x2APIC -> xAPIC directly (must go through disabled)");
		return;
	}
	if (old == 0 && next == (BASE_EN | BASE_EXTD)) {
		gp("IA32_APIC_BASE: disabled -> x2APIC directly (must go through xAPIC)");
		return;
	}
	if (next == 0)
		apic_regs_reset();
	fake.apic_base = v;
}

/* x2APIC MSRs that exist; 0x831 (the ICR's high half in xAPIC) does not. */
static bool x2_msr_exists(uint32_t msr)
{
	uint32_t n = msr - 0x800;
	return n == 0x02 || n == 0x03 || n == 0x08 || n == 0x0A || n == 0x0B || n == 0x0D ||
	       n == 0x0F || (n >= 0x10 && n <= 0x28) || n == 0x2F || n == 0x30 ||
	       (n >= 0x32 && n <= 0x39) || n == 0x3E || n == 0x3F;
}

static uint64_t x2_read(uint32_t msr)
{
	uint32_t off = (msr - 0x800) << 4;
	if (!x2_mode()) {
		gp("rdmsr %#x: x2APIC register while the APIC is not in x2APIC mode", msr);
		return 0;
	}
	if (!x2_msr_exists(msr) || off == R_EOI || off == R_SELF_IPI) {
		gp("rdmsr %#x: no such readable x2APIC register", msr);
		return 0;
	}
	if (off == R_ID)
		return fake.apic_id;
	if (off == R_TIMER_CUR)
		return timer_current();
	if (off == R_ICR_LO)
		return (uint64_t)*reg(R_ICR_HI) << 32 | *reg(R_ICR_LO);
	return *reg(off);
}

static void x2_write(uint32_t msr, uint64_t v)
{
	uint32_t off = (msr - 0x800) << 4;
	if (!x2_mode()) {
		gp("wrmsr %#x: x2APIC register while the APIC is not in x2APIC mode", msr);
		return;
	}
	if (!x2_msr_exists(msr) || off == R_ID || off == R_VERSION || off == 0xA0 ||
	    off == R_TIMER_CUR || (off >= 0x100 && off < 0x280)) {
		gp("wrmsr %#x: no such writable x2APIC register", msr);
		return;
	}
	if (off == R_ICR_LO) {
		*reg(R_ICR_LO) = (uint32_t)v;
		*reg(R_ICR_HI) = (uint32_t)(v >> 32);
		send_ipi(true, (uint32_t)(v >> 32), (uint32_t)v);
		return;
	}
	if (v >> 32) {
		gp("wrmsr %#x: bits 32-63 must be 0 (%#llx)", msr, (unsigned long long)v);
		return;
	}
	if (off == R_EOI && v != 0) {
		gp("wrmsr %#x: EOI must be written with 0", msr);
		return;
	}
	if (off == R_LVT_TIMER) {
		lvt_timer_write((uint32_t)v);
		return;
	}
	if (off == R_TIMER_INIT) {
		timer_init_write((uint32_t)v);
		return;
	}
	*reg(off) = (uint32_t)v;
}

uint64_t rdmsr(uint32_t msr)
{
	uint64_t v = 0;
	if (msr == MSR_APIC_BASE)
		v = fake.apic_base;
	else if (msr >= 0x800 && msr <= 0x8FF)
		v = x2_read(msr);
	else if (msr == MSR_TSC_DEADLINE)
		v = fake.deadline;
	else if (msr == MSR_KVM_SYSTEM_TIME_NEW)
		v = fake.pv_msr;
	else
		gp("rdmsr %#x: no such MSR", msr);
	log_ev(EV_RDMSR, msr, v);
	return v;
}

/* KVM's per-vCPU time information, by its ABI's byte offsets; version is odd during an update. */
static void pv_publish(bool done)
{
	unsigned char *p = fake.pv_page;
	uint32_t version;
	memcpy(&version, p, 4);
	version = done ? (version | 1) + 1 : version | 1;
	uint32_t mul = done ? fake.pv_mul : 0xdeadbeef; /* half-written garbage while odd */
	int8_t shift = done ? fake.pv_shift : 77;
	memcpy(p + 24, &mul, 4);
	memcpy(p + 28, &shift, 1);
	memcpy(p, &version, 4);
}

static bool kvm_clocksource2(void)
{
	static const uint32_t bases[] = { 0x40000000, 0x40000100 };
	for (unsigned i = 0; i < 2; i++) {
		uint32_t a, b, c, d;
		cpuid(bases[i], 0, &a, &b, &c, &d);
		if (b == 0x4b4d564b && c == 0x564b4d56 && d == 0x4d) {
			cpuid(bases[i] + 1, 0, &a, &b, &c, &d);
			return a & (1u << 3);
		}
	}
	return false;
}

static void pv_write(uint64_t v)
{
	if (!kvm_clocksource2()) {
		gp("wrmsr %#x: no KVM_FEATURE_CLOCKSOURCE2", MSR_KVM_SYSTEM_TIME_NEW);
		return;
	}
	fake.pv_msr = v;
	fake.pv_page = NULL;
	if (!(v & 1))
		return; /* off: the hypervisor writes no more */
	uint64_t pa = v & ~1ull;
	if (pa & 31) {
		gp("kvmclock: time information at %#llx is not 32-byte aligned",
		   (unsigned long long)pa);
		return;
	}
	fake.pv_enables++;
	fake.pv_page = (unsigned char *)(uintptr_t)(pa + KERNEL_VMA);
	pv_publish(fake.pv_busy == 0);
}

void wrmsr(uint32_t msr, uint64_t v)
{
	log_ev(EV_WRMSR, msr, v);
	if (msr == MSR_APIC_BASE) {
		apic_base_write(v);
		return;
	}
	if (msr >= 0x800 && msr <= 0x8FF) {
		x2_write(msr, v);
		return;
	}
	if (msr == MSR_TSC_DEADLINE) {
		if (!has_deadline()) {
			gp("wrmsr IA32_TSC_DEADLINE without TSC-deadline in CPUID");
			return;
		}
		if (timer_mode(*reg(R_LVT_TIMER)) != 2) {
			fake.deadline_ignored++;
			return;
		}
		fake.deadline = v;
		return;
	}
	if (msr == MSR_KVM_SYSTEM_TIME_NEW) {
		pv_write(v);
		return;
	}
	gp("wrmsr %#x: no such MSR", msr);
}

/* The offset of an MMIO access in the APIC page, or -1 (with a fault) if it cannot reach it. */
static int mmio_off(const volatile uint32_t *r, const char *what)
{
	uintptr_t off = (uintptr_t)r - (uintptr_t)fake.apic_regs;
	if ((uintptr_t)r < (uintptr_t)fake.apic_regs || off >= sizeof(fake.apic_regs) || off % 16) {
		gp("%s at %p: not a register of the APIC page", what, (const void *)r);
		return -1;
	}
	if (!xapic_mode()) {
		gp("%s at offset %#lx: the APIC is not in xAPIC mode", what, (unsigned long)off);
		return -1;
	}
	return (int)off;
}

uint32_t mmio_read32(const volatile uint32_t *r)
{
	int off = mmio_off(r, "MMIO read");
	uint32_t v = 0;
	if (off == R_ID)
		v = (fake.apic_id & 0xFF) << 24;
	else if (off == R_TIMER_CUR)
		v = timer_current();
	else if (off == R_ICR_LO) {
		v = *reg(R_ICR_LO) & ~(1u << 12);
		if (fake.icr_busy) {
			fake.icr_busy--;
			v |= 1u << 12; /* send pending */
		}
	} else if (off >= 0)
		v = *reg((uint32_t)off);
	log_ev(EV_MMIO_RD, off < 0 ? 0xFFFFFFFF : (uint32_t)off, v);
	return v;
}

void mmio_write32(volatile uint32_t *r, uint32_t v)
{
	int off = mmio_off(r, "MMIO write");
	log_ev(EV_MMIO_WR, off < 0 ? 0xFFFFFFFF : (uint32_t)off, v);
	if (off < 0 || off == R_ID || off == R_VERSION || off == R_TIMER_CUR)
		return;
	if (off == R_LVT_TIMER) {
		lvt_timer_write(v);
		return;
	}
	if (off == R_TIMER_INIT) {
		timer_init_write(v);
		return;
	}
	*reg((uint32_t)off) = v;
	if (off == R_ICR_LO)
		send_ipi(false, *reg(R_ICR_HI) >> 24, v);
}

/* ---- PIT channel 0, mode 2 ------------------------------------------------------------------- */

static uint16_t pit_count(void)
{
	uint32_t reload = fake.pit_reload ? fake.pit_reload : 0x10000;
	uint64_t ticks = (uint64_t)((unsigned __int128)(fake.tsc - fake.pit_start) * PIT_HZ /
	                            fake.pit_tsc_hz);
	return (uint16_t)(reload - ticks % reload);
}

void outb(uint16_t port, uint8_t v)
{
	if (port == 0x43) {
		if (v == 0x34)
			fake.pit_state = 1; /* channel 0, low then high byte, mode 2 */
		else if (v == 0x00 && fake.pit_tsc_hz) {
			fake.pit_latch = pit_count();
			fake.pit_latched = 2;
		}
	} else if (port == 0x40 && fake.pit_state == 1) {
		fake.pit_reload = v;
		fake.pit_state = 2;
	} else if (port == 0x40 && fake.pit_state == 2) {
		fake.pit_reload |= (uint32_t)v << 8;
		fake.pit_state = 0;
		fake.pit_start = fake.tsc;
	}
}

uint8_t inb(uint16_t port)
{
	if (port != 0x40 || !fake.pit_tsc_hz)
		return 0xFF; /* nothing there */
	uint16_t c = fake.pit_latched ? fake.pit_latch : pit_count();
	if (fake.pit_latched == 2) {
		fake.pit_latched = 1;
		return (uint8_t)c;
	}
	fake.pit_latched = 0;
	return (uint8_t)(c >> 8);
}
