/* sched.h - the kernel side of the per-core scheduler (API: include/isle/thread.h). */
#ifndef ISLE_KERNEL_SCHED_H
#define ISLE_KERNEL_SCHED_H

#include <isle/thread.h>
#include "kernel/compiler.h"
#include "kernel/timerq.h"

void sched_init_core(void);
/* Runs threads, messages and timers on this core forever. */
__noreturn void sched_run(void);

/* Adds a poll function (a device driver: the network stack, virtio-blk) to the calling core:
 * it runs on every turn of the scheduler loop and while polling before a halt, and returns
 * true if it did anything. At most SCHED_MAX_POLLS per core; 0 or -ENOSPC. */
#define SCHED_MAX_POLLS 4
int sched_add_poll(bool (*poll)(void));
/* One line on what this core runs now: its thread (number, entry function) or the scheduler
 * loop. Any context on the core itself, NMI included (the watchdog's report). */
void sched_describe_running(char *buf, size_t len);

/* Per-core timers (fn runs in scheduler context when the deadline passes). */
void timer_add(struct timer *t);
bool timer_del(struct timer *t);

#endif
