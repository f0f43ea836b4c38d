/*
 * cpu.h - the narrow interface through which portable code reaches the processor:
 * interrupts on/off, idle, time stamp counter, port, MSR and device-register access, and
 * barriers. Only arch/ contains inline assembly; everything here is a one-instruction wrapper.
 *
 * On the host (ISLE_HOST, unit tests) this header is also the seam through which arch code is
 * tested against a fake CPU: the operations that code may use (TSC, MSRs, CPUID, ports, device
 * registers, fences, the interrupt flag) are declared as plain functions, which the test's fake
 * CPU defines (tests/unit/fakecpu.c). It keeps MSRs, CPUID leaves, a TSC and a local APIC in
 * memory and records every access, so a test can check what a driver did to the processor and
 * in which order. Nothing else of this header exists on the host: arch code that needs more
 * does not compile there, which keeps the seam narrow.
 */
#ifndef ISLE_ARCH_CPU_H
#define ISLE_ARCH_CPU_H

#include "kernel/compiler.h"

#ifdef ISLE_HOST

uint64_t rdtsc(void);
void cpu_pause(void);
bool irq_save(void);
void irq_restore(bool on);
void cpu_mfence(void);
uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t v);
void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d);
void outb(uint16_t port, uint8_t v);
uint8_t inb(uint16_t port);
/* volatile as in the kernel's definitions below: the fake sees every access, in order. */
uint32_t mmio_read32(const volatile uint32_t *reg);
void mmio_write32(volatile uint32_t *reg, uint32_t v); /* volatile: as mmio_read32 */

#else /* !ISLE_HOST */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

#define RFLAGS_IF (1u << 9) /* rflags: interrupts enabled */

/* Disables interrupts and returns whether they were on. */
static inline bool irq_save(void)
{
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	return flags & RFLAGS_IF;
}

static inline void irq_restore(bool on)
{
	if (on)
		irq_enable();
}

/*
 * Enables interrupts and halts until the next one. `sti` takes effect after the following
 * instruction, so an interrupt that became pending while they were off still wakes the `hlt`:
 * callers check for work with interrupts off, then call this with nothing lost in between.
 */
static inline void cpu_idle_wait(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static inline __noreturn void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Full fence: orders earlier stores before later loads (the one reordering x86 does). */
static inline void cpu_mfence(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                         uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static inline void invlpg(const void *va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

static inline uint64_t read_rbp(void)
{
	uint64_t v;
	__asm__ volatile("mov %%rbp, %0" : "=r"(v));
	return v;
}

/*
 * A 32-bit device register (memory-mapped, uncached). volatile: every call is exactly one 32-bit
 * access that reaches the device, in program order with the other device accesses and stores
 * (x86 keeps stores in order, and an uncached access is never merged or cached).
 */
static inline uint32_t mmio_read32(const volatile uint32_t *reg)
{
	return *reg;
}

/* volatile: one 32-bit store that reaches the device, in order (as mmio_read32). */
static inline void mmio_write32(volatile uint32_t *reg, uint32_t v)
{
	*reg = v;
}

#endif /* !ISLE_HOST */

/* A random 64-bit value from RDRAND when the CPU has it, else 0 (callers mix in the TSC). */
uint64_t cpu_random(void);

#endif
