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

/* Pieces for the exception path (trap.c). */
void panic_begin(void);            /* claims the panic; a second panicking core halts here */
bool panic_in_progress_here(void); /* this core is the one reporting */
__noreturn void panic_stop(void);  /* stops the other cores, exits with EXIT_PANIC */
void backtrace_print(uint64_t rip, uint64_t rbp);
/* The same, each line handed to out(): for a core that cannot use the console yet. */
void backtrace_write(void (*out)(const char *line), uint64_t rip, uint64_t rbp);
/* "name+0xoff" for a text address, or "?" */
void ksym_format(uint64_t addr, char *buf, size_t len);
/* The address of the function holding a text address, or 0. Any context. */
uint64_t ksym_start(uint64_t addr);

#endif
