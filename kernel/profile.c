/*
 * profile.c - the sampling profiler: every core samples itself.
 *
 * Sampling. With profile=HZ, every core's LAPIC timer also carries a periodic tick
 * (arch/x86_64/timer.c shares the one-shot timer between the scheduler's deadline and the tick).
 * The tick calls profile_tick in the timer interrupt with the interrupted rip, rbp and rsp. The
 * core walks its own frame-pointer chain (proftab_walk: inside the interrupted stack only,
 * aligned, upwards, text addresses only, PROFTAB_DEPTH deep at most, so a sample never faults)
 * and counts the stack in its own table (proftab, PROFILE_SLOTS stacks on its own heap): nothing
 * is shared and no message is sent on this path. A tick that finds the core halted in the
 * scheduler's idle() counts as idle, not as a stack; a stack that finds no slot counts as lost.
 * Code that runs with interrupts off is sampled when it turns them back on, or not at all: the
 * ticks that passed meanwhile are counted as missed (as are ticks the host delivered late
 * because it did not run the vCPU). So the time spent halted is also measured, not sampled
 * (halted_ms), for comparison with the idle samples.
 *
 * Getting the samples out. At the end of the run (exit(), main returning, or core 0's tick once
 * profile_seconds=N have passed since boot) the finishing core writes every core's profile, in core
 * order: its own directly, each other core's by asking that core with an interrupt
 * (arch_profile_ipi). That core's handler stops its sampling, writes its own table and counts up
 * its `dumps` word, which the finisher waits for (at most DUMP_WAIT_NS) before it goes on to the
 * next core. An interrupt and not a message: a core busy in a thread that never yields never runs a
 * message handler, and that is just the core one wants to see. The `dumps` words, one cache line
 * per core in the shared region, each written only by its own core, are all that the profiler
 * shares. A panicking core writes its own profile after its report; the other cores are stopped
 * by NMI and their samples are lost.
 *
 * Output (docs/profiling.md; ci/profile-report parses it). Addresses are hex offsets from base,
 * innermost first; 0 is an address outside the image's text:
 *
 *   profile: begin hz 1000 cores 2 depth 12 base ffffffff80000000
 *   profile: core 0 samples 5012 idle 4800 lost 0 missed 0 stacks 31 ms 5012 halted_ms 4795
 *            cost_us 2040   (one line)
 *   profile: core 0 stack 57 10a2b3 10c001 10b0f4
 *   profile: core 0 end
 *   ...
 *   profile: end
 */
#include <string.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/mem.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/profile.h"
#include "kernel/proftab.h"
#include "kernel/sched.h"
#include "kernel/watchdog.h"

#define PROFILE_SLOTS 2048         /* distinct stacks per core: 208 KiB of table */
#define DUMP_WAIT_NS 5000000000ull /* how long the finisher waits for one core's profile */

extern char __text_start[], __text_end[];

struct profile {
	struct proftab tab; /* [o] distinct stacks and their counts */
	uint64_t samples;   /* [o] ticks sampled: stacks, idle and lost */
	uint64_t idle;      /* [o] ticks that found the core halted in idle() */
	uint64_t missed;    /* [o] ticks that passed unsampled (interrupts off, or late) */
	uint64_t cost_tsc;  /* [o] TSC ticks spent in profile_tick (its own overhead) */
	uint64_t halt_ns;   /* [o] time spent halted while sampling, measured, not sampled */
	uint64_t halt_t0;   /* [o] when the current halt began */
	uint64_t start_ns;  /* [o] sampling started */
	uint64_t stop_ns;   /* [o] sampling stopped (0: still sampling) */
	bool on;            /* [o] sampling */
	bool halted;        /* [o] halted in idle(); set with interrupts off, read by the tick */
	bool dumping;       /* [o] writing the profile (a panic meanwhile does not start again) */
};
PERCORE static struct profile P;

/* One per core, in the shared region: written by its own core only, read by the finisher. */
struct profile_done {
	uint32_t dumps; /* [a] profiles this core has written */
} __cacheline_aligned;
static struct profile_done *profile_done; /* [I] ncores entries; NULL: profiling off */

void profile_init(void)
{
	if (!kconfig.profile_hz)
		return;
	profile_done = boot_alloc(ncores * sizeof(*profile_done));
	if (!profile_done)
		boot_fail("profile: no shared memory for %u cores", ncores);
	if (kconfig.profile_seconds)
		log_info("profile: every core at %lu Hz; the run ends after %lu s",
		         kconfig.profile_hz, kconfig.profile_seconds);
	else
		log_info("profile: every core at %lu Hz, until exit", kconfig.profile_hz);
}

void profile_init_core(void)
{
	if (!kconfig.profile_hz)
		return;
	struct proftab_stack *slots = kzalloc(PROFILE_SLOTS * sizeof(*slots));
	if (!slots)
		boot_fail("profile: core %u: no memory for its table (%zu KiB)", core_id(),
		          PROFILE_SLOTS * sizeof(*slots) / 1024);
	proftab_init(&P.tab, slots, PROFILE_SLOTS);
	P.start_ns = now_ns();
	P.on = true;
	/* Cores tick at evenly spread phases, not all at once. */
	uint64_t period = 1000000000ull / kconfig.profile_hz;
	arch_tick_start(TICK_PROFILE, period, period * core_id() / ncores);
}

void profile_halt(bool halted)
{
	if (!profile_done)
		return; /* not profiling */
	if (P.on && halted)
		P.halt_t0 = now_ns();
	else if (P.on)
		P.halt_ns += now_ns() - P.halt_t0;
	/* Relaxed: only this core's own tick reads it. Interrupts are off here, and the halt's
	 * "sti" is an asm with a memory clobber, so the store is made before a tick can come. */
	__atomic_store_n(&P.halted, halted, __ATOMIC_RELAXED);
}

void profile_tick(uint64_t rip, uint64_t rbp, uint64_t rsp, uint64_t stack_top, uint64_t missed)
{
	if (!P.on)
		return;
	uint64_t t0 = rdtsc();
	P.samples++;
	P.missed += missed;
	/* Relaxed: set by this core with interrupts off (profile_halt). */
	if (__atomic_load_n(&P.halted, __ATOMIC_RELAXED)) {
		P.idle++;
	} else {
		const struct proftab_bounds b = { rsp, stack_top, (uintptr_t)__text_start,
			                          (uintptr_t)__text_end, ksym_start };
		uint64_t pc[PROFTAB_DEPTH];
		unsigned n = proftab_walk(pc, PROFTAB_DEPTH, rip, rbp, &b);
		proftab_add(&P.tab, pc, n);
	}
	P.cost_tsc += rdtsc() - t0;
	if (kconfig.profile_seconds && core_id() == 0 &&
	    now_ns() >= kconfig.profile_seconds * 1000000000ull) {
		log_info("profile: %lu s are up, ending the run", kconfig.profile_seconds);
		profile_finish();
		arch_exit(0);
	}
}

static void stop(void)
{
	if (!P.on)
		return;
	P.on = false;
	P.stop_ns = now_ns();
	/* Relaxed: set by this core with interrupts off (profile_halt). */
	if (__atomic_load_n(&P.halted, __ATOMIC_RELAXED))
		P.halt_ns += P.stop_ns - P.halt_t0; /* asked while halted: the halt so far */
	arch_tick_stop(TICK_PROFILE);
}

static void out_console(const char *line)
{
	console_write(line, strlen(line));
}

static void out_panic(const char *line)
{
	kprintf_panic("%s", line);
}

/* Writes this core's profile through out, one line per call. */
static void dump(void (*out)(const char *line))
{
	char line[256];
	unsigned c = core_id();
	P.dumping = true;
	if (!P.tab.slot) {
		ksnprintf(line, sizeof(line), "profile: core %u off\nprofile: core %u end\n", c, c);
		out(line);
		P.dumping = false;
		return;
	}
	uint64_t end = P.stop_ns ? P.stop_ns : now_ns();
	ksnprintf(line, sizeof(line),
	          "profile: core %u samples %lu idle %lu lost %lu missed %lu stacks %u ms %lu "
	          "halted_ms %lu cost_us %lu\n",
	          c, P.samples, P.idle, P.tab.lost, P.missed, P.tab.used,
	          (end - P.start_ns) / 1000000, P.halt_ns / 1000000, tsc_to_ns(P.cost_tsc) / 1000);
	out(line);
	for (uint32_t i = 0; i < P.tab.nslots; i++) {
		const struct proftab_stack *s = &P.tab.slot[i];
		if (!s->depth)
			continue;
		/* At most 35 + 12 * 9 bytes: always fits. */
		size_t len = (size_t)ksnprintf(line, sizeof(line), "profile: core %u stack %u", c,
		                               s->count);
		for (uint32_t d = 0; d < s->depth; d++)
			len += (size_t)ksnprintf(line + len, sizeof(line) - len, " %lx",
			                         s->pc[d] ? s->pc[d] - arch_image_base() : 0);
		ksnprintf(line + len, sizeof(line) - len, "\n");
		out(line);
	}
	ksnprintf(line, sizeof(line), "profile: core %u end\n", c);
	out(line);
	P.dumping = false;
}

static void begin_line(void (*out)(const char *line))
{
	char line[128];
	ksnprintf(line, sizeof(line), "profile: begin hz %lu cores %u depth %u base %lx\n",
	          kconfig.profile_hz, ncores, PROFTAB_DEPTH, (uint64_t)arch_image_base());
	out(line);
}

void profile_dump_requested(void)
{
	if (!profile_done)
		return;
	stop();
	dump(out_console);
	struct profile_done *d = &profile_done[core_id()];
	/* Release: our profile lines are on the console before the finisher, which reads the
	 * count with acquire, goes on (and ends the VM). Only this core writes its count, so a
	 * load and a store do: no read-modify-write. */
	__atomic_store_n(&d->dumps, __atomic_load_n(&d->dumps, __ATOMIC_RELAXED) + 1,
	                 __ATOMIC_RELEASE);
}

void profile_finish(void)
{
	if (!profile_done)
		return;
	/* Writing the profiles keeps every core busy (this one waiting): not a stall to report,
	 * nor an NMI to write a report into the middle of a profile line. */
	watchdog_stop();
	stop();
	begin_line(out_console);
	for (unsigned c = 0; c < ncores; c++) {
		if (c == core_id()) {
			dump(out_console);
			continue;
		}
		/* Acquire (here and in the loop): pairs with the release in profile_dump_requested:
		 * the core's profile lines are out before we see its count move. */
		uint32_t before = __atomic_load_n(&profile_done[c].dumps, __ATOMIC_ACQUIRE);
		arch_profile_ipi(c);
		uint64_t t0 = now_ns();
		/* Acquire: as above. */
		while (__atomic_load_n(&profile_done[c].dumps, __ATOMIC_ACQUIRE) == before) {
			if (now_ns() - t0 > DUMP_WAIT_NS) {
				char line[96];
				ksnprintf(line, sizeof(line),
				          "profile: core %u did not answer within %llu s\n", c,
				          DUMP_WAIT_NS / 1000000000);
				out_console(line);
				break;
			}
			cpu_pause();
		}
	}
	out_console("profile: end\n");
}

void profile_panic(void)
{
	if (!profile_done || P.dumping)
		return;
	P.on = false; /* interrupts are off: no tick comes any more */
	begin_line(out_panic);
	dump(out_panic);
	out_panic("profile: end\n");
}
