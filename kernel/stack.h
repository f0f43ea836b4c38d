/*
 * stack.h - thread stacks of the calling core (kernel/stack.c): a slot to run a new thread on,
 * and giving it back when the thread ended. Used by the scheduler (kernel/sched.c) only.
 */
#ifndef ISLE_KERNEL_STACK_H
#define ISLE_KERNEL_STACK_H

#include "kernel/compiler.h"

void stack_init_core(void); /* every core, once, before its first thread */

/* A stack of `bytes` (a multiple of 4 KiB, at most THREAD_STACK_MAX) mapped at the top of a
 * slot of this core: its top address, and the slot in *slot; 0 if there is no slot or no
 * memory. Thread or scheduler context. */
uintptr_t stack_get(size_t bytes, unsigned *slot);
/* Gives back the slot of a thread that ended and no longer runs on it. Scheduler context. */
void stack_put(unsigned slot);

/* Pages this core's stacks hold: those of running threads and of the cached ones. */
size_t stack_pages_held(void);

#endif
