/*
 * wdscan.c - which cores a watchdog tick asks for a report (the rules are in wdscan.h).
 */
#include "kernel/wdscan.h"

/* Asks core c about the stall `beat`, unless self already did. */
static void ask_once(const struct wd_scan *s, unsigned c, uint64_t beat)
{
	if (s->asked[c] == beat)
		return;
	s->asked[c] = beat;
	s->ask(c, beat, s->ctx);
}

unsigned wd_scan(const struct wd_scan *s)
{
	uint64_t mine = s->beat_of(s->self, s->ctx);
	if (wd_stuck(mine, s->now, s->timeout)) {
		/* Stuck, with interrupts on (this tick runs): a watcher normally asks first. */
		uint64_t after = s->timeout + (s->ncores > 1 ? s->timeout / 2 : 0);
		if (wd_stuck(mine, s->now, after))
			ask_once(s, s->self, mine);
		return 1;
	}
	unsigned looked = 1;
	for (unsigned i = 1; i < s->ncores; i++) {
		unsigned c = (s->self + i) % s->ncores;
		uint64_t beat = s->beat_of(c, s->ctx);
		looked++;
		if (!wd_stuck(beat, s->now, s->timeout))
			break; /* c watches the cores after it */
		ask_once(s, c, beat);
	}
	return looked;
}
