/*
 * timer.c - a core's one LAPIC timer, shared by the scheduler, the watchdog and the profiler.
 *
 * The LAPIC timer is one-shot (TSC-deadline or count-down, apic.c). The scheduler arms it for
 * its earliest deadline before it halts (arch_timer_arm, from sched.c idle()); the watchdog
 * (watchdog=MS, on by default) and the profiler (profile=HZ) each need a periodic tick
 * (arch_tick_start). This file keeps all the deadlines, per core, and arms the hardware for the
 * earliest; every timer interrupt re-arms it for what is left:
 *
 *   sched  the deadline idle() last asked for (TSC, 0: none). Cleared when it passes: only
 *          that makes a timer interrupt a wake-up (trap.c then sets irq_seen).
 *   next   the next tick of each kind (TSC, 0: that tick is off). When it passes, the tick's
 *          function runs with the interrupted context (profile_tick, watchdog_tick) and the
 *          tick moves on by whole periods: ticks that passed while interrupts were off are
 *          counted as missed, not run late in a burst.
 *
 * A tick that interrupts the idle halt is no wake-up, so the core halts again at once
 * (sched.c idle()): an idle core pays one short interrupt per tick and nothing more, and sleeps
 * and timeouts fire when they did before. With no tick on, every timer interrupt is a wake-up
 * and nothing here touches the hardware on an interrupt.
 *
 * All state is PERCORE and changed only with interrupts off on its own core, so the timer
 * interrupt and the idle path of one core never interleave.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/core.h"
#include "kernel/panic.h"
#include "kernel/profile.h"
#include "kernel/watchdog.h"

struct core_timer {
	uint64_t sched;              /* [o] the scheduler's deadline (TSC), 0: none */
	uint64_t next[TICK_KINDS];   /* [o] the next tick of each kind (TSC), 0: off */
	uint64_t period[TICK_KINDS]; /* [o] TSC ticks between two ticks of each kind */
};
PERCORE static struct core_timer T;

/* Arms the hardware for the earliest deadline (none: disarms). Interrupts off. */
static void program(void)
{
	uint64_t at = T.sched;
	for (unsigned k = 0; k < TICK_KINDS; k++)
		if (T.next[k] && (!at || T.next[k] < at))
			at = T.next[k];
	apic_timer_arm(at);
}

void arch_timer_arm(uint64_t deadline_ns)
{
	bool on = irq_save();
	T.sched = deadline_ns ? tsc_boot() + ns_to_tsc(deadline_ns) : 0;
	program();
	irq_restore(on);
}

void arch_tick_start(enum arch_tick kind, uint64_t period_ns, uint64_t phase_ns)
{
	bool on = irq_save();
	T.period[kind] = ns_to_tsc(period_ns);
	if (T.period[kind] == 0)
		T.period[kind] = 1;
	T.next[kind] = rdtsc() + T.period[kind] + ns_to_tsc(phase_ns);
	program();
	irq_restore(on);
}

void arch_tick_stop(enum arch_tick kind)
{
	bool on = irq_save();
	T.next[kind] = 0;
	program();
	irq_restore(on);
}

bool timer_interrupt(const struct trap_frame *f)
{
	uint64_t now = rdtsc();
	bool wake = false, any = false, due[TICK_KINDS];
	uint64_t missed[TICK_KINDS];
	if (T.sched && now >= T.sched) {
		T.sched = 0;
		wake = true;
	}
	for (unsigned k = 0; k < TICK_KINDS; k++) {
		any |= T.next[k] != 0;
		due[k] = T.next[k] && now >= T.next[k];
		missed[k] = 0;
		if (due[k]) {
			/* The next tick after now, on the grid of the first one. */
			missed[k] = (now - T.next[k]) / T.period[k];
			T.next[k] += (missed[k] + 1) * T.period[k];
		}
	}
	if (!any)
		return true; /* no ticks: every timer interrupt is the scheduler's */
	/* Re-armed before the ticks run: profile_tick may end the run (profile_seconds=), and
	 * watchdog_tick may panic. */
	program();
	if (!due[TICK_PROFILE] && !due[TICK_WATCHDOG])
		return wake;
	struct interrupted at;
	trap_interrupted(f, &at);
	if (due[TICK_WATCHDOG])
		watchdog_tick(&at);
	if (due[TICK_PROFILE])
		profile_tick(at.rip, at.rbp, at.rsp, at.stack_top, missed[TICK_PROFILE]);
	return wake;
}
