/*
 * watchdog.h - noticing a core that stops passing through its scheduler (docs/architecture.md,
 * "What cooperative scheduling promises").
 *
 * With watchdog=MS (default 1000; 0: off) a core that has not been through its scheduler loop for
 * MS milliseconds, while not halted, is reported: by the nearest core before it that is not stuck
 * itself, which asks it by NMI, and the stuck core writes its own report (thread, symbolized
 * backtrace) from that NMI; a core alone, or all cores stuck at once, report themselves from
 * their own timer. Once per stall, and a line again when the core comes back.
 * watchdog_action=panic panics with the report instead (status 100).
 *
 * Context: as said for each function. Nothing here sends a message, allocates after
 * watchdog_init_core, or waits for another core.
 */
#ifndef ISLE_KERNEL_WATCHDOG_H
#define ISLE_KERNEL_WATCHDOG_H

#include "kernel/compiler.h"

#define WATCHDOG_MS_DEFAULT 1000
#define WATCHDOG_MS_MIN 10     /* watchdog=MS: 0 (off) or MIN..MAX */
#define WATCHDOG_MS_MAX 600000 /* 10 minutes */
#define WATCHDOG_CHECKS 4      /* ticks per timeout: a stall is seen within 1.25 timeouts */

struct interrupted;

void watchdog_init(void);      /* boot core, after the command line, before other cores start */
void watchdog_init_core(void); /* every core, before it schedules: its record, its tick */

/* The scheduler loop passes, at now (now_ns()), every turn, in scheduler context: the core's
 * heartbeat, and the "back" line after a reported stall. */
void watchdog_pass(uint64_t now);
/* The scheduler is about to halt (true) or has stopped halting (false); interrupts off. A
 * halted core waits, it is not stuck. */
void watchdog_halt(bool halted);

/* The run is ending and cores are busy on purpose (the profile dump, profile.c): nothing is
 * reported from now on. Any context, any core. */
void watchdog_stop(void);
/* The watchdog tick of the calling core (timer interrupt, interrupts off): watches the cores
 * after it, or reports itself when it is stuck (wdscan.h). */
void watchdog_tick(const struct interrupted *at);
/* An NMI while no core panics (trap.c): a watcher asks this core for its report; it writes it
 * if it is still in the stall the watcher saw. False if the watchdog is off (the NMI is not
 * the watchdog's). */
bool watchdog_nmi(const struct interrupted *at);

#endif
