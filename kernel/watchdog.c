/*
 * watchdog.c - a core that stops passing through its scheduler is reported (watchdog=MS).
 *
 * Threads are cooperative: a thread that never blocks or yields keeps its core from everything
 * else it owes (its other threads, its NIC queue, the messages of other cores, which then wait).
 * Nothing can take the core back, but it can be noticed and named.
 *
 * Heartbeats. Every core has a slot in the shared region. Its scheduler loop writes the time
 * (now_ns, which the loop reads anyway for its timers) into the slot's `beat` on every pass
 * (watchdog_pass: one store), and WD_HALTED while it halts for want of work: a halted core
 * waits, it is not stuck.
 *
 * Watching. Every core's timer carries a watchdog tick, WATCHDOG_CHECKS per timeout (timer.c;
 * an idle core takes it without waking its scheduler). At each tick the core runs wd_scan
 * (wdscan.h): if it is not stuck itself, it looks at the next core and, while that one is stuck,
 * at the one after; a stuck core is asked for its report, once per stall, by writing the beat it
 * saw into the stuck core's `asked` and sending it an NMI (arch_nmi). An NMI because a stuck
 * core may have interrupts off; the watcher then goes on at once: it never waits for the stuck
 * core, whose report comes when it comes.
 *
 * Reporting. The stuck core, in its NMI handler, compares `asked` with its own beat: if it has
 * not passed through its scheduler since, it writes the report itself, from the interrupted
 * context: how long, which thread (sched_describe_running), interrupts on or off, and a
 * symbolized backtrace read with the walk that cannot fault (backtrace_write_at). Its own
 * registers and stack are only readable from there, and nothing of this crosses cores. A stuck
 * core whose timer still ticks (interrupts on) reports itself from its tick if nobody asked it
 * within half a timeout more (a core alone, or every core stuck), and W.reported keeps either
 * path from reporting a stall twice. When the core next passes through its scheduler it says
 * that it is back and how long it was gone. With watchdog_action=panic the report is a panic.
 *
 * What two cores share: each slot, one cache line: `beat` written by its core and read by its
 * watcher, `asked` written by watchers and read by its core (see struct wd_slot); and `stopped`,
 * set once when the run ends with a profile dump (watchdog_stop).
 */
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/mem.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/sched.h"
#include "kernel/watchdog.h"
#include "kernel/wdscan.h"

/* One per core, in the shared region. */
struct wd_slot {
	/* [a] now_ns() of the core's last pass through its scheduler loop, or WD_HALTED or
	 * WD_NOT_STARTED (wdscan.h). Written only by its core, read by its watcher, both relaxed:
	 * it publishes nothing but itself, and a watcher that reads a value a moment old only
	 * decides a moment late (the core checks again itself before it reports). */
	uint64_t beat;
	/* [a] the beat a watcher saw when it asked this core for its report. Written by watchers
	 * with release before their NMI (apic.c fences before the ICR write), read by the core in
	 * its NMI handler with acquire: the NMI asks about exactly this stall. */
	uint64_t asked;
} __cacheline_aligned;

static struct wd_slot *slots; /* [I] ncores slots; NULL: the watchdog is off */
static uint64_t timeout_ns;   /* [I] watchdog= in ns */
/* [a] the run is ending (watchdog_stop): set once by the ending core, read relaxed by every
 * tick and NMI; a tick that misses it only asks once more. */
static bool stopped __cacheline_aligned;

struct watchdog {
	uint64_t *asked; /* [o] per core: the stall this core last asked it about (wd_scan) */
	/* [a] the beat of the stall this core last reported about itself; 0: none since it came
	 * back. Written by its NMI handler, its timer tick and its scheduler loop, all on this
	 * core: atomic against its own interrupts only. */
	uint64_t reported;
};
PERCORE static struct watchdog W;

/* Milliseconds from the heartbeat `beat` to now. */
static uint64_t ms_since(uint64_t beat)
{
	return (now_ns() - beat) / 1000000;
}

void watchdog_init(void)
{
	if (!kconfig.watchdog_ms) {
		log_info("watchdog: off");
		return;
	}
	slots = boot_alloc(ncores * sizeof(*slots));
	if (!slots)
		boot_fail("watchdog: no shared memory for %u cores", ncores);
	timeout_ns = kconfig.watchdog_ms * 1000000;
	log_info("watchdog: a core %lu ms out of its scheduler is reported (%s), %s",
	         kconfig.watchdog_ms,
	         kconfig.watchdog_action == KCONFIG_WATCHDOG_PANIC ? "panic" : "log",
	         ncores > 1 ? "by the core before it"
	                    : "by its own timer (a single core: not with interrupts off)");
}

void watchdog_init_core(void)
{
	if (!slots)
		return;
	W.asked = kzalloc(ncores * sizeof(*W.asked));
	if (!W.asked)
		boot_fail("watchdog: core %u: no memory", core_id());
	/* Cores tick at evenly spread phases, not all at once. */
	uint64_t period = kconfig.watchdog_ms * 1000000 / WATCHDOG_CHECKS;
	arch_tick_start(TICK_WATCHDOG, period, period * core_id() / ncores);
}

void watchdog_pass(uint64_t now)
{
	if (!slots)
		return;
	/* Relaxed: see struct wd_slot. */
	__atomic_store_n(&slots[core_id()].beat, now, __ATOMIC_RELAXED);
	/* Relaxed, here and below: only this core's own interrupts write it. A report of the old
	 * stall cannot come any more (the beat just changed), nor one of a new stall so soon. */
	uint64_t since = __atomic_load_n(&W.reported, __ATOMIC_RELAXED);
	if (unlikely(since)) {
		__atomic_store_n(&W.reported, 0, __ATOMIC_RELAXED); /* relaxed: as above */
		log_warn("watchdog: core %u back in its scheduler after %lu ms", core_id(),
		         ms_since(since));
	}
}

void watchdog_halt(bool halted)
{
	if (slots) /* Relaxed: see struct wd_slot. */
		__atomic_store_n(&slots[core_id()].beat, halted ? WD_HALTED : now_ns(),
		                 __ATOMIC_RELAXED);
}

static void log_out(const char *line)
{
	log_error("watchdog: %s", line);
}

static void panic_out(const char *line)
{
	kprintf_panic("%s", line);
}

/* This core's report about its stall `beat`, from an interrupt that found it at `at`. */
static void report(const struct interrupted *at, uint64_t beat, const char *how)
{
	/* Once per stall. An exchange, one instruction: the NMI may come in the middle of the
	 * tick's report, and then exactly one of the two sees the stall as new. */
	if (__atomic_exchange_n(&W.reported, beat, __ATOMIC_RELAXED) == beat)
		return;
	char who[160];
	sched_describe_running(who, sizeof(who));
	uint64_t ms = ms_since(beat);
	const char *irq = at->irq_on ? "on" : "off";
	if (kconfig.watchdog_action == KCONFIG_WATCHDOG_PANIC) {
		panic_begin();
		kprintf_panic("\n*** isle: panic on core %u: watchdog: stuck for %lu ms, no pass "
		              "through its scheduler (%s)\n  in %s, interrupts %s\n",
		              core_id(), ms, how, who, irq);
		backtrace_write_at(panic_out, at);
		panic_stop();
	}
	log_error("watchdog: core %u stuck for %lu ms, no pass through its scheduler (%s)",
	          core_id(), ms, how);
	log_error("watchdog:   in %s, interrupts %s", who, irq);
	backtrace_write_at(log_out, at);
}

static uint64_t beat_of(unsigned core, void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&slots[core].beat, __ATOMIC_RELAXED); /* see struct wd_slot */
}

static void ask(unsigned core, uint64_t beat, void *ctx)
{
	if (core == core_id()) {
		report(ctx, beat, "noticed by its own timer");
		return;
	}
	log_error("watchdog: core %u has not passed through its scheduler for %lu ms; asking it "
	          "for its report (NMI)",
	          core, ms_since(beat));
	/* Release: see struct wd_slot. */
	__atomic_store_n(&slots[core].asked, beat, __ATOMIC_RELEASE);
	arch_nmi(core);
}

void watchdog_stop(void)
{
	/* Relaxed: see the declaration. */
	__atomic_store_n(&stopped, true, __ATOMIC_RELAXED);
}

void watchdog_tick(const struct interrupted *at)
{
	/* Relaxed: see the declaration of stopped. */
	if (!slots || __atomic_load_n(&stopped, __ATOMIC_RELAXED))
		return;
	const struct wd_scan s = { core_id(), ncores, now_ns(),   timeout_ns,
		                   beat_of,   ask,    (void *)at, W.asked };
	wd_scan(&s);
}

bool watchdog_nmi(const struct interrupted *at)
{
	if (!slots)
		return false;
	struct wd_slot *me = &slots[core_id()];
	/* Acquire: see struct wd_slot. */
	uint64_t asked = __atomic_load_n(&me->asked, __ATOMIC_ACQUIRE);
	uint64_t beat = __atomic_load_n(&me->beat, __ATOMIC_RELAXED); /* our own store */
	if (asked == beat && beat != WD_NOT_STARTED && beat != WD_HALTED &&
	    !__atomic_load_n(&stopped, __ATOMIC_RELAXED)) /* relaxed: see its declaration */
		report(at, beat, "asked by its watcher, NMI");
	return true;
}
