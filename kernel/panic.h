/*
 * panic.h - stopping the VM when the kernel cannot go on, and kernel assertions.
 * panic() may be called from any context on any core; the first core to panic reports,
 * stops every other core and ends the VM with a failure status.
 */
#ifndef ISLE_KERNEL_PANIC_H
#define ISLE_KERNEL_PANIC_H

#include "kernel/compiler.h"

__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define kassert(cond)                                                                             \
	do {                                                                                      \
		if (unlikely(!(cond)))                                                            \
			panic("assertion failed in %s (%s:%d): %s", __func__, __FILE__, __LINE__, \
			      #cond);                                                             \
	} while (0)

/* Pieces for the exception path (trap.c) and the watchdog (watchdog.c). */
void panic_begin(void);            /* claims the panic; a second panicking core halts here */
bool panic_in_progress(void);      /* some core claimed the panic (and stops the others) */
bool panic_in_progress_here(void); /* this core is the one reporting */
__noreturn void panic_stop(void);  /* stops the other cores, exits with EXIT_PANIC */
void backtrace_print(uint64_t rip, uint64_t rbp);
/* The same, each line handed to out(): for a core that cannot use the console yet. */
void backtrace_write(void (*out)(const char *line), uint64_t rip, uint64_t rbp);

/* Where an interrupt found a core: arch/ fills it from its trap frame (trap_interrupted). */
struct interrupted {
	uint64_t rip, rbp, rsp; /* the interrupted instruction, frame pointer, stack pointer */
	uint64_t stack_top;     /* the top of the stack rsp is on; 0: unknown */
	bool irq_on;            /* interrupts were on there */
};
/* The backtrace of an interrupted context, each line handed to out(), read with the walk that
 * cannot fault (proftab_walk: only inside that stack; the caller of a frameless function too):
 * for a core that reports and goes on (the watchdog). Any context. */
void backtrace_write_at(void (*out)(const char *line), const struct interrupted *at);
/* "name+0xoff" for a text address, or "?" */
void ksym_format(uint64_t addr, char *buf, size_t len);
/* The address of the function holding a text address, or 0. Any context. */
uint64_t ksym_start(uint64_t addr);
/* The name of the function holding a text address, or "?". Any context. */
const char *ksym_name(uint64_t addr);

#endif
