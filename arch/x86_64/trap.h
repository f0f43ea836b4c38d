/* trap.h - interrupt and exception dispatch. */
#ifndef ISLE_ARCH_TRAP_H
#define ISLE_ARCH_TRAP_H

#include "kernel/compiler.h"

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8; /* pushed by isr_common */
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;                   /* pushed by the stub */
	uint64_t error;                    /* by the CPU, or 0 */
	uint64_t rip, cs, rflags, rsp, ss; /* by the CPU */
};

/* A device interrupt handler: runs with interrupts off on the core that took it, must be
 * short, and must not block (drivers reach this through arch_irq_handle, irq.c). */
typedef void (*irq_handler_fn)(void *arg);
/* Registers a handler for `vector` (VEC_DEVICE_FIRST..VEC_DEVICE_LAST) on the calling core.
 * 0 or -EINVAL. */
int irq_register(unsigned vector, irq_handler_fn fn, void *arg);

void trap_dispatch(struct trap_frame *f);
/* The portable view of the context an interrupt came from: registers, its stack's top. */
struct interrupted;
void trap_interrupted(const struct trap_frame *f, struct interrupted *at);
/* The timer vector (timer.c): runs the ticks that are due (watchdog, profiler), re-arms; true
 * when the interrupt is a wake-up (the scheduler's deadline passed, or no tick is on). */
bool timer_interrupt(const struct trap_frame *f);

#endif
