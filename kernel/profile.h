/*
 * profile.h - the sampling profiler (docs/profiling.md).
 *
 * With profile=HZ on the command line every core samples its own interrupted instruction and
 * frame-pointer stack HZ times a second, from its own timer interrupt, into its own table. When
 * the run ends (exit(), main returning, or profile_seconds=N after boot) every core's table is
 * written to the console as "profile: ..." lines, which ci/profile-report turns into tables,
 * folded stacks and a flame graph. Without profile= none of this does anything.
 *
 * Context: as said for each function. Nothing here sends a message or allocates after
 * profile_init_core.
 */
#ifndef ISLE_KERNEL_PROFILE_H
#define ISLE_KERNEL_PROFILE_H

#include "kernel/compiler.h"

#define PROFILE_HZ_MAX 10000      /* profile=HZ: 1..PROFILE_HZ_MAX (0: off, the default) */
#define PROFILE_SECONDS_MAX 86400 /* profile_seconds=N: 1..this (0: until exit, the default) */

void profile_init(void);      /* boot core, after the command line, before other cores start */
void profile_init_core(void); /* every core, before it schedules: its table, its tick */

/* A tick of the calling core (arch timer interrupt, interrupts off): rip, rbp and rsp of the
 * interrupted context, the top of its stack (0: unknown) and the ticks that passed unsampled
 * since the last one. On core 0, once profile_seconds have passed, it ends the run and does
 * not return. */
void profile_tick(uint64_t rip, uint64_t rbp, uint64_t rsp, uint64_t stack_top, uint64_t missed);
/* The scheduler is about to halt (true) or has stopped halting (false); interrupts off. A tick
 * that finds the core halted counts as idle. */
void profile_halt(bool halted);
/* Another core, ending the run, asks this one for its profile (the interrupt arch_profile_ipi
 * sends). */
void profile_dump_requested(void);
/* Ends the run's profiling and writes every core's profile to the console, in core order:
 * this core's directly, each other core's by asking it (arch_profile_ipi) and waiting, at most
 * 5 s each. Any context, any core; exit() calls it. Returns at once when profiling is off. */
void profile_finish(void);
/* The panic path: writes this core's profile with kprintf_panic (the others are stopped). */
void profile_panic(void);

#endif
