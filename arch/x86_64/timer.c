/*
 * timer.c - a core's one LAPIC timer, shared by the scheduler and the profiler.
 *
 * The LAPIC timer is one-shot (TSC-deadline or count-down, apic.c). The scheduler arms it for
 * its earliest deadline before it halts (arch_timer_arm, from sched.c idle()); with profile=HZ
 * the profiler also needs a periodic tick (arch_tick_start). This file keeps both deadlines,
 * per core, and arms the hardware for the earlier one; every timer interrupt re-arms it for
 * what is left:
 *
 *   sched  the deadline idle() last asked for (TSC, 0: none). Cleared when it passes: only
 *          that makes a timer interrupt a wake-up (trap.c then sets irq_seen).
 *   tick   the next profiling tick (TSC, 0: no profiling). When it passes, the interrupted
 *          context is sampled (profile_tick) and the tick moves on by whole periods: ticks that
 *          passed while interrupts were off are counted as missed, not sampled late in a burst.
 *
 * A tick that interrupts the idle halt is no wake-up, so the core halts again at once
 * (sched.c idle()): a profiled idle core pays one short interrupt per tick and nothing more,
 * and sleeps and timeouts fire when they did before. Without profiling, every timer
 * interrupt is a wake-up as before and nothing here touches the hardware on an interrupt.
 *
 * All state is PERCORE and changed only with interrupts off on its own core, so the timer
 * interrupt and the idle path of one core never interleave.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/core.h"
#include "kernel/profile.h"

struct core_timer {
	uint64_t sched;  /* [o] the scheduler's deadline (TSC), 0: none */
	uint64_t tick;   /* [o] the next profiling tick (TSC), 0: not ticking */
	uint64_t period; /* [o] TSC ticks between profiling ticks */
};
PERCORE static struct core_timer T;

/* Arms the hardware for the earlier of the two deadlines (0 disarms). Interrupts off. */
static void program(void)
{
	uint64_t at = T.sched;
	if (T.tick && (!at || T.tick < at))
		at = T.tick;
	apic_timer_arm(at);
}

void arch_timer_arm(uint64_t deadline_ns)
{
	bool on = irq_save();
	T.sched = deadline_ns ? tsc_boot() + ns_to_tsc(deadline_ns) : 0;
	if (T.tick)
		program();
	else
		apic_timer_arm(T.sched);
	irq_restore(on);
}

void arch_tick_start(uint64_t period_ns, uint64_t phase_ns)
{
	bool on = irq_save();
	T.period = ns_to_tsc(period_ns);
	if (T.period == 0)
		T.period = 1;
	T.tick = rdtsc() + T.period + ns_to_tsc(phase_ns);
	program();
	irq_restore(on);
}

void arch_tick_stop(void)
{
	bool on = irq_save();
	T.tick = 0;
	program();
	irq_restore(on);
}

bool timer_interrupt(const struct trap_frame *f)
{
	if (!T.tick)
		return true; /* no profiling: every timer interrupt is the scheduler's */
	uint64_t now = rdtsc();
	bool wake = false;
	if (T.sched && now >= T.sched) {
		T.sched = 0;
		wake = true;
	}
	bool sample = now >= T.tick;
	uint64_t missed = 0;
	if (sample) {
		/* The next tick after now, on the grid of the first one. */
		missed = (now - T.tick) / T.period;
		T.tick += (missed + 1) * T.period;
	}
	/* Re-armed before sampling: profile_tick may end the run (profile_seconds=). */
	program();
	if (sample)
		profile_tick(f->rip, f->rbp, f->rsp, paging_stack_top(f->rsp), missed);
	return wake;
}
