/*
 * gdt.c - per-core descriptor tables: GDT, TSS and IDT, plus the per-core CPU setup (SSE).
 *
 * All three tables are PERCORE variables, so each core loads the same virtual addresses and
 * gets its own copies through its core window. The TSS holds the interrupt stacks (IST) used
 * for double faults, NMIs and page faults, so a thread that overflows into its guard page still
 * gets a clean report instead of a triple fault.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"

/* Hardware layouts; the copies below are PERCORE, [o] (each core loads its own). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3]; /* stacks for privilege changes (unused: everything runs in ring 0) */
	uint64_t reserved1;
	uint64_t ist[7]; /* interrupt stack table: ist[n-1] is IST n */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap; /* I/O permission map offset: none */
} __packed;

struct idt_entry {
	uint16_t off_lo;  /* handler address bits 0..15 */
	uint16_t sel;     /* code segment */
	uint8_t ist;      /* IST index, 0 = current stack */
	uint8_t attr;     /* present, DPL 0, 64-bit interrupt gate */
	uint16_t off_mid; /* bits 16..31 */
	uint32_t off_hi;  /* bits 32..63 */
	uint32_t zero;
} __packed;

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

PERCORE static uint64_t gdt[5] __aligned(16);           /* [o] null, code, data, TSS (2 slots) */
PERCORE static struct tss tss __aligned(16);            /* [o] */
PERCORE static struct idt_entry idt[256] __aligned(16); /* [o] */
/* [I] The exception vectors every core uses until it has its own IDT (idt_load_early). */
static struct idt_entry early_idt[32] __aligned(16);

extern const char isr_stubs[]; /* entry.S: 256 stubs of 16 bytes */

static struct idt_entry idt_entry(uint16_t sel, uint64_t handler, uint8_t ist)
{
	return (struct idt_entry){
		.off_lo = handler & 0xffff,
		.sel = sel,
		.ist = ist,
		.attr = 0x8E,
		.off_mid = (handler >> 16) & 0xffff,
		.off_hi = handler >> 32,
	};
}

static void idt_set(int v, uint64_t handler, uint8_t ist)
{
	idt[v] = idt_entry(SEL_CODE, handler, ist);
}

/* The bootstrap GDT's 64-bit code selector (boot.S, trampoline.S), which early code runs on. */
#define SEL_BOOT_CODE 0x18

void idt_load_early(void)
{
	/* The boot core fills the table before any other core starts; later calls only load it
	 * (the entries they would write are the same). */
	if (!early_idt[0].attr)
		for (int v = 0; v < 32; v++)
			early_idt[v] = idt_entry(SEL_BOOT_CODE, (uint64_t)(isr_stubs + 16 * v), 0);
	struct desc_ptr ip = { sizeof(early_idt) - 1, (uint64_t)early_idt };
	__asm__ volatile("lidt %0" ::"m"(ip));
}

bool idt_is_early(void)
{
	struct desc_ptr ip;
	__asm__ volatile("sidt %0" : "=m"(ip));
	return ip.base == (uint64_t)early_idt;
}

static void sse_enable(void)
{
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 &= ~(1ull << 2); /* EM: no x87 emulation */
	cr0 |= (1ull << 1);  /* MP */
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1ull << 9) | (1ull << 10); /* OSFXSR, OSXMMEXCPT */
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
	__asm__ volatile("fninit");
	uint32_t mxcsr = 0x1F80;
	__asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
}

void gdt_init_core(uintptr_t ist_df, uintptr_t ist_nmi, uintptr_t ist_pf)
{
	sse_enable();

	tss.ist[IST_DF - 1] = ist_df;
	tss.ist[IST_NMI - 1] = ist_nmi;
	tss.ist[IST_PF - 1] = ist_pf;
	tss.iomap = sizeof(tss);

	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffff; /* 64-bit code */
	gdt[2] = 0x00cf92000000ffff; /* data */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	         ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[4] = base >> 32;

	struct desc_ptr gp = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
	                 "pushq %1\n\t"
	                 "leaq 1f(%%rip), %%rax\n\t"
	                 "pushq %%rax\n\t"
	                 "lretq\n"
	                 "1:\n\t"
	                 "movw %w2, %%ds\n\t"
	                 "movw %w2, %%es\n\t"
	                 "movw %w2, %%ss\n\t"
	                 "ltr %w3"
	                 :
	                 : "m"(gp), "i"(SEL_CODE), "r"(SEL_DATA), "r"(SEL_TSS)
	                 : "rax", "memory");

	for (int v = 0; v < 256; v++)
		idt_set(v, (uint64_t)(isr_stubs + 16 * v), 0);
	idt_set(2, (uint64_t)(isr_stubs + 16 * 2), IST_NMI);
	idt_set(8, (uint64_t)(isr_stubs + 16 * 8), IST_DF);
	idt_set(14, (uint64_t)(isr_stubs + 16 * 14), IST_PF);
	struct desc_ptr ip = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" ::"m"(ip));
}

uint64_t cpu_random(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 30)))
		return 0;
	for (int i = 0; i < 10; i++) {
		uint64_t v;
		uint8_t ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
		if (ok)
			return v;
	}
	return 0;
}
