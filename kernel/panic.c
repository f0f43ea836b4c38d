/*
 * panic.c - the last words of a core: message, backtrace, stop everything.
 *
 * Backtraces follow the frame-pointer chain (the kernel is built with
 * -fno-omit-frame-pointer) and are checked at every step so a corrupt stack cannot fault the
 * panic path. Symbols come from the .ksyms table the second link pass puts in the image.
 */
#include <stdarg.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/profile.h"
#include "kernel/proftab.h"

/* Generated table (kernel/mksyms): addresses sorted ascending, names as offsets into strings. */
extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addr[];
extern const uint32_t ksyms_name[];
extern const char ksyms_strings[];
extern char __text_start[], __text_end[];

/* Core id + 1 of the core that is panicking; 0 while nobody is. [a] */
static uint32_t panic_core;

/* The index of the last symbol at or below addr, or -1 (not in text, or no table). */
static int64_t ksym_index(uint64_t addr)
{
	uint64_t lo = 0, hi = ksyms_count;
	if (hi == 0 || addr < ksyms_addr[0] || addr >= (uintptr_t)__text_end)
		return -1;
	while (hi - lo > 1) {
		uint64_t mid = (lo + hi) / 2;
		if (ksyms_addr[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)lo;
}

void ksym_format(uint64_t addr, char *buf, size_t len)
{
	int64_t i = ksym_index(addr);
	if (i < 0)
		ksnprintf(buf, len, "?");
	else
		ksnprintf(buf, len, "%s+%#lx", ksyms_strings + ksyms_name[i], addr - ksyms_addr[i]);
}

uint64_t ksym_start(uint64_t addr)
{
	int64_t i = ksym_index(addr);
	return i < 0 ? 0 : ksyms_addr[i];
}

const char *ksym_name(uint64_t addr)
{
	int64_t i = ksym_index(addr);
	return i < 0 ? "?" : ksyms_strings + ksyms_name[i];
}

/* One line of a backtrace: addr, and the symbol of look (addr itself, or addr - 1 for a return
 * address: after a call to a noreturn function the return address may already be the next
 * function's first byte). */
static void frame_line(void (*out)(const char *line), uint64_t addr, uint64_t look)
{
	char sym[96], line[128];
	ksym_format(look, sym, sizeof(sym));
	ksnprintf(line, sizeof(line), "    %016lx %s\n", addr, sym);
	out(line);
}

void backtrace_write(void (*out)(const char *line), uint64_t rip, uint64_t rbp)
{
	out("  backtrace:\n");
	if (rip)
		frame_line(out, rip, rip);
	for (int depth = 0; depth < 32 && rbp; depth++) {
		/* A frame is 16 bytes: saved rbp, return address. Frames only go up the stack. */
		if (rbp & 7)
			break;
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		uint64_t ret = frame[1];
		if (ret < (uintptr_t)__text_start || ret >= (uintptr_t)__text_end)
			break;
		frame_line(out, ret, ret - 1);
		if (frame[0] <= rbp || frame[0] - rbp > 0x100000)
			break;
		rbp = frame[0];
	}
}

void backtrace_write_at(void (*out)(const char *line), const struct interrupted *at)
{
	const struct proftab_bounds b = { at->rsp, at->stack_top, (uintptr_t)__text_start,
		                          (uintptr_t)__text_end, ksym_start };
	uint64_t pc[PROFTAB_DEPTH];
	unsigned n = proftab_walk(pc, PROFTAB_DEPTH, at->rip, at->rbp, &b);
	out("  backtrace:\n");
	for (unsigned i = 0; i < n; i++)
		if (pc[i])
			frame_line(out, pc[i], i ? pc[i] - 1 : pc[i]);
}

static void panic_line(const char *line)
{
	kprintf_panic("%s", line);
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	backtrace_write(panic_line, rip, rbp);
}

void panic_begin(void)
{
	irq_disable();
	uint32_t none = 0;
	/* Only the first core to panic reports; later ones wait for the NMI that stops them. */
	if (!__atomic_compare_exchange_n(&panic_core, &none, core_id() + 1, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE) &&
	    none != core_id() + 1)
		cpu_halt_forever();
	console_take_for_panic();
}

bool panic_in_progress(void)
{
	/* Acquire: pairs with the claim in panic_begin (another core's NMI handler asks). */
	return __atomic_load_n(&panic_core, __ATOMIC_ACQUIRE) != 0;
}

bool panic_in_progress_here(void)
{
	/* Acquire: pairs with the claim in panic_begin (another core's NMI handler asks). */
	return __atomic_load_n(&panic_core, __ATOMIC_ACQUIRE) == core_id() + 1;
}

__noreturn void panic_stop(void)
{
	profile_panic(); /* with profile=: this core's samples, before they are lost */
	kprintf_panic("*** isle: stopping all cores (exit status %d)\n", EXIT_PANIC);
	arch_stop_others();
	arch_exit(EXIT_PANIC);
}

__noreturn void panic(const char *fmt, ...)
{
	panic_begin();
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kprintf_panic("\n*** isle: panic on core %u: %s\n", core_id(), msg);
	backtrace_print(0, read_rbp());
	panic_stop();
}

/* Called by code built with -fstack-protector when a canary was overwritten. */
uint64_t __stack_chk_guard = 0x595e9fbd94fda766ull;

__noreturn void __stack_chk_fail(void)
{
	panic("stack smashing detected (stack protector canary overwritten)");
}
