/*
 * wdscan.h - the watchdog's decision, as portable code: which cores a core must ask for a report
 * at one of its watchdog ticks. kernel/watchdog.c calls it from every core's timer interrupt;
 * tests/unit/test_wdscan.c runs it on the host against made-up heartbeats.
 *
 * Every core publishes a heartbeat, the time (ns) of its last pass through its scheduler loop, or one
 * of the two values below. A core is *stuck* when its heartbeat is older than the timeout; a
 * halted core (waiting for work) and a core that has not started scheduling never are. A stall
 * is named by the heartbeat it froze at: the same stall keeps the same value, and the next stall
 * of the same core has another one.
 *
 * At each tick, core `self`:
 *  - if it is not stuck itself, it watches the cores after it in ring order: self+1, self+2,
 *    ... up to the first core that is not stuck (that one watches the rest). Every stuck core it
 *    walks over is asked, once per stall. So each stuck core is asked by the nearest core before
 *    it that is not stuck, whether its own interrupts are on or off, and a tick costs one look
 *    plus one per stuck core in a row after self: O(1) while nothing is stuck, at any core count.
 *  - if it is stuck itself (its timer still ticks: interrupts are on), it asks itself, once per
 *    stall, when it has been stuck for the timeout plus half of it (or for the timeout alone
 *    when it is the only core): a single core, or cores that are all stuck at once, still get
 *    reported, and a core that has a watcher normally hears from it first.
 * Nobody can ask a core whose interrupts are off when every other core is stuck too.
 *
 * Context: any (the kernel calls it with interrupts off); it touches only asked[] and what the
 * callbacks do.
 */
#ifndef ISLE_KERNEL_WDSCAN_H
#define ISLE_KERNEL_WDSCAN_H

#include "kernel/compiler.h"

#define WD_NOT_STARTED 0     /* heartbeat of a core that does not schedule yet (boot) */
#define WD_HALTED UINT64_MAX /* heartbeat of a core halted in idle(): waiting, not stuck */

/* A heartbeat older than timeout at now (any one unit of time). A heartbeat ahead of now
 * (another core's clock read a little after ours) is fresh. */
static inline bool wd_stuck(uint64_t beat, uint64_t now, uint64_t timeout)
{
	return beat != WD_NOT_STARTED && beat != WD_HALTED && beat < now && now - beat > timeout;
}

struct wd_scan {
	unsigned self, ncores; /* the looking core, and how many cores there are (1..) */
	uint64_t now;          /* the looking core's clock */
	uint64_t timeout;      /* time without a pass that makes a core stuck */
	/* the heartbeat of a core, as published */
	uint64_t (*beat_of)(unsigned core, void *ctx);
	/* asks a stuck core (possibly self) for its report about the stall `beat` */
	void (*ask)(unsigned core, uint64_t beat, void *ctx);
	void *ctx;       /* for the callbacks */
	uint64_t *asked; /* [ncores] the stall self last asked each core about (0: none) */
};

/* One tick of s->self (above). Returns how many cores it looked at (for tests). */
unsigned wd_scan(const struct wd_scan *s);

#endif
