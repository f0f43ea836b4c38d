/*
 * test_wdscan.c - host tests of the watchdog's decision (kernel/wdscan.c): what counts as stuck
 * (never a halted core, one that has not started, or a heartbeat ahead of the clock); a core
 * alone asks itself once per stall; a watcher asks its stuck neighbour once per stall and walks
 * over a run of stuck cores up to the first that is not stuck; a stuck core waits half a
 * timeout more before it asks itself, and then does not watch others; and, on 20,000 random
 * machines of 1 to 256 cores in every mix of states, every tick of every core whose timer runs
 * asks exactly the cores a model says (each stuck core by the nearest core before it that is not
 * stuck, if that one's timer runs, and by itself if its own does), never a core that is not
 * stuck, nobody twice for one stall, and looks at no more cores than the stuck run after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/wdscan.h"
#include "tests/unit/test.h"

#define MAXC 256
#define TIMEOUT 1000u
#define NOW 1000000u

/* A made-up machine: every core's heartbeat, and the asks one tick made. */
struct machine {
	uint64_t beat[MAXC];
	unsigned asks;           /* asks in the last tick */
	unsigned asked_core[16]; /* the first few of them */
	uint64_t asked_beat[16];
	unsigned count[MAXC]; /* asks per core, over many ticks */
};

static uint64_t beat_of(unsigned core, void *ctx)
{
	return ((struct machine *)ctx)->beat[core];
}

static void ask(unsigned core, uint64_t beat, void *ctx)
{
	struct machine *m = ctx;
	if (m->asks < 16) {
		m->asked_core[m->asks] = core;
		m->asked_beat[m->asks] = beat;
	}
	m->asks++;
	m->count[core]++;
}

/* One tick of core self at now; returns the cores looked at. */
static unsigned tick(struct machine *m, unsigned self, unsigned n, uint64_t now, uint64_t *asked)
{
	const struct wd_scan s = { self, n, now, TIMEOUT, beat_of, ask, m, asked };
	m->asks = 0;
	return wd_scan(&s);
}

TEST(stuck_means_old_and_running)
{
	CHECK(!wd_stuck(NOW - TIMEOUT, NOW, TIMEOUT)); /* exactly the timeout: not yet */
	CHECK(wd_stuck(NOW - TIMEOUT - 1, NOW, TIMEOUT));
	CHECK(!wd_stuck(NOW - 1, NOW, TIMEOUT));
	CHECK(!wd_stuck(NOW + 5, NOW, TIMEOUT)); /* another core's clock a little ahead */
	CHECK(!wd_stuck(WD_HALTED, NOW, TIMEOUT));
	CHECK(!wd_stuck(WD_NOT_STARTED, NOW, TIMEOUT));
	CHECK(!wd_stuck(WD_NOT_STARTED, UINT64_MAX - 1, TIMEOUT));
}

TEST(alone_asks_itself_once_per_stall)
{
	static struct machine m;
	uint64_t asked[1] = { 0 };
	m.beat[0] = NOW - 10;
	CHECK_EQ(tick(&m, 0, 1, NOW, asked), 1);
	CHECK_EQ(m.asks, 0);
	m.beat[0] = NOW - TIMEOUT - 1; /* alone: no half timeout of grace */
	tick(&m, 0, 1, NOW, asked);
	REQUIRE(m.asks == 1);
	CHECK_EQ(m.asked_core[0], 0);
	CHECK_EQ(m.asked_beat[0], NOW - TIMEOUT - 1);
	tick(&m, 0, 1, NOW + 5 * TIMEOUT, asked); /* the same stall, later */
	CHECK_EQ(m.asks, 0);
	m.beat[0] = NOW + 6 * TIMEOUT; /* back, then stuck again */
	tick(&m, 0, 1, NOW + 6 * TIMEOUT + 10, asked);
	CHECK_EQ(m.asks, 0);
	tick(&m, 0, 1, NOW + 8 * TIMEOUT, asked);
	CHECK_EQ(m.asks, 1);
}

TEST(watcher_asks_its_stuck_neighbour_once)
{
	static struct machine m;
	uint64_t asked[4] = { 0 };
	for (unsigned c = 0; c < 4; c++)
		m.beat[c] = NOW - 1;
	m.beat[1] = NOW - 2 * TIMEOUT;
	CHECK_EQ(tick(&m, 0, 4, NOW, asked), 3); /* itself, 1 (stuck), 2 (fine: stop) */
	REQUIRE(m.asks == 1);
	CHECK_EQ(m.asked_core[0], 1);
	CHECK_EQ(m.asked_beat[0], NOW - 2 * TIMEOUT);
	tick(&m, 0, 4, NOW + 100, asked);
	CHECK_EQ(m.asks, 0);
	/* Core 3's neighbour is 0, which is fine: it looks at two cores and asks nobody. */
	uint64_t asked3[4] = { 0 };
	CHECK_EQ(tick(&m, 3, 4, NOW, asked3), 2);
	CHECK_EQ(m.asks, 0);
}

TEST(watcher_walks_over_a_run_of_stuck_cores)
{
	static struct machine m;
	uint64_t asked[8] = { 0 };
	for (unsigned c = 0; c < 8; c++)
		m.beat[c] = WD_HALTED;
	m.beat[6] = NOW - 1;
	for (unsigned c = 7; c != 3; c = (c + 1) % 8)
		m.beat[c] = NOW - TIMEOUT - 1 - c; /* 7, 0, 1, 2 stuck; 3 halted */
	CHECK_EQ(tick(&m, 6, 8, NOW, asked), 6);
	REQUIRE(m.asks == 4);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(m.asked_core[i], (7 + i) % 8);
	CHECK_EQ(m.asked_beat[1], NOW - TIMEOUT - 1);
}

TEST(every_other_core_stuck)
{
	static struct machine m;
	uint64_t asked[4] = { 0 };
	for (unsigned c = 0; c < 4; c++)
		m.beat[c] = NOW - 3 * TIMEOUT;
	m.beat[2] = WD_HALTED; /* waiting: it is the one left to watch */
	CHECK_EQ(tick(&m, 2, 4, NOW, asked), 4);
	CHECK_EQ(m.asks, 3); /* 3, 0, 1; not itself */
}

TEST(stuck_core_waits_then_asks_itself_and_watches_nobody)
{
	static struct machine m;
	uint64_t asked[4] = { 0 };
	for (unsigned c = 0; c < 4; c++)
		m.beat[c] = NOW - 5 * TIMEOUT;   /* all stuck */
	m.beat[0] = NOW - TIMEOUT - TIMEOUT / 2; /* not yet one and a half timeouts */
	CHECK_EQ(tick(&m, 0, 4, NOW, asked), 1);
	CHECK_EQ(m.asks, 0);
	tick(&m, 0, 4, NOW + 1, asked);
	REQUIRE(m.asks == 1);
	CHECK_EQ(m.asked_core[0], 0);
	tick(&m, 0, 4, NOW + 2, asked);
	CHECK_EQ(m.asks, 0);
}

/* The model: the cores that should ask core c, given who is stuck and whose timer runs. */
static unsigned expected_askers(unsigned c, unsigned n, const bool *stuck, const bool *ticks)
{
	if (!stuck[c])
		return 0;
	unsigned k = ticks[c]; /* itself */
	for (unsigned i = 1; i < n; i++) {
		unsigned p = (c + n - i) % n;
		if (!stuck[p]) {
			k += ticks[p];
			break;
		}
	}
	return k;
}

TEST(random_machines_match_the_model)
{
	static struct machine m;
	static uint64_t asked[MAXC][MAXC];
	bool stuck[MAXC], ticks[MAXC];
	for (int round = 0; round < 20000; round++) {
		unsigned n = 1 + (unsigned)(test_rng() % (round % 10 ? 16 : MAXC));
		memset(&m, 0, sizeof(m));
		memset(asked, 0, sizeof(asked));
		unsigned pct = (unsigned)(test_rng() % 101); /* how many are stuck */
		for (unsigned c = 0; c < n; c++) {
			stuck[c] = test_rng() % 100 < pct;
			switch (test_rng() % 4) {
			case 0:
				m.beat[c] = stuck[c] ? NOW - 2 * TIMEOUT - test_rng() % 1000
				                     : WD_HALTED;
				break;
			case 1:
				m.beat[c] = stuck[c] ? NOW - 2 * TIMEOUT : WD_NOT_STARTED;
				break;
			default:
				m.beat[c] =
				        stuck[c] ? NOW - 100 * TIMEOUT : NOW - test_rng() % TIMEOUT;
			}
			/* A stuck core ticks if its interrupts are on; a halted one always does. */
			ticks[c] = !stuck[c] || test_rng() % 2;
		}
		/* Three ticks of every core whose timer runs: asks come only in the first. */
		for (int pass = 0; pass < 3; pass++) {
			for (unsigned c = 0; c < n; c++) {
				if (!ticks[c])
					continue;
				unsigned run = 0;
				while (run < n - 1 && stuck[(c + 1 + run) % n])
					run++;
				unsigned looked = tick(&m, c, n, NOW, asked[c]);
				CHECK(looked <= (stuck[c] ? 1 : run + 2));
				if (pass)
					CHECK_EQ(m.asks, 0);
			}
		}
		for (unsigned c = 0; c < n; c++) {
			unsigned want = expected_askers(c, n, stuck, ticks);
			if (m.count[c] != want) {
				fprintf(stderr,
				        "  round %d: %u cores, core %u (stuck %d, ticks %d) asked "
				        "%u "
				        "times, want %u\n",
				        round, n, c, stuck[c], ticks[c], m.count[c], want);
				test_failed_++;
				return;
			}
		}
	}
}

int main(void)
{
	RUN(stuck_means_old_and_running);
	RUN(alone_asks_itself_once_per_stall);
	RUN(watcher_asks_its_stuck_neighbour_once);
	RUN(watcher_walks_over_a_run_of_stuck_cores);
	RUN(every_other_core_stuck);
	RUN(stuck_core_waits_then_asks_itself_and_watches_nobody);
	RUN(random_machines_match_the_model);
	TEST_EXIT();
}
