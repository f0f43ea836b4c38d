/*
 * trap.c - where every interrupt and exception lands (from entry.S).
 *
 * Exceptions are fatal: the core prints what happened (vector, error code, registers, the
 * faulting address, a symbolized backtrace, and a diagnosis for the common cases: NULL pointer,
 * write to text, stack overflow into a guard page), then panic_stop() ends the VM with a
 * failure status. An NMI means another core panicked and stops everyone (halt), or, when no
 * core is panicking, that a watchdog asks this core whether it is stuck (kernel/watchdog.c: it
 * reports itself and goes on). The timer and doorbell interrupts only end `hlt`; the scheduler
 * loop does the work. The timer interrupt also carries the watchdog's and the profiler's ticks
 * (timer.c), and VEC_PROFILE asks this core to write its profile (kernel/profile.c); none of
 * those wakes an idle core.
 */
#include <isle/errno.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/vectors.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/profile.h"
#include "kernel/watchdog.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];

static const char *const exc_names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection",
	"page fault",
	"reserved",
	"x87 floating point",
	"alignment check",
	"machine check",
	"SIMD floating point",
	"virtualization",
	"control protection",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"hypervisor injection",
	"VMM communication",
	"security",
	"reserved",
};

struct irq_slot {
	irq_handler_fn fn; /* [o] */
	void *arg;         /* [o] */
};
PERCORE static struct irq_slot irqs[256];
/* Set by every interrupt on this core, cleared by the scheduler before it looks for work: tells
 * the idle path that an interrupt came after its last look (see sched.c idle()). Written by
 * interrupt handlers and read by the same core's thread context only: atomic loads/stores so
 * the compiler neither caches nor tears it; no cross-core ordering is involved. */
PERCORE static bool irq_seen;

bool irq_seen_since_clear(void)
{
	return __atomic_load_n(&irq_seen, __ATOMIC_RELAXED); /* vs our own handlers: see above */
}

void irq_seen_clear(void)
{
	__atomic_store_n(&irq_seen, false, __ATOMIC_RELAXED); /* vs our own handlers: see above */
}

int irq_register(unsigned vector, irq_handler_fn fn, void *arg)
{
	if (vector < VEC_DEVICE_FIRST || vector > VEC_DEVICE_LAST)
		return -EINVAL;
	irqs[vector] = (struct irq_slot){ fn, arg };
	return 0;
}

static void diagnose_pf(uint64_t addr, uint64_t err)
{
	const char *what = err & 2 ? "write" : (err & 16 ? "instruction fetch" : "read");
	int owner = arch_stack_owner(addr);
	if (addr < 4096)
		kprintf_panic("  diagnosis: NULL pointer %s (address %#lx)\n", what, addr);
	else if (owner >= 0 && !(err & 1))
		kprintf_panic("  diagnosis: stack overflow: %s into the guard page of a thread "
		              "stack on core %d\n",
		              what, owner);
	else if (addr >= (uintptr_t)__text_start && addr < (uintptr_t)__text_end && (err & 2))
		kprintf_panic("  diagnosis: write to kernel text (read-only)\n");
	else if (addr >= (uintptr_t)__rodata_start && addr < (uintptr_t)__rodata_end && (err & 2))
		kprintf_panic("  diagnosis: write to read-only data\n");
	else if (err & 16)
		kprintf_panic("  diagnosis: executing a non-executable page\n");
	else if (!(err & 1))
		kprintf_panic("  diagnosis: %s of an unmapped address\n", what);
	else
		kprintf_panic("  diagnosis: %s not permitted by the page protection\n", what);
}

/*
 * An exception before this core has its own IDT (early boot of the boot core, or a starting
 * core before setup_core_self): no core window, so no core_id() and no console lock. Report on
 * the serial port directly and end the VM with EXIT_PANIC: an early crash must never look
 * like a clean exit, nor end in a silent triple fault.
 */
static void early_out(const char *line)
{
	serial_puts(line);
}

static __noreturn void early_exception(const struct trap_frame *f)
{
	char line[160], sym[96];
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d); /* the initial APIC id: the local APIC may not be set up */
	ksym_format(f->rip, sym, sizeof(sym));
	ksnprintf(line, sizeof(line),
	          "\n*** isle: exception before the interrupt tables were set up (APIC id %u): %s "
	          "(vector %lu), error code %#lx\n  rip %016lx %s\n",
	          b >> 24, exc_names[f->vector], f->vector, f->error, f->rip, sym);
	serial_puts(line);
	if (f->vector == 14) {
		ksnprintf(line, sizeof(line), "  fault address (cr2) %016lx\n", read_cr2());
		serial_puts(line);
	}
	backtrace_write(early_out, f->rip, f->rbp);
	ksnprintf(line, sizeof(line), "*** isle: stopping (exit status %d)\n", EXIT_PANIC);
	serial_puts(line);
	power_exit(EXIT_PANIC);
}

static __noreturn void exception(struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();
	panic_begin();
	kprintf_panic("\n*** isle: exception on core %u: %s (vector %lu), error code %#lx\n",
	              core_id(), exc_names[f->vector], f->vector, f->error);
	char sym[96];
	ksym_format(f->rip, sym, sizeof(sym));
	kprintf_panic("  rip %016lx %s\n", f->rip, sym);
	if (f->vector == 14) {
		kprintf_panic("  fault address (cr2) %016lx, %s, %s\n", cr2,
		              f->error & 1 ? "protection violation" : "page not present",
		              f->error & 2 ? "write" : "read");
		diagnose_pf(cr2, f->error);
	}
	if (f->vector == 0)
		kprintf_panic("  diagnosis: integer division by zero\n");
	kprintf_panic("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx,
	              f->rdx);
	kprintf_panic("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp,
	              f->rsp);
	kprintf_panic("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10,
	              f->r11);
	kprintf_panic("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14,
	              f->r15);
	kprintf_panic("  rflags %016lx cs %04lx ss %04lx\n", f->rflags, f->cs, f->ss);
	backtrace_print(f->rip, f->rbp);
	panic_stop();
}

__noreturn void arch_triple_fault(void)
{
	/* An empty IDT: the invalid opcode cannot be delivered (#GP), nor can that (#DF), and
	 * then the CPU shuts down, which the hypervisor sees as a reset. */
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed none = { 0, 0 };
	irq_disable();
	__asm__ volatile("lidt %0; ud2" ::"m"(none));
	cpu_halt_forever();
}

void trap_interrupted(const struct trap_frame *f, struct interrupted *at)
{
	at->rip = f->rip;
	at->rbp = f->rbp;
	at->rsp = f->rsp;
	at->stack_top = paging_stack_top(f->rsp);
	at->irq_on = f->rflags & RFLAGS_IF;
}

/* NMI: another core panicked and is stopping everyone, or a watchdog asks (arch_nmi). The
 * panic is looked at first: one pending NMI may stand for both. */
static void nmi(const struct trap_frame *f)
{
	if (panic_in_progress_here())
		return;
	if (!panic_in_progress()) {
		struct interrupted at;
		trap_interrupted(f, &at);
		if (watchdog_nmi(&at))
			return;
	}
	cpu_halt_forever();
}

void trap_dispatch(struct trap_frame *f)
{
	unsigned v = (unsigned)f->vector;
	if (v == VEC_NMI) {
		nmi(f);
		return;
	}
	if (v < VEC_EXCEPTIONS) {
		if (idt_is_early())
			early_exception(f);
		exception(f);
	}
	if (v == VEC_SPURIOUS)
		return;
	/* The profiler's tick and its dump request are no reason to leave the idle halt. */
	bool wake = true;
	if (v == VEC_TIMER)
		wake = timer_interrupt(f);
	else if (v == VEC_PROFILE)
		wake = false;
	if (wake)
		__atomic_store_n(&irq_seen, true, __ATOMIC_RELAXED); /* read by idle(): irq_seen */
	if (irqs[v].fn)
		irqs[v].fn(irqs[v].arg);
	if (v == VEC_PROFILE)
		profile_dump_requested();
	apic_eoi();
}
