/* sched.h - the kernel side of the per-core scheduler (API: include/isle/thread.h). */
#ifndef ISLE_KERNEL_SCHED_H
#define ISLE_KERNEL_SCHED_H

#include <isle/thread.h>
#include "kernel/compiler.h"
#include "kernel/timerq.h"

void sched_init_core(void);
/* Runs threads, messages and timers on this core forever. */
__noreturn void sched_run(void);

/*
 * The one poll registry. Adds poll(arg) to the calling core: it runs in scheduler context on
 * every turn of the scheduler loop and while the core polls before a halt, in the order added,
 * and returns true if it did anything (the loop then looks for work again instead of halting).
 * A driver adds one per core it serves (virtio-net: its queue pair; virtio-blk; the network
 * stack's lwIP timers and loopback). Polls are never removed. At most SCHED_MAX_POLLS per core:
 * 0, or -ENOSPC when the core has that many (nothing is added; the caller reports it).
 * Scheduler or thread context, on the core itself.
 */
#define SCHED_MAX_POLLS 4
int sched_add_poll(bool (*poll)(void *arg), void *arg);
/* One line on what this core runs now: its thread (number, entry function) or the scheduler
 * loop. Any context on the core itself, NMI included (the watchdog's report). */
void sched_describe_running(char *buf, size_t len);
/* Whether threads of this core are waiting to run: a poll function may then leave work that
 * can be batched (a device notification) for a later pass. Any context on the core itself. */
bool sched_threads_waiting(void);

/* Per-core timers (fn runs in scheduler context when the deadline passes). */
void timer_add(struct timer *t);
bool timer_del(struct timer *t);

#endif
